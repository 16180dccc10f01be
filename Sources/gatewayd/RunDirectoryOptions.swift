import ArgumentParser
import Foundation
import GatewayCore

/// `--run-dir`, shared by every command that talks to a running deployment.
struct RunDirectoryOptions: ParsableArguments {
    @Option(name: .customLong("run-dir"), help: "Directory with the pid file, control socket and log (default: $GATEWAYD_RUN_DIR or /tmp/gatewayd-<uid>).")
    var runDirectory: String?

    var resolved: RunDirectory {
        RunDirectory(path: runDirectory ?? GatewayConfiguration.defaultRunDirectory)
    }
}

extension RunDirectoryOptions {
    /// Sends one control request to the master of this run directory; any failure, or a
    /// refusal from the master, becomes the command's one-line error.
    func request(_ command: ControlRequest.Command, graceful: Bool? = nil, timeoutSeconds: Double = 30) throws -> ControlResponse {
        let response: ControlResponse
        do {
            response = try ControlClient.send(
                ControlRequest(command: command, graceful: graceful), runDirectory: resolved, timeoutSeconds: timeoutSeconds)
        } catch {
            throw failCommand(error.description)
        }
        guard response.ok else { throw failCommand(response.error ?? "\(command.rawValue) failed") }
        return response
    }
}

/// Prints a value as one line of JSON with snake_case keys, as `--json` outputs are.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
