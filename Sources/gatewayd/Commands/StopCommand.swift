import ArgumentParser
import GatewayCore

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop every process of a running gatewayd and wait until they have exited.")

    @OptionGroup var runDirectory: RunDirectoryOptions

    func run() throws {
        let directory = runDirectory.resolved
        let response: ControlResponse
        do {
            response = try ControlClient.send(ControlRequest(command: .stop), runDirectory: directory, timeoutSeconds: 60)
        } catch {
            throw failCommand(error.description)
        }
        guard response.ok else { throw failCommand(response.error ?? "stop failed") }
        print("gatewayd stopped (run-dir \(directory.path))")
    }
}
