import NIOCore

/// How gatewayd peers tell each other that they send heartbeats, so that only they are ever
/// timed out for silence: a PHP peer pings every 25 s at best (and not at all on 127.0.0.1),
/// so a link to one must never be closed for being quiet.
///
/// - A gatewayd gateway's CMD_PING to a worker carries the body `gatewayd` (a PHP worker
///   ignores CMD_PING whatever its body); a gatewayd worker that sees it expects one per interval.
/// - A gatewayd worker announces `"gatewayd":2` (or higher) in WORKER_CONNECT: it sends CMD_PING
///   to the gateway every interval (a PHP gateway ignores both).
/// - A gatewayd gateway or worker pings the register with `{"event":"ping","gatewayd":1}`; a PHP
///   register reads it as a plain ping, a gatewayd register then expects one per interval.
public enum GatewaydHeartbeat {
    /// The body of a gatewayd gateway's CMD_PING.
    public static let pingBody: [UInt8] = Array("gatewayd".utf8)

    /// The CMD_PING frame gatewayd gateways and workers send each other.
    public static func pingFrame() -> ByteBuffer { .command(.ping, body: pingBody) }

    /// A CMD_PING from a gatewayd gateway (it will ping every interval).
    public static func isMarkedPing(_ frame: GatewayFrame) -> Bool {
        frame.command == .ping && frame.body.readableBytesView.elementsEqual(pingBody)
    }

    /// The lowest WORKER_CONNECT capability version whose workers ping their gateways.
    public static let pingingWorkerVersion = 2

    /// Whether a WORKER_CONNECT's capabilities say the worker pings every interval.
    public static func workerPings(_ body: WorkerConnectBody) -> Bool {
        (GatewaydCapability.announcedVersion(body) ?? 0) >= pingingWorkerVersion
    }

    /// `{"event":"ping","gatewayd":1}` and its newline.
    public static let registerPingLine: [UInt8] = Array("{\"event\":\"ping\",\"gatewayd\":1}\n".utf8)

    /// Whether a register line (without "\n") is gatewayd's marked ping.
    public static func isMarkedRegisterPing(_ line: some Collection<UInt8>) -> Bool {
        guard let json = try? JSONValue.parse(line) else { return false }
        return json["event"]?.stringValue == "ping" && json[GatewaydCapability.key] != nil
    }
}
