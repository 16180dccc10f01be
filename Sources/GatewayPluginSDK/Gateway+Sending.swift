import CGatewayABI

/// Sends and closes. A `String` goes as a text frame, a `[UInt8]` as a binary frame, and a
/// ``Message`` as its kind. Sends are queued: returning means "accepted for delivery".
extension Gateway {
    /// Extra `GWD_SEND_*` flags; the frame kind comes from the ``Message``.
    public struct SendOptions: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32

        public init(rawValue: UInt32) {
            self.rawValue = rawValue
        }

        /// `GWD_SEND_RAW`: write the bytes to the socket as they are, without the client
        /// protocol's framing.
        public static let raw = SendOptions(rawValue: GWD_SEND_RAW)
    }

    // MARK: One client (`send_to_client`)

    public func send(_ text: String, to client: ClientID) throws(GatewayError) {
        try send(.text(text), to: client)
    }

    public func send(_ bytes: [UInt8], to client: ClientID) throws(GatewayError) {
        try send(.binary(bytes), to: client)
    }

    public func send(_ message: Message, to client: ClientID, options: SendOptions = []) throws(GatewayError) {
        let sendToClient = try api.require(\.send_to_client, "send_to_client")
        try api.check(withClientID(client) { id in
            withPayload(of: message, options: options) { sendToClient(context, id, $0, $1, $2) }
        })
    }

    // MARK: The current client (`send_to_current_client`)

    public func reply(_ text: String) throws(GatewayError) {
        try reply(.text(text))
    }

    public func reply(_ bytes: [UInt8]) throws(GatewayError) {
        try reply(.binary(bytes))
    }

    /// Sends to the client of the current event; ``GatewayError/Code/noCurrentClient`` outside one.
    public func reply(_ message: Message, options: SendOptions = []) throws(GatewayError) {
        let sendToCurrentClient = try api.require(\.send_to_current_client, "send_to_current_client")
        try api.check(withPayload(of: message, options: options) { sendToCurrentClient(context, $0, $1, $2) })
    }

    // MARK: Everyone (`send_to_all`)

    public func sendToAll(_ text: String, excluding excluded: [ClientID] = []) throws(GatewayError) {
        try sendToAll(.text(text), excluding: excluded)
    }

    public func sendToAll(_ bytes: [UInt8], excluding excluded: [ClientID] = []) throws(GatewayError) {
        try sendToAll(.binary(bytes), excluding: excluded)
    }

    /// Sends to every client of every gateway except `excluded`.
    public func sendToAll(_ message: Message, excluding excluded: [ClientID] = [],
                          options: SendOptions = []) throws(GatewayError) {
        let sendToAll = try api.require(\.send_to_all, "send_to_all")
        try api.check(withClientIDs(excluded) { exclude, excludeCount in
            withPayload(of: message, options: options) { sendToAll(context, $0, $1, $2, exclude, excludeCount) }
        })
    }

    // MARK: A list of clients (`send_to_clients`, ABI 1.1)

    public func send(_ text: String, toClients clients: [ClientID]) throws(GatewayError) {
        try send(.text(text), toClients: clients)
    }

    public func send(_ bytes: [UInt8], toClients clients: [ClientID]) throws(GatewayError) {
        try send(.binary(bytes), toClients: clients)
    }

    /// Sends to exactly `clients`, wherever they are (GatewayWorker's sendToAll with a client
    /// list). An empty list sends nothing.
    public func send(_ message: Message, toClients clients: [ClientID], options: SendOptions = []) throws(GatewayError) {
        let sendToClients = try api.require(\.send_to_clients, "send_to_clients")
        try api.check(withClientIDs(clients) { ids, count in
            withPayload(of: message, options: options) { sendToClients(context, ids, count, $0, $1, $2) }
        })
    }

    // MARK: Closing (`close_client`, `close_current_client`, `destroy_client`, `destroy_current_client`)

    /// Closes a client, first sending `lastMessage` if there is one.
    public func close(_ client: ClientID, lastMessage: Message? = nil, options: SendOptions = []) throws(GatewayError) {
        let closeClient = try api.require(\.close_client, "close_client")
        try api.check(withClientID(client) { id in
            guard let lastMessage else { return closeClient(context, id, nil, 0, 0) }
            return withPayload(of: lastMessage, options: options) { closeClient(context, id, $0, $1, $2) }
        })
    }

    /// Closes the client of the current event, first sending `lastMessage` if there is one.
    public func closeCurrentClient(lastMessage: Message? = nil, options: SendOptions = []) throws(GatewayError) {
        let closeCurrentClient = try api.require(\.close_current_client, "close_current_client")
        guard let lastMessage else { return try api.check(closeCurrentClient(context, nil, 0, 0)) }
        try api.check(withPayload(of: lastMessage, options: options) { closeCurrentClient(context, $0, $1, $2) })
    }

    /// Closes a client at once, without a close frame; what is still queued for it is dropped
    /// (GatewayWorker's destroyClient, ABI 1.1).
    public func destroy(_ client: ClientID) throws(GatewayError) {
        let destroyClient = try api.require(\.destroy_client, "destroy_client")
        try api.check(withClientID(client) { destroyClient(context, $0) })
    }

    /// Closes the client of the current event at once, without a close frame (ABI 1.1).
    public func destroyCurrentClient() throws(GatewayError) {
        let destroyCurrentClient = try api.require(\.destroy_current_client, "destroy_current_client")
        try api.check(destroyCurrentClient(context))
    }
}
