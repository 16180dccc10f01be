import ArgumentParser
import Foundation
import GatewayCore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show every process: role, pid, memory, connections, messages and restarts.")

    @OptionGroup var runDirectory: RunDirectoryOptions

    @Flag(name: .long, help: "Print one JSON object (each process has at least a role and a numeric pid).")
    var json = false

    func run() throws {
        let response = try runDirectory.request(.status)
        guard let status = response.status else { throw failCommand("the master sent no status") }
        if json { return try printJSON(status) }
        print(
            "gatewayd \(status.master.version)  run-dir \(status.master.runDir)  up \(formatDuration(status.master.uptimeSeconds))  plugin \(status.master.plugin)"
        )
        print("listen \(status.listen.joined(separator: " "))  register \(status.register)")
        var table = TextTable(columns: ["ROLE", "#", "PID", "STATE", "MEMORY", "CONNS", "MSG IN", "MSG OUT", "UPTIME", "RESTARTS", "DETAILS"])
        for process in status.processes {
            let details = process.details.keys.sorted().map { "\($0)=\(process.details[$0]!)" }.joined(separator: " ")
            table.add([
                process.role.rawValue, process.role == .master ? "-" : "\(process.index)", "\(process.pid)", process.state,
                formatBytes(process.rssBytes), "\(process.connections)", "\(process.messagesIn)",
                "\(process.messagesOut)", formatDuration(process.uptimeSeconds), "\(process.restarts)", details,
            ])
        }
        print(table.render(), terminator: "")
        let roles = ["register", "gateway", "worker"] + (status.processes.contains { $0.role == .httpAPI } ? ["http-api"] : [])
        let exits = roles.map { "\($0) \(status.exits[$0] ?? 0)" }.joined(separator: ", ")
        print("unexpected exits: \(exits)")
    }
}
