/// An HTTP/1.x request head (request line and header fields) split from bytes whose syntax
/// `RequestHeadScanner` checked, as the gateway's SwiftNIO path (NIOHTTP1 on llhttp) split it:
/// header values lose their leading whitespace and keep their trailing whitespace.
///
/// Names, values and the target are decoded as NIO decodes them (`String(decoding:as:)`), so the
/// strings handed to workers are the same.
struct HTTPRequestHead {
    var method: String
    var target: String
    var versionMajor: Int
    var versionMinor: Int
    var headers: [(name: String, value: String)]

    /// Splits `head`, from the first byte of the request line through the empty line that ends
    /// it. Nil for an absolute-form target whose authority has bytes llhttp refused there.
    init?(_ head: UnsafeRawBufferPointer) {
        var lines = CRLFLines(head)
        guard let requestLine = lines.next(), let parsed = RequestLine(requestLine) else { return nil }
        method = parsed.method
        target = parsed.target
        versionMajor = parsed.versionMajor
        versionMinor = parsed.versionMinor
        headers = []
        while let line = lines.next(), !line.isEmpty { headers.append(Self.headerField(line)) }
    }

    /// `name ":" OWS value`, the value's leading spaces and tabs dropped (llhttp keeps trailing ones).
    private static func headerField(_ line: UnsafeRawBufferPointer) -> (name: String, value: String) {
        let colon = line.firstIndex(of: UInt8(ascii: ":"))!  // the scanner saw a token and a colon
        var valueStart = colon + 1
        while valueStart < line.count, HTTPSyntax.isWhitespace(line[valueStart]) { valueStart += 1 }
        return (String(decoding: UnsafeRawBufferPointer(rebasing: line[..<colon]), as: UTF8.self),
                String(decoding: UnsafeRawBufferPointer(rebasing: line[valueStart...]), as: UTF8.self))
    }
}

/// `method SP+ request-target SP+ HTTP/d.d`, or HTTP/0.9's `method SP+ request-target`, its
/// syntax already checked.
private struct RequestLine {
    var method: String
    var target: String
    var versionMajor: Int
    var versionMinor: Int

    init?(_ line: UnsafeRawBufferPointer) {
        // The scanner let through two or three fields, with runs of spaces between them.
        let fields = line.split(separator: UInt8(ascii: " "))
        let targetBytes = UnsafeRawBufferPointer(rebasing: fields[1])
        guard HTTPSyntax.isRequestTarget(targetBytes) else { return nil }
        method = String(decoding: fields[0], as: UTF8.self)
        target = String(decoding: targetBytes, as: UTF8.self)
        guard fields.count == 3 else {
            (versionMajor, versionMinor) = (0, 9)
            return
        }
        let version = fields[2]
        versionMajor = Int(version[version.startIndex + 5] - UInt8(ascii: "0"))
        versionMinor = Int(version[version.startIndex + 7] - UInt8(ascii: "0"))
    }
}

/// The lines of a checked head, each without its CRLF (or the bare LF that may end an
/// HTTP/0.9 request line).
private struct CRLFLines {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> UnsafeRawBufferPointer? {
        guard let end = bytes[position...].firstIndex(where: { $0 == HTTPSyntax.cr || $0 == HTTPSyntax.lf }) else { return nil }
        defer { position = end + (bytes[end] == HTTPSyntax.cr ? 2 : 1) }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<end])
    }
}

/// Byte classes of RFC 9110/9112 as llhttp applies them.
enum HTTPSyntax {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")

    /// Every value of the headers named `lowercaseName`, in order; names compare ASCII
    /// case-insensitively.
    static func values(of lowercaseName: String, in headers: [(name: String, value: String)]) -> [String] {
        headers.filter { isName($0.name, lowercaseName) }.map(\.value)
    }

    private static func isName(_ name: String, _ lowercaseName: String) -> Bool {
        name.utf8.count == lowercaseName.utf8.count
            && zip(name.utf8, lowercaseName.utf8).allSatisfy { pair in
                let (byte, wanted) = pair
                return byte == wanted || ((UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) && byte | 0x20 == wanted)
            }
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// tchar: what header names and methods are made of.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// A field value's bytes: tab, space, visible ASCII and obs-text (0x80-0xFF).
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F)
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    static let versionLength = 8

    /// Byte `index` of "HTTP/d.d".
    static func isVersionByte(_ byte: UInt8, at index: Int) -> Bool {
        switch index {
        case 5, 7: return isDigit(byte)
        case 6: return byte == UInt8(ascii: ".")
        default: return "HTTP/".utf8.dropFirst(index).first == byte
        }
    }

    /// Visible ASCII: what a request target is made of.
    static func isRequestTargetByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F
    }

    /// Whether an absolute-form target's authority (`scheme://authority...`) holds only the
    /// bytes llhttp took there; the scanner checked the rest of the target's syntax.
    static func isRequestTarget(_ target: UnsafeRawBufferPointer) -> Bool {
        guard let first = target.first, isLetter(first), let colon = target.firstIndex(of: UInt8(ascii: ":")) else { return true }
        // llhttp ends the authority at "/" or "?" only: a "#" in it is refused.
        let authority = target[(colon + 3)...].prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") }
        return authority.allSatisfy(isAuthorityByte)
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    /// RFC 3986 authority: unreserved, pct-encoded, sub-delims, ":", "@", "[" and "]".
    private static func isAuthorityByte(_ byte: UInt8) -> Bool {
        isLetter(byte) || isDigit(byte) || "-._~%!$&'()*+,;=:@[]".utf8.contains(byte)
    }
}
