import GatewayWire
import NIOCore

/// The answers a gateway gives to GatewayWorker's query commands, shaped exactly as a PHP
/// gateway shapes them (`../compat` holds the captured replies these are tested against):
/// connection ids as integer keys, sessions as the raw serialized string nested inside the
/// reply (`s:0:""` when there is none), group and uid names through PHP's key coercion.
///
/// Members are listed in ascending connection id order so answers are deterministic.
extension ClientDirectory {
    /// CMD_GET_ALL_CLIENT_SESSIONS (10): `[connection_id => session string]`.
    public func allSessions() -> PHPValue {
        sessions(of: connections.keys.sorted())
    }

    /// CMD_GET_CLIENT_SESSIONS_BY_GROUP (23): `[connection_id => session string]` of a group.
    public func sessions(inGroup group: String) -> PHPValue {
        sessions(of: members(of: group).sorted())
    }

    /// CMD_GET_CLIENT_ID_BY_UID (15): the list of connection ids bound to a uid.
    public func connectionIDs(ofUID uid: String) -> PHPValue {
        .array(PHPArray(clients(of: uid).sorted().map { .int(Int($0)) }))
    }

    /// CMD_BATCH_GET_CLIENT_ID_BY_UID (16): `[uid => [connection ids]]`, every uid asked present.
    public func connectionIDs(ofUIDs uids: [String]) -> PHPValue {
        .array(PHPArray(entries: uids.map { (PHPArrayKey(coercing: $0), connectionIDs(ofUID: $0)) }))
    }

    /// CMD_GET_CLIENT_COUNT_BY_GROUP (24): members of a group, or every client for "".
    public func clientCount(inGroup group: String) -> PHPValue {
        .int(group.isEmpty ? count : members(of: group).count)
    }

    /// CMD_BATCH_GET_CLIENT_COUNT_BY_GROUP (28): `[group => count]`, 0 for an empty group.
    public func clientCounts(inGroups groups: [String]) -> PHPValue {
        .array(PHPArray(entries: groups.map { (PHPArrayKey(coercing: $0), .int(members(of: $0).count)) }))
    }

    /// CMD_GET_GROUP_ID_LIST (26): the list of group names (numeric names as integers).
    public func groupNames() -> PHPValue {
        .array(PHPArray(groups.keys.sorted().map { name in
            switch PHPArrayKey(coercing: name) {
            case .int(let number): return .int(number)
            case .string(let bytes): return .string(bytes)
            }
        }))
    }

    /// CMD_SELECT (25): `[connection_id => [field => value]]` for the connections matching any
    /// condition (all of them when there is none), with the fields asked for, in that order.
    public func select(_ request: SelectExt) -> PHPValue {
        var selected: Set<UInt32> = []
        if request.hasConditions {
            for group in request.groups ?? [] { selected.formUnion(members(of: group)) }
            for uid in request.uids ?? [] { selected.formUnion(clients(of: uid)) }
            for id in request.connectionIDs ?? [] where connections[id] != nil { selected.insert(id) }
        } else {
            selected = Set(connections.keys)
        }
        var fields: [String] = []
        for field in request.fields where ["session", "uid", "groups"].contains(field) && !fields.contains(field) {
            fields.append(field)
        }
        var rows = PHPArray()
        for id in selected.sorted() {
            guard let connection = connections[id] else { continue }
            var row = PHPArray()
            for field in fields {
                switch field {
                case "session":
                    row["session"] = .string(Array(connection.session.readableBytesView))
                case "uid":
                    row["uid"] = connection.uid.map { PHPValue.string($0) } ?? .null
                default:
                    row["groups"] = .array(PHPArray(entries: connection.groups.sorted().map {
                        (PHPArrayKey(coercing: $0), PHPValue.string($0))
                    }))
                }
            }
            rows[.int(Int(id))] = .array(row)
        }
        return .array(rows)
    }

    private func sessions(of ids: [UInt32]) -> PHPValue {
        .array(PHPArray(entries: ids.compactMap { id in
            connections[id].map { (PHPArrayKey.int(Int(id)), PHPValue.string(Array($0.session.readableBytesView))) }
        }))
    }
}
