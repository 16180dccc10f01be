/// What a `ClientEngine` reports, on its loop's thread. The delegate may call the engine back
/// (send, close, pause) from any of these.
public protocol ClientEngineDelegate: AnyObject {
    /// A connection was accepted on listener `listener` (the index `listen` returned).
    func connectionOpened(_ id: ConnectionID, listener: Int, peer: PeerAddress)

    /// Bytes arrived: the connection's unconsumed bytes from earlier, then the new ones.
    /// Returns how many were consumed (whole messages) and, when the rest starts a message
    /// whose size is known (from a frame header), that size: the engine keeps the rest and
    /// offers it again with more bytes — once the message is whole, when its size was given.
    /// The buffer is the engine's and valid only during the call; the delegate may change its
    /// bytes in place (unmasking).
    func bytesReceived(_ id: ConnectionID, _ bytes: UnsafeMutableRawBufferPointer) -> ReceiveOutcome

    /// The connection is gone and its descriptor closed; called once per opened connection.
    /// Sends to it are ignored from now on.
    func connectionClosed(_ id: ConnectionID, reason: CloseReason)
}

/// What the delegate did with the bytes it was offered.
public struct ReceiveOutcome: Equatable, Sendable {
    /// Bytes consumed from the front.
    public var consumed: Int
    /// The size of the partial message the rest begins, when known (0: unknown).
    public var messageSize: Int

    public init(consumed: Int, messageSize: Int = 0) {
        self.consumed = consumed
        self.messageSize = messageSize
    }
}
