/// GatewayWorker's heartbeat, per client, as a pure function of a counter.
///
/// One timer per gateway process ticks every `interval` — every `interval / 2` when
/// `notResponseLimit` > 0 — and asks each client's counter what to do. Anything the client
/// sends (a message, a pong, a ping) resets its counter to -1. With a limit, a client silent
/// for `limit` intervals is closed; a heartbeat (`pingData` as a message, or a WebSocket ping
/// when `pingData` is empty) goes out once per interval to clients that have been quiet.
/// With no limit, heartbeats only keep NAT and proxies awake; nobody is closed.
public struct HeartbeatPolicy: Sendable, Hashable {
    /// Seconds between heartbeats; 0 turns the heartbeat off.
    public var interval: Double
    /// Intervals of silence after which a client is closed; 0 never closes.
    public var notResponseLimit: Int
    /// Sent as a message when non-empty; otherwise a WebSocket ping frame is sent.
    public var pingData: [UInt8]

    public init(interval: Double, notResponseLimit: Int, pingData: [UInt8]) {
        self.interval = interval
        self.notResponseLimit = notResponseLimit
        self.pingData = pingData
    }

    public var isEnabled: Bool { interval > 0 }

    /// How often the process-wide timer ticks.
    public var tickSeconds: Double { notResponseLimit > 0 ? interval / 2 : interval }

    public enum Action: Sendable, Hashable {
        case nothing
        case sendHeartbeat
        case close
    }

    /// The counter a client starts with, and gets back whenever it sends anything.
    public static let heardFrom = -1

    /// One tick for one client: updates its counter and says what to do (GatewayWorker's
    /// Gateway::ping, which ticks twice per interval when a limit is set).
    public func tick(_ count: inout Int) -> Action {
        if notResponseLimit > 0 && count >= notResponseLimit * 2 { return .close }
        count += 1
        // Heard from since the last tick: no heartbeat needed yet.
        if count == 0 { return .nothing }
        // With a limit the timer ticks twice per interval: one heartbeat per interval.
        if notResponseLimit > 0 && count % 2 == 1 { return .nothing }
        return .sendHeartbeat
    }
}
