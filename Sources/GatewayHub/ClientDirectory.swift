import NIOCore

/// A client as the directory sees it: the state GatewayWorker's queries read.
public protocol DirectoryClient: AnyObject {
    var id: UInt32 { get }
    /// The PHP-serialized session exactly as stored; empty when the client has none.
    var session: ByteBuffer { get }
    var uid: String? { get set }
    var groups: Set<String> { get set }
}

/// The gateway's client maps: connection id → client, group → members, uid → clients.
///
/// Connection ids count up from 1, skip ids still in use and wrap at 2^32−1, as GatewayWorker
/// does; with the gateway's lanIp and inner port they form the client_id.
/// Confined to the gateway's loop.
public struct ClientDirectory<Client: DirectoryClient> {
    public private(set) var connections: [UInt32: Client] = [:]
    public private(set) var groups: [String: Set<UInt32>] = [:]
    public private(set) var uids: [String: Set<UInt32>] = [:]
    private var lastID: UInt32 = 0

    public init() {}

    public var count: Int { connections.count }

    public subscript(id: UInt32) -> Client? { connections[id] }

    public mutating func nextID() -> UInt32 {
        repeat {
            lastID = lastID == UInt32.max ? 1 : lastID + 1
        } while connections[lastID] != nil
        return lastID
    }

    public mutating func insert(_ client: Client) {
        connections[client.id] = client
    }

    /// Removes a client and its group and uid memberships.
    public mutating func remove(_ id: UInt32) {
        guard let client = connections[id] else { return }
        // Memberships first: unbind needs the client still in the table.
        for group in client.groups { leave(id, group: group) }
        if let uid = client.uid { unbind(id, uid: uid) }
        connections[id] = nil
    }

    public mutating func join(_ id: UInt32, group: String) {
        guard let client = connections[id] else { return }
        client.groups.insert(group)
        groups[group, default: []].insert(id)
    }

    public mutating func leave(_ id: UInt32, group: String) {
        connections[id]?.groups.remove(group)
        groups[group]?.remove(id)
        if groups[group]?.isEmpty == true { groups[group] = nil }
    }

    public mutating func ungroup(_ group: String) {
        guard let members = groups.removeValue(forKey: group) else { return }
        for id in members { connections[id]?.groups.remove(group) }
    }

    /// A client has at most one uid: binding a new one replaces the old binding.
    public mutating func bind(_ id: UInt32, uid: String) {
        guard let client = connections[id] else { return }
        if let old = client.uid, old != uid { unbind(id, uid: old) }
        client.uid = uid
        uids[uid, default: []].insert(id)
    }

    public mutating func unbind(_ id: UInt32, uid: String) {
        guard let client = connections[id], client.uid == uid else { return }
        client.uid = nil
        uids[uid]?.remove(id)
        if uids[uid]?.isEmpty == true { uids[uid] = nil }
    }

    public func members(of group: String) -> Set<UInt32> { groups[group] ?? [] }
    public func clients(of uid: String) -> Set<UInt32> { uids[uid] ?? [] }
}
