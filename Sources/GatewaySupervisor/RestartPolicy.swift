/// When to restart a child that exited, as a pure function of its recent history.
///
/// A child that ran for at least `stableSeconds` is restarted at once (a one-off crash must
/// cost clients as little as possible). A child that keeps dying quickly is in a crash loop:
/// each further restart waits twice as long, up to `maximumDelay`, so a plugin that dies at
/// start never spins the CPU.
public struct RestartPolicy: Sendable, Hashable {
    public var initialDelay: Double = 0.1
    public var maximumDelay: Double = 30
    public var stableSeconds: Double = 10

    public init() {}

    /// - Returns: the delay before the next start, and the updated count of quick failures.
    public func nextRestart(ranForSeconds: Double, quickFailures: Int) -> (delay: Double, quickFailures: Int) {
        if ranForSeconds >= stableSeconds { return (initialDelay, 0) }
        let failures = quickFailures + 1
        let exponent = Double(min(failures - 1, 20))
        return (min(initialDelay * pow2(exponent), maximumDelay), failures)
    }

    /// A child is said to be crash-looping after this many quick failures in a row.
    public func isCrashLooping(quickFailures: Int) -> Bool { quickFailures >= 3 }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(exponent) { value *= 2 }
        return value
    }
}
