/// What a stream scanner found at the front of the bytes it was given.
public enum StreamScanResult: Equatable {
    /// A whole message: its body is `bytes[body]` (for text, the line without "\n" and trailing "\r"s);
    /// `consumed` bytes (message and its framing) were used from the front.
    case message(body: Range<Int>, consumed: Int)
    /// No whole message yet; offer the same bytes again with more behind them. `messageSize`: the size
    /// of the whole message (framing included) the bytes begin, when known from a header (frame://), else 0.
    case needMoreBytes(messageSize: Int)
    /// The message is (or will be) over the limit: close the connection (counted as oversized).
    case tooLong
    /// Not a valid stream (frame:// total length below 4): close the connection (counted as malformed).
    case malformed
}
