/// Why bytes are not an acceptable PHP `serialize()` string. Offsets are from the start of the
/// input.
public enum PHPSerializeError: Error, Hashable {
    /// The input ended where more was required.
    case unexpectedEnd(offset: Int)
    /// A byte that the format does not allow here.
    case unexpectedByte(offset: Int)
    /// `O:`, `C:` or `E:` (objects, enums): refused, as GatewayWorker never sends them and
    /// accepting them is PHP unserialize's classic attack surface.
    case objectNotAllowed(offset: Int)
    /// `r:` / `R:` back-references: refused for the same reason.
    case referenceNotAllowed(offset: Int)
    /// Arrays nested deeper than the limit (protects the stack against depth bombs).
    case tooDeep(limit: Int)
    /// A complete value was read but bytes remain.
    case trailingBytes(offset: Int)
    /// A malformed or out-of-range `i:` / `d:` number.
    case invalidNumber(offset: Int)
    /// A string length or element count that cannot fit in the remaining input (or in `Int`);
    /// detected before anything of that size is allocated.
    case lengthTooLarge(offset: Int)
}
