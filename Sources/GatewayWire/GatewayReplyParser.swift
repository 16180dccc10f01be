import NIOCore

/// Splits a reply stream into payloads.
///
/// Replies to the query commands (`GatewayCommand.expectsReply`) are *not* frames: a u32
/// big-endian length (not counting itself) followed by that many bytes of PHP `serialize()`
/// output. Pure and I/O-free so it can be fuzzed; `GatewayReplyDecoder` wraps it for NIO.
public struct GatewayReplyParser: Sendable {
    /// The largest payload accepted.
    public var maximumLength: Int

    /// - Parameter maximumLength: 64 MiB by default, because a `getAllClientSessions` reply
    ///   carries every session of a busy gateway and so legitimately dwarfs ordinary frames.
    public init(maximumLength: Int = 64 * 1024 * 1024) {
        self.maximumLength = maximumLength
    }

    /// Returns the payload (a slice, without the length) or nil when more bytes are needed.
    /// On error nothing is consumed.
    public mutating func parse(_ buffer: inout ByteBuffer) throws(GatewayFrameError) -> ByteBuffer? {
        guard let declared = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else {
            return nil
        }
        let length = Int(declared)
        guard length <= self.maximumLength else {
            throw .frameTooLarge(declared: length, limit: self.maximumLength)
        }
        guard buffer.readableBytes >= 4 + length else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: length)
    }
}
