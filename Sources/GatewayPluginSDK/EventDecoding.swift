// Decoding an event's arguments (docs/events.md, "Client → server") into a handler's
// `Decodable` type, and the failures that become error frames.

/// Why an event's arguments could not be decoded: one error frame of docs/events.md.
struct EventArgumentFailure: Error {
    enum Kind: String {
        case badArgument = "bad_argument"
        case missingArgument = "missing_argument"
        case tooManyArguments = "too_many_arguments"
    }

    var kind: Kind
    /// 1-based.
    var argument: Int
    var expected: String?
    var reason: String?
}

/// An argument's `expected` in an error frame: `string`, `integer`, `number`, `boolean` or
/// `json` (every other `Decodable`).
func expectedName(_ type: Any.Type) -> String {
    if let optional = type as? any OptionalArgument.Type { return expectedName(optional.wrappedType) }
    // A RawRepresentable (a String enum, ClientID) is written as its raw value.
    if let representable = type as? any RawRepresentable.Type { return expectedName(rawValueType(representable)) }
    switch type {
    case is String.Type, is Substring.Type, is Character.Type: return "string"
    case is Bool.Type: return "boolean"
    case is any FixedWidthInteger.Type: return "integer"
    case is any BinaryFloatingPoint.Type: return "number"
    default: return "json"
    }
}

private func rawValueType<Representable: RawRepresentable>(_ type: Representable.Type) -> Any.Type {
    Representable.RawValue.self
}

protocol OptionalArgument {
    static var wrappedType: Any.Type { get }
}

extension Optional: OptionalArgument {
    static var wrappedType: Any.Type { Wrapped.self }
}

/// The limits docs/events.md sets on one argument.
enum EventLimits {
    /// A string (its UTF-8) or a raw-JSON / structured argument (its text), at most.
    static let argumentBytes = Int(GWD_EVENT_MAX_ARG_BYTES)
    /// Levels of arrays and objects in one argument, at most.
    static let argumentDepth = 64
    /// An event name's UTF-8, as for `event_on`.
    static let nameBytes = 1...64
}

// MARK: - The top level: positions and names

/// A coding key for an array index.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }

    init(_ index: Int) {
        intValue = index
    }

    init?(intValue: Int) {
        self.intValue = intValue
    }

    init?(stringValue: String) {
        return nil
    }
}

/// The key of `superDecoder()`: the member "super", as JSONDecoder reads it.
struct SuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }

    init() {}

    init?(stringValue: String) {
        guard stringValue == "super" else { return nil }
    }

    init?(intValue: Int) {
        return nil
    }
}

/// Decodes an event's `Arguments` from its positional arguments (`["name", a, b]`,
/// `{"event": "name", "args": [a, b]}`) or from its named ones (`{"event": "name", "a": …}`).
///
/// A keyed type (a struct with synthesized `Decodable`) takes its fields from the names, or
/// from the positions in the order its `init(from:)` asks for its keys — for a synthesized
/// conformance, the order in which the stored properties are declared. Argument numbers in
/// error frames follow that order in both forms. An unkeyed type (`[Int]`) takes the
/// positional arguments as its elements, and a single value (`String`, `Int`, `RawJSON`) the
/// one positional argument; neither has names, so the named form is refused for them.
final class EventArgumentsDecoder: Decoder {
    enum Arguments {
        case positional([JSONNode])
        /// The event object's members, less "event" and "ack".
        case named([String: JSONNode])
    }

