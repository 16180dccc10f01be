/// How PHP code reads decoded JSON, for decoders that must accept exactly what a PHP peer
/// would. Internal: the public API keeps JSON semantics.
extension JSONValue {
    /// The member PHP would see: with `json_decode($x, true)` a repeated key keeps its last value.
    func phpMember(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    /// PHP's `empty()`: null, false, 0, 0.0, "", "0" and empty arrays/objects.
    var isPHPEmpty: Bool {
        switch self {
        case .null: return true
        case .bool(let flag): return !flag
        case .int(let number): return number == 0
        case .double(let number): return number == 0
        case .string(let text): return text.isEmpty || text == "0"
        case .array(let elements): return elements.isEmpty
        case .object(let members): return members.isEmpty
        }
    }

    /// The value as a string field: strings as they are, anything else as its compact JSON
    /// text (so a non-string secret can never equal the empty secret, as with PHP's `!==`).
    var fieldText: String {
        if case .string(let text) = self { return text }
        return String(decoding: self.serialized(escaping: .minimal), as: UTF8.self)
    }

    /// A group / uid name: strings as they are; numbers (PHP may have turned numeric names into
    /// ints) and booleans as PHP's array-key cast would write them. nil for null/arrays/objects.
    var nameText: String? {
        switch self {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return String(decoding: PHPDoubleFormatter.format(number, exponent: UInt8(ascii: "E")), as: UTF8.self)
        case .bool(let flag): return flag ? "1" : "0"
        case .null, .array, .object: return nil
        }
    }

    /// Elements of a JSON list, or the member values of an object (a PHP array with gaps or
    /// string keys encodes as an object, e.g. after `array_unique`).
    var phpArrayValues: [JSONValue]? {
        switch self {
        case .array(let elements): return elements
        case .object(let members): return members.map(\.value)
        default: return nil
        }
    }
}
