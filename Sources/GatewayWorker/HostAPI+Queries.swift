import CGatewayABI
import GatewayAPI
import GatewayWire

/// The query entries of the host table: each is one of GatewayAPI's queries (`GatewayQueries`),
/// run by the plugin host and handed out in the memory gatewayd.h describes. A partial result
/// (some gateway silent) is handed out first, then its status returned.
func installQueries(_ table: UnsafeMutablePointer<gwd_host_api>) {
    installClientQueries(table)
    installUIDQueries(table)
    installGroupQueries(table)
}

private func installClientQueries(_ table: UnsafeMutablePointer<gwd_host_api>) {
    table.pointee.is_online = { context, clientID, out in
        hostCall(context) { invocation in
            guard let out else { throw HostError.invalidArgument }
            do {
                out.pointee = try invocation.host.run(GatewayQueries.isOnline(try Argument.clientID(clientID))).value ? 1 : 0
            } catch HostError.unavailable {
                // As GatewayWorker's isOnline: a client on a gateway we are not connected to is
                // not online for us.
                out.pointee = 0
            }
        }
    }
    table.pointee.get_all_client_count = { context, out in
        countQuery(context, out) { GatewayQueries.clientIDCount() }
    }
    table.pointee.get_all_client_id_list = { context, out in
        listQuery(context, out) { GatewayQueries.allClientIDs() }
    }
    table.pointee.get_session_json = { context, clientID, out in
        bufferQuery(context, out) {
            GatewayQueries.session(of: try Argument.clientID(clientID))
        } render: { session in
            guard let session else { throw HostError.notFound }
            return SessionJSON.object(session)
        }
    }
    table.pointee.get_all_client_sessions = { context, out in
        bufferQuery(context, out) { GatewayQueries.allClientSessions() } render: { sessionMap($0) }
    }
}

private func installUIDQueries(_ table: UnsafeMutablePointer<gwd_host_api>) {
    table.pointee.is_uid_online = { context, uid, length, out in
        flagQuery(context, out) { GatewayQueries.isUIDOnline(try Argument.name(uid, length)) }
    }
    table.pointee.get_client_id_by_uid = { context, uid, length, out in
        listQuery(context, out) { GatewayQueries.clientIDs(uid: try Argument.name(uid, length)) }
    }
    table.pointee.get_uid_by_client_id = { context, clientID, out in
        bufferQuery(context, out) {
            GatewayQueries.uid(of: try Argument.clientID(clientID))
        } render: { uid in
            guard let uid else { throw HostError.notFound }
            return Array(uid.utf8)
        }
    }
    table.pointee.get_all_uid_list = { context, out in
        listQuery(context, out) { GatewayQueries.allUIDs() }
    }
    table.pointee.get_all_uid_count = { context, out in
        countQuery(context, out) { GatewayQueries.allUIDCount() }
    }
    table.pointee.batch_get_client_id_by_uid = { context, uids, count, out in
        tableQuery(context, out) {
            GatewayQueries.clientIDs(uids: distinct(try Argument.names(uids, count)))
        } entry: { .list($0.map { Array($0.utf8) }) }
    }
    table.pointee.is_uids_online = { context, uids, count, out in
        tableQuery(context, out) { GatewayQueries.areUIDsOnline(distinct(try Argument.names(uids, count))) } entry: {
            .number($0 ? 1 : 0)
        }
    }
}

