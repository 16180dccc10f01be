import ArgumentParser
import GatewayCore

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop every process of a running gatewayd and wait until they have exited.")

    @OptionGroup var runDirectory: RunDirectoryOptions

    @Flag(name: [.customShort("g"), .customLong("graceful")], help: "Stop accepting, let workers finish every event they were sent, then close clients with 1001.")
    var graceful = false

    func run() throws {
        _ = try runDirectory.request(.stop, graceful: graceful, timeoutSeconds: 600)
        print("gatewayd stopped (run-dir \(runDirectory.resolved.path))")
    }
}
