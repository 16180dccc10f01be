/// One JSON value kept as its text: the Swift form of the raw-JSON argument type (`j`) of
/// docs/events.md.
///
/// As an event argument (or a field of one) it holds the value's text exactly as the client
/// sent it, and ``Gateway/emit(_:to:_:)`` or a handler's result puts that text back into the
/// frame unchanged, as a JSON value, not as a string. Nested inside another `Encodable` it is
/// written through that encoder from its parsed value (objects keep their members, numbers
/// their value; a number beyond `Int64` and `Double` cannot be written that way).
public struct RawJSON: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The JSON text.
    public let text: String

    /// Wraps `text`, which must be one JSON value (whitespace around it is allowed); else
    /// throws ``GatewayError/Code/invalidArgument``.
    public init(_ text: String) throws(GatewayError) {
        guard JSONParser.parse(Array(text.utf8)) != nil else {
            throw GatewayError(code: .invalidArgument, message: "not one JSON value")
        }
        self.text = text
    }

    /// `text` that is known to be one JSON value.
    init(checked text: String) {
        self.text = text
    }

    public var description: String { text }

    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? NodeDecoder {
            text = decoder.context.document.text(decoder.node.range)
        } else if decoder is EventArgumentsDecoder {
            self = try decoder.singleValueContainer().decode(RawJSON.self)  // the SDK's own: verbatim
        } else {
            // Another decoder (JSONDecoder, …): the value, written back as compact JSON.
            var text = ""
            try decoder.singleValueContainer().decode(AnyJSON.self).write(to: &text)
            self.text = text
        }
    }

    public func encode(to encoder: any Encoder) throws {
        let document = JSONDocument(bytes: Array(text.utf8))
        guard let node = JSONParser.parse(document.bytes) else {
            throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath, debugDescription: "not one JSON value"))
        }
        try AnyJSON(node, document).encode(to: encoder)
    }
}

/// Any JSON value, for ``RawJSON`` through other coders.
private enum AnyJSON: Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([(key: String, value: AnyJSON)])

    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }

        init(_ string: String) {
            stringValue = string
        }

        init?(stringValue: String) {
            self.stringValue = stringValue
        }

        init?(intValue: Int) {
            return nil
        }
    }

    init(_ node: JSONNode, _ document: JSONDocument) {
        switch node.value {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .number:
            let text = document.text(node.range)
            if let integer = Int64(text) {
                self = .integer(integer)
            } else {
                self = .number(Double(text) ?? .nan)
            }
        case .string(let string): self = .string(string)
        case .array(let elements): self = .array(elements.map { AnyJSON($0, document) })
        case .object(let members): self = .object(members.map { ($0.key, AnyJSON($0.value, document)) })
        }
    }

    init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer() {
            if single.decodeNil() { self = .null; return }
            if let value = try? single.decode(Bool.self) { self = .bool(value); return }
            if let value = try? single.decode(Int64.self) { self = .integer(value); return }
            if let value = try? single.decode(Double.self) { self = .number(value); return }
            if let value = try? single.decode(String.self) { self = .string(value); return }
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var elements: [AnyJSON] = []
            while !unkeyed.isAtEnd { elements.append(try unkeyed.decode(AnyJSON.self)) }
            self = .array(elements)
            return
        }
        let keyed = try decoder.container(keyedBy: Key.self)
        self = .object(try keyed.allKeys.map { ($0.stringValue, try keyed.decode(AnyJSON.self, forKey: $0)) })
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .bool(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case .integer(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case .number(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case .string(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case .array(let elements):
            var unkeyed = encoder.unkeyedContainer()
            for element in elements { try unkeyed.encode(element) }
        case .object(let members):
            var keyed = encoder.container(keyedBy: Key.self)
            for member in members { try keyed.encode(member.value, forKey: Key(member.key)) }
        }
    }

    /// Compact JSON text.
    func write(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .integer(let value): output += "\(value)"
        case .number(let value): output += value.isFinite ? "\(value)" : "null"
        case .string(let value): appendJSONString(value, to: &output)
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.write(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { output += "," }
                appendJSONString(member.key, to: &output)
                output += ":"
                member.value.write(to: &output)
            }
            output += "}"
        }
    }
}