private func installGroupQueries(_ table: UnsafeMutablePointer<gwd_host_api>) {
    table.pointee.get_client_count_by_group = { context, group, length, out in
        countQuery(context, out) { GatewayQueries.clientIDCount(group: try Argument.name(group, length)) }
    }
    table.pointee.get_client_id_list_by_group = { context, group, length, out in
        listQuery(context, out) { GatewayQueries.clientIDs(group: try Argument.name(group, length)) }
    }
    table.pointee.get_client_sessions_by_group = { context, group, length, out in
        bufferQuery(context, out) { GatewayQueries.clientSessions(group: try Argument.name(group, length)) } render: { sessionMap($0) }
    }
    table.pointee.get_uid_list_by_group = { context, group, length, out in
        listQuery(context, out) { GatewayQueries.uids(group: try Argument.name(group, length)) }
    }
    table.pointee.get_uid_count_by_group = { context, group, length, out in
        countQuery(context, out) { GatewayQueries.uidCount(group: try Argument.name(group, length)) }
    }
    table.pointee.get_all_group_id_list = { context, out in
        listQuery(context, out) { GatewayQueries.allGroupIDs() }
    }
    table.pointee.get_all_group_uid_list = { context, out in
        tableQuery(context, out) { GatewayQueries.allGroupUIDs() } entry: { .list($0.map { Array($0.utf8) }) }
    }
    table.pointee.get_all_group_uid_count = { context, out in
        tableQuery(context, out) { GatewayQueries.allGroupUIDCounts() } entry: { .number($0) }
    }
    table.pointee.get_all_group_client_id_list = { context, out in
        tableQuery(context, out) { GatewayQueries.allGroupClientIDs() } entry: { .list($0.map { Array($0.utf8) }) }
    }
    table.pointee.get_all_group_client_id_count = { context, out in
        tableQuery(context, out) { GatewayQueries.allGroupClientIDCounts() } entry: { .number($0) }
    }
    table.pointee.batch_get_client_count_by_group = { context, groups, count, out in
        tableQuery(context, out) {
            GatewayQueries.clientIDCounts(groups: distinct(try Argument.names(groups, count)))
        } entry: { .number($0) }
    }
}

// MARK: - Running a query and handing out its result

/// Runs a query for a valid `out` and hands its value out; a partial value is handed out
/// before its status is returned.
private func runQuery<Value, Out>(
    _ context: OpaquePointer?, _ out: UnsafeMutablePointer<Out>?, _ query: () throws -> GatewayQuery<Value>,
    handOut: (Value) throws -> Out
) -> Int32 {
    hostCall(context) { invocation in
        guard let out else { throw HostError.invalidArgument }
        let outcome = try invocation.host.run(try query())
        out.pointee = try handOut(outcome.value)
        try outcome.requireComplete()
    }
}

/// A yes/no query into an `int32_t *` (1 or 0).
private func flagQuery(
    _ context: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?, _ query: () throws -> GatewayQuery<Bool>
) -> Int32 {
    runQuery(context, out, query) { $0 ? 1 : 0 }
}

/// A count into a `uint64_t *`.
private func countQuery(
    _ context: OpaquePointer?, _ out: UnsafeMutablePointer<UInt64>?, _ query: () throws -> GatewayQuery<Int>
) -> Int32 {
    runQuery(context, out, query) { UInt64(max(0, $0)) }
}

/// A list of names into a `gwd_list **` (NULL when there is no result).
private func listQuery(
    _ context: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<gwd_list>?>?,
    _ query: () throws -> GatewayQuery<[String]>
) -> Int32 {
    out?.pointee = nil
    return runQuery(context, out, query) { try QueryResultMemory.list(bytewiseSorted($0.map { Array($0.utf8) })) }
}

/// A map from names into a `gwd_table **` (NULL when there is no result), entries by key.
private func tableQuery<Value>(
    _ context: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<gwd_table>?>?,
    _ query: () throws -> GatewayQuery<[String: Value]>, entry: (Value) -> QueryResultMemory.TableValue
) -> Int32 {
    out?.pointee = nil
    return runQuery(context, out, query) { value in
        let entries = value.map { (key: Array($0.key.utf8), value: entry($0.value)) }
        return try QueryResultMemory.table(entries.sorted { $0.key.lexicographicallyPrecedes($1.key) })
    }
}

/// Bytes (JSON, a uid) into a `gwd_buffer *` ({NULL, 0} when there is no result).
private func bufferQuery<Value>(
    _ context: OpaquePointer?, _ out: UnsafeMutablePointer<gwd_buffer>?, _ query: () throws -> GatewayQuery<Value>,
    render: (Value) throws -> [UInt8]
) -> Int32 {
    out?.pointee = gwd_buffer(data: nil, len: 0)
    return runQuery(context, out, query) { try QueryResultMemory.buffer(try render($0)) }
}

/// `{client id: session object}`, keys in order.
private func sessionMap(_ sessions: [String: PHPValue]) -> [UInt8] {
    JSONValue.object(sessions.sorted { $0.key < $1.key }.map { JSONMember($0.key, SessionJSON.value($0.value)) })
        .serialized(escaping: .minimal)
}

private func bytewiseSorted(_ items: [[UInt8]]) -> [[UInt8]] {
    items.sorted { $0.lexicographicallyPrecedes($1) }
}

/// Names in first-seen order without repeats: a batch answers each name once.
private func distinct(_ names: [String]) -> [String] {
    var seen: Set<String> = []
    return names.filter { seen.insert($0).inserted }
}