    let arguments: Arguments
    let document: JSONDocument
    /// Keys in the order the type first asked for them: key `order[n]` is argument n + 1.
    private var order: [String] = []
    /// Positional arguments taken by an unkeyed or single-value container.
    fileprivate var taken = 0
    /// The `expected` of each argument asked for so far, by position.
    private var expectations: [Int: String] = [:]

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ arguments: Arguments, document: JSONDocument) {
        self.arguments = arguments
        self.document = document
    }

    /// Decodes `Arguments`; every failure is an ``EventArgumentFailure``.
    func decodeAll<Arguments: Decodable>(_ type: Arguments.Type) throws(EventArgumentFailure) -> Arguments {
        let decoded: Arguments
        do {
            decoded = try Arguments(from: self)
        } catch let failure as EventArgumentFailure {
            throw failure
        } catch {
            throw failure(for: error, position: nil, expected: "json")
        }
        if case .positional(let nodes) = arguments {
            let used = max(order.count, taken)
            if nodes.count > used {
                throw EventArgumentFailure(kind: .tooManyArguments, argument: used + 1)
            }
        }
        return decoded
    }

    /// The argument number of `key`, given on first use.
    fileprivate func position(of key: some CodingKey) -> Int {
        if let index = order.firstIndex(of: key.stringValue) { return index + 1 }
        order.append(key.stringValue)
        return order.count
    }

    /// The position of `key` and its value, nil when it is absent.
    fileprivate func argument(_ key: some CodingKey) -> (position: Int, node: JSONNode?) {
        let position = position(of: key)
        switch arguments {
        case .positional(let nodes): return (position, position <= nodes.count ? nodes[position - 1] : nil)
        case .named(let members): return (position, members[key.stringValue])
        }
    }

    /// Decodes argument `position` (value `node`) as `type`, within the limits of docs/events.md.
    fileprivate func decode<T: Decodable>(_ type: T.Type, position: Int, node: JSONNode?,
                                          codingPath: [any CodingKey]) throws -> T {
        let expected = expectedName(T.self)
        let decoder = try argumentDecoder(position: position, node: node, expected: expected, codingPath: codingPath)
        do {
            return try decoder.decodeValue(T.self)
        } catch let failure as EventArgumentFailure {
            throw failure
        } catch {
            throw failure(for: error, position: position, expected: expected)
        }
    }

    /// A decoder for argument `position`, after the checks every argument gets.
    fileprivate func argumentDecoder(position: Int, node: JSONNode?, expected: String,
                                     codingPath: [any CodingKey]) throws(EventArgumentFailure) -> NodeDecoder {
        expectations[position] = expected
        guard let node else {
            throw EventArgumentFailure(kind: .missingArgument, argument: position, expected: expected)
        }
        let tooLarge: Bool
        switch node.value {
        case .string(let string): tooLarge = string.utf8.count > EventLimits.argumentBytes
        case .array, .object: tooLarge = node.range.count > EventLimits.argumentBytes
        default: tooLarge = false
        }
        if tooLarge {
            throw EventArgumentFailure(kind: .badArgument, argument: position, expected: expected, reason: "too large")
        }
        if node.depth > EventLimits.argumentDepth {
            throw EventArgumentFailure(kind: .badArgument, argument: position, expected: expected, reason: "too deep")
        }
        let context = NodeDecoder.Context(argument: position, expected: expected, document: document,
                                          pathStart: codingPath.count)
        return NodeDecoder(node: node, context: context, codingPath: codingPath)
    }

    /// An error the `Arguments` type threw itself (a `DecodingError` from a check in a custom
    /// `init(from:)`): a bad argument, the one its coding path names when it names one.
    fileprivate func failure(for error: any Error, position: Int?, expected: String) -> EventArgumentFailure {
        var position = position
        var reason = "\(error)"
        if let decodingError = error as? DecodingError {
            let context: DecodingError.Context? = switch decodingError {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
                 .dataCorrupted(let context): context
            @unknown default: nil
            }
            if let context {
                reason = context.debugDescription
                if position == nil, let key = context.codingPath.first {
                    if let index = key.intValue, key is IndexKey {
                        position = index + 1
                    } else if let index = order.firstIndex(of: key.stringValue) {
                        position = index + 1
                    }
                }
            }
        }
        let argument = position ?? 1
        return EventArgumentFailure(kind: .badArgument, argument: argument, expected: expectations[argument] ?? expected,
                                    reason: reason)
    }

    private func positionalOnly(_ expected: String) -> EventArgumentFailure {
        EventArgumentFailure(kind: .badArgument, argument: 1, expected: expected,
                             reason: "this event takes positional arguments (\"args\")")
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(ArgumentsKeyedContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .positional(let nodes) = arguments else { throw positionalOnly("json") }
        return ArgumentsUnkeyedContainer(decoder: self, nodes: nodes)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        guard case .positional(let nodes) = arguments else { throw positionalOnly("json") }
        taken = max(taken, 1)
        return ArgumentsSingleValueContainer(decoder: self, node: nodes.first)
    }
}

