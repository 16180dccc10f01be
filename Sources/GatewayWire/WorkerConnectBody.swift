import NIOCore

/// The JSON body of `CMD_WORKER_CONNECT`, a worker's first frame to a gateway.
///
/// `{"worker_key":"<name>:<process index>","secret_key":"..."}` as PHP sends it, followed by
/// any `extra` members: gatewayd adds capability keys (e.g. `"gatewayd":1`) that PHP gateways
/// ignore.
public struct WorkerConnectBody: Hashable, Sendable {
    public var workerKey: String
    public var secretKey: String
    /// gatewayd adds capability keys, e.g. "gatewayd":1; PHP peers ignore them
    public var extra: [JSONMember]

    public init(workerKey: String, secretKey: String, extra: [JSONMember] = []) {
        self.workerKey = workerKey
        self.secretKey = secretKey
        self.extra = extra
    }

    /// {"worker_key":"...","secret_key":"..."} first, then extras
    public func encoded() -> [UInt8] {
        JSONValue.object(
            [JSONMember("worker_key", .string(self.workerKey)), JSONMember("secret_key", .string(self.secretKey))]
                + self.extra
        ).serialized()
    }

    /// Requires `worker_key`; a missing `secret_key` reads as "" (PHP's `isset`). Every other
    /// member lands in `extra`, in order.
    public init(body: ByteBuffer) throws(InnerExtDataError) {
        let json = try InnerExtDataCoding.parseObject(body, what: "WORKER_CONNECT body")
        guard let workerKey = json.phpMember("worker_key"), !workerKey.isNull else {
            throw InnerExtDataError(reason: "WORKER_CONNECT body has no \"worker_key\"")
        }
        self.workerKey = workerKey.fieldText
        self.secretKey = InnerExtDataCoding.secret(json.phpMember("secret_key"))
        self.extra = (json.objectValue ?? []).filter { $0.key != "worker_key" && $0.key != "secret_key" }
    }
}
