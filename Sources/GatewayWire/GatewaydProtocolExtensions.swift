// gatewayd's additions to the GatewayWorker inner protocol. They use numbers and bits
// GatewayWorker 4.x does not, and a PHP peer ignores them: a PHP gateway drops unknown
// commands silently and tests flag bits one by one.

extension GatewayCommand {
    /// 230 (gatewayd): a worker's verdict on a WebSocket handshake, so a plugin can refuse it
    /// with an HTTP status before the gateway answers 101. connection_id names the client; the
    /// body is the decimal status ("0" accepts). Sent only to gateways that asked for verdicts
    /// (they set `"gatewayd":1` capability in ON_WEBSOCKET_CONNECT's frame via `awaitsVerdict`).
    public static let handshakeVerdict = GatewayCommand(rawValue: 230)

    // Lossless drain (reload): a worker leaving asks each gateway to stop sending it events;
    // the gateway answers with a mark, the last frame it sends that worker, and holds the
    // worker's clients' events; when the worker has handled everything before the mark it
    // says so, its commands for those events already ahead of that frame on the same stream,
    // and the gateway hands the held events, in order, to other workers.

    /// 231 (gatewayd, worker → gateway): send me no more events.
    public static let drainRequest = GatewayCommand(rawValue: 231)
    /// 232 (gatewayd, gateway → worker): the last frame this gateway sends you.
    public static let drainMark = GatewayCommand(rawValue: 232)
    /// 233 (gatewayd, worker → gateway): everything before your mark is handled.
    public static let drainDone = GatewayCommand(rawValue: 233)
    /// 234 (gatewayd, gateway → worker): answers queries on the main connection (placeholder
    /// until the framed-replies branch lands).
    public static let gatewaydHello = GatewayCommand(rawValue: 234)
    /// 235 (gatewayd, gateway → worker): a query reply as a frame.
    public static let queryReply = GatewayCommand(rawValue: 235)
}

extension GatewayFrameFlags {
    /// Bit 2 (gatewayd): the message is binary. On ON_MESSAGE it says the client sent a binary
    /// message; on sends it asks for a binary frame. PHP peers ignore it (their default: text).
    public static let binary = GatewayFrameFlags(rawValue: 4)
    /// Bit 3 (gatewayd, ON_WEBSOCKET_CONNECT only): the gateway waits for a handshakeVerdict.
    public static let awaitsVerdict = GatewayFrameFlags(rawValue: 8)
}

/// The worker capability key gatewayd adds to WORKER_CONNECT's JSON body.
public enum GatewaydCapability {
    public static let key = "gatewayd"
    /// Version 1: understands binary flags and answers handshakes with handshakeVerdict.
    /// Version 2: also sends CMD_PING every inner heartbeat interval (``GatewaydHeartbeat``).
    public static let version = 2
}
