extension PHPValue {
    /// Converts like PHP's `json_decode($json, true)`: objects become arrays with coerced keys
    /// (`{"1":x}` has the int key 1; a repeated key keeps its first position and its last
    /// value), lists become list arrays.
    public init(json: JSONValue) {
        switch json {
        case .null:
            self = .null
        case .bool(let flag):
            self = .bool(flag)
        case .int(let number):
            self = .int(number)
        case .double(let number):
            self = .double(number)
        case .string(let text):
            self = .string(Array(text.utf8))
        case .array(let elements):
            self = .array(PHPArray(elements.map(PHPValue.init(json:))))
        case .object(let members):
            var array = PHPArray()
            for member in members {
                array[PHPArrayKey(coercing: member.key)] = PHPValue(json: member.value)
            }
            self = .array(array)
        }
    }

    /// How plugins see sessions, and PHP's `json_encode` shape: list-shaped arrays (keys
    /// 0..n-1 in order, including the empty array) become JSON arrays, every other array an
    /// object with string keys. Strings that are not valid UTF-8 are decoded lossily (U+FFFD),
    /// where PHP would fail the whole encode.
    public var json: JSONValue {
        switch self {
        case .null:
            return .null
        case .bool(let flag):
            return .bool(flag)
        case .int(let number):
            return .int(number)
        case .double(let number):
            return .double(number)
        case .string(let bytes):
            return .string(String(decoding: bytes, as: UTF8.self))
        case .array(let array):
            if array.isList {
                return .array(array.values.map(\.json))
            }
            return .object(array.map { JSONMember($0.key.stringValue, $0.value.json) })
        }
    }
}
