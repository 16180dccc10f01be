import CGatewayABI

/// Queries about uids (ABI 1.1); see ``Gateway/isOnline(_:)`` for how queries block and fail.
extension Gateway {
    /// Whether some client is bound to `uid` (isUidOnline).
    public func isUIDOnline(_ uid: String) throws(GatewayError) -> Bool {
        let isUIDOnline = try api.require(\.is_uid_online, "is_uid_online")
        var online: Int32 = 0
        try api.check(withBytes(of: uid) { isUIDOnline(context, $0, $1, &online) })
        return online != 0
    }

    /// The clients bound to `uid`, sorted (getClientIdByUid).
    public func clientIDs(ofUID uid: String) throws(GatewayError) -> [ClientID] {
        let getClientIDByUID = try api.require(\.get_client_id_by_uid, "get_client_id_by_uid")
        return try api.list { out in withBytes(of: uid) { getClientIDByUID(context, $0, $1, out) } }
            .compactMap { ClientID($0) }
    }

    /// The client's uid; nil when it is offline or has none (getUidByClientId).
    public func uid(of client: ClientID) throws(GatewayError) -> String? {
        let getUIDByClientID = try api.require(\.get_uid_by_client_id, "get_uid_by_client_id")
        do {
            return try api.buffer { out in withClientID(client) { getUIDByClientID(context, $0, out) } }
        } catch where error.code == .notFound {
            return nil
        }
    }

    /// Every bound uid, sorted (getAllUidList).
    public func allUIDs() throws(GatewayError) -> [String] {
        let getAllUIDList = try api.require(\.get_all_uid_list, "get_all_uid_list")
        return try api.list { getAllUIDList(context, $0) }
    }

    /// The number of distinct bound uids (getAllUidCount).
    public func allUIDCount() throws(GatewayError) -> Int {
        let getAllUIDCount = try api.require(\.get_all_uid_count, "get_all_uid_count")
        var count: UInt64 = 0
        try api.check(getAllUIDCount(context, &count))
        return Int(clamping: count)
    }

    /// The clients bound to each of `uids`, every uid present (batchGetClientIdByUid).
    public func clientIDs(ofUIDs uids: [String]) throws(GatewayError) -> [String: [ClientID]] {
        let batch = try api.require(\.batch_get_client_id_by_uid, "batch_get_client_id_by_uid")
        let entries = try api.table { out in withNames(uids) { batch(context, $0, $1, out) } }
        return api.lists(entries).mapValues { $0.compactMap { ClientID($0) } }
    }

    /// Whether each of `uids` has a client, every uid present (isUidsOnline).
    public func areUIDsOnline(_ uids: [String]) throws(GatewayError) -> [String: Bool] {
        let isUIDsOnline = try api.require(\.is_uids_online, "is_uids_online")
        let entries = try api.table { out in withNames(uids) { isUIDsOnline(context, $0, $1, out) } }
        return api.numbers(entries).mapValues { $0 != 0 }
    }
}
