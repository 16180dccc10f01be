/// Why bytes are not acceptable JSON (RFC 8259, plus this module's limits).
public struct JSONParseError: Error, Hashable {
    /// Byte offset in the input where the problem was found.
    public var offset: Int
    /// A short human-readable explanation, for logs.
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }
}
