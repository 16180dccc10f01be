import NIOCore

/// A JSON list of uids (or group names) as ext_data: `CMD_SEND_TO_UID`, and the batch
/// queries `CMD_BATCH_GET_CLIENT_ID_BY_UID` (16) and `CMD_BATCH_GET_CLIENT_COUNT_BY_GROUP` (28).
public enum UIDListExt {
    /// `["alice","\u7528\u6237\/1"]`, escaped like PHP's json_encode.
    public static func encode(_ uids: [String]) -> [UInt8] {
        JSONValue.array(uids.map(JSONValue.string)).serialized()
    }

    /// Accepts a JSON list (or the object form of a PHP array with gaps) of strings or numbers;
    /// numbers come back as their decimal text.
    public static func decode(_ extData: ByteBuffer) throws(InnerExtDataError) -> [String] {
        let json = try InnerExtDataCoding.parseJSON(extData, what: "uid list ext_data")
        return try InnerExtDataCoding.names(json, what: "uid list ext_data")
    }
}
