#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// text:// — "\n"-terminated lines.
///
/// `LineFrameDecoder`'s rules over the raw bytes the engine holds: a line loses its "\n" and then
/// every trailing "\r" (Workerman's `rtrim($buffer, "\r\n")`), and the limit is checked before the
/// "\n" arrives, so a peer that never sends one is refused as soon as it has sent more than the limit.
public struct TextLineScanner {
    /// The most bytes a line may have before its "\n" (any "\r" included).
    public let maximumLineLength: Int
    /// How many bytes at the front are known to hold no "\n", so a line drip-fed over many
    /// reads is searched once rather than from its start on every read.
    private var scanned = 0

    public init(maximumLineLength: Int) {
        self.maximumLineLength = maximumLineLength
    }

    /// After `.needMoreBytes`, `bytes` must start where the previous call's did (the same bytes with
    /// more behind them): the bytes already searched are not searched again. After `.message`, pass
    /// the bytes after `consumed`.
    public mutating func scan(_ bytes: UnsafeRawBufferPointer) -> StreamScanResult {
        // One byte past the limit is enough to decide; written so `Int.max` cannot overflow.
        let searchEnd = bytes.count > maximumLineLength ? maximumLineLength + 1 : bytes.count
        if scanned < searchEnd, let start = bytes.baseAddress,
            let found = memchr(start + scanned, Int32(UInt8(ascii: "\n")), searchEnd - scanned)
        {
            let newline = start.distance(to: UnsafeRawPointer(found))
            scanned = 0
            var end = newline
            while end > 0, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            return .message(body: 0..<end, consumed: newline + 1)
        }
        scanned = bytes.count
        return bytes.count > maximumLineLength ? .tooLong : .needMoreBytes(messageSize: 0)
    }
}
