/// Why the inner-protocol stream (frames or replies) cannot be decoded.
///
/// All of these are fatal for the connection: the stream has lost its framing, so the only safe
/// reaction is to close it (which is also what a PHP gateway does).
public enum GatewayFrameError: Error, Hashable {
    /// `pack_len` is below the 28-byte header.
    case frameTooShort(declared: Int)
    /// `pack_len` (or a reply's length) is above the configured limit. Raised before the bytes
    /// arrive, so a hostile length never causes an allocation of that size.
    case frameTooLarge(declared: Int, limit: Int)
    /// `ext_len` does not fit in the frame.
    case extDataOverflow(extLength: Int, frameLength: Int)
}
