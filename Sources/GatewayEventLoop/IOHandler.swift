/// What a registered file descriptor should be watched for.
public struct IOInterest: OptionSet, Sendable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public static let readable = IOInterest(rawValue: 1 << 0)
    public static let writable = IOInterest(rawValue: 1 << 1)
}

/// Receives the readiness of one registered file descriptor, on the loop's thread.
///
/// Readiness is level-triggered and may be spurious (another callback, or a nested
/// `EventLoop.waitForIO`, may have drained the socket first): read and write until the call
/// answers "would block". A hang-up or socket error arrives as `readable()` (the read then
/// sees EOF or the error), plus `writable()` when writable interest is set.
public protocol IOHandler: AnyObject {
    func readable()
    func writable()
}
