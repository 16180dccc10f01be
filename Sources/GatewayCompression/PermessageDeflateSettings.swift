/// How the gateway compresses for clients that agreed to permessage-deflate.
public struct PermessageDeflateSettings: Sendable, Equatable {
    /// zlib's level, 1 (fastest) ... 9 (smallest).
    public var level: Int
    /// Messages shorter than this go out uncompressed (RFC 7692 lets a sender choose per
    /// message).
    public var minimumMessageBytes: Int

    public init(level: Int, minimumMessageBytes: Int) {
        self.level = level
        self.minimumMessageBytes = minimumMessageBytes
    }
}
