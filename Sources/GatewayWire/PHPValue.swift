/// A PHP value as far as the GatewayWorker wire formats need: sessions, query replies and the
/// websocket-connect body.
///
/// Strings are bytes (`[UInt8]`) because PHP strings are binary-safe and sessions may hold
/// anything; `string(_:)` and `stringValue` bridge to Swift `String`. Objects and references
/// are deliberately not representable: GatewayWorker never produces them and refusing them on
/// input removes PHP's unserialize attack surface.
public indirect enum PHPValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string([UInt8])
    case array(PHPArray)

    /// A string value from Swift text (its UTF-8 bytes).
    public static func string(_ s: String) -> PHPValue {
        .string(Array(s.utf8))
    }

    /// The text of a `.string` when its bytes are valid UTF-8 (lossless only); nil otherwise.
    public var stringValue: String? {
        guard case .string(let bytes) = self else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The bytes of a `.string`.
    public var bytesValue: [UInt8]? {
        guard case .string(let bytes) = self else { return nil }
        return bytes
    }

    public var intValue: Int? {
        guard case .int(let value) = self else { return nil }
        return value
    }

    public var doubleValue: Double? {
        guard case .double(let value) = self else { return nil }
        return value
    }

    public var boolValue: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }

    public var arrayValue: PHPArray? {
        guard case .array(let value) = self else { return nil }
        return value
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Element lookup on an array value (key coerced like PHP); nil for non-arrays.
    public subscript(key: String) -> PHPValue? {
        guard case .array(let array) = self else { return nil }
        return array[key]
    }

    /// Element lookup on an array value; nil for non-arrays.
    public subscript(key: PHPArrayKey) -> PHPValue? {
        guard case .array(let array) = self else { return nil }
        return array[key]
    }
}

extension PHPValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) {
        self = .string(Array(value.utf8))
    }

    public init(integerLiteral value: Int) {
        self = .int(value)
    }

    public init(floatLiteral value: Double) {
        self = .double(value)
    }

    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }

    /// A list array.
    public init(arrayLiteral elements: PHPValue...) {
        self = .array(PHPArray(elements))
    }

    /// A map array; keys coerced like PHP source.
    public init(dictionaryLiteral elements: (String, PHPValue)...) {
        var array = PHPArray()
        for (key, value) in elements {
            array[key] = value
        }
        self = .array(array)
    }
}
