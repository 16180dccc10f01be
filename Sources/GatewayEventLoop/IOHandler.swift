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
///
/// One handler may serve many descriptors without an object per descriptor (the gateway's client
/// engine and its table of connections): register each with its own `tag`, implement the
/// `tag:` methods. A handler implements one pair or the other; each defaults to doing nothing,
/// and the `tag:` pair to calling the plain one.
public protocol IOHandler: AnyObject {
    func readable()
    func writable()
    func readable(tag: UInt32)
    func writable(tag: UInt32)
}

extension IOHandler {
    public func readable() {}
    public func writable() {}
    public func readable(tag: UInt32) { readable() }
    public func writable(tag: UInt32) { writable() }
}
