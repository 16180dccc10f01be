/// A PHP array key: an integer or a binary-safe string.
///
/// PHP never stores a canonical decimal string as a string key (`"123"` becomes `123`), and
/// that leaks onto the wire (group `"123"` comes back as `i:123` in replies), so keys built
/// from text go through `init(coercing:)` to match.
public enum PHPArrayKey: Hashable, Sendable {
    case int(Int)
    case string([UInt8])

    /// PHP's key coercion: a canonical decimal integer string ("123", "-5", not "0123", "1.5", " 1") becomes .int
    ///
    /// Exactly PHP's `ZEND_HANDLE_NUMERIC_STR`: an optional `-`, then digits without a leading
    /// zero (but `"0"` itself), within `Int` range. `"-0"` and out-of-range numbers stay strings.
    public init(coercing bytes: [UInt8]) {
        if let value = PHPArrayKey.canonicalInteger(bytes) {
            self = .int(value)
        } else {
            self = .string(bytes)
        }
    }

    /// PHP's key coercion applied to the string's UTF-8 bytes; see `init(coercing:)`.
    public init(coercing string: String) {
        self.init(coercing: Array(string.utf8))
    }

    /// The key as PHP would print it: the decimal for `.int`, the bytes (decoded lossily as
    /// UTF-8) for `.string`. This is also how the key appears as a JSON object member name.
    public var stringValue: String {
        switch self {
        case .int(let value): return String(value)
        case .string(let bytes): return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The key's bytes as PHP's `(string)` cast gives them.
    public var bytes: [UInt8] {
        switch self {
        case .int(let value): return Array(String(value).utf8)
        case .string(let bytes): return bytes
        }
    }

    static func canonicalInteger<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int? {
        var index = bytes.startIndex
        guard index != bytes.endIndex else { return nil }
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative {
            index = bytes.index(after: index)
            guard index != bytes.endIndex else { return nil }
        }
        let first = bytes[index]
        guard first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return nil }
        if first == UInt8(ascii: "0") {
            // "0" alone is canonical; "01" and "-0" are not.
            return (!negative && bytes.index(after: index) == bytes.endIndex) ? 0 : nil
        }
        var magnitude: UInt64 = 0
        var digits = 0
        while index != bytes.endIndex {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            digits += 1
            guard digits <= 19 else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
            index = bytes.index(after: index)
        }
        if negative {
            guard magnitude <= UInt64(Int.max) + 1 else { return nil }
            return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int.max) else { return nil }
        return Int(magnitude)
    }
}

extension PHPArrayKey: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    /// String literals are coerced like PHP source code would: `["1": x]` has the int key 1.
    public init(stringLiteral value: String) {
        self.init(coercing: value)
    }

    public init(integerLiteral value: Int) {
        self = .int(value)
    }
}
