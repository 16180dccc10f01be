import GatewayAPI
import GatewayWire
import NIOCore

/// What the plugin host needs from the worker's links to its gateways. All calls are made on
/// the worker's one thread; `GatewayLinkSet` is the real one, tests use a fake.
protocol WorkerTransport: AnyObject {
    /// Appends a frame for the gateway at `address` to its connection's write buffer; false
    /// (and the frame dropped) when that gateway is not connected.
    @discardableResult
    func append(to address: GatewayAddress, _ encode: (inout ByteBuffer) -> Void) -> Bool
    /// Appends the same frame for every connected gateway.
    func appendToAll(_ encode: (inout ByteBuffer) -> Void)
    /// Appends a frame built for each connected gateway; nil skips that gateway.
    func appendPerGateway(_ make: (GatewayAddress) -> ByteBuffer?)
    /// Hands every buffered frame to the kernel.
    func flush()
    /// Sends a query's requests to the gateways it reaches, all at once, after everything
    /// already appended for them, and waits — running only the links' I/O, never a plugin
    /// callback — until each answered or the query timeout passed.
    func ask(_ dispatch: GatewayDispatch) -> [GatewayReply]
    /// A client event that came on `connection` to the gateway at `address` starts running:
    /// its index goes to the crash handler, and a flush while it runs tells the gateway it
    /// started (its commands may be partly on their way).
    func eventStarted(from address: GatewayAddress, connection: UInt32)
    /// The event started last has finished: acknowledged with the next flush.
    func eventFinished()
}

extension WorkerTransport {
    /// Appends the frames of one GatewayAPI command.
    func append(_ dispatch: GatewayDispatch) {
        switch dispatch {
        case .gateway(let address, let frame): append(to: address) { $0.writeImmutableBuffer(frame) }
        case .everyGateway(let frame): appendToAll { $0.writeImmutableBuffer(frame) }
        case .perGateway(let make): appendPerGateway(make)
        }
    }
}
