import CGatewaySystem
import GatewayCore
import Glibc

/// How long plugin callbacks take, bucketed for `gatewayd_worker_event_duration_seconds`.
///
/// Not every callback is timed: reading the clock around each event cost the echo path more
/// than its 3 % budget (+4.3 % CPU per echoed message at 8 in flight, the workers' user time
/// +0.1 µs; BENCHMARKS.md "Metrics: what /metrics costs"). A callback is timed when
/// the last one of its kind that was timed started at least `spacing` (1 ms) earlier, by the
/// event loop's iteration clock, which costs nothing; the others are counted, and each timed
/// callback stands for those of its kind since the previous one. Below a thousand callbacks of
/// a kind a second every one is timed; above, at most a thousand are, and the counts stay exact.
///
/// The plugin thread records (relaxed loads and stores, plain moves with one writer: no lock,
/// no allocation); the control thread reads when the master asks.
final class CallbackTimings: @unchecked Sendable {
    /// The callbacks timed, by `CallbackWatch.Callback` (drain marks run none).
    static let labels: [CallbackWatch.Callback: String] = [
        .connect: "on_connect", .handshake: "on_websocket_handshake", .message: "on_message", .close: "on_close",
        .timer: "timer", .post: "post",
    ]
    private static let kinds = CallbackWatch.Callback.allCases.count
    let spacing: Int64
    private let boundCount: Int
    /// Upper bounds in nanoseconds.
    private let bounds: UnsafeMutablePointer<Int64>
    /// Shared, per callback kind: `boundCount + 1` bucket counts, the sum in nanoseconds, the
    /// callbacks counted since the last timed one, and that one's bucket and duration.
    private let shared: UnsafeMutablePointer<UInt64>
    private let stride: Int
    /// Plugin thread only: when the last timed callback of each kind started (loop clock).
    private let lastTimed: UnsafeMutablePointer<Int64>

    init(bounds seconds: [Double] = MetricsCatalog.eventDurationBounds, spacing: Int64 = 1_000_000) {
        self.spacing = spacing
        boundCount = seconds.count
        bounds = .allocate(capacity: seconds.count)
        for (index, bound) in seconds.enumerated() { bounds[index] = Int64((bound * 1e9).rounded()) }
        stride = seconds.count + 5
        shared = .allocate(capacity: Self.kinds * stride)
        shared.initialize(repeating: 0, count: Self.kinds * stride)
        lastTimed = .allocate(capacity: Self.kinds)
        lastTimed.initialize(repeating: .min / 2, count: Self.kinds)
    }

    deinit {
        bounds.deallocate()
        shared.deallocate()
        lastTimed.deallocate()
    }

    private func slot(_ callback: CallbackWatch.Callback) -> UnsafeMutablePointer<UInt64> {
        shared + (Int(callback.rawValue) - 1) * stride
    }

    /// Plugin thread: whether to time a callback of this kind starting at `now` (the loop's
    /// iteration clock); when true, `record` must follow, else `skipped`.
    @inline(__always)
    func isDue(_ callback: CallbackWatch.Callback, at now: Int64) -> Bool {
        let last = lastTimed + (Int(callback.rawValue) - 1)
        guard now &- last.pointee >= spacing else { return false }
        last.pointee = now
        return true
    }

    /// Plugin thread: a callback of this kind ran untimed.
    @inline(__always)
    func skipped(_ callback: CallbackWatch.Callback) {
        gwd_sys_single_writer_add(slot(callback) + boundCount + 2, 1)
    }

    /// Plugin thread: a timed callback took `nanoseconds`; it stands for itself and the untimed
    /// ones of its kind since the last.
    func record(_ callback: CallbackWatch.Callback, nanoseconds: Int64) {
        let duration = UInt64(max(nanoseconds, 0))
        var bucket = 0
        while bucket < boundCount && nanoseconds > bounds[bucket] { bucket += 1 }
        let slot = slot(callback)
        let weight = gwd_sys_relaxed_load(slot + boundCount + 2) + 1
        gwd_sys_single_writer_add(slot + bucket, weight)
        gwd_sys_single_writer_add(slot + boundCount + 1, weight &* duration)
        gwd_sys_relaxed_store(slot + boundCount + 2, 0)
        gwd_sys_relaxed_store(slot + boundCount + 3, UInt64(bucket))
        gwd_sys_relaxed_store(slot + boundCount + 4, duration)
    }

    /// Any thread: one histogram per callback kind that ran; callbacks counted since the last
    /// timed one go where it went.
    func samples() -> [HistogramSample] {
        CallbackWatch.Callback.allCases.compactMap { callback in
            guard let label = Self.labels[callback] else { return nil }
            let slot = slot(callback)
            var counts = (0...boundCount).map { gwd_sys_relaxed_load(slot + $0) }
            var sum = gwd_sys_relaxed_load(slot + boundCount + 1)
            let pending = gwd_sys_relaxed_load(slot + boundCount + 2)
            let lastBucket = min(Int(gwd_sys_relaxed_load(slot + boundCount + 3)), boundCount)
            counts[lastBucket] &+= pending
            sum &+= pending &* gwd_sys_relaxed_load(slot + boundCount + 4)
            guard counts.contains(where: { $0 > 0 }) else { return nil }
            return HistogramSample(
                name: "gatewayd_worker_event_duration_seconds", labels: ["callback": label], counts: counts, sum: Double(sum) / 1e9)
        }
    }

    /// CLOCK_MONOTONIC in nanoseconds: the vDSO call alone, without the event loop clock's
    /// existential.
    @inline(__always)
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }
}
