// conformance-swift — the Swift conformance plugin. TEST FIXTURE, UNFIT FOR REAL USERS: `crash:`
// kills the worker process and `sleep:` blocks its plugin thread. It behaves exactly like
// plugins/conformance-c (see its header comment and plugins/README.md for the protocol), through
// the GatewayPluginSDK.
//
// Build: swift build -c release --package-path plugins/conformance-swift
//
// `tick:` and `post:` (ABI 1.2) are in Version1_2.swift, the typed events (add, shout, types) in
// Events.swift.
//
// One difference from the C plugin, below the protocol: a command sent in a binary frame is read
// as UTF-8, so invalid bytes in it become U+FFFD in the reply (every reply is a text frame).
import GatewayPluginSDK

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The version `ver:` answers. Tests rewrite this exact line with sed: keep it on one line.
let conformanceVersion = "1"

@c(gwd_plugin_entry_v1)
public func gwdPluginEntry(_ api: UnsafePointer<gwd_host_api>?, _ plugin: UnsafeMutablePointer<UnsafePointer<gwd_plugin>?>?,
                           _ error: UnsafeMutablePointer<CChar>?, _ errorLength: Int) -> Int32 {
    GatewayPluginExport.entry(ConformancePlugin.self, api, plugin, error, errorLength)
}

final class ConformancePlugin: GatewayPlugin {
    static let name = "conformance-swift"
    static var version: String { conformanceVersion }

    /// The clients whose handshake asked for /raw-echo: they get every message back unchanged.
    private var echoClients: Set<ClientID> = []
    /// The plugin's own consumer of `post:` requests; nil on a host before ABI 1.2.
    private var postRelay: PostRelay?

    func workerStarted(_ gateway: Gateway) throws {
        try declareConformanceEvents(gateway)
        do throws(GatewayError) {
            postRelay = PostRelay(poster: try gateway.poster())
        } catch where error.code == .unsupported {
            // a host before 1.2: `post:` logs UNSUPPORTED
        } catch {
            logFailure(gateway, "post", error)
        }
    }

    func workerStopping(_ gateway: Gateway) {
        postRelay?.stop()
        postRelay = nil
    }

    func handshake(_ gateway: Gateway, client: ClientID, request: HandshakeRequest) -> HandshakeDecision {
        if request.queryParameters.contains(where: { $0.name == "reject" && $0.value == "1" }) {
            return .reject(status: 403)
        }
        if request.path == "/raw-echo" { echoClients.insert(client) }
        return .accept
    }

    func clientClosed(_ gateway: Gateway, client: ClientID) {
        echoClients.remove(client)
    }

    func message(_ gateway: Gateway, client: ClientID, message: Message) {
        if echoClients.contains(client) {
            attempt(gateway, "raw-echo") { () throws(GatewayError) in try gateway.reply(message) }
            return
        }
        let text = message.string
        guard let colon = text.firstIndex(of: ":") else { return }
        let command = text[..<colon]
        let argument = String(text[text.index(after: colon)...])
        attempt(gateway, command) { () throws(GatewayError) in
            try run(command, argument, message: text, client: client, gateway)
        }
    }

    /// Runs one command; unknown commands and unparsable arguments are ignored.
    private func run(_ command: Substring, _ argument: String, message: String, client: ClientID,
                     _ gateway: Gateway) throws(GatewayError) {
        switch command {
        case "echo":
            try gateway.reply(message)
        case "all":
            try gateway.sendToAll(argument)
        case "join":
            try gateway.join(client, group: argument)
            try gateway.reply("joined:\(argument)")
        case "leave":
            try gateway.leave(client, group: argument)
            try gateway.reply("left:\(argument)")
        case "group":
            guard let (group, payload) = split(argument, at: ":") else { return }
            try gateway.sendToGroup(group, payload)
        case "id":
            try gateway.reply("id:\(client)")
        case "count":
            try gateway.reply("count:\(try gateway.allClientCount())")
        case "ver":
            try gateway.reply("ver:\(conformanceVersion):\(try gateway.workerPID)")
        case "uid":
            try gateway.bind(client, uid: argument)
            try gateway.reply("uid:\(argument)")
        case "touid":
            guard let (uid, payload) = split(argument, at: ":") else { return }
            try gateway.sendToUID(uid, payload)
        case "to":
            guard let (id, payload) = split(argument, at: ":") else { return }
            guard let target = ClientID(id) else {
                throw GatewayError(code: .invalidArgument, message: gateway.statusString(.invalidArgument))
            }
            try gateway.send(payload, to: target)
        case "online":
            try gateway.reply("online:\(try isOnline(argument, gateway) ? 1 : 0)")
        case "sess":
            guard let (key, value) = split(argument, at: "=") else { return }
            try gateway.updateSession([key: value])
            try gateway.reply("sess:ok")
        case "getsess":
            try gateway.reply("sess:\(argument)=\(try gateway.session[argument] ?? "")")
        case "kick":
            try gateway.closeCurrentClient()
        case "sleep":
            guard let milliseconds = parseMilliseconds(argument) else { return }
            sleep(milliseconds: milliseconds)
            try gateway.reply("slept:\(argument)")
        case "crash":
            crash()
        case "api":
            if let reply = apiReply(argument, gateway) { try gateway.reply(reply) }
        case "destroy":
            try gateway.destroyCurrentClient()
        case "tick":
            try startTicks(argument, for: client, gateway)
        case "post":
            guard let postRelay else { throw GatewayError(code: .unsupported, message: gateway.statusString(.unsupported)) }
            postRelay.request(PostRelay.Request(client: client, text: argument))
        default:
            return
        }
    }

    /// NOT_FOUND and malformed ids read as offline, as in the C plugin.
    private func isOnline(_ id: String, _ gateway: Gateway) throws(GatewayError) -> Bool {
        guard let client = ClientID(id) else { return false }
        do {
            return try gateway.isOnline(client)
        } catch where error.code == .notFound || error.code == .invalidArgument {
            return false
        }
    }

    /// Runs `body`; a failed host call is logged, and nothing more is sent.
    private func attempt(_ gateway: Gateway, _ command: Substring, _ body: () throws(GatewayError) -> Void) {
        do {
            try body()
        } catch {
            logFailure(gateway, command, error)
        }
    }
}

/// Logs a failed host call as conformance-c does.
func logFailure(_ gateway: Gateway, _ command: some StringProtocol, _ error: GatewayError) {
    gateway.log("conformance-swift: \(command) failed: \(error.message) (\(error.code.rawValue))", level: .warning)
}

func split(_ string: String, at separator: Character) -> (String, String)? {
    guard let index = string.firstIndex(of: separator) else { return nil }
    return (String(string[..<index]), String(string[string.index(after: index)...]))
}

/// 1 to 9 decimal digits, as the C plugin accepts.
func parseMilliseconds(_ text: String) -> Int? {
    guard (1...9).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
    return Int(text)
}

private func sleep(milliseconds: Int) {
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR {
        request = remaining
    }
}

/// Writes through an invalid pointer (SIGSEGV: the worker process dies). Should the store ever
/// survive, raise SIGSEGV, and failing that abort.
private func crash() -> Never {
    UnsafeMutableRawPointer(bitPattern: 8)!.storeBytes(of: 1, as: Int.self)
    raise(SIGSEGV)
    abort()
}
