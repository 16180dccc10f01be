import ArgumentParser
import Foundation
import GatewayCore

struct RestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Stop a running gatewayd and start it again, daemonized, with the same settings.",
        discussion: "The settings are the ones the running master resolved (ports included), kept in the run directory.")

    @OptionGroup var runDirectory: RunDirectoryOptions

    @Flag(name: [.customShort("g"), .customLong("graceful")], help: "Stop gracefully first (see `stop -g`).")
    var graceful = false

    func run() throws {
        let directory = runDirectory.resolved
        guard let data = FileManager.default.contents(atPath: directory.configurationFile),
            let configuration = try? JSONDecoder().decode(GatewayConfiguration.self, from: data)
        else {
            throw failCommand("no configuration of a running gatewayd in \(directory.path) (\(directory.configurationFile))")
        }
        _ = try runDirectory.request(.stop, graceful: graceful, timeoutSeconds: 600)
        print("gatewayd stopped (run-dir \(directory.path))")
        throw ExitCode(try Daemon.start(configuration: configuration))
    }
}
