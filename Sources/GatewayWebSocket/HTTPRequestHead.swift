/// An HTTP/1.x request head (request line and header fields) parsed from its bytes, with the
/// syntax the gateway's SwiftNIO path accepted (NIOHTTP1 on llhttp, strict mode): CRLF line
/// ends only, no obs-fold, token header names, one or more spaces between the request line's
/// parts, and header values with their leading whitespace dropped and trailing whitespace kept.
///
/// Names, values and the target are decoded as NIO decodes them (`String(decoding:as:)`), so the
/// strings handed to workers are the same.
struct HTTPRequestHead {
    var method: String
    var target: String
    var versionMajor: Int
    var versionMinor: Int
    var headers: [(name: String, value: String)]

    /// Parses `head`: from the first byte of the request line through the empty line that ends
    /// the head. Nil when it is not HTTP/1.x request syntax.
    init?(_ head: UnsafeRawBufferPointer) {
        var lines = CRLFLines(head)
        guard let requestLine = lines.next(), let parsed = RequestLine(requestLine) else { return nil }
        method = parsed.method
        target = parsed.target
        versionMajor = parsed.versionMajor
        versionMinor = parsed.versionMinor
        headers = []
        while let line = lines.next(), !line.isEmpty {
            guard let field = Self.headerField(line) else { return nil }
            headers.append(field)
        }
    }

    /// `name ":" OWS value`, the value's leading spaces and tabs dropped (llhttp keeps trailing ones).
    private static func headerField(_ line: UnsafeRawBufferPointer) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: line[..<colon])
        guard name.allSatisfy(HTTPSyntax.isTokenByte) else { return nil }
        var valueStart = colon + 1
        while valueStart < line.count, HTTPSyntax.isWhitespace(line[valueStart]) { valueStart += 1 }
        let value = UnsafeRawBufferPointer(rebasing: line[valueStart...])
        guard value.allSatisfy(HTTPSyntax.isFieldValueByte) else { return nil }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }
}

/// `method SP+ request-target SP+ HTTP/d.d`.
private struct RequestLine {
    var method: String
    var target: String
    var versionMajor: Int
    var versionMinor: Int

    init?(_ line: UnsafeRawBufferPointer) {
        var fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)[...]
        guard line.first != UInt8(ascii: " "), line.last != UInt8(ascii: " "), fields.count == 3 else { return nil }
        let methodBytes = fields.removeFirst()
        let targetBytes = UnsafeRawBufferPointer(rebasing: fields.removeFirst())
        let versionBytes = Array(fields.removeFirst())
        guard methodBytes.allSatisfy(HTTPSyntax.isTokenByte), HTTPSyntax.isRequestTarget(targetBytes),
            versionBytes.count == 8, versionBytes.starts(with: "HTTP/".utf8), versionBytes[6] == UInt8(ascii: "."),
            let major = HTTPSyntax.digitValue(versionBytes[5]), let minor = HTTPSyntax.digitValue(versionBytes[7])
        else { return nil }
        method = String(decoding: methodBytes, as: UTF8.self)
        target = String(decoding: targetBytes, as: UTF8.self)
        versionMajor = major
        versionMinor = minor
    }
}

/// The lines of a head, each without its CRLF. The scanner that found the head already
/// refused bare CRs and LFs, so splitting at CRLF is all that is left to do.
private struct CRLFLines {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> UnsafeRawBufferPointer? {
        var end = position
        while end + 1 < bytes.count, !(bytes[end] == HTTPSyntax.cr && bytes[end + 1] == HTTPSyntax.lf) { end += 1 }
        guard end + 1 < bytes.count else { return nil }
        defer { position = end + 2 }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<end])
    }
}

/// Byte classes of RFC 9110/9112 as llhttp applies them.
enum HTTPSyntax {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")

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

    /// Control bytes that may appear nowhere in a head, line ends and tabs aside: the scanner
    /// refuses them as soon as they arrive, so garbage (a TLS hello) is answered at once.
    static func isForbiddenInHead(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != UInt8(ascii: "\t") && byte != cr && byte != lf) || byte == 0x7F
    }

    static func digitValue(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// The request-target forms llhttp accepts: origin-form (`/...`), `*...`, and absolute-form
    /// (`scheme://authority...`, the scheme letters only); every byte visible ASCII.
    static func isRequestTarget(_ target: UnsafeRawBufferPointer) -> Bool {
        guard let first = target.first, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return false }
        if first == UInt8(ascii: "/") || first == UInt8(ascii: "*") { return true }
        guard let colon = target.firstIndex(of: UInt8(ascii: ":")), colon > 0,
            target[..<colon].allSatisfy({ isLetter($0) }), target[colon...].starts(with: "://".utf8)
        else { return false }
        let authority = target[(colon + 3)...].prefix { !"/?#".utf8.contains($0) }
        return authority.allSatisfy(isAuthorityByte)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    /// RFC 3986 authority: unreserved, pct-encoded, sub-delims, ":", "@", "[" and "]".
    private static func isAuthorityByte(_ byte: UInt8) -> Bool {
        isTokenByte(byte) && !"^`|".utf8.contains(byte) || "()*,;=:@[]".utf8.contains(byte)
    }
}
