import ArgumentParser
import GatewayClient
import GatewayCore

/// Options every `gatewayd client` function shares.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "Register address(es), comma-separated; the first that answers is used.")
    var register: String = "127.0.0.1:1236"

    @Option(name: .customLong("secret-key"), help: "The cluster's secret key, if it has one.")
    var secretKey: String = ""

    @Option(name: .long, help: "Seconds to wait for the register and the gateways.")
    var timeout: Double = 5

    func client() throws -> BlockingGatewayClient {
        var registers: [HostPort] = []
        for address in register.split(separator: ",").map(String.init) {
            do { registers.append(try HostPort(parsing: address)) } catch {
                throw failCommand("invalid --register '\(address)': expected \(error.expected)")
            }
        }
        return BlockingGatewayClient(registers: registers, secretKey: secretKey, timeoutSeconds: timeout)
    }
}

struct ClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Push to clients and query a running cluster from outside it (like PHP's GatewayClient).",
        subcommands: [
            SendToClient.self, SendToAll.self, SendToUID.self, SendToGroup.self, CloseClient.self, IsOnline.self,
            AllClientCount.self,
        ])
}

/// Runs a client call and turns its error into the one-line failure.
private func perform<T>(_ call: () throws(GatewayClientError) -> T) throws -> T {
    do { return try call() } catch { throw failCommand(error.description) }
}

struct SendToClient: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "send-to-client", abstract: "Send a message to one client.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The client id (20 hex characters).") var clientID: String
    @Argument(help: "The message (sent as a text frame).") var message: String
    func run() throws {
        let client = try options.client()
        try perform { () throws(GatewayClientError) in try client.sendToClient(clientID, Array(message.utf8)) }
    }
}

struct SendToAll: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "send-to-all", abstract: "Send a message to every client.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The message.") var message: String
    func run() throws {
        let client = try options.client()
        try perform { () throws(GatewayClientError) in try client.sendToAll(Array(message.utf8)) }
    }
}

struct SendToUID: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "send-to-uid", abstract: "Send a message to every client bound to a uid.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The uid.") var uid: String
    @Argument(help: "The message.") var message: String
    func run() throws {
        let client = try options.client()
        try perform { () throws(GatewayClientError) in try client.sendToUID(uid, Array(message.utf8)) }
    }
}

struct SendToGroup: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "send-to-group", abstract: "Send a message to every member of a group.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The group.") var group: String
    @Argument(help: "The message.") var message: String
    func run() throws {
        let client = try options.client()
        try perform { () throws(GatewayClientError) in try client.sendToGroup(group, Array(message.utf8)) }
    }
}

struct CloseClient: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "close-client", abstract: "Disconnect a client.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The client id.") var clientID: String
    func run() throws {
        let client = try options.client()
        try perform { () throws(GatewayClientError) in try client.closeClient(clientID) }
    }
}

struct IsOnline: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "is-online", abstract: "Print true or false (JSON).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The client id.") var clientID: String
    func run() throws {
        let client = try options.client()
        print(try perform { () throws(GatewayClientError) in try client.isOnline(clientID) })
    }
}

struct AllClientCount: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-all-client-id-count", abstract: "Print how many clients all gateways hold (JSON).")
    @OptionGroup var options: ClientOptions
    func run() throws {
        let client = try options.client()
        print(try perform { () throws(GatewayClientError) in try client.allClientCount() })
    }
}
