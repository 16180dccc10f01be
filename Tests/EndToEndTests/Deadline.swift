#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time after which a wait gives up, on the monotonic clock.
///
/// Every wait in these tests is a deadline: `poll(2)` with the time that is left, never a
/// sleep followed by a hope that the other side was quick enough.
struct Deadline {
    let instant: ContinuousClock.Instant

    init(_ timeout: Duration) {
        instant = ContinuousClock.now.advanced(by: timeout)
    }

    var hasPassed: Bool { ContinuousClock.now >= instant }

    /// What is left, in whole milliseconds rounded up, capped at `cap`; 0 once passed.
    func remainingMilliseconds(cap: Int32 = Int32.max) -> Int32 {
        let left = instant - ContinuousClock.now
        guard left > .zero else { return 0 }
        let (seconds, attoseconds) = left.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: min(Int64(cap), max(1, milliseconds)))
    }

    /// Blocks the calling thread for at most `interval`, never past the deadline.
    func pause(_ interval: Duration) {
        let (seconds, attoseconds) = interval.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        let wait = min(milliseconds, remainingMilliseconds())
        if wait > 0 { _ = poll(nil, 0, wait) }
    }
}
