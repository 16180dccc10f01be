import GatewayAPI
import GatewayWire

/// GatewayWorker's fire-and-forget functions. Each returns once the command is written to
/// every gateway it concerns, and throws `.notDelivered` naming the gateways it missed.
/// Client ids are the 20-hex-character text GatewayWorker hands out.
extension GatewayClient {
    public typealias SendOptions = GatewayCommands.SendOptions

    /// sendToAll: everyone; or only `clientIDs` (an empty list sends nothing); never `excluding`.
    public func sendToAll(
        _ message: some GatewayMessageConvertible, clientIDs: [String]? = nil, excluding: [String] = [],
        options: SendOptions = .init()
    ) async throws(GatewayClientError) {
        let only = try clientIDs.map { ids throws(GatewayClientError) in try parse(ids) }
        try await send(GatewayCommands.sendToAll(message.gatewayMessageBytes, clientIDs: only, excluding: try parse(excluding), options: options))
    }

    /// sendToClient.
    public func sendToClient(_ clientID: String, _ message: some GatewayMessageConvertible, options: SendOptions = .init()) async throws(GatewayClientError) {
        try await send([GatewayCommands.sendToClient(try parse(clientID), message.gatewayMessageBytes, options: options)])
    }

    /// sendToUid with one uid.
    public func sendToUID(_ uid: String, _ message: some GatewayMessageConvertible, options: SendOptions = .init()) async throws(GatewayClientError) {
        try await sendToUID([uid], message, options: options)
    }

    /// sendToUid with a list of uids (one frame per gateway for all of them).
    public func sendToUID(_ uids: [String], _ message: some GatewayMessageConvertible, options: SendOptions = .init()) async throws(GatewayClientError) {
        try await send(GatewayCommands.sendToUID(uids, message.gatewayMessageBytes, options: options))
    }

    /// sendToGroup with one group.
    public func sendToGroup(
        _ group: String, _ message: some GatewayMessageConvertible, excluding: [String] = [], options: SendOptions = .init()
    ) async throws(GatewayClientError) {
        try await sendToGroup([group], message, excluding: excluding, options: options)
    }

    /// sendToGroup with a list of groups: a member of several gets the message once.
    public func sendToGroup(
        _ groups: [String], _ message: some GatewayMessageConvertible, excluding: [String] = [], options: SendOptions = .init()
    ) async throws(GatewayClientError) {
        try await send(GatewayCommands.sendToGroup(groups, message.gatewayMessageBytes, excluding: try parse(excluding), options: options))
    }

    /// closeClient: sends `message` (if any) first, then closes the connection.
    public func closeClient(_ clientID: String, message: (any GatewayMessageConvertible)? = nil, options: SendOptions = .init()) async throws(GatewayClientError) {
        try await send([GatewayCommands.closeClient(try parse(clientID), message: message?.gatewayMessageBytes, options: options)])
    }

    /// destroyClient: closes at once.
    public func destroyClient(_ clientID: String) async throws(GatewayClientError) {
        try await send([GatewayCommands.destroyClient(try parse(clientID))])
    }

    public func bindUID(_ clientID: String, _ uid: String) async throws(GatewayClientError) {
        try await send([GatewayCommands.membership(.bindUID, try parse(clientID), uid)])
    }

    public func unbindUID(_ clientID: String, _ uid: String) async throws(GatewayClientError) {
        try await send([GatewayCommands.membership(.unbindUID, try parse(clientID), uid)])
    }

    public func joinGroup(_ clientID: String, _ group: String) async throws(GatewayClientError) {
        try await send([GatewayCommands.membership(.joinGroup, try parse(clientID), group)])
    }

    public func leaveGroup(_ clientID: String, _ group: String) async throws(GatewayClientError) {
        try await send([GatewayCommands.membership(.leaveGroup, try parse(clientID), group)])
    }

    /// ungroup: empties the group on every gateway.
    public func ungroup(_ group: String) async throws(GatewayClientError) {
        try await send([GatewayCommands.ungroup(group)])
    }

    /// setSession: replaces the client's session.
    public func setSession(_ clientID: String, _ session: PHPValue) async throws(GatewayClientError) {
        try await send([GatewayCommands.session(try parse(clientID), session, merge: false)])
    }

    /// updateSession: merged into the client's session on its gateway (array_replace_recursive).
    public func updateSession(_ clientID: String, _ session: PHPValue) async throws(GatewayClientError) {
        try await send([GatewayCommands.session(try parse(clientID), session, merge: true)])
    }
}

func parse(_ clientID: String) throws(GatewayClientError) -> ClientID {
    guard let id = ClientID(clientID) else { throw .invalidClientID(clientID) }
    return id
}

func parse(_ clientIDs: [String]) throws(GatewayClientError) -> [ClientID] {
    var parsed: [ClientID] = []
    for text in clientIDs { parsed.append(try parse(text)) }
    return parsed
}
