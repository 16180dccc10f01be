import Glibc

/// A point on the master's monotonic clock (CLOCK_MONOTONIC), in seconds. Restarts, back-off,
/// start, stop, reload and query deadlines are measured with it, so a step of the wall clock
/// (NTP, an operator setting the date) shifts none of them — with `Date`, a step forward of more
/// than a minute during start-up failed the start. The names follow `Date`'s, which it replaces.
public struct MasterInstant: Comparable, Hashable, Sendable {
    public var seconds: Double

    public init(seconds: Double) {
        self.seconds = seconds
    }

    /// The clock now.
    public static func now() -> MasterInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return MasterInstant(seconds: Double(time.tv_sec) + Double(time.tv_nsec) / 1e9)
    }

    public func addingTimeInterval(_ interval: Double) -> MasterInstant {
        MasterInstant(seconds: seconds + interval)
    }

    public func timeIntervalSince(_ other: MasterInstant) -> Double {
        seconds - other.seconds
    }

    public static func < (lhs: MasterInstant, rhs: MasterInstant) -> Bool { lhs.seconds < rhs.seconds }

    public static func += (instant: inout MasterInstant, interval: Double) {
        instant.seconds += interval
    }
}
