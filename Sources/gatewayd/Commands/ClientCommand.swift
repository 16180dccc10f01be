import ArgumentParser
import Foundation
import GatewayClient
import GatewayCore

/// `gatewayd client <function>`: one subcommand per GatewayWorker function (the table in
/// `GatewayFunction`), pushing to and querying a running cluster from outside it.
struct ClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Push to clients and query a running cluster from outside it (like PHP's GatewayClient).",
        discussion: """
            Finds the gateways through the register. Without --register, a cluster running in --run-dir \
            (default $GATEWAYD_RUN_DIR or /tmp/gatewayd-<uid>) gives its register address and secret key; \
            otherwise 127.0.0.1:1236 without a secret is used. Queries print JSON: {"result": ...}, plus \
            "unanswered" when some gateway gave no answer. Errors print one line and exit non-zero. Each \
            function also answers to GatewayWorker's name (sendToUid) and to snake_case (send_to_uid).
            """,
        subcommands: clientFunctionCommands + [UnknownClientFunction.self],
        defaultSubcommand: UnknownClientFunction.self)
}

/// What `gatewayd client` runs when the first word names no function: says so, with the list.
/// (Without it ArgumentParser complains about whatever it meets first, e.g. "Unknown option
/// '--run-dir'".)
struct UnknownClientFunction: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unknown-function", shouldDisplay: false)

    @Argument(parsing: .allUnrecognized)
    var words: [String] = []

    func run() throws {
        guard let function = words.first else { throw CleanExit.helpRequest(ClientCommand.self) }
        guard !function.hasPrefix("-") else {
            throw failCommand(
                "name the function before the options (\(function)): gatewayd client <function> [args…] [options]; gatewayd client --help lists them")
        }
        throw failCommand(
            "unknown function '\(function)'; the functions are "
                + GatewayFunction.allCases.map(\.rawValue).joined(separator: ", ") + " (or GatewayWorker's names, e.g. sendToUid)")
    }
}

/// Options every `gatewayd client` function shares.
struct ClientConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "Register address(es) host:port, comma-separated, tried in order until one answers.")
    var register: String?

    @Option(name: .customLong("secret-key"), help: "The cluster's secret key.")
    var secretKey: String?

    @Option(name: .long, help: "Seconds to wait for the register and for the gateways.")
    var timeout: Double = 5

    @OptionGroup var runDirectory: RunDirectoryOptions

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
    }

    /// The client's settings: the flags, else the running cluster's, else GatewayWorker's defaults.
    func clientConfiguration() throws -> GatewayClientConfiguration {
        var registers = register.map { $0.split(separator: ",").map { String($0) } }
        var secret = secretKey
        if registers == nil {
            let running = runningClusterConfiguration()
            registers = [running?.register ?? "127.0.0.1:1236"]
            if secret == nil { secret = running?.secretKey }
        }
        do {
            return try GatewayClientConfiguration(
                registers: registers ?? [], secretKey: secret ?? "", timeout: .milliseconds(Int64(timeout * 1000)))
        } catch {
            throw failCommand("invalid --register: \(error)")
        }
    }

    /// The resolved configuration of a master alive in the run directory, if any.
    private func runningClusterConfiguration() -> GatewayConfiguration? {
        let directory = runDirectory.resolved
        guard directory.runningMasterPID() != nil, let data = FileManager.default.contents(atPath: directory.configurationFile) else {
            return nil
        }
        return try? JSONDecoder().decode(GatewayConfiguration.self, from: data)
    }
}
