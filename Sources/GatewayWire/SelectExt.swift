import NIOCore

/// The ext_data of `CMD_SELECT` (GatewayClient's `select()`):
/// `{"fields":[...],"where":[]}`, or `where` an object of `groups` (names), `uid` (names) and
/// `connection_id` (a `{"1":1}` map; GatewayClient turns `client_id` conditions into it).
///
/// nil conditions are absent; an empty list is a condition that matches nothing, as in PHP
/// (`where` is only skipped when it is empty as a whole). The reply is built by the gateway.
public struct SelectExt: Hashable, Sendable {
    /// Which of `session`, `uid`, `groups` to return per connection.
    public var fields: [String]
    public var groups: [String]?
    public var uids: [String]?
    public var connectionIDs: [UInt32]?

    public init(fields: [String], groups: [String]? = nil, uids: [String]? = nil, connectionIDs: [UInt32]? = nil) {
        self.fields = fields
        self.groups = groups
        self.uids = uids
        self.connectionIDs = connectionIDs
    }

    /// Whether any `where` condition is present (otherwise every connection is selected).
    public var hasConditions: Bool {
        self.groups != nil || self.uids != nil || self.connectionIDs != nil
    }

    /// json_encode style, `where` members in the order groups, uid, connection_id; `[]` when
    /// there are none (an empty PHP array).
    public func encodedExtData() -> [UInt8] {
        var conditions: [JSONMember] = []
        if let groups = self.groups {
            conditions.append(JSONMember("groups", .array(groups.map(JSONValue.string))))
        }
        if let uids = self.uids {
            conditions.append(JSONMember("uid", .array(uids.map(JSONValue.string))))
        }
        if let ids = self.connectionIDs {
            conditions.append(JSONMember("connection_id", InnerExtDataCoding.connectionMap(ids)))
        }
        return JSONValue.object([
            JSONMember("fields", .array(self.fields.map(JSONValue.string))),
            JSONMember("where", conditions.isEmpty ? .array([]) : .object(conditions)),
        ]).serialized()
    }

    /// Reads ext_data like a PHP gateway: `fields` must be a list of names; `where` may be
    /// missing, null or empty; `connection_id` is read by value; unknown conditions are ignored.
    /// A PHP gateway answers an unreadable SELECT with an empty array.
    public init(extData: ByteBuffer) throws(InnerExtDataError) {
        let json = try InnerExtDataCoding.parseObject(extData, what: "SELECT ext_data")
        guard let fields = json.phpMember("fields") else {
            throw InnerExtDataError(reason: "SELECT ext_data has no \"fields\"")
        }
        self.fields = try InnerExtDataCoding.names(fields, what: "SELECT \"fields\"")
        self.groups = nil
        self.uids = nil
        self.connectionIDs = nil
        guard let conditions = json.phpMember("where"), case .object = conditions else { return }
        if let groups = conditions.phpMember("groups") {
            self.groups = try InnerExtDataCoding.names(groups, what: "SELECT \"groups\"")
        }
        if let uids = conditions.phpMember("uid") {
            self.uids = try InnerExtDataCoding.names(uids, what: "SELECT \"uid\"")
        }
        if let ids = conditions.phpMember("connection_id") {
            self.connectionIDs = InnerExtDataCoding.connectionIDValues(ids)
        }
    }
}
