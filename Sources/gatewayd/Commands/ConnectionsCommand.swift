import ArgumentParser
import Foundation
import GatewayCore

struct ConnectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connections", abstract: "List the client connections held by every gateway.")

    @OptionGroup var runDirectory: RunDirectoryOptions

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let connections = try runDirectory.request(.connections).connections ?? []
        if json { return try printJSON(connections) }
        var table = TextTable(columns: ["CLIENT ID", "REMOTE", "PROTOCOL", "UID", "GROUPS", "IN", "OUT", "AGE"])
        for connection in connections {
            table.add([
                connection.clientID, connection.remoteAddress, connection.transport, connection.uid ?? "-",
                connection.groups.isEmpty ? "-" : connection.groups.joined(separator: ","),
                "\(connection.messagesIn)", "\(connection.messagesOut)", formatDuration(connection.connectedSeconds),
            ])
        }
        print(table.render(), terminator: "")
        print("\(connections.count) connection\(connections.count == 1 ? "" : "s")")
    }
}
