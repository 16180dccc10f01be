import GatewayAPI
import GatewayWire

/// GatewayWorker's query functions, merged over every gateway asked as `Lib/Gateway.php`
/// merges them (see `GatewayQueries`). Each result lists the gateways that did not answer in
/// time; its value is then merged from the ones that did.
extension GatewayClient {
    public func isOnline(_ clientID: String) async throws(GatewayClientError) -> GatewayQueryResult<Bool> {
        try await query(GatewayQueries.isOnline(try parse(clientID)))
    }

    /// getSession: nil when the client is not online.
    public func session(of clientID: String) async throws(GatewayClientError) -> GatewayQueryResult<PHPValue?> {
        try await query(GatewayQueries.session(of: try parse(clientID)))
    }

    /// getUidByClientId: nil when the client is offline or has no uid.
    public func uid(of clientID: String) async throws(GatewayClientError) -> GatewayQueryResult<String?> {
        try await query(GatewayQueries.uid(of: try parse(clientID)))
    }

    /// getAllClientIdCount.
    public func allClientIDCount() async throws(GatewayClientError) -> GatewayQueryResult<Int> {
        try await query(GatewayQueries.clientIDCount())
    }

    /// getClientIdCountByGroup.
    public func clientIDCount(group: String) async throws(GatewayClientError) -> GatewayQueryResult<Int> {
        try await query(GatewayQueries.clientIDCount(group: group))
    }

    /// getAllClientIdList.
    public func allClientIDs() async throws(GatewayClientError) -> GatewayQueryResult<[String]> {
        try await query(GatewayQueries.allClientIDs())
    }

    /// getClientIdListByGroup.
    public func clientIDs(group: String) async throws(GatewayClientError) -> GatewayQueryResult<[String]> {
        try await query(GatewayQueries.clientIDs(group: group))
    }

    /// getAllClientSessions: `[client id: session]`.
    public func allClientSessions() async throws(GatewayClientError) -> GatewayQueryResult<[String: PHPValue]> {
        try await query(GatewayQueries.allClientSessions())
    }

    /// getClientSessionsByGroup.
    public func clientSessions(group: String) async throws(GatewayClientError) -> GatewayQueryResult<[String: PHPValue]> {
        try await query(GatewayQueries.clientSessions(group: group))
    }

    /// getClientIdByUid.
    public func clientIDs(uid: String) async throws(GatewayClientError) -> GatewayQueryResult<[String]> {
        try await query(GatewayQueries.clientIDs(uid: uid))
    }

    /// isUidOnline.
    public func isUIDOnline(_ uid: String) async throws(GatewayClientError) -> GatewayQueryResult<Bool> {
        try await query(GatewayQueries.isUIDOnline(uid))
    }

    /// batchGetClientIdByUid: `[uid: [client id]]`, every uid asked present.
    public func clientIDs(uids: [String]) async throws(GatewayClientError) -> GatewayQueryResult<[String: [String]]> {
        try await query(GatewayQueries.clientIDs(uids: uids))
    }

    /// isUidsOnline: `[uid: online]`.
    public func areUIDsOnline(_ uids: [String]) async throws(GatewayClientError) -> GatewayQueryResult<[String: Bool]> {
        try await query(GatewayQueries.areUIDsOnline(uids))
    }

    /// getAllUidList.
    public func allUIDs() async throws(GatewayClientError) -> GatewayQueryResult<[String]> {
        try await query(GatewayQueries.allUIDs())
    }

    /// getAllUidCount.
    public func allUIDCount() async throws(GatewayClientError) -> GatewayQueryResult<Int> {
        try await query(GatewayQueries.allUIDCount())
    }

    /// getUidListByGroup.
    public func uids(group: String) async throws(GatewayClientError) -> GatewayQueryResult<[String]> {
        try await query(GatewayQueries.uids(group: group))
    }

    /// getUidCountByGroup.
    public func uidCount(group: String) async throws(GatewayClientError) -> GatewayQueryResult<Int> {
        try await query(GatewayQueries.uidCount(group: group))
    }

    /// getAllGroupIdList.
    public func allGroupIDs() async throws(GatewayClientError) -> GatewayQueryResult<[String]> {
        try await query(GatewayQueries.allGroupIDs())
    }

    /// batchGetClientIdCountByGroup: `[group: count]`, every group asked present.
    public func clientIDCounts(groups: [String]) async throws(GatewayClientError) -> GatewayQueryResult<[String: Int]> {
        try await query(GatewayQueries.clientIDCounts(groups: groups))
    }

    /// getAllGroupUidList: `[group: [uid]]`.
    public func allGroupUIDs() async throws(GatewayClientError) -> GatewayQueryResult<[String: [String]]> {
        try await query(GatewayQueries.allGroupUIDs())
    }

    /// getAllGroupUidCount: `[group: distinct uids]`.
    public func allGroupUIDCounts() async throws(GatewayClientError) -> GatewayQueryResult<[String: Int]> {
        try await query(GatewayQueries.allGroupUIDCounts())
    }

    /// getAllGroupClientIdList: `[group: [client id]]`.
    public func allGroupClientIDs() async throws(GatewayClientError) -> GatewayQueryResult<[String: [String]]> {
        try await query(GatewayQueries.allGroupClientIDs())
    }

    /// getAllGroupClientIdCount: `[group: clients]`.
    public func allGroupClientIDCounts() async throws(GatewayClientError) -> GatewayQueryResult<[String: Int]> {
        try await query(GatewayQueries.allGroupClientIDCounts())
    }
}
