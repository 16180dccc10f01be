import CGatewayABI

/// Groups (GatewayWorker's joinGroup / leaveGroup / ungroup / sendToGroup). A client leaves
/// every group when it disconnects.
extension Gateway {
    public func join(_ client: ClientID, group: String) throws(GatewayError) {
        let joinGroup = try api.require(\.join_group, "join_group")
        try api.check(withClientID(client) { id in withBytes(of: group) { joinGroup(context, id, $0, $1) } })
    }

    public func leave(_ client: ClientID, group: String) throws(GatewayError) {
        let leaveGroup = try api.require(\.leave_group, "leave_group")
        try api.check(withClientID(client) { id in withBytes(of: group) { leaveGroup(context, id, $0, $1) } })
    }

    /// Dissolves a group: every member leaves it.
    public func ungroup(_ group: String) throws(GatewayError) {
        let ungroup = try api.require(\.ungroup, "ungroup")
        try api.check(withBytes(of: group) { ungroup(context, $0, $1) })
    }

    public func sendToGroup(_ group: String, _ text: String, excluding excluded: [ClientID] = []) throws(GatewayError) {
        try sendToGroup(group, .text(text), excluding: excluded)
    }

    public func sendToGroup(_ group: String, _ bytes: [UInt8], excluding excluded: [ClientID] = []) throws(GatewayError) {
        try sendToGroup(group, .binary(bytes), excluding: excluded)
    }

    /// Sends to every member of `group` except `excluded`.
    public func sendToGroup(_ group: String, _ message: Message, excluding excluded: [ClientID] = [],
                            options: SendOptions = []) throws(GatewayError) {
        let sendToGroup = try api.require(\.send_to_group, "send_to_group")
        try api.check(withBytes(of: group) { name, nameLength in
            withClientIDs(excluded) { exclude, excludeCount in
                withPayload(of: message, options: options) {
                    sendToGroup(context, name, nameLength, $0, $1, $2, exclude, excludeCount)
                }
            }
        })
    }

    public func send(_ text: String, toGroups groups: [String], excluding excluded: [ClientID] = []) throws(GatewayError) {
        try send(.text(text), toGroups: groups, excluding: excluded)
    }

    public func send(_ bytes: [UInt8], toGroups groups: [String], excluding excluded: [ClientID] = []) throws(GatewayError) {
        try send(.binary(bytes), toGroups: groups, excluding: excluded)
    }

    /// Sends to every member of any of `groups`, once each, except `excluded` (`send_to_groups`,
    /// ABI 1.1). An empty list sends nothing.
    public func send(_ message: Message, toGroups groups: [String], excluding excluded: [ClientID] = [],
                     options: SendOptions = []) throws(GatewayError) {
        let sendToGroups = try api.require(\.send_to_groups, "send_to_groups")
        try api.check(withNames(groups) { names, count in
            withClientIDs(excluded) { exclude, excludeCount in
                withPayload(of: message, options: options) {
                    sendToGroups(context, names, count, $0, $1, $2, exclude, excludeCount)
                }
            }
        })
    }
}
