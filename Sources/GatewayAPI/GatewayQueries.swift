import GatewayWire
import NIOCore

/// Every GatewayWorker 4.x query function, with its semantics: the commands it sends, which
/// gateways they reach, and how the answers merge (as `Lib/Gateway.php` merges them).
///
/// Results are deterministic: lists sorted and free of duplicates, client ids as 20-hex text.
/// Names come back as text even where PHP's key coercion turned them into integers on the wire.
public enum GatewayQueries {
    // MARK: - Clients

    /// isOnline($client_id): asks only the client's gateway.
    public static func isOnline(_ clientID: ClientID) -> GatewayQuery<Bool> {
        GatewayQuery(name: "isOnline", dispatch: .gateway(clientID.gateway, .command(.isOnline, connectionID: clientID.connectionID))) {
            $0.contains { truthy($0.value) }
        }
    }

    /// getAllClientIdCount() / getClientIdCountByGroup($group): summed over every gateway.
    public static func clientIDCount(group: String = "") -> GatewayQuery<Int> {
        GatewayQuery(
            name: group.isEmpty ? "getAllClientIdCount" : "getClientIdCountByGroup",
            dispatch: .everyGateway(.command(.getClientCountByGroup, ext: Array(group.utf8)))
        ) { $0.reduce(0) { $0 + integer($1.value) } }
    }

    /// getAllClientIdList(): every client id of every gateway.
    public static func allClientIDs() -> GatewayQuery<[String]> {
        GatewayQuery(name: "getAllClientIdList", dispatch: select(fields: ["uid"])) { answers in
            rows(answers).map(\.clientID.description).sorted()
        }
    }

    /// getClientIdListByGroup($group).
    public static func clientIDs(group: String) -> GatewayQuery<[String]> {
        GatewayQuery(name: "getClientIdListByGroup", dispatch: select(fields: ["uid"], groups: [group])) { answers in
            rows(answers).map(\.clientID.description).sorted()
        }
    }

    /// getAllClientSessions(): `[client id: session]` (an empty map for a client without one).
    public static func allClientSessions() -> GatewayQuery<[String: PHPValue]> {
        GatewayQuery(name: "getAllClientSessions", dispatch: .everyGateway(.command(.getAllClientSessions))) {
            sessionsByClient($0)
        }
    }

    /// getClientSessionsByGroup($group).
    public static func clientSessions(group: String) -> GatewayQuery<[String: PHPValue]> {
        GatewayQuery(
            name: "getClientSessionsByGroup",
            dispatch: .everyGateway(.command(.getClientSessionsByGroup, ext: Array(group.utf8)))
        ) { sessionsByClient($0) }
    }

    /// getSession($client_id): nil when the client is not online.
    public static func session(of clientID: ClientID) -> GatewayQuery<PHPValue?> {
        GatewayQuery(
            name: "getSession",
            dispatch: .gateway(clientID.gateway, .command(.getSessionByClientID, connectionID: clientID.connectionID))
        ) { answers in
            guard let value = answers.first?.value, !value.isNull else { return nil }
            return value
        }
    }

    // MARK: - uids

    /// getClientIdByUid($uid): every client bound to the uid, on every gateway.
    public static func clientIDs(uid: String) -> GatewayQuery<[String]> {
        GatewayQuery(name: "getClientIdByUid", dispatch: .everyGateway(.command(.getClientIDByUID, ext: Array(uid.utf8)))) { answers in
            answers.flatMap { answer in clientIDs(in: answer.value, gateway: answer.gateway) }.sorted()
        }
    }

    /// isUidOnline($uid).
    public static func isUIDOnline(_ uid: String) -> GatewayQuery<Bool> {
        let lookup = clientIDs(uid: uid)
        return GatewayQuery(name: "isUidOnline", dispatch: lookup.dispatch) { !lookup.merge($0).isEmpty }
    }

    /// batchGetClientIdByUid($uids): `[uid: [client id]]`, every uid asked present.
    public static func clientIDs(uids: [String]) -> GatewayQuery<[String: [String]]> {
        GatewayQuery(
            name: "batchGetClientIdByUid", dispatch: .everyGateway(.command(.batchGetClientIDByUID, ext: UIDListExt.encode(uids)))
        ) { answers in
            var result = Dictionary(uids.map { ($0, [String]()) }, uniquingKeysWith: { first, _ in first })  // a name asked twice is listed once
            for answer in answers {
                for (key, value) in answer.value.arrayValue ?? PHPArray() {
                    result[key.stringValue, default: []] += clientIDs(in: value, gateway: answer.gateway)
                }
            }
            return result.mapValues { $0.sorted() }
        }
    }

