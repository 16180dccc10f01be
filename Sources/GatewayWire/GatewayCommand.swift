/// The command byte of a GatewayWorker inner-protocol frame.
///
/// A struct with static members rather than an enum because unknown values must stay
/// representable: a gateway ignores a command it does not know (observed with 99) instead of
/// failing the connection, and gatewayd may add commands of its own in unused numbers.
public struct GatewayCommand: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// 1 `CMD_ON_CONNECT` — gateway → worker: a client connected (sent at TCP accept, before any handshake).
    public static let onConnect = GatewayCommand(rawValue: 1)
    /// 3 `CMD_ON_MESSAGE` — gateway → worker: one decoded client message; ext_data carries the session.
    public static let onMessage = GatewayCommand(rawValue: 3)
    /// 4 `CMD_ON_CLOSE` — gateway → worker: the client's socket has closed; ext_data carries the last session.
    public static let onClose = GatewayCommand(rawValue: 4)
    /// 5 `CMD_SEND_TO_ONE` — → gateway: send the body to one connection.
    public static let sendToOne = GatewayCommand(rawValue: 5)
    /// 6 `CMD_SEND_TO_ALL` — → gateway: send to every client, or a subset given as JSON in ext_data (`SendToAllScope`).
    public static let sendToAll = GatewayCommand(rawValue: 6)
    /// 7 `CMD_KICK` — → gateway: send the body (unless it is serialized null, `N;`) then close the client.
    public static let kick = GatewayCommand(rawValue: 7)
    /// 8 `CMD_DESTROY` — → gateway: close the client at once.
    public static let destroy = GatewayCommand(rawValue: 8)
    /// 9 `CMD_UPDATE_SESSION` — → gateway: merge ext_data into the session (`array_replace_recursive`).
    public static let updateSession = GatewayCommand(rawValue: 9)
    /// 10 `CMD_GET_ALL_CLIENT_SESSIONS` — → gateway, replied: every connection id → raw session string.
    public static let getAllClientSessions = GatewayCommand(rawValue: 10)
    /// 11 `CMD_IS_ONLINE` — → gateway, replied: `i:1;` or `i:0;`.
    public static let isOnline = GatewayCommand(rawValue: 11)
    /// 12 `CMD_BIND_UID` — → gateway: bind the connection to the uid in ext_data.
    public static let bindUID = GatewayCommand(rawValue: 12)
    /// 13 `CMD_UNBIND_UID` — → gateway: unbind the connection from the uid in ext_data.
    public static let unbindUID = GatewayCommand(rawValue: 13)
    /// 14 `CMD_SEND_TO_UID` — → gateway: send to every connection of the uids in ext_data (JSON list).
    public static let sendToUID = GatewayCommand(rawValue: 14)
    /// 15 `CMD_GET_CLIENT_ID_BY_UID` — → gateway, replied: the connection ids bound to a uid.
    public static let getClientIDByUID = GatewayCommand(rawValue: 15)
    /// 16 `CMD_BATCH_GET_CLIENT_ID_BY_UID` — → gateway, replied: uid → connection ids, for a JSON list of uids.
    public static let batchGetClientIDByUID = GatewayCommand(rawValue: 16)
    /// 20 `CMD_JOIN_GROUP` — → gateway: add the connection to the group in ext_data.
    public static let joinGroup = GatewayCommand(rawValue: 20)
    /// 21 `CMD_LEAVE_GROUP` — → gateway: remove the connection from the group in ext_data.
    public static let leaveGroup = GatewayCommand(rawValue: 21)
    /// 22 `CMD_SEND_TO_GROUP` — → gateway: send to groups, JSON ext_data (`SendToGroupExt`).
    public static let sendToGroup = GatewayCommand(rawValue: 22)
    /// 23 `CMD_GET_CLIENT_SESSIONS_BY_GROUP` — → gateway, replied: connection id → raw session, for one group.
    public static let getClientSessionsByGroup = GatewayCommand(rawValue: 23)
    /// 24 `CMD_GET_CLIENT_COUNT_BY_GROUP` — → gateway, replied: member count of a group (all clients when ext_data is empty).
    public static let getClientCountByGroup = GatewayCommand(rawValue: 24)
    /// 25 `CMD_SELECT` — → gateway, replied: fields of the connections matching a JSON `where`.
    public static let select = GatewayCommand(rawValue: 25)
    /// 26 `CMD_GET_GROUP_ID_LIST` — → gateway, replied: every group name (numeric names come back as ints).
    public static let getGroupIDList = GatewayCommand(rawValue: 26)
    /// 27 `CMD_UNGROUP` — → gateway: dissolve the group in ext_data.
    public static let ungroup = GatewayCommand(rawValue: 27)
    /// 28 `CMD_BATCH_GET_CLIENT_COUNT_BY_GROUP` — → gateway, replied: group → count, for a JSON list of groups.
    public static let batchGetClientCountByGroup = GatewayCommand(rawValue: 28)
    /// 200 `CMD_WORKER_CONNECT` — worker → gateway: first frame of a worker connection, JSON body `WorkerConnectBody`. Never acknowledged.
    public static let workerConnect = GatewayCommand(rawValue: 200)
    /// 201 `CMD_PING` — gateway → worker keep-alive (only when lanIp is not 127.0.0.1). Never answered.
    public static let ping = GatewayCommand(rawValue: 201)
    /// 202 `CMD_GATEWAY_CLIENT_CONNECT` — GatewayClient → gateway auth prefix, JSON body `GatewayClientConnectBody`. Never acknowledged.
    public static let gatewayClientConnect = GatewayCommand(rawValue: 202)
    /// 203 `CMD_GET_SESSION_BY_CLIENT_ID` — → gateway, replied: the stored session string (`N;` for an unknown connection).
    public static let getSessionByClientID = GatewayCommand(rawValue: 203)
    /// 204 `CMD_SET_SESSION` — → gateway: replace the session with ext_data.
    public static let setSession = GatewayCommand(rawValue: 204)
    /// 205 `CMD_ON_WEBSOCKET_CONNECT` — gateway → worker: handshake parsed; body is a PHP-serialized `{get, server, cookie}` (flag 0, `WebSocketConnectInfo`).
    public static let onWebSocketConnect = GatewayCommand(rawValue: 205)

    /// Whether the gateway answers this command with a length-prefixed reply.
    ///
    /// Exactly 10, 11, 15, 16, 23, 24, 25, 26, 28 and 203 (observed); nothing else is ever
    /// acknowledged, including 200 and 202, so a requester must not wait for anything else.
    public var expectsReply: Bool {
        switch self.rawValue {
        case 10, 11, 15, 16, 23, 24, 25, 26, 28, 203: return true
        default: return false
        }
    }

    /// The constant's name in GatewayWorker's PHP source (`CMD_ON_CONNECT`, ...), or `nil` for
    /// numbers GatewayWorker does not define. Useful in logs read next to PHP ones.
    public var phpName: String? {
        switch self.rawValue {
        case 1: return "CMD_ON_CONNECT"
        case 3: return "CMD_ON_MESSAGE"
        case 4: return "CMD_ON_CLOSE"
        case 5: return "CMD_SEND_TO_ONE"
        case 6: return "CMD_SEND_TO_ALL"
        case 7: return "CMD_KICK"
        case 8: return "CMD_DESTROY"
        case 9: return "CMD_UPDATE_SESSION"
        case 10: return "CMD_GET_ALL_CLIENT_SESSIONS"
        case 11: return "CMD_IS_ONLINE"
        case 12: return "CMD_BIND_UID"
        case 13: return "CMD_UNBIND_UID"
        case 14: return "CMD_SEND_TO_UID"
        case 15: return "CMD_GET_CLIENT_ID_BY_UID"
        case 16: return "CMD_BATCH_GET_CLIENT_ID_BY_UID"
        case 20: return "CMD_JOIN_GROUP"
        case 21: return "CMD_LEAVE_GROUP"
        case 22: return "CMD_SEND_TO_GROUP"
        case 23: return "CMD_GET_CLIENT_SESSIONS_BY_GROUP"
        case 24: return "CMD_GET_CLIENT_COUNT_BY_GROUP"
        case 25: return "CMD_SELECT"
        case 26: return "CMD_GET_GROUP_ID_LIST"
        case 27: return "CMD_UNGROUP"
        case 28: return "CMD_BATCH_GET_CLIENT_COUNT_BY_GROUP"
        case 200: return "CMD_WORKER_CONNECT"
        case 201: return "CMD_PING"
        case 202: return "CMD_GATEWAY_CLIENT_CONNECT"
        case 203: return "CMD_GET_SESSION_BY_CLIENT_ID"
        case 204: return "CMD_SET_SESSION"
        case 205: return "CMD_ON_WEBSOCKET_CONNECT"
        default: return nil
        }
    }

    /// The Swift member name (`onConnect`), or `unknown(99)`.
    public var description: String {
        switch self.rawValue {
        case 1: return "onConnect"
        case 3: return "onMessage"
        case 4: return "onClose"
        case 5: return "sendToOne"
        case 6: return "sendToAll"
        case 7: return "kick"
        case 8: return "destroy"
        case 9: return "updateSession"
        case 10: return "getAllClientSessions"
        case 11: return "isOnline"
        case 12: return "bindUID"
        case 13: return "unbindUID"
        case 14: return "sendToUID"
        case 15: return "getClientIDByUID"
        case 16: return "batchGetClientIDByUID"
        case 20: return "joinGroup"
        case 21: return "leaveGroup"
        case 22: return "sendToGroup"
        case 23: return "getClientSessionsByGroup"
        case 24: return "getClientCountByGroup"
        case 25: return "select"
        case 26: return "getGroupIDList"
        case 27: return "ungroup"
        case 28: return "batchGetClientCountByGroup"
        case 200: return "workerConnect"
        case 201: return "ping"
        case 202: return "gatewayClientConnect"
        case 203: return "getSessionByClientID"
        case 204: return "setSession"
        case 205: return "onWebSocketConnect"
        default: return "unknown(\(self.rawValue))"
        }
    }
}
