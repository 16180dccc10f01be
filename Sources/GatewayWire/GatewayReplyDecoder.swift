import NIOCore

/// NIO decoder for query replies (u32 length + PHP-serialized payload); see `GatewayReplyParser`.
///
/// Emits the payload bytes; unserializing is left to the caller because many replies are only
/// forwarded or merged. Runs on the channel's event loop.
public struct GatewayReplyDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    private var parser: GatewayReplyParser

    /// - Parameter maximumLength: see `GatewayReplyParser.init(maximumLength:)`.
    public init(maximumLength: Int = 64 * 1024 * 1024) {
        self.parser = GatewayReplyParser(maximumLength: maximumLength)
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        try self.parser.parse(&buffer)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try self.parser.parse(&buffer)
    }
}
