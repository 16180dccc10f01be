import GatewayAPI
import GatewayWire
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
        case gateway(GatewayAddress, ByteBuffer)
        /// Frames for every connected gateway.
        case all(ByteBuffer)
        /// A frame built per gateway (e.g. exclude lists hold that gateway's connection ids);
        /// nil skips that gateway.
        case perGateway(@Sendable (GatewayAddress) -> ByteBuffer?)
    }

    /// Where the open buffer's frames go.
    private enum Target: Equatable {
        case gateway(GatewayAddress)
        case all
    }

    /// Segments that can take no more frames.
    private var closed: [Segment] = []
    /// The last segment, kept out of `closed` while it can still grow: frames are written into
    /// its buffer in place, with no enum to take apart and put back per frame.
    private var openTarget: Target?
    private var openBuffer = ByteBuffer()
    private(set) var frameCount = 0

    var isEmpty: Bool { closed.isEmpty && openTarget == nil }

    /// Every segment so far, in order.
    var segments: [Segment] {
        guard let open = openSegment else { return closed }
        return closed + [open]
    }

    private var openSegment: Segment? {
        switch openTarget {
        case .gateway(let address): return .gateway(address, openBuffer)
        case .all: return .all(openBuffer)
        case nil: return nil
        }
    }

    /// Appends to the last segment when it has the same target, so a burst of sends to one
    /// gateway becomes one buffer.
    mutating func append(to address: GatewayAddress, _ write: (inout ByteBuffer) -> Void) {
        append(.gateway(address), write)
    }

    mutating func appendToAll(_ write: (inout ByteBuffer) -> Void) {
        append(.all, write)
    }

    private mutating func append(_ target: Target, _ write: (inout ByteBuffer) -> Void) {
        frameCount += 1
        if openTarget != target {
            closeOpenSegment()
            openTarget = target
        }
        write(&openBuffer)
    }

    mutating func appendPerGateway(_ make: @escaping @Sendable (GatewayAddress) -> ByteBuffer?) {
        frameCount += 1
        closeOpenSegment()
        closed.append(.perGateway(make))
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
        closeOpenSegment()
        defer {
            closed = []
            frameCount = 0
        }
        return closed
    }

    private mutating func closeOpenSegment() {
        guard let open = openSegment else { return }
        closed.append(open)
        openTarget = nil
        // A fresh buffer: the closed segment owns the old one, which must not be written again.
        openBuffer = ByteBuffer()
    }
}
