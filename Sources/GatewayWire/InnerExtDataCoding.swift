import NIOCore

/// Shared pieces of the JSON ext_data / body shapes. Internal.
///
/// PHP peers build connection-id maps as `[id => id]`, which `json_encode` writes as an object
/// `{"1":1}` (a list would be read back by index), and an empty PHP array as `[]`.
enum InnerExtDataCoding {
    static func parseJSON(_ buffer: ByteBuffer, what: String) throws(InnerExtDataError) -> JSONValue {
        do {
            return try buffer.withUnsafeReadableBytes { bytes throws(JSONParseError) in
                try JSONValue.parse(bytes)
            }
        } catch {
            throw InnerExtDataError(reason: "\(what) is not JSON: \(error.reason) at offset \(error.offset)")
        }
    }

    static func parseObject(_ buffer: ByteBuffer, what: String) throws(InnerExtDataError) -> JSONValue {
        let json = try self.parseJSON(buffer, what: what)
        guard case .object = json else {
            throw InnerExtDataError(reason: "\(what) is not a JSON object")
        }
        return json
    }

    /// `{"1":1,"2":2}`, or `[]` when empty (what `json_encode(array())` gives).
    static func connectionMap(_ ids: [UInt32]) -> JSONValue {
        guard !ids.isEmpty else { return .array([]) }
        return .object(ids.map { JSONMember(String($0), .int(Int($0))) })
    }

    /// A connection id from a JSON number or a decimal string; nil when it is neither.
    static func connectionID(_ value: JSONValue) -> UInt32? {
        switch value {
        case .int(let number): return UInt32(exactly: number)
        case .string(let text): return self.connectionID(text)
        default: return nil
        }
    }

    static func connectionID(_ text: String) -> UInt32? {
        guard case .int(let number) = PHPArrayKey(coercing: text) else { return nil }
        return UInt32(exactly: number)
    }

    /// The ids a PHP gateway reads with `isset($map[$id])`: the keys of an object. For a JSON
    /// list (never sent by PHP peers) the elements are taken, as the sender evidently meant.
    static func connectionIDKeys(_ value: JSONValue) -> [UInt32] {
        switch value {
        case .object(let members): return members.compactMap { self.connectionID($0.key) }
        case .array(let elements): return elements.compactMap { self.connectionID($0) }
        default: return []
        }
    }

    /// The ids a PHP gateway reads with `foreach ($map as $id)`: the values.
    static func connectionIDValues(_ value: JSONValue) -> [UInt32] {
        (value.phpArrayValues ?? []).compactMap { self.connectionID($0) }
    }

    /// A list of group / uid names, accepting numbers where PHP turned numeric names into ints.
    static func names(_ value: JSONValue, what: String) throws(InnerExtDataError) -> [String] {
        guard let elements = value.phpArrayValues else {
            throw InnerExtDataError(reason: "\(what) is not a JSON list")
        }
        var names: [String] = []
        names.reserveCapacity(elements.count)
        for element in elements {
            guard let name = element.nameText else {
                throw InnerExtDataError(reason: "\(what) holds a value that is not a name")
            }
            names.append(name)
        }
        return names
    }

    /// A `secret_key`-like field: missing or null reads as "" (PHP's `isset`), non-strings as
    /// their JSON text so they never equal a configured secret PHP would compare with `!==`.
    static func secret(_ value: JSONValue?) -> String {
        guard let value, !value.isNull else { return "" }
        return value.fieldText
    }
}
