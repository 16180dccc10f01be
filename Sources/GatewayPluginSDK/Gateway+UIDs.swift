import CGatewayABI

/// uids (GatewayWorker's bindUid / unbindUid / sendToUid): a client has at most one uid, a
/// uid may have many clients.
extension Gateway {
    public func bind(_ client: ClientID, uid: String) throws(GatewayError) {
        let bindUID = try api.require(\.bind_uid, "bind_uid")
        try api.check(withClientID(client) { id in withBytes(of: uid) { bindUID(context, id, $0, $1) } })
    }

    public func unbind(_ client: ClientID, uid: String) throws(GatewayError) {
        let unbindUID = try api.require(\.unbind_uid, "unbind_uid")
        try api.check(withClientID(client) { id in withBytes(of: uid) { unbindUID(context, id, $0, $1) } })
    }

    public func sendToUID(_ uid: String, _ text: String) throws(GatewayError) {
        try sendToUID(uid, .text(text))
    }

    public func sendToUID(_ uid: String, _ bytes: [UInt8]) throws(GatewayError) {
        try sendToUID(uid, .binary(bytes))
    }

    /// Sends to every client bound to `uid`.
    public func sendToUID(_ uid: String, _ message: Message, options: SendOptions = []) throws(GatewayError) {
        let sendToUID = try api.require(\.send_to_uid, "send_to_uid")
        try api.check(withBytes(of: uid) { name, nameLength in
            withPayload(of: message, options: options) { sendToUID(context, name, nameLength, $0, $1, $2) }
        })
    }

    public func send(_ text: String, toUIDs uids: [String]) throws(GatewayError) {
        try send(.text(text), toUIDs: uids)
    }

    public func send(_ bytes: [UInt8], toUIDs uids: [String]) throws(GatewayError) {
        try send(.binary(bytes), toUIDs: uids)
    }

    /// Sends to every client bound to any of `uids`, once each (`send_to_uids`, ABI 1.1). An
    /// empty list sends nothing.
    public func send(_ message: Message, toUIDs uids: [String], options: SendOptions = []) throws(GatewayError) {
        let sendToUIDs = try api.require(\.send_to_uids, "send_to_uids")
        try api.check(withNames(uids) { names, count in
            withPayload(of: message, options: options) { sendToUIDs(context, names, count, $0, $1, $2) }
        })
    }
}
