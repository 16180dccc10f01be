/// The defaults: every event is ignored and every handshake accepted, so a plugin implements
/// only the events it handles.
extension GatewayPlugin {
    public func workerStarted(_ gateway: Gateway) throws {}

    public func workerStopping(_ gateway: Gateway) {}

    public func clientConnected(_ gateway: Gateway, client: ClientID) {}

    public func handshake(_ gateway: Gateway, client: ClientID, request: HandshakeRequest) -> HandshakeDecision {
        .accept
    }

    public func message(_ gateway: Gateway, client: ClientID, message: Message) {}

    public func clientClosed(_ gateway: Gateway, client: ClientID) {}
}
