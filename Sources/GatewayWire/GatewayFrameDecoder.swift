import NIOCore

/// NIO decoder for the inner protocol: a thin wrapper around `GatewayFrameParser`.
///
/// Runs on the channel's event loop. Bytes left over at EOF (a truncated frame) are dropped
/// silently, like a PHP gateway does when a peer disconnects mid-frame.
public struct GatewayFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = GatewayFrame

    private var parser: GatewayFrameParser

    /// - Parameter maximumFrameLength: see `GatewayFrameParser.init(maximumFrameLength:)`.
    public init(maximumFrameLength: Int = 16 * 1024 * 1024) {
        self.parser = GatewayFrameParser(maximumFrameLength: maximumFrameLength)
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> GatewayFrame? {
        try self.parser.parse(&buffer)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> GatewayFrame? {
        try self.parser.parse(&buffer)
    }
}