    /// isUidsOnline($uids): `[uid: online]`.
    public static func areUIDsOnline(_ uids: [String]) -> GatewayQuery<[String: Bool]> {
        let lookup = clientIDs(uids: uids)
        return GatewayQuery(name: "isUidsOnline", dispatch: lookup.dispatch) { lookup.merge($0).mapValues { !$0.isEmpty } }
    }

    /// getUidByClientId($client_id): nil when the client is offline or has no uid.
    public static func uid(of clientID: ClientID) -> GatewayQuery<String?> {
        let request = SelectExt(fields: ["uid"], connectionIDs: [clientID.connectionID])
        return GatewayQuery(
            name: "getUidByClientId",
            dispatch: .gateway(clientID.gateway, .command(.select, ext: request.encodedExtData()))
        ) { answers in rows(answers).first { $0.clientID == clientID }?.uid }
    }

    /// getAllUidList(): every bound uid.
    public static func allUIDs() -> GatewayQuery<[String]> {
        GatewayQuery(name: "getAllUidList", dispatch: select(fields: ["uid"])) { uniqueUIDs(rows($0)) }
    }

    /// getAllUidCount().
    public static func allUIDCount() -> GatewayQuery<Int> {
        GatewayQuery(name: "getAllUidCount", dispatch: select(fields: ["uid"])) { uniqueUIDs(rows($0)).count }
    }

    /// getUidListByGroup($group).
    public static func uids(group: String) -> GatewayQuery<[String]> {
        GatewayQuery(name: "getUidListByGroup", dispatch: select(fields: ["uid"], groups: [group])) { uniqueUIDs(rows($0)) }
    }

    /// getUidCountByGroup($group).
    public static func uidCount(group: String) -> GatewayQuery<Int> {
        GatewayQuery(name: "getUidCountByGroup", dispatch: select(fields: ["uid"], groups: [group])) { uniqueUIDs(rows($0)).count }
    }

    // MARK: - Groups

    /// getAllGroupIdList(): every group with at least one member.
    public static func allGroupIDs() -> GatewayQuery<[String]> {
        GatewayQuery(name: "getAllGroupIdList", dispatch: .everyGateway(.command(.getGroupIDList))) { answers in
            Array(Set(answers.flatMap { ($0.value.arrayValue ?? PHPArray()).values.compactMap(text) })).sorted()
        }
    }

    /// batchGetClientIdCountByGroup($groups): `[group: count]`, every group asked present.
    public static func clientIDCounts(groups: [String]) -> GatewayQuery<[String: Int]> {
        GatewayQuery(
            name: "batchGetClientIdCountByGroup",
            dispatch: .everyGateway(.command(.batchGetClientCountByGroup, ext: UIDListExt.encode(groups)))
        ) { answers in
            var result = Dictionary(groups.map { ($0, 0) }, uniquingKeysWith: { first, _ in first })
            for answer in answers {
                for (key, value) in answer.value.arrayValue ?? PHPArray() { result[key.stringValue, default: 0] += integer(value) }
            }
            return result
        }
    }

    /// getAllGroupUidList(): `[group: [uid]]` over clients that have a uid.
    public static func allGroupUIDs() -> GatewayQuery<[String: [String]]> {
        GatewayQuery(name: "getAllGroupUidList", dispatch: select(fields: ["uid", "groups"])) { groupUIDs(rows($0)) }
    }

    /// getAllGroupUidCount(): `[group: number of distinct uids]`.
    public static func allGroupUIDCounts() -> GatewayQuery<[String: Int]> {
        GatewayQuery(name: "getAllGroupUidCount", dispatch: select(fields: ["uid", "groups"])) { groupUIDs(rows($0)).mapValues(\.count) }
    }

    /// getAllGroupClientIdList(): `[group: [client id]]`.
    public static func allGroupClientIDs() -> GatewayQuery<[String: [String]]> {
        GatewayQuery(name: "getAllGroupClientIdList", dispatch: select(fields: ["groups"])) { groupClientIDs(rows($0)) }
    }

