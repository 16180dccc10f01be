import CGatewayABI

/// Queries about clients. Every query blocks the plugin thread until each gateway involved
/// answered or the query timeout passed. A query of every gateway that misses an answer throws
/// ``GatewayError/Code/timeout`` (or ``GatewayError/Code/unavailable`` when a gateway is not
/// connected); the C API also hands out the other gateways' answers in that case.
extension Gateway {
    /// Whether the client is connected to some gateway (GatewayWorker's isOnline). Asks only
    /// the client's gateway; from ABI 1.2 a client whose gateway this worker is not connected
    /// to is offline (false), where a 1.1 host throws ``GatewayError/Code/unavailable``.
    public func isOnline(_ client: ClientID) throws(GatewayError) -> Bool {
        let isOnline = try api.require(\.is_online, "is_online")
        var online: Int32 = 0
        try api.check(withClientID(client) { isOnline(context, $0, &online) })
        return online != 0
    }

    /// The number of clients on all gateways (GatewayWorker's getAllClientIdCount).
    public func allClientCount() throws(GatewayError) -> Int {
        let getAllClientCount = try api.require(\.get_all_client_count, "get_all_client_count")
        var count: UInt64 = 0
        try api.check(getAllClientCount(context, &count))
        return Int(clamping: count)
    }

    /// Every client on all gateways, sorted (getAllClientIdList, ABI 1.1).
    public func allClientIDs() throws(GatewayError) -> [ClientID] {
        let getAllClientIDList = try api.require(\.get_all_client_id_list, "get_all_client_id_list")
        return try api.list { getAllClientIDList(context, $0) }.compactMap { ClientID($0) }
    }

    /// Every client's session: a JSON object `{client id: session object}` (getAllClientSessions,
    /// ABI 1.1).
    public func allClientSessionsJSON() throws(GatewayError) -> String {
        let getAllClientSessions = try api.require(\.get_all_client_sessions, "get_all_client_sessions")
        return try api.buffer { getAllClientSessions(context, $0) }
    }
}

extension HostAPI {
    /// A list table's entries as a dictionary.
    func lists(_ entries: [TableEntry]) -> [String: [String]] {
        Dictionary(entries.map { ($0.key, $0.items ?? []) }, uniquingKeysWith: { first, _ in first })
    }

    /// A number table's entries as a dictionary.
    func numbers(_ entries: [TableEntry]) -> [String: Int] {
        Dictionary(entries.map { ($0.key, $0.count) }, uniquingKeysWith: { first, _ in first })
    }
}
