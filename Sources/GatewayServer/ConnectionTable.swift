/// The gateway's client maps: connection id → connection, group → members, uid → clients.
///
/// Connection ids count up from 1, skip ids still in use and wrap at 2^32−1, as GatewayWorker
/// does; with the gateway's lanIp and inner port they form the client_id.
/// Confined to the gateway's event loop.
struct ConnectionTable {
    private(set) var connections: [UInt32: ClientConnection] = [:]
    private(set) var groups: [String: Set<UInt32>] = [:]
    private(set) var uids: [String: Set<UInt32>] = [:]
    private var lastID: UInt32 = 0

    var count: Int { connections.count }

    subscript(id: UInt32) -> ClientConnection? { connections[id] }

    mutating func nextID() -> UInt32 {
        repeat {
            lastID = lastID == UInt32.max ? 1 : lastID + 1
        } while connections[lastID] != nil
        return lastID
    }

    mutating func insert(_ connection: ClientConnection) {
        connections[connection.id] = connection
    }

    /// Removes a connection and its group and uid memberships.
    mutating func remove(_ id: UInt32) {
        guard let connection = connections[id] else { return }
        // Memberships first: unbind needs the connection still in the table.
        for group in connection.groups { leave(id, group: group) }
        if let uid = connection.uid { unbind(id, uid: uid) }
        connections[id] = nil
    }

    mutating func join(_ id: UInt32, group: String) {
        guard let connection = connections[id] else { return }
        connection.groups.insert(group)
        groups[group, default: []].insert(id)
    }

    mutating func leave(_ id: UInt32, group: String) {
        connections[id]?.groups.remove(group)
        groups[group]?.remove(id)
        if groups[group]?.isEmpty == true { groups[group] = nil }
    }

    mutating func ungroup(_ group: String) {
        guard let members = groups.removeValue(forKey: group) else { return }
        for id in members { connections[id]?.groups.remove(group) }
    }

    /// A client has at most one uid: binding a new one replaces the old binding.
    mutating func bind(_ id: UInt32, uid: String) {
        guard let connection = connections[id] else { return }
        if let old = connection.uid, old != uid { unbind(id, uid: old) }
        connection.uid = uid
        uids[uid, default: []].insert(id)
    }

    mutating func unbind(_ id: UInt32, uid: String) {
        guard let connection = connections[id], connection.uid == uid else { return }
        connection.uid = nil
        uids[uid]?.remove(id)
        if uids[uid]?.isEmpty == true { uids[uid] = nil }
    }

    func members(of group: String) -> Set<UInt32> { groups[group] ?? [] }
    func clients(of uid: String) -> Set<UInt32> { uids[uid] ?? [] }
}
