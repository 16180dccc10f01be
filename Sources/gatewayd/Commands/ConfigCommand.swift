import ArgumentParser
import Foundation
import GatewayCore
import GatewaySupervisor

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check a configuration, or write one with every key.",
        subcommands: [ConfigCheckCommand.self, ConfigInitCommand.self])
}

struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the settings as `start` would resolve them, without starting anything; print them, secrets redacted.",
        discussion: "Takes the same --config, environment and flags as start.\n\n" + ConfigurationOptions.discussion)

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        let resolved: ConfigurationResolver.Resolved
        do {
            resolved = try options.resolve()
            try Supervisor.preflight(resolved.configuration)
        } catch let error as ConfigurationError {
            throw failCommand(error.description)
        } catch {
            throw failCommand("\(error)")
        }
        var table = TextTable(columns: ["KEY", "VALUE", "FROM"])
        for row in ConfigurationReport.rows(resolved) { table.add([row.key, row.value, row.source]) }
        print("configuration OK (defaults < \(options.config ?? "no file") < environment < flags)")
        print(table.render(), terminator: "")
    }
}

struct ConfigInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented config file with every key and its default (to stdout, or --output).")

    @Option(name: .shortAndLong, help: "Write the file here (mode 0600: it may come to hold secrets) instead of stdout.")
    var output: String?

    @Flag(name: .long, help: "Replace an existing --output file.")
    var force = false

    func run() throws {
        let text = ConfigurationReport.template(version: Gatewayd.version)
        guard let output else {
            print(text, terminator: "")
            return
        }
        guard force || !FileManager.default.fileExists(atPath: output) else {
            throw failCommand("\(output) exists; pass --force to replace it")
        }
        guard RunDirectory.writePrivate(Data(text.utf8), to: output) else {
            throw failCommand("cannot write \(output): \(String(cString: strerror(errno)))")
        }
        print("wrote \(output); check it with: gatewayd config check --config \(output)")
    }
}
