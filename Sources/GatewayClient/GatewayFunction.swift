/// Every GatewayWorker API function by its kebab-case name, with its parameters: the one
/// table `gatewayd client <name>` and the HTTP API's `POST /v1/<name>` are both built from,
/// so the two can never disagree. Run one with `GatewayClient.call(_:arguments:)`.
public enum GatewayFunction: String, CaseIterable, Sendable {
    case sendToAll = "send-to-all"
    case sendToClient = "send-to-client"
    case sendToUID = "send-to-uid"
    case sendToGroup = "send-to-group"
    case closeClient = "close-client"
    case destroyClient = "destroy-client"
    case bindUID = "bind-uid"
    case unbindUID = "unbind-uid"
    case joinGroup = "join-group"
    case leaveGroup = "leave-group"
    case ungroup = "ungroup"
    case setSession = "set-session"
    case updateSession = "update-session"
    case getSession = "get-session"
    case isOnline = "is-online"
    case isUIDOnline = "is-uid-online"
    case isUIDsOnline = "is-uids-online"
    case getClientIDByUID = "get-client-id-by-uid"
    case getUIDByClientID = "get-uid-by-client-id"
    case getClientIDCountByGroup = "get-client-id-count-by-group"
    case getAllClientIDCount = "get-all-client-id-count"
    case getClientIDListByGroup = "get-client-id-list-by-group"
    case getAllClientIDList = "get-all-client-id-list"
    case getClientSessionsByGroup = "get-client-sessions-by-group"
    case getAllClientSessions = "get-all-client-sessions"
    case getAllGroupIDList = "get-all-group-id-list"
    case getUIDListByGroup = "get-uid-list-by-group"
    case getUIDCountByGroup = "get-uid-count-by-group"
    case getAllUIDList = "get-all-uid-list"
    case getAllUIDCount = "get-all-uid-count"
    case getAllGroupUIDList = "get-all-group-uid-list"
    case getAllGroupUIDCount = "get-all-group-uid-count"
    case getAllGroupClientIDList = "get-all-group-client-id-list"
    case getAllGroupClientIDCount = "get-all-group-client-id-count"
    case batchGetClientIDByUID = "batch-get-client-id-by-uid"
    case batchGetClientIDCountByGroup = "batch-get-client-id-count-by-group"

