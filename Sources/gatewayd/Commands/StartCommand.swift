import ArgumentParser
import CGatewaySystem
import Foundation
import GatewayCore
import GatewaySupervisor
import Logging

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start the register, the gateways and the workers (in the foreground unless -d).",
        discussion: "With no options at all this runs the built-in demo on websocket://0.0.0.0:7272.\n\n"
            + ConfigurationOptions.discussion)

    @Flag(name: [.customShort("d"), .customLong("daemon")], help: "Run in the background; return once every process is serving.")
    var daemon = false

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        let configuration: GatewayConfiguration
        do {
            configuration = try options.resolve().configuration
        } catch {
            throw failCommand(error.description)
        }
        if daemon {
            throw ExitCode(try Daemon.start(configuration: configuration))
        }
        // In the foreground the log goes to stderr: a terminal, or journald under systemd.
        bootstrapLogging(configuration)
        let supervisor = Supervisor(
            configuration: configuration, version: Gatewayd.version, logger: Logger(label: "gatewayd.master"),
            runRole: RoleLauncher.run)
        let code = supervisor.run { result in
            switch result {
            case .success(let line):
                print(line)
                gwd_sys_flush_stdio()
            case .failure(let error):
                _ = failCommand(error.description)
            }
        }
        throw ExitCode(code)
    }
}
