import GatewayWire

/// A session as the JSON object the ABI hands out (session_json, get_session_json and the
/// session maps): the top level is always an object — an empty PHP array reads `{}`, not `[]` —
/// and nested values read as PHP's json_encode shapes them.
enum SessionJSON {
    static func value(_ session: PHPValue) -> JSONValue {
        guard case .array(let array) = session else { return .object([]) }
        return .object(array.map { JSONMember($0.key.stringValue, $0.value.json) })
    }

    static func object(_ session: PHPValue) -> [UInt8] {
        value(session).serialized(escaping: .minimal)
    }
}
