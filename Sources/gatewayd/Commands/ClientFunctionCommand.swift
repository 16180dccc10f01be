import ArgumentParser
import Foundation
import GatewayClient

/// Names the function a `ClientFunctionCommand` runs (ArgumentParser needs a type per subcommand).
protocol ClientFunction {
    static var function: GatewayFunction { get }
}

/// `gatewayd client <function> [args…]`: builds the call's JSON arguments from the command
/// line (see `GatewayFunction.jsonArguments`), runs it with `GatewayClient.call` — the same
/// path the HTTP API takes — and prints a query's JSON.
struct ClientFunctionCommand<F: ClientFunction>: ParsableCommand {
    static var configuration: CommandConfiguration {
        let function = F.function
        var discussion = "GatewayWorker: \(function.phpName)."
        let described = function.parameters.map { "  \($0.isRequired ? "<\($0.optionName)>" : "--\($0.optionName)"): \($0.commandLineSummary)" }
        if !described.isEmpty { discussion += "\n\n" + described.joined(separator: "\n") }
        if function.parameters.contains(where: { $0.kind == .session }) {
            discussion += "\n\nThe session is a JSON object, e.g. '{\"name\":\"alice\",\"level\":3}'."
        }
        return CommandConfiguration(
            commandName: function.rawValue, abstract: function.summary, usage: function.commandLineUsage, discussion: discussion,
            aliases: function.commandLineAliases)
    }

    @Argument(help: ArgumentHelp("The function's arguments, in the order of the usage line.", valueName: "argument"))
    var arguments: [String] = []

    @Option(name: .customLong("client-id"), help: Self.optionHelp("client_id"))
    var clientIDs: [String] = []

    @Option(name: .customLong("exclude"), help: Self.optionHelp("exclude"))
    var exclude: [String] = []

    @Option(name: .customLong("message"), help: Self.optionHelp("message"))
    var message: String?

    @Flag(name: .customLong("binary"), help: Self.optionHelp("binary"))
    var binary = false

    @Flag(name: .customLong("raw"), help: Self.optionHelp("raw"))
    var raw = false

    @Flag(name: .customLong("base64"), help: Self.optionHelp("base64"))
    var base64 = false  // message_base64: the message word is base64

    @OptionGroup var connection: ClientConnectionOptions

    /// Shown only for the functions that take the option.
    private static func optionHelp(_ option: String) -> ArgumentHelp {
        let parameter = F.function.optionParameters.first { $0.optionName == option }
        return ArgumentHelp(parameter?.commandLineSummary ?? "", visibility: parameter == nil ? .private : .default)
    }

    func run() throws {
        let function = F.function
        let arguments: JSONValue
        do throws(GatewayClientError) {
            var members = try function.jsonArguments(positional: self.arguments) + optionArguments()
            if base64 {
                guard function.optionParameters.contains(where: { $0.kind == .messageBase64 }) else {
                    throw GatewayClientError.invalidArgument("\(function.rawValue) has no option --base64")
                }
                members = members.map { $0.key == "message" ? JSONMember("message_base64", $0.value) : $0 }
            }
            arguments = .object(members)
        } catch {
            throw failCommand(error.description)
        }
        let client = GatewayClient(configuration: try connection.clientConfiguration())
        let outcome: GatewayCallOutcome
        do {
            outcome = try runBlocking { () async throws -> GatewayCallOutcome in
                do {
                    let outcome = try await client.call(function, arguments: arguments)
                    await client.close()
                    return outcome
                } catch {
                    await client.close()
                    throw error
                }
            }
        } catch {
            throw failCommand("\(error)")
        }
        if outcome.nothingAnswered {
            throw failCommand("no gateway answered: " + outcome.failures.map(\.description).joined(separator: "; "))
        }
        guard function.isQuery else { return }
        print(String(decoding: outcome.json.serialized(escaping: .minimal), as: UTF8.self))
        if !outcome.failures.isEmpty {
            let missing = outcome.failures.map(\.description).joined(separator: "; ")
            FileHandle.standardError.write(Data("gatewayd: warning: result without \(missing)\n".utf8))
        }
    }

    /// The options given, as JSON members; an option the function does not take is an error.
    private func optionArguments() throws(GatewayClientError) -> [JSONMember] {
        let given: [(String, JSONValue?)] = [
            ("client_id", clientIDs.isEmpty ? nil : .array(clientIDs.map(JSONValue.string))),
            ("exclude", exclude.isEmpty ? nil : .array(exclude.map(JSONValue.string))),
            ("message", message.map(JSONValue.string)),
            ("binary", binary ? .bool(true) : nil),
            ("raw", raw ? .bool(true) : nil),
        ]
        var members: [JSONMember] = []
        for case let (name, value?) in given {
            guard F.function.optionParameters.contains(where: { $0.name == name }) else {
                throw .invalidArgument("\(F.function.rawValue) has no option --\(name.replacingOccurrences(of: "_", with: "-"))")
            }
            members.append(JSONMember(name, value))
        }
        return members
    }
}
