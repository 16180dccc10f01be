import CGatewaySystem
import GatewayCore
import Glibc

/// How long each plugin callback took, bucketed for `gatewayd_worker_event_duration_seconds`.
///
/// The plugin thread records (one bucket count and a sum per callback: a relaxed load and
/// store each, plain moves — no lock, no atomic read-modify-write, no allocation); the control
/// thread reads when the master asks. Read while a record is half done, a bucket may be one
/// ahead of the sum: a scrape a few nanoseconds early, never a wrong total.
final class CallbackTimings: @unchecked Sendable {
    /// The callbacks timed, as `CallbackWatch.Callback` raw values index them (drain excluded).
    static let labels: [CallbackWatch.Callback: String] = [
        .connect: "on_connect", .handshake: "on_websocket_handshake", .message: "on_message", .close: "on_close",
        .timer: "timer", .post: "post",
    ]
    private static let slotCount = CallbackWatch.Callback.allCases.count
    private let boundCount: Int
    /// Upper bounds in nanoseconds.
    private let bounds: UnsafeMutablePointer<Int64>
    /// Per callback: `boundCount + 1` bucket counts, then the sum in nanoseconds.
    private let values: UnsafeMutablePointer<UInt64>
    private let stride: Int

    init(bounds seconds: [Double] = MetricsCatalog.eventDurationBounds) {
        boundCount = seconds.count
        bounds = .allocate(capacity: seconds.count)
        for (index, bound) in seconds.enumerated() { bounds[index] = Int64((bound * 1e9).rounded()) }
        stride = seconds.count + 2
        values = .allocate(capacity: Self.slotCount * stride)
        values.initialize(repeating: 0, count: Self.slotCount * stride)
    }

    deinit {
        bounds.deallocate()
        values.deallocate()
    }

    /// Plugin thread only. Most callbacks take microseconds: the scan stops at the first bounds.
    @inline(__always)
    func record(_ callback: CallbackWatch.Callback, nanoseconds: Int64) {
        var bucket = 0
        while bucket < boundCount && nanoseconds > bounds[bucket] { bucket += 1 }
        let slot = values + (Int(callback.rawValue) - 1) * stride
        gwd_sys_single_writer_add(slot + bucket, 1)
        gwd_sys_single_writer_add(slot + boundCount + 1, UInt64(max(nanoseconds, 0)))
    }

    /// Any thread: one histogram per callback that ran at least once.
    func samples() -> [HistogramSample] {
        CallbackWatch.Callback.allCases.compactMap { callback in
            guard let label = Self.labels[callback] else { return nil }
            let slot = values + (Int(callback.rawValue) - 1) * stride
            let counts = (0...boundCount).map { gwd_sys_relaxed_load(slot + $0) }
            guard counts.contains(where: { $0 > 0 }) else { return nil }
            return HistogramSample(
                name: "gatewayd_worker_event_duration_seconds", labels: ["callback": label], counts: counts,
                sum: Double(gwd_sys_relaxed_load(slot + boundCount + 1)) / 1e9)
        }
    }

    /// CLOCK_MONOTONIC in nanoseconds: the vDSO call alone (≈ 20 ns here), without the event
    /// loop clock's existential.
    @inline(__always)
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }
}
