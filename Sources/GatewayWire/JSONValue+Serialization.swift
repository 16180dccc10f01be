extension JSONValue {
    /// RFC 8259, depth limit 64, rejects trailing garbage.
    ///
    /// Strings must be valid UTF-8 and escapes well-formed (lone surrogates are refused, as by
    /// PHP's `json_decode`). Leading and trailing whitespace is allowed.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            JSONParser.parse(UnsafeRawBufferPointer(buffer))
        }
        if let result {
            return try result.get()
        }
        let copy = Array(bytes)
        return try copy.withUnsafeBytes { JSONParser.parse($0) }.get()
    }

    /// How strings are escaped when serializing.
    public enum Escaping: Sendable {
        /// PHP `json_encode` with default flags: `"\/"` for `/`, `\uXXXX` (lowercase hex, UTF-16
        /// surrogate pairs) for every non-ASCII character. Needed wherever a PHP peer's bytes
        /// are reproduced (ext_data, register lines).
        case php
        /// Only what JSON requires (`"`, `\`, control characters); UTF-8 passes through.
        case minimal
    }

    /// Compact JSON (no spaces). Doubles are written like PHP (`1.5`, `1.0e+25`, and a whole
    /// double `1.0` as `1`); non-finite doubles, which JSON cannot express, are written as `0`
    /// as PHP's `JSON_PARTIAL_OUTPUT_ON_ERROR` does.
    public func serialized(escaping: Escaping = .php) -> [UInt8] {
        var out: [UInt8] = []
        self.write(into: &out, escaping: escaping)
        return out
    }

    func write<Sink: ByteSink>(into out: inout Sink, escaping: Escaping) {
        switch self {
        case .null:
            out.appendASCII("null")
        case .bool(let flag):
            out.appendASCII(flag ? "true" : "false")
        case .int(let number):
            out.appendDecimal(number)
        case .double(let number):
            if number.isFinite {
                out.appendBytes(PHPDoubleFormatter.format(number, exponent: UInt8(ascii: "e")))
            } else {
                out.appendByte(UInt8(ascii: "0"))
            }
        case .string(let text):
            JSONValue.writeString(text, into: &out, escaping: escaping)
        case .array(let elements):
            out.appendByte(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.appendByte(UInt8(ascii: ",")) }
                element.write(into: &out, escaping: escaping)
            }
            out.appendByte(UInt8(ascii: "]"))
        case .object(let members):
            out.appendByte(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.appendByte(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, into: &out, escaping: escaping)
                out.appendByte(UInt8(ascii: ":"))
                member.value.write(into: &out, escaping: escaping)
            }
            out.appendByte(UInt8(ascii: "}"))
        }
    }

    static func writeString<Sink: ByteSink>(_ text: String, into out: inout Sink, escaping: Escaping) {
        out.appendByte(UInt8(ascii: "\""))
        switch escaping {
        case .minimal:
            for byte in text.utf8 {
                self.writeASCII(byte, into: &out, escapeSlash: false)
            }
        case .php:
            for scalar in text.unicodeScalars {
                if scalar.isASCII {
                    self.writeASCII(UInt8(scalar.value), into: &out, escapeSlash: true)
                } else {
                    for unit in String(scalar).utf16 {
                        self.writeUnicodeEscape(unit, into: &out)
                    }
                }
            }
        }
        out.appendByte(UInt8(ascii: "\""))
    }

    private static func writeASCII<Sink: ByteSink>(_ byte: UInt8, into out: inout Sink, escapeSlash: Bool) {
        switch byte {
        case UInt8(ascii: "\""): out.appendASCII("\\\"")
        case UInt8(ascii: "\\"): out.appendASCII("\\\\")
        case UInt8(ascii: "/") where escapeSlash: out.appendASCII("\\/")
        case 0x08: out.appendASCII("\\b")
        case 0x0C: out.appendASCII("\\f")
        case 0x0A: out.appendASCII("\\n")
        case 0x0D: out.appendASCII("\\r")
        case 0x09: out.appendASCII("\\t")
        case 0..<0x20: self.writeUnicodeEscape(UInt16(byte), into: &out)
        default: out.appendByte(byte)
        }
    }

    private static func writeUnicodeEscape<Sink: ByteSink>(_ unit: UInt16, into out: inout Sink) {
        let hex: StaticString = "0123456789abcdef"
        out.appendASCII("\\u")
        hex.withUTF8Buffer { digits in
            for shift in stride(from: 12, through: 0, by: -4) {
                out.appendByte(digits[Int((unit >> UInt16(shift)) & 0xF)])
            }
        }
    }
}