/// The arguments by field name (or by the position of the field's first use).
private struct ArgumentsKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: EventArgumentsDecoder

    var codingPath: [any CodingKey] { [] }

    var allKeys: [Key] {
        guard case .named(let members) = decoder.arguments else { return [] }
        return members.keys.sorted().compactMap { Key(stringValue: $0) }
    }

    func contains(_ key: Key) -> Bool {
        decoder.argument(key).node != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let node = decoder.argument(key).node else { return true }
        if case .null = node.value { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let (position, node) = decoder.argument(key)
        return try decoder.decode(T.self, position: position, node: node, codingPath: [key])
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(type as Bool.Type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(type as String.Type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(type as Double.Type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decode(type as Float.Type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(type as Int.Type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decode(type as Int8.Type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decode(type as Int16.Type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(type as Int32.Type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(type as Int64.Type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decode(type as UInt.Type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decode(type as UInt8.Type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(type as UInt16.Type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(type as UInt32.Type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(type as UInt64.Type, key) }

    private func decode<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        let (position, node) = decoder.argument(key)
        return try decoder.decode(T.self, position: position, node: node, codingPath: [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                               forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try superDecoder(forKey: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try superDecoder(forKey: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        try superDecoder(for: SuperKey())
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try superDecoder(for: key)
    }

    private func superDecoder(for key: some CodingKey) throws -> any Decoder {
        let (position, node) = decoder.argument(key)
        return try decoder.argumentDecoder(position: position, node: node, expected: "json", codingPath: [key])
    }
}

/// The positional arguments as the elements of an unkeyed type: element n is argument n + 1.
private struct ArgumentsUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: EventArgumentsDecoder
    let nodes: [JSONNode]
    private(set) var currentIndex = 0

    init(decoder: EventArgumentsDecoder, nodes: [JSONNode]) {
        self.decoder = decoder
        self.nodes = nodes
    }

    var codingPath: [any CodingKey] { [] }
    var count: Int? { nodes.count }
    var isAtEnd: Bool { currentIndex >= nodes.count }

    private mutating func take() -> (position: Int, node: JSONNode?, key: IndexKey) {
        defer {
            currentIndex += 1
            decoder.taken = max(decoder.taken, currentIndex)
        }
        return (currentIndex + 1, currentIndex < nodes.count ? nodes[currentIndex] : nil, IndexKey(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < nodes.count else { return true }
        guard case .null = nodes[currentIndex].value else { return false }
        _ = take()
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (position, node, key) = take()
        return try decoder.decode(T.self, position: position, node: node, codingPath: [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try superDecoder().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try superDecoder().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (position, node, key) = take()
        return try decoder.argumentDecoder(position: position, node: node, expected: "json", codingPath: [key])
    }
}

/// The one positional argument of a single-value type.
private struct ArgumentsSingleValueContainer: SingleValueDecodingContainer {
    let decoder: EventArgumentsDecoder
    let node: JSONNode?

    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool {
        guard let node else { return true }
        if case .null = node.value { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try argument(T.self) }

    private func argument<T: Decodable>(_ type: T.Type) throws -> T {
        try decoder.decode(T.self, position: 1, node: node, codingPath: [IndexKey(0)])
    }

    func decode(_ type: Bool.Type) throws -> Bool { try argument(type) }
    func decode(_ type: String.Type) throws -> String { try argument(type) }
    func decode(_ type: Double.Type) throws -> Double { try argument(type) }
    func decode(_ type: Float.Type) throws -> Float { try argument(type) }
    func decode(_ type: Int.Type) throws -> Int { try argument(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try argument(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try argument(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try argument(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try argument(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try argument(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try argument(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try argument(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try argument(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try argument(type) }
}

// MARK: - Inside one argument

/// Decodes one JSON value (an argument, or a part of one). Every failure is a `bad_argument`
/// of the argument it is in, with the path inside it in the reason.
struct NodeDecoder: Decoder, SingleValueDecodingContainer {
    struct Context {
        let argument: Int
        let expected: String
        let document: JSONDocument
        /// Where the path inside the argument starts in `codingPath`.
        let pathStart: Int
    }

    let node: JSONNode
    let context: Context
    let codingPath: [any CodingKey]

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// The failure `reason` at this value: "got a string", or with a path "x[2]: …".
    func failure(_ reason: String) -> EventArgumentFailure {
        let path = NodeDecoder.pathText(codingPath.dropFirst(context.pathStart))
        return EventArgumentFailure(kind: .badArgument, argument: context.argument, expected: context.expected,
                                    reason: path.isEmpty ? reason : "\(path): \(reason)")
    }

    /// The value is not of the kind asked for: "not an integer", "x: not an object" — the
    /// host's wording for C plugins' arguments.
    func mismatch(_ expected: String) -> EventArgumentFailure {
        failure("not " + NodeDecoder.article(expected))
    }

    /// "a string", "an integer", "an object".
    static func article(_ kind: String) -> String {
        (kind.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + kind
    }

    static func pathText(_ keys: some Sequence<any CodingKey>) -> String {
        var text = ""
        for key in keys {
            if key is IndexKey {
                text += "[\(key.intValue ?? 0)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    func child(_ node: JSONNode, _ key: any CodingKey) -> NodeDecoder {
        NodeDecoder(node: node, context: context, codingPath: codingPath + [key])
    }

    /// The value as `T`: the JSON kinds directly, ``RawJSON`` as its text, anything else
    /// through its `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == String.self { return try decodeString() as! T }
        if T.self == Bool.self { return try decodeBool() as! T }
        if T.self == RawJSON.self { return RawJSON(checked: context.document.text(node.range)) as! T }
        if let integer = T.self as? any FixedWidthInteger.Type { return try decodeInteger(integer) as! T }
        if T.self == Double.self { return try decodeFloatingPoint(Double.self) as! T }
        if T.self == Float.self { return try decodeFloatingPoint(Float.self) as! T }
        return try T(from: self)
    }

    private func decodeString() throws(EventArgumentFailure) -> String {
        guard case .string(let string) = node.value else { throw mismatch("string") }
        return string
    }

    private func decodeBool() throws(EventArgumentFailure) -> Bool {
        guard case .bool(let value) = node.value else { throw mismatch("boolean") }
        return value
    }

    /// A JSON integer: no fraction, no exponent, within `I`.
    private func decodeInteger<I: FixedWidthInteger>(_ type: I.Type) throws(EventArgumentFailure) -> I {
        guard case .number = node.value else { throw mismatch("integer") }
        let text = context.document.text(node.range)
        guard !text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") })
        else { throw mismatch("integer") }
        guard let value = I(text) else { throw failure("out of range") }
        return value
    }

    private func decodeFloatingPoint<F: BinaryFloatingPoint & LosslessStringConvertible>(
        _ type: F.Type) throws(EventArgumentFailure) -> F {
        guard case .number = node.value else { throw mismatch("number") }
        guard let value = F(context.document.text(node.range)), value.isFinite else { throw failure("out of range") }
        return value
    }

    // Decoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = node.value else { throw mismatch("object") }
        var byName: [String: JSONNode] = [:]
        for member in members { byName[member.key] = member.value }
        return KeyedDecodingContainer(NodeKeyedContainer<Key>(decoder: self, members: byName))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = node.value else { throw mismatch("array") }
        return NodeUnkeyedContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // SingleValueDecodingContainer

    func decodeNil() -> Bool {
        if case .null = node.value { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(T.self) }
    func decode(_ type: Bool.Type) throws -> Bool { try decodeValue(type) }
    func decode(_ type: String.Type) throws -> String { try decodeValue(type) }
    func decode(_ type: Double.Type) throws -> Double { try decodeValue(type) }
    func decode(_ type: Float.Type) throws -> Float { try decodeValue(type) }
    func decode(_ type: Int.Type) throws -> Int { try decodeValue(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeValue(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeValue(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeValue(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeValue(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeValue(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeValue(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeValue(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeValue(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeValue(type) }
}

private struct NodeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let members: [String: JSONNode]

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { members.keys.sorted().compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let node = members[key.stringValue] else { return true }
        if case .null = node.value { return true }
        return false
    }

    private func child(_ key: some CodingKey) throws(EventArgumentFailure) -> NodeDecoder {
        guard let node = members[key.stringValue] else {
            let path = NodeDecoder.pathText((codingPath + [key]).dropFirst(decoder.context.pathStart))
            throw EventArgumentFailure(kind: .badArgument, argument: decoder.context.argument,
                                       expected: decoder.context.expected, reason: "\(path): missing")
        }
        return decoder.child(node, key)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeValue(T.self) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).decodeValue(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).decodeValue(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).decodeValue(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).decodeValue(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).decodeValue(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).decodeValue(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).decodeValue(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).decodeValue(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).decodeValue(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).decodeValue(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).decodeValue(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).decodeValue(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).decodeValue(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).decodeValue(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                               forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { try child(SuperKey()) }

    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct NodeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let elements: [JSONNode]
    private(set) var currentIndex = 0

    init(decoder: NodeDecoder, elements: [JSONNode]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws(EventArgumentFailure) -> NodeDecoder {
        let key = IndexKey(currentIndex)
        guard currentIndex < elements.count else {
            let path = NodeDecoder.pathText((codingPath + [key]).dropFirst(decoder.context.pathStart))
            throw EventArgumentFailure(kind: .badArgument, argument: decoder.context.argument,
                                       expected: decoder.context.expected, reason: "\(path): missing")
        }
        defer { currentIndex += 1 }
        return decoder.child(elements[currentIndex], key)
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < elements.count, case .null = elements[currentIndex].value else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(T.self) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decodeValue(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next().decodeValue(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().decodeValue(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().decodeValue(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().decodeValue(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decodeValue(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decodeValue(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decodeValue(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decodeValue(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decodeValue(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decodeValue(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decodeValue(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decodeValue(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decodeValue(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { try next() }
}
