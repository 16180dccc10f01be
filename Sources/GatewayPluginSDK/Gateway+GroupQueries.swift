import CGatewayABI

/// Queries about groups (ABI 1.1); see ``Gateway/isOnline(_:)`` for how queries block and fail.
extension Gateway {
    /// The number of members of `group` (getClientIdCountByGroup).
    public func clientCount(inGroup group: String) throws(GatewayError) -> Int {
        let getCount = try api.require(\.get_client_count_by_group, "get_client_count_by_group")
        var count: UInt64 = 0
        try api.check(withBytes(of: group) { getCount(context, $0, $1, &count) })
        return Int(clamping: count)
    }

    /// The members of `group`, sorted (getClientIdListByGroup).
    public func clientIDs(inGroup group: String) throws(GatewayError) -> [ClientID] {
        let getList = try api.require(\.get_client_id_list_by_group, "get_client_id_list_by_group")
        return try api.list { out in withBytes(of: group) { getList(context, $0, $1, out) } }.compactMap { ClientID($0) }
    }

    /// The members' sessions: a JSON object `{client id: session object}` (getClientSessionsByGroup).
    public func clientSessionsJSON(inGroup group: String) throws(GatewayError) -> String {
        let getSessions = try api.require(\.get_client_sessions_by_group, "get_client_sessions_by_group")
        return try api.buffer { out in withBytes(of: group) { getSessions(context, $0, $1, out) } }
    }

    /// The distinct uids bound to members of `group`, sorted (getUidListByGroup).
    public func uids(inGroup group: String) throws(GatewayError) -> [String] {
        let getList = try api.require(\.get_uid_list_by_group, "get_uid_list_by_group")
        return try api.list { out in withBytes(of: group) { getList(context, $0, $1, out) } }
    }

    /// The number of distinct uids bound to members of `group` (getUidCountByGroup).
    public func uidCount(inGroup group: String) throws(GatewayError) -> Int {
        let getCount = try api.require(\.get_uid_count_by_group, "get_uid_count_by_group")
        var count: UInt64 = 0
        try api.check(withBytes(of: group) { getCount(context, $0, $1, &count) })
        return Int(clamping: count)
    }

    /// Every group with members, sorted (getAllGroupIdList).
    public func allGroups() throws(GatewayError) -> [String] {
        let getList = try api.require(\.get_all_group_id_list, "get_all_group_id_list")
        return try api.list { getList(context, $0) }
    }

    /// Each group's distinct uids (getAllGroupUidList).
    public func allGroupUIDs() throws(GatewayError) -> [String: [String]] {
        let getTable = try api.require(\.get_all_group_uid_list, "get_all_group_uid_list")
        return api.lists(try api.table { getTable(context, $0) })
    }

    /// Each group's number of distinct uids (getAllGroupUidCount).
    public func allGroupUIDCounts() throws(GatewayError) -> [String: Int] {
        let getTable = try api.require(\.get_all_group_uid_count, "get_all_group_uid_count")
        return api.numbers(try api.table { getTable(context, $0) })
    }

    /// Each group's members (getAllGroupClientIdList).
    public func allGroupClientIDs() throws(GatewayError) -> [String: [ClientID]] {
        let getTable = try api.require(\.get_all_group_client_id_list, "get_all_group_client_id_list")
        return api.lists(try api.table { getTable(context, $0) }).mapValues { $0.compactMap { ClientID($0) } }
    }

    /// Each group's number of members (getAllGroupClientIdCount).
    public func allGroupClientCounts() throws(GatewayError) -> [String: Int] {
        let getTable = try api.require(\.get_all_group_client_id_count, "get_all_group_client_id_count")
        return api.numbers(try api.table { getTable(context, $0) })
    }

    /// The number of members of each of `groups`, every group present (batchGetClientIdCountByGroup).
    public func clientCounts(inGroups groups: [String]) throws(GatewayError) -> [String: Int] {
        let batch = try api.require(\.batch_get_client_count_by_group, "batch_get_client_count_by_group")
        return api.numbers(try api.table { out in withNames(groups) { batch(context, $0, $1, out) } })
    }
}
