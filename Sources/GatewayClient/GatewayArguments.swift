import Foundation
import GatewayAPI
import GatewayWire

/// The arguments of one `GatewayFunction` call, checked against its parameters: every
/// required one present, nothing unknown, each of the right type. Errors name the member.
struct GatewayArguments {
    private enum Value {
        case clientIDs([ClientID])
        case names([String])
        case text(String)
        case bytes([UInt8])
        case session(PHPValue)
        case flag(Bool)
    }

    let function: GatewayFunction
    private var values: [String: Value] = [:]

    /// - Parameter arguments: a JSON object. A null member is a wrong type, not "absent":
    ///   what the OpenAPI document says, and no silent default for a backend's bug.
    init(_ function: GatewayFunction, _ arguments: JSONValue) throws(GatewayClientError) {
        self.function = function
        guard case .object(let members) = arguments else { throw .invalidArgument("the arguments must be a JSON object") }
        let parameters = function.parameters
        for member in members where !parameters.contains(where: { $0.name == member.key }) {
            let known = parameters.map(\.name).joined(separator: ", ")
            throw .invalidArgument("\(function.rawValue) has no argument '\(member.key)'" + (known.isEmpty ? " (it takes none)" : " (it takes \(known))"))
        }
        for parameter in parameters {
            // A repeated member keeps its last value, as PHP's json_decode does.
            guard let value = members.last(where: { $0.key == parameter.name })?.value else {
                if parameter.isRequired && !Self.isStandIn(for: parameter, in: members) {
                    throw .invalidArgument("\(function.rawValue) needs '\(parameter.name)' (\(parameter.summary))")
                }
                continue
            }
            values[parameter.name] = try Self.convert(value, for: parameter)
        }
        if let bytes = values.removeValue(forKey: "message_base64") {
            guard values["message"] == nil else { throw .invalidArgument("give either 'message' or 'message_base64', not both") }
            values["message"] = bytes
        }
    }

    /// A required message may come as message_base64 instead.
    private static func isStandIn(for parameter: GatewayParameter, in members: [JSONMember]) -> Bool {
        parameter.kind == .message && members.contains { $0.key == "message_base64" }
    }

    private static func convert(_ value: JSONValue, for parameter: GatewayParameter) throws(GatewayClientError) -> Value {
        func wrongType(_ expected: String) -> GatewayClientError { .invalidArgument("'\(parameter.name)' must be \(expected)") }
        switch parameter.kind {
        case .clientID:
            guard let text = value.stringValue else { throw wrongType("a client id string") }
            return .clientIDs([try parse(text)])
        case .clientIDs:
            guard let texts = strings(value, allowingOne: true) else { throw wrongType("a client id or a list of client ids") }
            return .clientIDs(try parse(texts))
        case .name, .message:
            guard let text = value.stringValue else { throw wrongType("a string") }
            return .text(text)
        case .messageBase64:
            guard let text = value.stringValue, let bytes = Data(base64Encoded: text) else { throw wrongType("a base64 string") }
            return .bytes(Array(bytes))
        case .nameOrNames, .names:
            guard let names = strings(value, allowingOne: parameter.kind == .nameOrNames) else {
                throw wrongType(parameter.kind == .names ? "a list of strings" : "a string or a list of strings")
            }
            return .names(names)
        case .session:
            guard case .object = value else { throw wrongType("a JSON object") }
            return .session(PHPValue(json: value))
        case .flag:
            guard let flag = value.boolValue else { throw wrongType("true or false") }
            return .flag(flag)
        }
    }

    private static func strings(_ value: JSONValue, allowingOne: Bool) -> [String]? {
        if allowingOne, let one = value.stringValue { return [one] }
        guard let list = value.arrayValue else { return nil }
        let texts = list.compactMap(\.stringValue)
        return texts.count == list.count ? texts : nil
    }

    // MARK: - Reading (parameters the function has; the table guarantees required ones exist)

    func clientID(_ name: String = "client_id") -> ClientID {
        clientIDs(name)?.first ?? ClientID(ipv4: 0, port: 0, connectionID: 0)
    }

    func clientIDs(_ name: String) -> [ClientID]? {
        if case .clientIDs(let ids)? = values[name] { return ids }
        return nil
    }

    func text(_ name: String) -> String {
        if case .text(let text)? = values[name] { return text }
        return ""
    }

    func names(_ name: String) -> [String] {
        if case .names(let names)? = values[name] { return names }
        return []
    }

    func session() -> PHPValue {
        if case .session(let session)? = values["session"] { return session }
        return .array(PHPArray())
    }

    func flag(_ name: String) -> Bool {
        if case .flag(let flag)? = values[name] { return flag }
        return false
    }

    /// The message bytes, from `message` or `message_base64`; nil when an optional one is absent.
    func message() -> [UInt8]? {
        switch values["message"] {
        case .text(let text)?: return Array(text.utf8)
        case .bytes(let bytes)?: return bytes
        default: return nil
        }
    }

    var sendOptions: GatewayCommands.SendOptions {
        GatewayCommands.SendOptions(binary: flag("binary"), raw: flag("raw"))
    }
}
