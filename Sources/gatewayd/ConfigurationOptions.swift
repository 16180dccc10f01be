import ArgumentParser
import Foundation
import GatewayCore

/// `--config FILE` and a flag for every key of the table (``ConfigurationFlags``), shared by
/// `start` and `config check`. The key flags are read from the table, not declared here, so
/// argument-parser hands them over unparsed and the command's help lists them from the table.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .long, help: "YAML config file (every key: gatewayd config init, docs/configuration.md).")
    var config: String?

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var settings: [String] = []

    /// Defaults, then the config file, then the environment, then flags.
    func resolve() throws(ConfigurationError) -> ConfigurationResolver.Resolved {
        let flags = try ConfigurationFlags.parse(settings)
        return try ConfigurationResolver(file: config, environment: ProcessInfo.processInfo.environment, flags: flags).resolve()
    }

    /// The settings part of a command's help.
    static let discussion = """
        Settings come from built-in defaults, then the --config file, then GATEWAYD_<KEY> environment variables \
        (GATEWAYD_WORKER_COUNT=4), then these flags, each overriding the ones before (docs/configuration.md). \
        A list flag may be repeated or comma-separated; port 0 picks a free port.

        SETTINGS:
        \(ConfigurationFlags.help)
        """
}
