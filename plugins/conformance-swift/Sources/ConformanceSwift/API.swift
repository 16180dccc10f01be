// api:<function> <args…> — every host function by its C name, through the SDK, answering
// `api:<function>:<result as compact JSON>` or `api:<function>:error:<status name>`, exactly as
// plugins/conformance-c does (its README gives the arguments of each function).
import GatewayPluginSDK

/// Runs `call` (what follows "api:") and returns the reply, or nil when the client is gone
/// (close_current_client, destroy_current_client).
func apiReply(_ call: String, _ gateway: Gateway) -> String? {
    var arguments = APIArguments(call)
    let function = arguments.function
    do throws(GatewayError) {
        guard let handler = apiFunctions[function] else {
            throw GatewayError(code: .unsupported, message: "no such function")
        }
        guard let result = try handler(&arguments, gateway) else { return nil }
        return "api:\(function):\(result)"
    } catch {
        return "api:\(function):error:\(error.code)"
    }
}

/// The arguments after the function name: separated by single spaces; a message or JSON
/// argument takes the rest, spaces included.
struct APIArguments {
    let function: String
    private var rest: Substring?

    init(_ call: String) {
        if let space = call.firstIndex(of: " ") {
            function = String(call[..<space])
            rest = call[call.index(after: space)...]
        } else {
            function = call
            rest = nil
        }
    }

    mutating func next() throws(GatewayError) -> String {
        guard let rest else { throw invalid }
        if let space = rest.firstIndex(of: " ") {
            self.rest = rest[rest.index(after: space)...]
            return String(rest[..<space])
        }
        self.rest = nil
        return String(rest)
    }

    /// Everything left; nil when nothing is.
    mutating func remainder() -> String? {
        defer { rest = nil }
        return rest.map(String.init)
    }

    mutating func text() throws(GatewayError) -> String {
        guard let text = remainder() else { throw invalid }
        return text
    }

    /// Requires that no argument is left.
    func end() throws(GatewayError) {
        if rest != nil { throw invalid }
    }

    mutating func client() throws(GatewayError) -> ClientID {
        try clientID(try next())
    }

    /// `-` for the current client.
    mutating func clientOrCurrent() throws(GatewayError) -> ClientID? {
        let text = try next()
        return text == "-" ? nil : try clientID(text)
    }

    /// Comma-separated items, `-` for none.
    mutating func list() throws(GatewayError) -> [String] {
        let text = try next()
        return text == "-" ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }

    mutating func clients() throws(GatewayError) -> [ClientID] {
        var ids: [ClientID] = []
        for text in try list() { ids.append(try clientID(text)) }
        return ids
    }

