import GatewayCore
import GatewayWire
import NIOCore

/// What the hub asks of the sockets beneath it. The hub decides; the transport moves bytes:
/// the native gateway implements it over `ClientEngine` and the inner port's links, the tests
/// with a recorder. Called on the hub's thread only.
public protocol HubTransport: AnyObject {
    /// A client socket (e.g. the engine's `ConnectionID`).
    associatedtype ClientSocket
    /// A connection on the inner port: a worker, a GatewayClient, a query connection.
    associatedtype InnerSocket
    /// Bytes encoded during this tick, to be written to one or many sockets before it ends.
    associatedtype Payload

    /// Encodes at most `size` bytes with `encode` (which may refuse by returning false: then
    /// nothing is kept and the result is nil).
    func encode(size: Int, _ encode: (inout ByteBuffer) -> Bool) -> Payload?
    /// The bytes of `payload` in memory of their own, to outlive the tick.
    func detached(_ payload: Payload) -> ByteBuffer
    /// A payload of bytes the caller already has.
    func payload(_ bytes: ByteBuffer) -> Payload

    /// Queues `payload` for a client; false when the client already has more than its send
    /// buffer waiting (a slow consumer: nothing was queued).
    func write(_ payload: Payload, to client: ClientSocket) -> Bool
    /// Encodes at most `size` bytes for one client straight into its output (`encode` returns
    /// how many it wrote); false, as `write`, for a slow consumer.
    func write(to client: ClientSocket, size: Int, _ encode: (UnsafeMutableRawPointer) -> Int) -> Bool
    /// Closes a client after what was queued for it (`flush`) or dropping it.
    func close(_ client: ClientSocket, flush: Bool)
    /// Stops or resumes reading from a client (back-pressure towards a congested worker).
    func setReading(_ client: ClientSocket, _ reading: Bool)
    /// The worker's verdict on a WebSocket handshake: 0 accepts (the transport answers 101 and
    /// then calls `Hub.clientUpgraded`), an HTTP status refuses (answered, then closed). Also
    /// called with 503 for a client that closed while waiting: ignore it for a closed socket.
    func handshakeDecided(_ client: ClientSocket, status: Int)

    /// Queues `payload` for an inner connection, behind what was queued for it before.
    func write(_ payload: Payload, to inner: InnerSocket)
    /// Encodes at most `size` bytes with `encode` straight into what is queued for an inner
    /// connection (a client message on its way to a worker: one copy, not two); false, and
    /// nothing queued, when `encode` refuses.
    func write(to inner: InnerSocket, size: Int, _ encode: (inout ByteBuffer) -> Bool) -> Bool
    /// More than the worker buffer waits for this inner connection.
    func isCongested(_ inner: InnerSocket) -> Bool
    func close(_ inner: InnerSocket)
}

extension HubTransport {
    /// Through a payload, for transports that do not stage client output themselves.
    public func write(to client: ClientSocket, size: Int, _ encode: (UnsafeMutableRawPointer) -> Int) -> Bool {
        let payload = self.encode(size: size) { buffer in
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { encode($0.baseAddress!) }
            return true
        }!
        return write(payload, to: client)
    }

    /// Through a payload, for transports without a buffer of their own per inner connection.
    public func write(to inner: InnerSocket, size: Int, _ encode: (inout ByteBuffer) -> Bool) -> Bool {
        guard let payload = self.encode(size: size, encode) else { return false }
        write(payload, to: inner)
        return true
    }
}
