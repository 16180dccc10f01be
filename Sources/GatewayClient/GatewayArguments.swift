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
        case session(PHPValue)
        case flag(Bool)
    }

    let function: GatewayFunction
    private var values: [String: Value] = [:]

    /// - Parameter arguments: a JSON object (null or absent members count as not given).
    init(_ function: GatewayFunction, _ arguments: JSONValue) throws(GatewayClientError) {
        self.function = function
        let members: [JSONMember]
        switch arguments {
        case .object(let object): members = object
        case .null: members = []
        default: throw .invalidArgument("the arguments must be a JSON object")
        }
        let parameters = function.parameters
        for member in members where !parameters.contains(where: { $0.name == member.key }) {
            let known = parameters.map(\.name).joined(separator: ", ")
            throw .invalidArgument("\(function.rawValue) has no argument '\(member.key)'" + (known.isEmpty ? " (it takes none)" : " (it takes \(known))"))
        }
        for parameter in parameters {
            // A repeated member keeps its last value, as PHP's json_decode does.
            guard let value = members.last(where: { $0.key == parameter.name })?.value, !value.isNull else {
                if parameter.isRequired { throw .invalidArgument("\(function.rawValue) needs '\(parameter.name)' (\(parameter.summary))") }
                continue
            }
            values[parameter.name] = try Self.convert(value, for: parameter)
        }
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

    /// The message bytes (nil when an optional message is absent), base64-decoded if asked.
    func message() throws(GatewayClientError) -> [UInt8]? {
        guard case .text(let text)? = values["message"] else { return nil }
        guard flag("base64") else { return Array(text.utf8) }
        guard let data = Data(base64Encoded: text) else { throw .invalidArgument("'message' is not valid base64") }
        return Array(data)
    }

    var sendOptions: GatewayCommands.SendOptions {
        GatewayCommands.SendOptions(binary: flag("binary"), raw: flag("raw"))
    }
}
