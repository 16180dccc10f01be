import Glibc

/// A point in time on a monotonic clock, in nanoseconds from an arbitrary origin.
///
/// A plain integer rather than `ContinuousClock.Instant`: timer arithmetic on the loop's hot
/// path stays one add and one compare, and tests can build any instant they need.
/// Arithmetic saturates, so `distantFuture + x` stays `distantFuture` instead of trapping.
public struct Instant: Comparable, Hashable, Sendable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// Later than every real deadline: a "never" that still compares and adds safely.
    public static let distantFuture = Instant(nanoseconds: .max)

    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// `lhs` moved by `rhs` nanoseconds (negative moves back), saturating at the Int64 range.
    public static func + (lhs: Instant, rhs: Int64) -> Instant {
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(rhs)
        if overflow { return Instant(nanoseconds: rhs > 0 ? .max : .min) }
        return Instant(nanoseconds: sum)
    }

    /// The nanoseconds from `rhs` to `lhs`, saturating at the Int64 range.
    public static func - (lhs: Instant, rhs: Instant) -> Int64 {
        let (difference, overflow) = lhs.nanoseconds.subtractingReportingOverflow(rhs.nanoseconds)
        if overflow { return rhs.nanoseconds < 0 ? .max : .min }
        return difference
    }
}

/// Where the loop reads the time. Injected so tests (and pure state machines) can own time.
public protocol MonotonicClock: Sendable {
    func now() -> Instant
}

/// `CLOCK_MONOTONIC`: never jumps with wall-clock changes, and is the clock epoll_wait's
/// timeout counts on, so a deadline computed from it is never reached early by the wait.
public struct SystemClock: MonotonicClock {
    public init() {}

    public func now() -> Instant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Instant(nanoseconds: Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec))
    }
}

/// A clock that moves only when told to, for tests of code that takes a `MonotonicClock`.
/// Any thread may read or move it (a mutex guards the value).
public final class ManualClock: MonotonicClock, @unchecked Sendable {
    private let lock = Lock()
    private var current: Instant

    /// - Parameter start: the first reading; zero by default, since only differences matter.
    public init(_ start: Instant = Instant(nanoseconds: 0)) {
        current = start
    }

    public func now() -> Instant {
        lock.withLock { current }
    }

    /// Moves the clock forward by `nanoseconds` (a monotonic clock never goes back).
    public func advance(by nanoseconds: Int64) {
        precondition(nanoseconds >= 0, "a monotonic clock does not go back")
        lock.withLock { current = current + nanoseconds }
    }

    /// Sets the reading; it must not be earlier than the current one.
    public func set(_ instant: Instant) {
        lock.withLock {
            precondition(instant >= current, "a monotonic clock does not go back")
            current = instant
        }
    }
}
