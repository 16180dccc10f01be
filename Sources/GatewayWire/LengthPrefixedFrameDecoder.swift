import NIOCore

/// Workerman's `frame://` protocol: each message is a u32 big-endian **total** length (the 4
/// length bytes included) followed by the body. Emits bodies.
///
/// A length below 4 cannot be a frame, and one whose body exceeds `maximumBodyLength` is refused
/// as soon as its header arrives, before any of the body is buffered. Runs on the channel's
/// event loop.
public struct LengthPrefixedFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let maximumBodyLength: Int

    public init(maximumBodyLength: Int) {
        self.maximumBodyLength = maximumBodyLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let total = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard total >= 4 else { throw LengthPrefixedFrameError.lengthBelowHeader(total) }
        let bodyLength = Int(total) - 4
        guard bodyLength <= maximumBodyLength else {
            throw LengthPrefixedFrameError.tooLong(length: bodyLength, limit: maximumBodyLength)
        }
        guard buffer.readableBytes >= Int(total) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: bodyLength)
    }

    /// An unfinished frame at EOF is discarded, as Workerman discards it.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if seenEOF { buffer.moveReaderIndex(to: buffer.writerIndex) }
        return nil
    }

    /// The wire form of one message: the total length, then the body.
    public static func encode(_ body: UnsafeRawBufferPointer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(4 + body.count)
        write(body, into: &buffer)
        return buffer
    }

    /// Appends the wire form of one message to `buffer`.
    public static func write(_ body: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(4 + body.count))
        buffer.writeBytes(body)
    }
}

/// Why a `frame://` stream was refused; fatal for the connection.
public enum LengthPrefixedFrameError: Error, Hashable {
    /// The total length is smaller than the 4-byte header itself.
    case lengthBelowHeader(UInt32)
    /// The body would exceed the configured maximum message size.
    case tooLong(length: Int, limit: Int)
}