    /// getAllGroupClientIdCount(): `[group: number of clients]`.
    public static func allGroupClientIDCounts() -> GatewayQuery<[String: Int]> {
        GatewayQuery(name: "getAllGroupClientIdCount", dispatch: select(fields: ["groups"])) {
            groupClientIDs(rows($0)).mapValues(\.count)
        }
    }

    // MARK: - Reading replies

    private static func select(fields: [String], groups: [String]? = nil) -> GatewayDispatch {
        .everyGateway(.command(.select, ext: SelectExt(fields: fields, groups: groups).encodedExtData()))
    }

    /// One row of a SELECT reply.
    struct Row {
        var clientID: ClientID
        var uid: String?
        var groups: [String]
    }

    /// The rows of every gateway's SELECT reply (`[connection_id => [field => value]]`).
    static func rows(_ answers: [GatewayAnswer]) -> [Row] {
        answers.flatMap { answer -> [Row] in
            // The address is parsed once per answer, not once per client in it.
            guard let gateway = GatewayAddress(answer.gateway) else { return [] }
            return (answer.value.arrayValue ?? PHPArray()).compactMap { key, value in
                guard let connection = connectionID(key) else { return nil }
                let clientID = ClientID(gateway: gateway, connectionID: connection)
                let groups = value["groups"]?.arrayValue?.values.compactMap(text) ?? []
                let uid = value["uid"].flatMap(text).flatMap { $0.isEmpty ? nil : $0 }
                return Row(clientID: clientID, uid: uid, groups: groups)
            }
        }
    }

    private static func uniqueUIDs(_ rows: [Row]) -> [String] {
        Array(Set(rows.compactMap(\.uid))).sorted()
    }

    private static func groupUIDs(_ rows: [Row]) -> [String: [String]] {
        var result: [String: Set<String>] = [:]
        for row in rows {
            guard let uid = row.uid else { continue }
            for group in row.groups { result[group, default: []].insert(uid) }
        }
        return result.mapValues { $0.sorted() }
    }

    private static func groupClientIDs(_ rows: [Row]) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for row in rows {
            for group in row.groups { result[group, default: []].append(row.clientID.description) }
        }
        return result.mapValues { $0.sorted() }
    }

    /// `[connection_id => session string]` replies: sessions arrive serialized inside the reply.
    private static func sessionsByClient(_ answers: [GatewayAnswer]) -> [String: PHPValue] {
        var result: [String: PHPValue] = [:]
        for answer in answers {
            guard let gateway = GatewayAddress(answer.gateway) else { continue }
            for (key, value) in answer.value.arrayValue ?? PHPArray() {
                guard let connection = connectionID(key) else { continue }
                let clientID = ClientID(gateway: gateway, connectionID: connection)
                let bytes = value.bytesValue ?? []
                result[clientID.description] = bytes.isEmpty ? .array(PHPArray()) : (try? PHPSerializer.unserialize(bytes)) ?? .array(PHPArray())
            }
        }
        return result
    }

    /// A list of connection ids (CMD_GET_CLIENT_ID_BY_UID) as client ids of that gateway.
    private static func clientIDs(in value: PHPValue, gateway: String) -> [String] {
        guard let gateway = GatewayAddress(gateway) else { return [] }
        return (value.arrayValue ?? PHPArray()).values.compactMap { item in
            guard let number = item.intValue, let connection = UInt32(exactly: number) else { return nil }
            return ClientID(gateway: gateway, connectionID: connection).description
        }
    }

    private static func connectionID(_ key: PHPArrayKey) -> UInt32? {
        switch key {
        case .int(let number): return UInt32(exactly: number)
        case .string(let bytes): return UInt32(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// A name as text: PHP hands back numeric names as integers.
    private static func text(_ value: PHPValue) -> String? {
        switch value {
        case .string(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .int(let number): return String(number)
        default: return nil
        }
    }

    private static func integer(_ value: PHPValue) -> Int {
        switch value {
        case .int(let number): return number
        case .bool(let flag): return flag ? 1 : 0
        case .string(let bytes): return Int(String(decoding: bytes, as: UTF8.self)) ?? 0
        default: return 0
        }
    }

    private static func truthy(_ value: PHPValue) -> Bool {
        integer(value) != 0
    }
}

extension GatewayQuery {
    /// The merge alone, for queries defined in terms of another.
    fileprivate func merge(_ answers: [GatewayAnswer]) -> Value {
        result(from: answers, unanswered: []).value
    }
}
