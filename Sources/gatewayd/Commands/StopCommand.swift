import ArgumentParser
import GatewayCore

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop every process of a running gatewayd and wait until they have exited.")

    @OptionGroup var runDirectory: RunDirectoryOptions

    func run() throws {
        _ = try runDirectory.request(.stop, timeoutSeconds: 60)
        print("gatewayd stopped (run-dir \(runDirectory.resolved.path))")
    }
}