    /// GatewayWorker's name, e.g. "getClientIdByUid".
    public var phpName: String {
        let words = rawValue.split(separator: "-")
        return String(words[0]) + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// Sends answer nothing; queries answer `{"result": …}`.
    public var isQuery: Bool {
        switch self {
        case .sendToAll, .sendToClient, .sendToUID, .sendToGroup, .closeClient, .destroyClient, .bindUID, .unbindUID,
            .joinGroup, .leaveGroup, .ungroup, .setSession, .updateSession:
            return false
        default:
            return true
        }
    }

    /// The parameters, required ones first in the order the command line takes them.
    public var parameters: [GatewayParameter] {
        typealias P = GatewayParameter
        let sendFlags = [P.messageBase64, P.binary, P.raw]
        switch self {
        case .sendToAll:
            return [P.message, P(name: "client_id", kind: .clientIDs, summary: "only these clients (an empty list sends to nobody)"),
                P(name: "exclude", kind: .clientIDs, summary: "everyone but these clients")] + sendFlags
        case .sendToClient: return [P.clientID, P.message] + sendFlags
        case .sendToUID: return [P(name: "uid", kind: .nameOrNames, isRequired: true, summary: "a uid or a list of uids"), P.message] + sendFlags
        case .sendToGroup:
            return [P(name: "group", kind: .nameOrNames, isRequired: true, summary: "a group or a list of groups"), P.message,
                P(name: "exclude", kind: .clientIDs, summary: "members not to send to")] + sendFlags
        case .closeClient:
            return [P.clientID, P(name: "message", kind: .message, summary: "sent to the client just before it is closed")] + sendFlags
        case .destroyClient, .getSession, .isOnline, .getUIDByClientID: return [P.clientID]
        case .bindUID, .unbindUID: return [P.clientID, P.uid]
        case .joinGroup, .leaveGroup: return [P.clientID, P.group]
        case .ungroup, .getClientIDCountByGroup, .getClientIDListByGroup, .getClientSessionsByGroup, .getUIDListByGroup,
            .getUIDCountByGroup:
            return [P.group]
        case .setSession: return [P.clientID, P(name: "session", kind: .session, isRequired: true, summary: "the new session (a JSON object)")]
        case .updateSession:
            return [P.clientID, P(name: "session", kind: .session, isRequired: true, summary: "merged into the session (a JSON object)")]
        case .isUIDOnline, .getClientIDByUID: return [P.uid]
        case .isUIDsOnline, .batchGetClientIDByUID: return [P(name: "uids", kind: .names, isRequired: true, summary: "the uids")]
        case .batchGetClientIDCountByGroup: return [P(name: "groups", kind: .names, isRequired: true, summary: "the groups")]
        case .getAllClientIDCount, .getAllClientIDList, .getAllClientSessions, .getAllGroupIDList, .getAllUIDList, .getAllUIDCount,
            .getAllGroupUIDList, .getAllGroupUIDCount, .getAllGroupClientIDList, .getAllGroupClientIDCount:
            return []
        }
    }

    /// One line on what the function does.
    public var summary: String {
        switch self {
        case .sendToAll: return "Send a message to every client (or only to some, or all but some)."
        case .sendToClient: return "Send a message to one client."
        case .sendToUID: return "Send a message to every client bound to a uid (or to any of several uids)."
        case .sendToGroup: return "Send a message to every member of a group (or of several groups, once each)."
        case .closeClient: return "Close a client's connection, optionally sending a last message."
        case .destroyClient: return "Close a client's connection at once."
        case .bindUID: return "Bind a client to a uid."
        case .unbindUID: return "Unbind a client from a uid."
        case .joinGroup: return "Add a client to a group."
        case .leaveGroup: return "Remove a client from a group."
        case .ungroup: return "Remove every member from a group."
        case .setSession: return "Replace a client's session."
        case .updateSession: return "Merge values into a client's session (recursively)."
        case .getSession: return "A client's session (null when the client is offline)."
        case .isOnline: return "Whether a client is connected."
        case .isUIDOnline: return "Whether any client is bound to a uid."
        case .isUIDsOnline: return "For each uid, whether any client is bound to it."
        case .getClientIDByUID: return "The clients bound to a uid."
        case .getUIDByClientID: return "The uid a client is bound to (null if none)."
        case .getClientIDCountByGroup: return "How many clients a group has."
        case .getAllClientIDCount: return "How many clients are connected."
        case .getClientIDListByGroup: return "The clients in a group."
        case .getAllClientIDList: return "Every connected client."
        case .getClientSessionsByGroup: return "The sessions of a group's clients, by client id."
        case .getAllClientSessions: return "Every client's session, by client id."
        case .getAllGroupIDList: return "Every group with at least one member."
        case .getUIDListByGroup: return "The uids bound to a group's clients."
        case .getUIDCountByGroup: return "How many distinct uids a group's clients have."
        case .getAllUIDList: return "Every bound uid."
        case .getAllUIDCount: return "How many distinct uids are bound."
        case .getAllGroupUIDList: return "For each group, its members' uids."
        case .getAllGroupUIDCount: return "For each group, how many distinct uids its members have."
        case .getAllGroupClientIDList: return "For each group, its clients."
        case .getAllGroupClientIDCount: return "For each group, how many clients it has."
        case .batchGetClientIDByUID: return "For each uid, the clients bound to it."
        case .batchGetClientIDCountByGroup: return "For each group, how many clients it has."
        }
    }
}

/// One parameter of a `GatewayFunction`: its JSON member name and what it holds.
public struct GatewayParameter: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A client id (20 hex characters).
        case clientID
        /// One client id or a list of them.
        case clientIDs
        /// A uid or group name.
        case name
        /// One name or a list of names.
        case nameOrNames
        /// A list of names.
        case names
        /// The message text (sent as its UTF-8 bytes).
        case message
        /// The message as base64; given instead of `message`, which it then satisfies.
        case messageBase64
        /// A session: a JSON object.
        case session
        /// A boolean, false when absent.
        case flag
    }

    /// The JSON member name, e.g. "client_id"; `--client-id` on the command line.
    public var name: String
    public var kind: Kind
    public var isRequired: Bool
    public var summary: String

    public init(name: String, kind: Kind, isRequired: Bool = false, summary: String) {
        self.name = name
        self.kind = kind
        self.isRequired = isRequired
        self.summary = summary
    }

    static let clientID = GatewayParameter(name: "client_id", kind: .clientID, isRequired: true, summary: "the client id")
    static let message = GatewayParameter(name: "message", kind: .message, isRequired: true, summary: "the message")
    static let uid = GatewayParameter(name: "uid", kind: .name, isRequired: true, summary: "the uid")
    static let group = GatewayParameter(name: "group", kind: .name, isRequired: true, summary: "the group")
    static let binary = GatewayParameter(name: "binary", kind: .flag, summary: "send as a binary WebSocket message")
    static let raw = GatewayParameter(name: "raw", kind: .flag, summary: "write the bytes as they are, without the client protocol's framing")
    /// Instead of `message`, for bytes that are not text.
    static let messageBase64 = GatewayParameter(
        name: "message_base64", kind: .messageBase64, summary: "the message as base64, for bytes that are not text (instead of message)")
}
