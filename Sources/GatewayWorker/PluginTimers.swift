import CGatewayABI
import GatewayEventLoop

/// The plugin's timers (gatewayd.h `timer_add` / `timer_del`): which exist, what each calls,
/// and when a repeating one fires next. The loop's own timer queue does the waiting; this
/// keeps the plugin's ids (stable across firings) and the rules. Plugin thread only.
struct PluginTimers {
    struct Timer {
        var callback: gwd_timer_fn
        var userData: UnsafeMutableRawPointer?
        var intervalNanoseconds: Int64
        var repeats: Bool
        /// The deadline this firing was scheduled for (a repeating timer's schedule is anchored
        /// to it, so the plugin's own run time does not accumulate as drift).
        var deadline: Instant
        /// The loop timer that fires it.
        var loopTimer: TimerID
    }

    static let maximumLiveTimers = 65536
    /// 10^12 ms (about 31 years): larger intervals are a bug, and nanoseconds must not overflow.
    static let maximumIntervalMilliseconds: Int64 = 1_000_000_000_000

    private(set) var timers: [UInt64: Timer] = [:]
    private var lastID: UInt64 = 0

    var count: Int { timers.count }

    /// Checks timer_add's arguments: the interval in nanoseconds, and the callback.
    static func validate(
        intervalMilliseconds: Int64, flags: UInt32, callback: gwd_timer_fn?
    ) throws(HostError) -> (interval: Int64, callback: gwd_timer_fn) {
        guard intervalMilliseconds > 0, intervalMilliseconds <= maximumIntervalMilliseconds, let callback,
            flags & ~GWD_TIMER_REPEAT == 0
        else { throw .invalidArgument }
        return (intervalMilliseconds * 1_000_000, callback)
    }

    /// A new id (never 0, never reused).
    mutating func nextID() -> UInt64 {
        lastID += 1
        return lastID
    }


    subscript(id: UInt64) -> Timer? {
        get { timers[id] }
        set { timers[id] = newValue }
    }

    @discardableResult
    mutating func remove(_ id: UInt64) -> Timer? {
        timers.removeValue(forKey: id)
    }

    mutating func removeAll() -> [Timer] {
        defer { timers.removeAll() }
        return Array(timers.values)
    }

    /// When a repeating timer that was due at `deadline` and ran at `now` fires next: one
    /// interval after its deadline, so the schedule does not drift; but never in the past — a
    /// timer held up by a busy plugin fires once, late, and moves on rather than catching up in
    /// a burst (Workerman's Timer::add behaves the same way).
    static func nextDeadline(after deadline: Instant, interval: Int64, now: Instant) -> Instant {
        let next = deadline + interval
        return next > now ? next : now + interval
    }
}
