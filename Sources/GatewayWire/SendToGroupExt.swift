import NIOCore

/// The ext_data of `CMD_SEND_TO_GROUP`: `{"group":[...],"exclude":null|{"1":1}}`.
///
/// Group names are strings; PHP may have turned numeric names into ints (`[123]`), which are
/// read back as their decimal text.
public struct SendToGroupExt: Hashable, Sendable {
    public var groups: [String]
    /// Connection ids on this gateway not to send to; nil for none.
    public var exclude: [UInt32]?

    public init(groups: [String], exclude: [UInt32]?) {
        self.groups = groups
        self.exclude = exclude
    }

    /// json_encode style: `{"group":["room1"],"exclude":null}`; names escaped like PHP
    /// (`"\u623f\u95f4\/1"`). An empty exclude list is sent as `null`, as PHP does.
    public func encodedExtData() -> [UInt8] {
        let exclude: JSONValue
        if let ids = self.exclude, !ids.isEmpty {
            exclude = InnerExtDataCoding.connectionMap(ids)
        } else {
            exclude = .null
        }
        return JSONValue.object([
            JSONMember("group", .array(self.groups.map(JSONValue.string))),
            JSONMember("exclude", exclude),
        ]).serialized()
    }

    /// Reads ext_data like a PHP gateway: `group` must be a list (or object) of names;
    /// `exclude` is read by key and may be null, missing or empty.
    public init(extData: ByteBuffer) throws(InnerExtDataError) {
        let json = try InnerExtDataCoding.parseObject(extData, what: "SEND_TO_GROUP ext_data")
        guard let group = json.phpMember("group") else {
            throw InnerExtDataError(reason: "SEND_TO_GROUP ext_data has no \"group\"")
        }
        self.groups = try InnerExtDataCoding.names(group, what: "SEND_TO_GROUP \"group\"")
        if let exclude = json.phpMember("exclude"), !exclude.isNull {
            self.exclude = InnerExtDataCoding.connectionIDKeys(exclude)
        } else {
            self.exclude = nil
        }
    }
}
