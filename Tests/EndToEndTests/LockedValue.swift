import Foundation

/// A value behind a lock, for the little state the tests share across test cases (built
/// plugins, the cluster of a test class). Tests run one at a time, so the lock only keeps
/// Swift 6's checker honest; it is never contended.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
