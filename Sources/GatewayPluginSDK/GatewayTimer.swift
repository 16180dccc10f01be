import CGatewayABI

/// Timers (ABI 1.2, `timer_add` / `timer_del`): Workerman's `Timer::add` and `Timer::del`.
extension Gateway {
    /// Calls `body` on the plugin thread every `interval` — or once, `interval` from now, with
    /// `repeats: false` — until the timer is cancelled (`timer_add`).
    ///
    /// The body runs as a callback of its own, with a ``Gateway`` that has no current client:
    /// send to a client by its id (``send(_:to:options:)``), not with ``reply(_:options:)``. A
    /// repeating timer keeps a fixed schedule: it never fires early, and when the plugin thread
    /// was busy past a deadline it fires once, late, and skips the intervals it missed.
    ///
    /// The timer keeps `body` (and what it captures) until it is cancelled or, for a one-shot
    /// timer, until it has fired; the returned handle is only needed to cancel it. The
    /// interval is rounded up to whole milliseconds.
    ///
    /// Throws the host's status: ``GatewayError/Code/invalidArgument`` for an interval that is
    /// not positive or above 10^12 ms, ``GatewayError/Code/tooLarge`` past 65536 live timers,
    /// ``GatewayError/Code/stopping`` once the worker is stopping, and
    /// ``GatewayError/Code/unsupported`` on a host older than ABI 1.2.
    @discardableResult
    public func addTimer(every interval: Duration, repeats: Bool = true,
                         _ body: @escaping (Gateway, GatewayTimer) -> Void) throws(GatewayError) -> GatewayTimer {
        let timerAdd = try api.require(\.timer_add, "timer_add")
        _ = try api.require(\.timer_del, "timer_del")
        let timer = GatewayTimer(api: api, repeats: repeats, body: body)
        let userData = Unmanaged.passRetained(timer).toOpaque()  // the host's reference, until it is done
        var id: UInt64 = 0
        let status = timerAdd(context, GatewayTimer.milliseconds(interval), repeats ? GWD_TIMER_REPEAT : GWD_TIMER_ONCE,
                              gatewayTimerFired, userData, &id)
        guard status == 0 else {
            timer.refused()
            Unmanaged<GatewayTimer>.fromOpaque(userData).release()
            throw api.error(status)
        }
        timer.scheduled(id: id)
        return timer
    }

    /// Calls `body` once on the plugin thread, `delay` from now (a one-shot `timer_add`). See
    /// ``addTimer(every:repeats:_:)``.
    @discardableResult
    public func addTimer(after delay: Duration, _ body: @escaping (Gateway) -> Void) throws(GatewayError) -> GatewayTimer {
        try addTimer(every: delay, repeats: false) { gateway, _ in body(gateway) }
    }
}

/// A timer made by ``Gateway/addTimer(every:repeats:_:)``: its id, and ``cancel()``.
///
/// Like ``Gateway``, a timer belongs to the plugin thread: use it in callbacks (events, timers,
/// posted tasks), never from a thread of your own — post to the plugin thread instead.
public final class GatewayTimer {
    /// The host's id for the timer (never 0, never reused).
    public private(set) var id: UInt64 = 0
    /// Whether it fires every interval (`GWD_TIMER_REPEAT`) or once (`GWD_TIMER_ONCE`).
    public let repeats: Bool

    private let api: HostAPI
    private var body: ((Gateway, GatewayTimer) -> Void)?
    /// The host still has the timer: it may call it again.
    private var hostHasTimer = false
    /// The host still holds the retained reference passed as user_data.
    private var hostHoldsReference = false
    /// ``cancel()`` was called where the host could not be asked (outside a callback): the
    /// timer is deleted the next time it fires, without running the body.
    private var cancelPending = false
    /// The body is running now.
    private var firing = false

    init(api: HostAPI, repeats: Bool, body: @escaping (Gateway, GatewayTimer) -> Void) {
        self.api = api
        self.repeats = repeats
        self.body = body
    }

    /// Whether the timer will fire again: false once it is cancelled or a one-shot timer fired.
    public var isActive: Bool { hostHasTimer && !cancelPending }

    /// Stops the timer (`timer_del`): its body does not run again, and the timer releases it.
    ///
    /// Idempotent: cancelling a timer that is already cancelled, or a one-shot timer that has
    /// fired, does nothing. Allowed inside the timer's own body. Called outside any callback,
    /// where the host cannot be asked, it takes effect the next time the timer would fire.
    public func cancel() {
        guard hostHasTimer, !cancelPending else { return }
        guard let context = runningCallbackContext, let timerDel = api.entry(\.timer_del) else {
            cancelPending = true
            if !firing { body = nil }
            return
        }
        let status = timerDel(context, id)
        guard status == 0 || status == Int32(bitPattern: GWD_ERR_NOT_FOUND.rawValue) else {
            cancelPending = true  // e.g. WRONG_THREAD: try again when it fires
            return
        }
        hostHasTimer = false
        if !firing { releaseHostReference() }  // else fire() releases it once the body returns
    }

    /// The host called the timer (on the plugin thread, `context` valid for the call).
    fileprivate func fire(_ context: OpaquePointer) {
        if !repeats { hostHasTimer = false }  // the host forgets a one-shot timer as it fires it
        if cancelPending {
            if hostHasTimer, let timerDel = api.entry(\.timer_del) { _ = timerDel(context, id) }
            hostHasTimer = false
            releaseHostReference()
            return
        }
        if let body {
            firing = true
            whileRunning(context) { body(Gateway(context: context, api: api), self) }
            firing = false
        }
        if !hostHasTimer { releaseHostReference() }
    }

    fileprivate func scheduled(id: UInt64) {
        self.id = id
        hostHasTimer = true
        hostHoldsReference = true
    }

    fileprivate func refused() {
        body = nil
    }

    /// Gives up the host's reference, and the body with it (the host will not call again).
    private func releaseHostReference() {
        guard hostHoldsReference else { return }
        hostHoldsReference = false
        body = nil
        Unmanaged.passUnretained(self).release()
    }

    /// `interval` in whole milliseconds, rounded up (a timer never fires early), saturating.
    static func milliseconds(_ interval: Duration) -> Int64 {
        let (seconds, attoseconds) = interval.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let perMillisecond: Int64 = 1_000_000_000_000_000
        // attoseconds has the sign of seconds and is below 10^18 in magnitude.
        let part = attoseconds > 0 ? (attoseconds + perMillisecond - 1) / perMillisecond : attoseconds / perMillisecond
        let (total, overflowed) = whole.addingReportingOverflow(part)
        return overflowed ? (whole < 0 ? .min : .max) : total
    }
}

@available(*, unavailable)
extension GatewayTimer: Sendable {}

/// The `gwd_timer_fn` of every SDK timer: `userData` is the ``GatewayTimer``, retained for the host.
private func gatewayTimerFired(_ context: OpaquePointer?, _ id: UInt64, _ userData: UnsafeMutableRawPointer?) {
    guard let context, let userData else { return }
    let timer = Unmanaged<GatewayTimer>.fromOpaque(userData).takeUnretainedValue()
    withExtendedLifetime(timer) { timer.fire(context) }
}
