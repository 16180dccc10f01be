/// One `"key": value` member of a JSON object.
///
/// Objects are member arrays, not dictionaries, because member order is visible on the wire
/// (PHP's `json_encode` keeps array order, and captured bytes are compared exactly).
public struct JSONMember: Hashable, Sendable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}
