/// Dotted-quad IPv4 addresses as the big-endian `UInt32`s the inner protocol carries.
///
/// Why not `SocketAddress`: this module is pure (no I/O, fuzzable) and the header fields and
/// `client_id` only ever hold IPv4, exactly like PHP's `ip2long` / `long2ip`.
public enum IPv4 {
    /// Parses `"a.b.c.d"` strictly: four decimal parts 0...255, no leading zeros (as
    /// `inet_pton`, which PHP's `ip2long` uses), no spaces. Returns `nil` otherwise.
    public static func parse(_ s: some StringProtocol) -> UInt32? {
        var result: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var parts = 0
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits > 0 && part == 0 { return nil }  // leading zero
                part = part * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                if part > 255 { return nil }
            case UInt8(ascii: "."):
                guard digits > 0, parts < 3 else { return nil }
                result = result << 8 | part
                parts += 1
                part = 0
                digits = 0
            default:
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        return result << 8 | part
    }

    /// Formats a big-endian address as `"a.b.c.d"` (PHP `long2ip`).
    public static func format(_ v: UInt32) -> String {
        "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF)"
    }
}
