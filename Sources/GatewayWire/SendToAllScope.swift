import NIOCore

/// Who a `CMD_SEND_TO_ALL` reaches, as carried in its ext_data.
///
/// Wire forms: `""` (everyone), `{"exclude":{"1":1}}`, `{"connections":{"1":1,"2":2}}`.
/// A PHP gateway reads `connections` by value and `exclude` by key; decoding does the same.
public enum SendToAllScope: Hashable, Sendable {
    case everyone
    case excluding([UInt32])
    case only([UInt32])

    /// "" | {"exclude":{"1":1}} | {"connections":{"1":1,"2":2}}
    ///
    /// `.excluding([])` is sent as `""` (as PHP does: nothing to exclude); `.only([])` as
    /// `{"connections":[]}`, which a gateway delivers to no one.
    public func encodedExtData() -> [UInt8] {
        switch self {
        case .everyone, .excluding([]):
            return []
        case .excluding(let ids):
            return JSONValue.object([JSONMember("exclude", InnerExtDataCoding.connectionMap(ids))]).serialized()
        case .only(let ids):
            return JSONValue.object([JSONMember("connections", InnerExtDataCoding.connectionMap(ids))]).serialized()
        }
    }

    /// Reads ext_data like a PHP gateway: empty → everyone; `connections` present and not null
    /// → only those (its values); otherwise a non-empty `exclude` → everyone but its keys;
    /// otherwise everyone. Only text that is not JSON at all is an error.
    public init(extData: ByteBuffer) throws(InnerExtDataError) {
        guard extData.readableBytes > 0 else {
            self = .everyone
            return
        }
        let json = try InnerExtDataCoding.parseJSON(extData, what: "SEND_TO_ALL ext_data")
        if let connections = json.phpMember("connections"), !connections.isNull {
            self = .only(InnerExtDataCoding.connectionIDValues(connections))
        } else if let exclude = json.phpMember("exclude"), !exclude.isPHPEmpty {
            self = .excluding(InnerExtDataCoding.connectionIDKeys(exclude))
        } else {
            self = .everyone
        }
    }
}
