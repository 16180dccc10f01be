import GatewayAPI
import NIOCore

/// Commands the plugin issued, in order, waiting to be handed to the event loop in one go.
///
/// The plugin thread appends encoded frames while a batch of events runs; the batch then
/// crosses to the loop with a single `execute`, and each gateway connection is flushed once.
/// Order is kept across targets: a send to one client, a broadcast, and another send reach a
/// gateway in the order the plugin made them.
struct OutgoingBatch {
    enum Segment {
        /// Frames for the gateway at this inner address.
        case gateway(String, ByteBuffer)
        /// Frames for every connected gateway.
        case all(ByteBuffer)
        /// A frame built per gateway (e.g. exclude lists hold that gateway's connection ids);
        /// nil skips that gateway.
        case perGateway(@Sendable (String) -> ByteBuffer?)
    }

    private(set) var segments: [Segment] = []
    private(set) var frameCount = 0

    var isEmpty: Bool { segments.isEmpty }

    /// Appends to the last segment when it has the same target, so a burst of sends to one
    /// gateway becomes one buffer.
    mutating func append(to address: String, _ write: (inout ByteBuffer) -> Void) {
        frameCount += 1
        if case .gateway(let last, var buffer)? = segments.last, last == address {
            segments.removeLast()
            write(&buffer)
            segments.append(.gateway(address, buffer))
        } else {
            var buffer = ByteBuffer()
            write(&buffer)
            segments.append(.gateway(address, buffer))
        }
    }

    mutating func appendToAll(_ write: (inout ByteBuffer) -> Void) {
        frameCount += 1
        if case .all(var buffer)? = segments.last {
            segments.removeLast()
            write(&buffer)
            segments.append(.all(buffer))
        } else {
            var buffer = ByteBuffer()
            write(&buffer)
            segments.append(.all(buffer))
        }
    }

    mutating func appendPerGateway(_ make: @escaping @Sendable (String) -> ByteBuffer?) {
        frameCount += 1
        segments.append(.perGateway(make))
    }

    /// Appends the frames of one GatewayAPI command.
    mutating func append(_ dispatch: GatewayDispatch) {
        switch dispatch {
        case .gateway(let address, let frame): append(to: address) { $0.writeImmutableBuffer(frame) }
        case .everyGateway(let frame): appendToAll { $0.writeImmutableBuffer(frame) }
        case .perGateway(let make): appendPerGateway(make)
        }
    }

    mutating func take() -> [Segment] {
        defer {
            segments = []
            frameCount = 0
        }
        return segments
    }
}
