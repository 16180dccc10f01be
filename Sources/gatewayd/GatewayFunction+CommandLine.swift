import Foundation
import GatewayClient

/// How `gatewayd client <function>` spells a function's arguments: required parameters are
/// positional, in table order (a list takes one or more words, the others one each);
/// optional ones are options (`--client-id`, `--exclude`, `--message`), flags are flags, and
/// `message_base64` is the flag `--base64` (the message word is then base64).
extension GatewayFunction {
    var positionalParameters: [GatewayParameter] {
        parameters.filter { $0.isRequired }
    }

    var optionParameters: [GatewayParameter] {
        parameters.filter { !$0.isRequired }
    }

    /// Other names `gatewayd client` takes for it: GatewayWorker's (`sendToUid`) and snake_case
    /// (`send_to_uid`).
    var commandLineAliases: [String] {
        var aliases: [String] = []
        for name in [phpName, rawValue.replacingOccurrences(of: "-", with: "_")] where name != rawValue && !aliases.contains(name) {
            aliases.append(name)
        }
        return aliases
    }

    /// `send-to-uid <uid>... <message> [--binary] [--raw] [--base64]`.
    var commandLineUsage: String {
        let positional = positionalParameters.map { "<\($0.optionName)>" + ($0.isList ? "..." : "") }
        let options = optionParameters.map { parameter in
            parameter.isFlag ? "[--\(parameter.optionName)]" : "[--\(parameter.optionName) <\(parameter.optionName)>]" + (parameter.isList ? "..." : "")
        }
        return (["gatewayd client", rawValue] + positional + options + ["[--register <addresses>] [--secret-key <key>] [--timeout <seconds>]"])
            .joined(separator: " ")
    }

    /// The positional words as the call's JSON arguments; throws the one-line reason when they do not fit.
    func jsonArguments(positional words: [String]) throws(GatewayClientError) -> [JSONMember] {
        let parameters = positionalParameters
        let listIndex = parameters.firstIndex { $0.isList }
        let fixed = parameters.count - (listIndex == nil ? 0 : 1)
        let fits = listIndex == nil ? words.count == fixed : words.count > fixed
        guard fits else {
            let what = parameters.map { "<\($0.optionName)>" + ($0.isList ? "..." : "") }.joined(separator: " ")
            throw .invalidArgument("\(rawValue) takes \(what.isEmpty ? "no arguments" : what), got \(words.count) argument(s)")
        }
        var members: [JSONMember] = []
        var next = 0
        for (index, parameter) in parameters.enumerated() {
            if index == listIndex {
                let count = words.count - fixed
                members.append(JSONMember(parameter.name, .array(words[next..<(next + count)].map(JSONValue.string))))
                next += count
            } else {
                members.append(JSONMember(parameter.name, try parameter.jsonValue(words[next])))
                next += 1
            }
        }
        return members
    }
}

extension GatewayParameter {
    /// `client_id` → `client-id`; `message_base64` → `base64`.
    var optionName: String { kind == .messageBase64 ? "base64" : name.replacingOccurrences(of: "_", with: "-") }

    /// What the parameter means on the command line.
    var commandLineSummary: String {
        kind == .messageBase64 ? "the message is base64: send the bytes it decodes to" : summary
    }

    /// Given on the command line as a bare `--name`.
    var isFlag: Bool { kind == .flag || kind == .messageBase64 }

    var isList: Bool { kind == .names || kind == .nameOrNames || kind == .clientIDs }

    /// One word as JSON: a session is JSON text, everything else a string.
    func jsonValue(_ word: String) throws(GatewayClientError) -> JSONValue {
        guard kind == .session else { return .string(word) }
        do { return try JSONValue.parse(Array(word.utf8)) } catch {
            throw .invalidArgument("'\(name)' is not JSON (\(error.reason) at byte \(error.offset)); write an object such as '{\"key\":\"value\"}'")
        }
    }
}
