import GatewayWire
import NIOCore

/// One gateway's reply to a query request (its payload, after the u32 length), or why there is
/// none: ``HostError/timeout`` or ``HostError/unavailable``.
struct GatewayReply: Sendable {
    var gateway: GatewayAddress
    var result: Result<ByteBuffer, HostError>
}
