/// Strict RFC 8259 parser behind `JSONValue.parse`.
///
/// Input is hostile (register lines and ext_data come off the network): nesting is capped,
/// strings must be valid UTF-8 with well-formed escapes (no lone surrogates, like PHP's
/// `json_decode`), numbers follow the RFC grammar, and nothing may follow the value but
/// whitespace. Integers that do not fit `Int` become doubles (as in PHP); numbers that
/// overflow a double are refused.
struct JSONParser {
    static let maximumDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    private init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSONValue, JSONParseError> {
        var parser = JSONParser(bytes: bytes)
        do throws(JSONParseError) {
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            guard parser.position == bytes.count else {
                throw parser.error("unexpected data after the JSON value")
            }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    private func error(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? self.position, reason: reason)
    }

    private mutating func skipWhitespace() {
        while self.position < self.bytes.count {
            switch self.bytes[self.position] {
            case 0x20, 0x09, 0x0A, 0x0D: self.position += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard self.position < self.bytes.count else { throw self.error("unexpected end of input") }
        switch self.bytes[self.position] {
        case UInt8(ascii: "{"):
            return try self.parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            return try self.parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try self.parseString())
        case UInt8(ascii: "t"):
            try self.expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try self.parseNumber()
        default:
            throw self.error("unexpected byte")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let length = literal.utf8CodeUnitCount
        let start = self.position
        guard self.bytes.count - start >= length else { throw self.error("unexpected end of input") }
        let matches = literal.withUTF8Buffer { expected in
            (0..<length).allSatisfy { self.bytes[start + $0] == expected[$0] }
        }
        guard matches else { throw self.error("invalid literal") }
        self.position += length
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONParser.maximumDepth else { throw self.error("nesting deeper than \(JSONParser.maximumDepth)") }
        self.position += 1  // "{"
        var members: [JSONMember] = []
        self.skipWhitespace()
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "}") {
            self.position += 1
            return .object(members)
        }
        while true {
            self.skipWhitespace()
            guard self.position < self.bytes.count else { throw self.error("unexpected end of input") }
            guard self.bytes[self.position] == UInt8(ascii: "\"") else { throw self.error("expected a member name") }
            let key = try self.parseString()
            self.skipWhitespace()
            try self.expect(UInt8(ascii: ":"), "expected ':'")
            self.skipWhitespace()
            let value = try self.parseValue(depth: depth)
            members.append(JSONMember(key, value))
            self.skipWhitespace()
            guard self.position < self.bytes.count else { throw self.error("unexpected end of input") }
            switch self.bytes[self.position] {
            case UInt8(ascii: ","):
                self.position += 1
            case UInt8(ascii: "}"):
                self.position += 1
                return .object(members)
            default:
                throw self.error("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONParser.maximumDepth else { throw self.error("nesting deeper than \(JSONParser.maximumDepth)") }
        self.position += 1  // "["
        var elements: [JSONValue] = []
        self.skipWhitespace()
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "]") {
            self.position += 1
            return .array(elements)
        }
        while true {
            self.skipWhitespace()
            elements.append(try self.parseValue(depth: depth))
            self.skipWhitespace()
            guard self.position < self.bytes.count else { throw self.error("unexpected end of input") }
            switch self.bytes[self.position] {
            case UInt8(ascii: ","):
                self.position += 1
            case UInt8(ascii: "]"):
                self.position += 1
                return .array(elements)
            default:
                throw self.error("expected ',' or ']'")
            }
        }
    }

    private mutating func expect(_ byte: UInt8, _ reason: String) throws(JSONParseError) {
        guard self.position < self.bytes.count else { throw self.error("unexpected end of input") }
        guard self.bytes[self.position] == byte else { throw self.error(reason) }
        self.position += 1
    }

    // MARK: Strings

    private mutating func parseString() throws(JSONParseError) -> String {
        let start = self.position
        self.position += 1  // opening quote
        // Fast path: no escapes — validate the raw slice in one go.
        var scan = self.position
        while scan < self.bytes.count {
            let byte = self.bytes[scan]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            scan += 1
        }
        if scan < self.bytes.count, self.bytes[scan] == UInt8(ascii: "\"") {
            guard let text = String(validating: self.bytes[self.position..<scan], as: UTF8.self) else {
                throw self.error("invalid UTF-8 in string", at: start)
            }
            self.position = scan + 1
            return text
        }

        var decoded: [UInt8] = Array(self.bytes[self.position..<scan])
        self.position = scan
        while true {
            guard self.position < self.bytes.count else { throw self.error("unterminated string", at: start) }
            let byte = self.bytes[self.position]
            switch byte {
            case UInt8(ascii: "\""):
                self.position += 1
                guard let text = String(validating: decoded, as: UTF8.self) else {
                    throw self.error("invalid UTF-8 in string", at: start)
                }
                return text
            case UInt8(ascii: "\\"):
                self.position += 1
                try self.parseEscape(into: &decoded)
            case 0..<0x20:
                throw self.error("control character in string")
            default:
                decoded.append(byte)
                self.position += 1
            }
        }
    }

    private mutating func parseEscape(into decoded: inout [UInt8]) throws(JSONParseError) {
        guard self.position < self.bytes.count else { throw self.error("unterminated string") }
        let escape = self.bytes[self.position]
        self.position += 1
        switch escape {
        case UInt8(ascii: "\""): decoded.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): decoded.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): decoded.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            let escapeStart = self.position - 2
            let first = try self.parseHex4()
            var scalarValue = UInt32(first)
            if (0xD800...0xDBFF).contains(first) {
                guard self.bytes.count - self.position >= 6,
                    self.bytes[self.position] == UInt8(ascii: "\\"),
                    self.bytes[self.position + 1] == UInt8(ascii: "u")
                else { throw self.error("unpaired UTF-16 surrogate", at: escapeStart) }
                self.position += 2
                let second = try self.parseHex4()
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw self.error("unpaired UTF-16 surrogate", at: escapeStart)
                }
                scalarValue = 0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(first) {
                throw self.error("unpaired UTF-16 surrogate", at: escapeStart)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw self.error("invalid \\u escape", at: escapeStart)
            }
            decoded.append(contentsOf: UTF8.encode(scalar)!)
        default:
            throw self.error("invalid escape", at: self.position - 2)
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt16 {
        guard self.bytes.count - self.position >= 4 else { throw self.error("unterminated \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.position]
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: throw self.error("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt16(nibble)
            self.position += 1
        }
        return value
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = self.position
        var isInteger = true
        if self.bytes[self.position] == UInt8(ascii: "-") { self.position += 1 }
        guard self.position < self.bytes.count else { throw self.error("unexpected end of input") }
        if self.bytes[self.position] == UInt8(ascii: "0") {
            self.position += 1
        } else if self.isDigit(at: self.position) {
            while self.isDigit(at: self.position) { self.position += 1 }
        } else {
            throw self.error("invalid number", at: start)
        }
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: ".") {
            isInteger = false
            self.position += 1
            guard self.isDigit(at: self.position) else { throw self.error("invalid number", at: start) }
            while self.isDigit(at: self.position) { self.position += 1 }
        }
        if self.position < self.bytes.count,
            self.bytes[self.position] == UInt8(ascii: "e") || self.bytes[self.position] == UInt8(ascii: "E")
        {
            isInteger = false
            self.position += 1
            if self.position < self.bytes.count,
                self.bytes[self.position] == UInt8(ascii: "+") || self.bytes[self.position] == UInt8(ascii: "-")
            {
                self.position += 1
            }
            guard self.isDigit(at: self.position) else { throw self.error("invalid number", at: start) }
            while self.isDigit(at: self.position) { self.position += 1 }
        }
        let text = String(decoding: self.bytes[start..<self.position], as: UTF8.self)
        if isInteger, let value = Int(text) {
            return .int(value)
        }
        guard let value = Double(text), value.isFinite else {
            throw self.error("number out of range", at: start)
        }
        return .double(value)
    }

    private func isDigit(at index: Int) -> Bool {
        index < self.bytes.count && self.bytes[index] >= UInt8(ascii: "0") && self.bytes[index] <= UInt8(ascii: "9")
    }
}
