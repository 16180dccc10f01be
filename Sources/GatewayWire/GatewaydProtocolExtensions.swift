// gatewayd's additions to the GatewayWorker inner protocol. They use numbers and bits
// GatewayWorker 4.x does not, and a PHP peer ignores them: a PHP gateway drops unknown
// commands silently and tests flag bits one by one.

import NIOCore

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
    /// 232 (gatewayd, gateway → worker): the last frame this gateway sends you (but for
    /// QUERY_REPLY frames answering queries you still send on this connection).
    public static let drainMark = GatewayCommand(rawValue: 232)
    /// 233 (gatewayd, worker → gateway): everything before your mark is handled.
    public static let drainDone = GatewayCommand(rawValue: 233)

    // Queries in order with commands: a worker's commands go on its main connection and its
    // queries, whose replies are bare length-prefixed payloads, on a connection of their own,
    // so a query could be answered before a command sent earlier (bind, then ask for the
    // uid's clients) was executed. A worker announcing capability version 3
    // (``GatewaydCapability/framedRepliesVersion``) may send queries on its main connection
    // instead; a gatewayd gateway answers them there as frames, so everything the worker sent
    // before a query is executed before it is answered.

    /// 234 (gatewayd, gateway → worker): this gateway answers queries on your main connection.
    /// Sent once, before anything else, on the main connection of a worker whose WORKER_CONNECT
    /// announced version 3 or higher; the body is the decimal text of the gateway's capability
    /// version ("3", flag scalarBody; ``GatewaydCapability/helloFrame()``). A PHP gateway or an
    /// older gatewayd gateway never sends it: until it comes, queries go on a query connection.
    public static let gatewaydHello = GatewayCommand(rawValue: 234)
    /// 235 (gatewayd, gateway → worker): the reply to a query (``expectsReply``) that came on
    /// the main connection of a worker that announced version 3 or higher. The body is exactly
    /// the payload that follows the u32 length on a query connection; connection id, flags and
    /// addresses are 0 and ext_data is empty (``ByteBuffer/writeQueryReply(payload:)``).
    /// Replies come in the order the queries came, after every frame queued for that worker
    /// before the query was read — a drain mark too: a draining worker's queries are still
    /// answered after its DRAIN_MARK. On any other connection replies stay bare.
    public static let queryReply = GatewayCommand(rawValue: 235)

    // Events acknowledged (capability version 4, ``GatewaydCapability/acknowledgedEventsVersion``):
    // a gateway keeps the events it sent a worker until the worker says it finished them, so
    // when the worker dies it hands those the worker had not started to another worker.

    /// 236 (gatewayd, worker → gateway): how many events (ON_CONNECT, ON_MESSAGE, ON_CLOSE,
    /// ON_WEBSOCKET_CONNECT) of this connection the worker finished since its WORKER_CONNECT,
    /// and how many it started whose commands may already be on their way (one more than the
    /// first when a query flushed the running event's first commands). Written after the
    /// commands of those events, in the same write (``EventsDone``).
    public static let eventsDone = GatewayCommand(rawValue: 236)
    /// 237 (gatewayd, worker → gateway): written by the worker's crash handler on the
    /// connection of the event it crashed in, the last frame before the connection closes:
    /// that event (its index among the connection's events) is lost, not to be handed to
    /// another worker, where it would crash again (``WorkerCrashed``).
    public static let workerCrashed = GatewayCommand(rawValue: 237)
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
    /// Version 3: also may send queries on its main connection and wants them answered there
    /// with QUERY_REPLY frames (``GatewayCommand/queryReply``); a gateway that does so says it
    /// with GATEWAYD_HELLO (``GatewayCommand/gatewaydHello``).
    /// Version 4: also acknowledges events (EVENTS_DONE) and names the event it crashed in
    /// (WORKER_CRASHED), to a gateway that announced 4 or higher in GATEWAYD_HELLO.
    public static let version = 4

    /// The lowest WORKER_CONNECT capability version whose queries on the main connection are
    /// answered with QUERY_REPLY frames.
    public static let framedRepliesVersion = 3

    /// The lowest capability version (of a worker in WORKER_CONNECT, of a gateway in
    /// GATEWAYD_HELLO) that acknowledges events and reports the event it crashed in.
    public static let acknowledgedEventsVersion = 4

    /// The capability version a WORKER_CONNECT announces; nil without the key (a PHP worker)
    /// or when its value is not an integer.
    public static func announcedVersion(_ body: WorkerConnectBody) -> Int? {
        body.extra.first(where: { $0.key == key })?.value.intValue
    }

    /// Whether a WORKER_CONNECT's worker wants its queries on the main connection answered
    /// with QUERY_REPLY frames there.
    public static func wantsFramedReplies(_ body: WorkerConnectBody) -> Bool {
        (announcedVersion(body) ?? 0) >= framedRepliesVersion
    }

    /// The GATEWAYD_HELLO frame: the decimal text of ``version``.
    public static func helloFrame() -> ByteBuffer {
        .command(.gatewaydHello, body: Array(String(version).utf8))
    }

    /// The capability version of the gateway that sent a GATEWAYD_HELLO; nil for any other
    /// frame or a body that is not a decimal number.
    public static func helloVersion(_ frame: GatewayFrame) -> Int? {
        guard frame.command == .gatewaydHello else { return nil }
        return Int(String(buffer: frame.body))
    }
}

extension ByteBuffer {
    /// Appends a QUERY_REPLY frame whose body is `payload`: a reply as it would follow the u32
    /// length on a query connection (e.g. what ``writeGatewayReply(_:)`` writes after it).
    public mutating func writeQueryReply(payload: ByteBuffer) {
        payload.withUnsafeReadableBytes { writeCommand(.queryReply, flags: [], body: $0) }
    }
}