    /// `k=v,k=v` (or `-`).
    mutating func pairs() throws(GatewayError) -> [String: String] {
        var pairs: [String: String] = [:]
        for item in try list() {
            guard let equals = item.firstIndex(of: "=") else { throw invalid }
            pairs[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return pairs
    }

    private func clientID(_ text: String) throws(GatewayError) -> ClientID {
        guard let id = ClientID(text) else { throw invalid }
        return id
    }

    private var invalid: GatewayError { GatewayError(code: .invalidArgument, message: "bad arguments") }
}

/// A handler reads its arguments, calls the SDK and returns the JSON result (nil: no reply).
typealias APIHandler = @Sendable (inout APIArguments, Gateway) throws(GatewayError) -> String?

let sent = "null"

let apiFunctions: [String: APIHandler] = [
    // 1.0
    "worker_info": { a, g throws(GatewayError) in
        try a.end()
        return "{\"index\":\(try g.workerIndex),\"pid\":\(try g.workerPID)}"
    },
    "current_client_id": { a, g throws(GatewayError) in
        try a.end()
        return g.currentClient.map { JSON.string($0.rawValue) } ?? "null"
    },
    "send_to_client": { a, g throws(GatewayError) in
        let (id, text) = (try a.client(), try a.text())
        try g.send(text, to: id)
        return sent
    },
    "send_to_current_client": { a, g throws(GatewayError) in
        try g.reply(try a.text())
        return sent
    },
    "send_to_all": { a, g throws(GatewayError) in
        let (exclude, text) = (try a.clients(), try a.text())
        try g.sendToAll(text, excluding: exclude)
        return sent
    },
    "close_client": { a, g throws(GatewayError) in
        let (id, text) = (try a.client(), a.remainder())
        try g.close(id, lastMessage: text.map { .text($0) })
        return sent
    },
    "close_current_client": { a, g throws(GatewayError) in
        try g.closeCurrentClient(lastMessage: a.remainder().map { .text($0) })
        return nil
    },
    "join_group": { a, g throws(GatewayError) in try membership(&a) { id, name throws(GatewayError) in try g.join(id, group: name) } },
    "leave_group": { a, g throws(GatewayError) in try membership(&a) { id, name throws(GatewayError) in try g.leave(id, group: name) } },
    "bind_uid": { a, g throws(GatewayError) in try membership(&a) { id, name throws(GatewayError) in try g.bind(id, uid: name) } },
    "unbind_uid": { a, g throws(GatewayError) in try membership(&a) { id, name throws(GatewayError) in try g.unbind(id, uid: name) } },
    "ungroup": { a, g throws(GatewayError) in
        let group = try a.next()
        try a.end()
        try g.ungroup(group)
        return sent
    },
    "send_to_group": { a, g throws(GatewayError) in
        let (group, exclude, text) = (try a.next(), try a.clients(), try a.text())
        try g.sendToGroup(group, text, excluding: exclude)
        return sent
    },
    "send_to_uid": { a, g throws(GatewayError) in
        let (uid, text) = (try a.next(), try a.text())
        try g.sendToUID(uid, text)
        return sent
    },
    "is_online": { a, g throws(GatewayError) in
        let id = try a.client()
        try a.end()
        return "\(try g.isOnline(id))"
    },
    "get_all_client_count": { a, g throws(GatewayError) in
        try a.end()
        return "\(try g.allClientCount())"
    },
    "session_get": { a, g throws(GatewayError) in
        let key = try a.next()
        try a.end()
        guard let value = try g.session[key] else { throw GatewayError(code: .notFound, message: "not set") }
        return JSON.string(value)
    },
    "session_json": { a, g throws(GatewayError) in
        try a.end()
        return try g.sessionJSON
    },
    "set_session": { a, g throws(GatewayError) in
        let (id, pairs) = (try a.clientOrCurrent(), try a.pairs())
        try a.end()
        try g.setSession(pairs, of: id)
        return sent
    },
    "update_session": { a, g throws(GatewayError) in
        let (id, pairs) = (try a.clientOrCurrent(), try a.pairs())
        try a.end()
        try g.updateSession(pairs, of: id)
        return sent
    },
    "set_session_json": { a, g throws(GatewayError) in
        let (id, json) = (try a.clientOrCurrent(), try a.text())
        try g.setSessionJSON(json, of: id)
        return sent
    },
    "update_session_json": { a, g throws(GatewayError) in
        let (id, json) = (try a.clientOrCurrent(), try a.text())
        try g.updateSessionJSON(json, of: id)
        return sent
    },
    "get_session_json": { a, g throws(GatewayError) in
        let id = try a.client()
        try a.end()
        return try g.sessionJSON(of: id)
    },

    // 1.1
    "destroy_client": { a, g throws(GatewayError) in
        let id = try a.client()
        try a.end()
        try g.destroy(id)
        return sent
    },
    "destroy_current_client": { a, g throws(GatewayError) in
        try a.end()
        try g.destroyCurrentClient()
        return nil
    },
    "send_to_clients": { a, g throws(GatewayError) in
        let (ids, text) = (try a.clients(), try a.text())
        try g.send(text, toClients: ids)
        return sent
    },
    "send_to_uids": { a, g throws(GatewayError) in
        let (uids, text) = (try a.list(), try a.text())
        try g.send(text, toUIDs: uids)
        return sent
    },
    "send_to_groups": { a, g throws(GatewayError) in
        let (groups, exclude, text) = (try a.list(), try a.clients(), try a.text())
        try g.send(text, toGroups: groups, excluding: exclude)
        return sent
    },
    "is_uid_online": { a, g throws(GatewayError) in "\(try g.isUIDOnline(try one(&a)))" },
    "get_client_id_by_uid": { a, g throws(GatewayError) in JSON.clients(try g.clientIDs(ofUID: try one(&a))) },
    "get_uid_by_client_id": { a, g throws(GatewayError) in
        let id = try a.client()
        try a.end()
        guard let uid = try g.uid(of: id) else { throw GatewayError(code: .notFound, message: "no uid") }
        return JSON.string(uid)
    },
    "get_client_count_by_group": { a, g throws(GatewayError) in "\(try g.clientCount(inGroup: try one(&a)))" },
    "get_client_id_list_by_group": { a, g throws(GatewayError) in JSON.clients(try g.clientIDs(inGroup: try one(&a))) },
    "get_client_sessions_by_group": { a, g throws(GatewayError) in try g.clientSessionsJSON(inGroup: try one(&a)) },
    "get_uid_list_by_group": { a, g throws(GatewayError) in JSON.strings(try g.uids(inGroup: try one(&a))) },
    "get_uid_count_by_group": { a, g throws(GatewayError) in "\(try g.uidCount(inGroup: try one(&a)))" },
    "get_all_client_id_list": { a, g throws(GatewayError) in
        try a.end()
        return JSON.clients(try g.allClientIDs())
    },
    "get_all_client_sessions": { a, g throws(GatewayError) in
        try a.end()
        return try g.allClientSessionsJSON()
    },
    "get_all_group_id_list": { a, g throws(GatewayError) in
        try a.end()
        return JSON.strings(try g.allGroups())
    },
    "get_all_uid_list": { a, g throws(GatewayError) in
        try a.end()
        return JSON.strings(try g.allUIDs())
    },
    "get_all_uid_count": { a, g throws(GatewayError) in
        try a.end()
        return "\(try g.allUIDCount())"
    },
    "get_all_group_uid_list": { a, g throws(GatewayError) in
        try a.end()
        return JSON.object(try g.allGroupUIDs(), JSON.strings)
    },
    "get_all_group_uid_count": { a, g throws(GatewayError) in
        try a.end()
        return JSON.object(try g.allGroupUIDCounts()) { "\($0)" }
    },
    "get_all_group_client_id_list": { a, g throws(GatewayError) in
        try a.end()
        return JSON.object(try g.allGroupClientIDs(), JSON.clients)
    },
    "get_all_group_client_id_count": { a, g throws(GatewayError) in
        try a.end()
        return JSON.object(try g.allGroupClientCounts()) { "\($0)" }
    },
    "batch_get_client_id_by_uid": { a, g throws(GatewayError) in
        JSON.object(try g.clientIDs(ofUIDs: try names(&a)), JSON.clients)
    },
    "batch_get_client_count_by_group": { a, g throws(GatewayError) in
        JSON.object(try g.clientCounts(inGroups: try names(&a))) { "\($0)" }
    },
    "is_uids_online": { a, g throws(GatewayError) in
        JSON.object(try g.areUIDsOnline(try names(&a))) { "\($0)" }
    },
]

/// `<id> <name>` for join/leave/bind/unbind.
private func membership(_ a: inout APIArguments, _ change: (ClientID, String) throws(GatewayError) -> Void)
    throws(GatewayError) -> String {
    let (id, name) = (try a.client(), try a.next())
    try a.end()
    try change(id, name)
    return sent
}

/// The single name argument of a query.
private func one(_ a: inout APIArguments) throws(GatewayError) -> String {
    let name = try a.next()
    try a.end()
    return name
}

/// The single list argument of a batch query.
private func names(_ a: inout APIArguments) throws(GatewayError) -> [String] {
    let names = try a.list()
    try a.end()
    return names
}

/// Compact JSON, written as conformance-c writes it.
enum JSON {
    /// `"` and `\` escaped, control characters as \u00xx, every other character as is.
    static func string(_ text: String) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [0x22]
        for byte in text.utf8 {
            switch byte {
            case 0x22, 0x5C: out += [0x5C, byte]
            case ..<0x20: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }

    static func strings(_ items: [String]) -> String {
        "[" + items.map(string).joined(separator: ",") + "]"
    }

    static func clients(_ ids: [ClientID]) -> String {
        strings(ids.map(\.rawValue))
    }

    /// An object with keys in order (the host's tables are sorted by key).
    static func object<Value>(_ members: [String: Value], _ render: (Value) -> String) -> String {
        "{" + members.sorted { $0.key < $1.key }.map { string($0.key) + ":" + render($0.value) }.joined(separator: ",") + "}"
    }
}
