import GatewayWire

/// Query results as JSON, for the command line, the HTTP API and plugins that read JSON.
/// Object members are sorted by key so the output is stable.
public protocol GatewayJSONRepresentable: Sendable {
    var gatewayJSON: JSONValue { get }
}

extension Bool: GatewayJSONRepresentable {
    public var gatewayJSON: JSONValue { .bool(self) }
}

extension Int: GatewayJSONRepresentable {
    public var gatewayJSON: JSONValue { .int(self) }
}

extension String: GatewayJSONRepresentable {
    public var gatewayJSON: JSONValue { .string(self) }
}

extension PHPValue: GatewayJSONRepresentable {
    public var gatewayJSON: JSONValue { json }
}

extension Array: GatewayJSONRepresentable where Element: GatewayJSONRepresentable {
    public var gatewayJSON: JSONValue { .array(map(\.gatewayJSON)) }
}

extension Dictionary: GatewayJSONRepresentable where Key == String, Value: GatewayJSONRepresentable {
    public var gatewayJSON: JSONValue {
        .object(sorted { $0.key < $1.key }.map { JSONMember($0.key, $0.value.gatewayJSON) })
    }
}

extension Optional: GatewayJSONRepresentable where Wrapped: GatewayJSONRepresentable {
    public var gatewayJSON: JSONValue { self?.gatewayJSON ?? .null }
}

extension GatewayQueryResult where Value: GatewayJSONRepresentable {
    /// `{"result": …}`, plus `"unanswered": ["ip:port", …]` when some gateway gave no answer.
    public var gatewayJSON: JSONValue {
        var members = [JSONMember("result", value.gatewayJSON)]
        if !unanswered.isEmpty { members.append(JSONMember("unanswered", .array(unanswered.map(JSONValue.string)))) }
        return .object(members)
    }
}
