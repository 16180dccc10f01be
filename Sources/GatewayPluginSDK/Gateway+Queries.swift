import CGatewayABI

/// Queries. Each blocks the plugin thread until every gateway involved answered or the query
/// timeout passed (``GatewayError/Code/timeout``).
extension Gateway {
    /// Whether the client is connected to some gateway (GatewayWorker's isOnline).
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
}
