import GatewayAPI
import GatewayWire

/// What a `GatewayClient.call` produced.
public struct GatewayCallOutcome: Sendable {
    /// A query's `{"result": …}` (with `"unanswered": [gateway, …]` when some gateway gave no
    /// answer); a send's `{"ok": true}`.
    public var json: JSONValue
    /// Why each unanswered gateway did not answer.
    public var failures: [GatewayFailure]
    /// A query that went to some gateway and heard back from none.
    public var nothingAnswered: Bool

    public init(json: JSONValue, failures: [GatewayFailure] = [], nothingAnswered: Bool = false) {
        self.json = json
        self.failures = failures
        self.nothingAnswered = nothingAnswered
    }
}

extension GatewayClient {
    /// Runs a function by name with JSON arguments (members named as in `parameters`), as the
    /// command line and the HTTP API do. Throws `.invalidArgument` before sending anything
    /// when the arguments do not fit.
    public func call(_ function: GatewayFunction, arguments: JSONValue) async throws(GatewayClientError) -> GatewayCallOutcome {
        let arguments = try GatewayArguments(function, arguments)
        if let query = try Self.query(function, arguments) { return try await query(self) }
        try await send(try Self.dispatches(function, arguments))
        return GatewayCallOutcome(json: ["ok": true], failures: [], nothingAnswered: false)
    }

    private static func dispatches(_ function: GatewayFunction, _ a: GatewayArguments) throws(GatewayClientError) -> [GatewayDispatch] {
        let options = a.sendOptions
        switch function {
        case .sendToAll:
            return GatewayCommands.sendToAll(a.message() ?? [], clientIDs: a.clientIDs("client_id"), excluding: a.clientIDs("exclude") ?? [], options: options)
        case .sendToClient: return [GatewayCommands.sendToClient(a.clientID(), a.message() ?? [], options: options)]
        case .sendToUID: return GatewayCommands.sendToUID(a.names("uid"), a.message() ?? [], options: options)
        case .sendToGroup:
            return GatewayCommands.sendToGroup(a.names("group"), a.message() ?? [], excluding: a.clientIDs("exclude") ?? [], options: options)
        case .closeClient: return [GatewayCommands.closeClient(a.clientID(), message: a.message(), options: options)]
        case .destroyClient: return [GatewayCommands.destroyClient(a.clientID())]
        case .bindUID: return [GatewayCommands.membership(.bindUID, a.clientID(), a.text("uid"))]
        case .unbindUID: return [GatewayCommands.membership(.unbindUID, a.clientID(), a.text("uid"))]
        case .joinGroup: return [GatewayCommands.membership(.joinGroup, a.clientID(), a.text("group"))]
        case .leaveGroup: return [GatewayCommands.membership(.leaveGroup, a.clientID(), a.text("group"))]
        case .ungroup: return [GatewayCommands.ungroup(a.text("group"))]
        case .setSession: return [GatewayCommands.session(a.clientID(), a.session(), merge: false)]
        case .updateSession: return [GatewayCommands.session(a.clientID(), a.session(), merge: true)]
        default: return []
        }
    }

    private typealias Run = @Sendable (GatewayClient) async throws(GatewayClientError) -> GatewayCallOutcome

    /// The query a function runs, or nil for a send.
    private static func query(_ function: GatewayFunction, _ a: GatewayArguments) throws(GatewayClientError) -> Run? {
        switch function {
        case .getSession: return run(GatewayQueries.session(of: a.clientID()))
        case .isOnline: return run(GatewayQueries.isOnline(a.clientID()))
        case .isUIDOnline: return run(GatewayQueries.isUIDOnline(a.text("uid")))
        case .isUIDsOnline: return run(GatewayQueries.areUIDsOnline(a.names("uids")))
        case .getClientIDByUID: return run(GatewayQueries.clientIDs(uid: a.text("uid")))
        case .getUIDByClientID: return run(GatewayQueries.uid(of: a.clientID()))
        case .getClientIDCountByGroup: return run(GatewayQueries.clientIDCount(group: a.text("group")))
        case .getAllClientIDCount: return run(GatewayQueries.clientIDCount())
        case .getClientIDListByGroup: return run(GatewayQueries.clientIDs(group: a.text("group")))
        case .getAllClientIDList: return run(GatewayQueries.allClientIDs())
        case .getClientSessionsByGroup: return run(GatewayQueries.clientSessions(group: a.text("group")))
        case .getAllClientSessions: return run(GatewayQueries.allClientSessions())
        case .getAllGroupIDList: return run(GatewayQueries.allGroupIDs())
        case .getUIDListByGroup: return run(GatewayQueries.uids(group: a.text("group")))
        case .getUIDCountByGroup: return run(GatewayQueries.uidCount(group: a.text("group")))
        case .getAllUIDList: return run(GatewayQueries.allUIDs())
        case .getAllUIDCount: return run(GatewayQueries.allUIDCount())
        case .getAllGroupUIDList: return run(GatewayQueries.allGroupUIDs())
        case .getAllGroupUIDCount: return run(GatewayQueries.allGroupUIDCounts())
        case .getAllGroupClientIDList: return run(GatewayQueries.allGroupClientIDs())
        case .getAllGroupClientIDCount: return run(GatewayQueries.allGroupClientIDCounts())
        case .batchGetClientIDByUID: return run(GatewayQueries.clientIDs(uids: a.names("uids")))
        case .batchGetClientIDCountByGroup: return run(GatewayQueries.clientIDCounts(groups: a.names("groups")))
        default: return nil
        }
    }

    private static func run<Value: GatewayJSONRepresentable>(_ query: GatewayQuery<Value>) -> Run {
        { client throws(GatewayClientError) in
            let run = try await client.collect(query)
            return GatewayCallOutcome(
                json: run.result.gatewayJSON, failures: run.failures, nothingAnswered: run.answers == 0 && !run.failures.isEmpty)
        }
    }
}
