import NIOCore

/// The JSON body of `CMD_GATEWAY_CLIENT_CONNECT`, the auth frame GatewayClient (and a
/// worker's query connection) puts in front of every request when a secret is configured:
/// `{"secret_key":"..."}`.
public struct GatewayClientConnectBody: Hashable, Sendable {
    public var secretKey: String

    public init(secretKey: String) {
        self.secretKey = secretKey
    }

    /// `{"secret_key":"s3cret"}`, json_encode style.
    public func encoded() -> [UInt8] {
        JSONValue.object([JSONMember("secret_key", .string(self.secretKey))]).serialized()
    }

    /// Any JSON object (whitespace allowed, as a PHP gateway json-decodes it); a missing
    /// `secret_key` reads as "".
    public init(body: ByteBuffer) throws(InnerExtDataError) {
        let json = try InnerExtDataCoding.parseObject(body, what: "GATEWAY_CLIENT_CONNECT body")
        self.secretKey = InnerExtDataCoding.secret(json.phpMember("secret_key"))
    }
}
