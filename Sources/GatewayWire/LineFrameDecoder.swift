import NIOCore

/// Splits a byte stream into `"\n"`-terminated lines: the register protocol and Workerman's
/// `text://` protocol.
///
/// Each emitted line has its `"\n"` removed, and then every trailing `"\r"` — Workerman's Text
/// protocol decodes with `rtrim($buffer, "\r\n")`, so `"a\r\r\n"` reads as `"a"` there too.
/// Runs on the channel's event loop.
public struct LineFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// The most bytes a line may have before its `"\n"` (any `"\r"` included).
    public let maximumLineLength: Int
    /// How many readable bytes are already known to hold no `"\n"`, so drip-fed input is
    /// scanned once rather than from the start on every read.
    private var scanned = 0

    /// - Parameter maximumLineLength: 64 KiB by default: register lines are well under 1 KiB
    ///   even with hundreds of gateway addresses, and the limit is checked before the `"\n"`
    ///   arrives, so a peer that never sends one cannot make us buffer more than this.
    public init(maximumLineLength: Int = 64 * 1024) {
        self.maximumLineLength = maximumLineLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        let newline = buffer.withUnsafeReadableBytes { bytes -> Int? in
            guard self.scanned < bytes.count else { return nil }
            // One byte past the limit is enough to decide; written so `Int.max` cannot overflow.
            let searchEnd = bytes.count > self.maximumLineLength ? self.maximumLineLength + 1 : bytes.count
            var index = self.scanned
            while index < searchEnd {
                if bytes[index] == UInt8(ascii: "\n") { return index }
                index += 1
            }
            return nil
        }
        guard let newline else {
            self.scanned = buffer.readableBytes
            if buffer.readableBytes > self.maximumLineLength {
                throw LineTooLongError(limit: self.maximumLineLength)
            }
            return nil
        }
        self.scanned = 0
        guard var line = buffer.readSlice(length: newline) else { return nil }
        buffer.moveReaderIndex(forwardBy: 1)
        var contentLength = line.readableBytes
        while contentLength > 0, line.getInteger(at: line.readerIndex + contentLength - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            contentLength -= 1
        }
        line.moveWriterIndex(to: line.readerIndex + contentLength)
        return line
    }

    /// At EOF an unterminated tail is discarded (Workerman never delivers it either); when the
    /// handler is merely removed, the tail is left for whoever reads next.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let line = try self.decode(buffer: &buffer) {
            return line
        }
        if seenEOF {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            self.scanned = 0
        }
        return nil
    }
}
