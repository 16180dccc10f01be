import NIOCore

/// How long to wait before trying a lost peer again: `initial`, doubling after every round of
/// failed attempts up to `maximum`, each delay spread by ±20 % so that many processes that
/// lost the same peer at the same moment do not come back in lockstep.
public struct ReconnectBackoff: Sendable, Hashable {
    public var initial: TimeAmount
    public var maximum: TimeAmount

    public init(initial: TimeAmount, maximum: TimeAmount) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// Fast at first (a restarted peer is back within a tenth of a second), then at most every
    /// 2 s: a register or gateway that is back is found again within about 2 s.
    public static let standard = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(2))

    /// The delay after `rounds` (≥ 1) rounds of failed attempts; `spread` in 0.8...1.2.
    public func delay(afterFailedRounds rounds: Int, spread: Double = Double.random(in: 0.8...1.2)) -> TimeAmount {
        var base = initial.nanoseconds
        for _ in 1..<max(rounds, 1) where base < maximum.nanoseconds { base *= 2 }
        base = min(base, maximum.nanoseconds)
        return .nanoseconds(Int64(Double(base) * spread))
    }
}
