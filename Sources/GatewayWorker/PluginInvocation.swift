import CGatewayABI
import Glibc
import GatewayWire
import NIOCore

/// The `gwd_ctx` a plugin callback receives: the worker, and the current client event.
///
/// One instance per worker, reused for every callback so a pointer a plugin keeps by mistake
/// never dangles: outside a callback (or on another thread) it is inactive and host functions
/// answer GWD_ERR_WRONG_THREAD. Touched only on the plugin thread.
final class PluginInvocation {
    /// The host owns this invocation for its whole life and sets this as it is made;
    /// `unowned(unsafe)` spares the reference-count check of plain `unowned` on every host
    /// function call.
    unowned(unsafe) var host: PluginHost!
    private(set) var isActive = false
    var threadID: pthread_t?

    private(set) var event: PluginEvent?
    /// The current event's client and kind, kept beside `event` so host functions read them
    /// without copying the event (each copy retains and releases its two buffers).
    private(set) var clientID: ClientID?
    private(set) var eventKind: PluginEvent.Kind?
    /// The current client id as a NUL-terminated C string (20 hex characters).
    let clientIDCString: UnsafeMutablePointer<CChar>
    /// The current session, decoded on first use; updated by this callback's own changes.
    private var decodedSession: PHPValue?
    private var sessionDecoded = false
    /// Bytes handed out as borrowed views; kept alive until the callback returns.
    private var retained: [UnsafeMutableRawBufferPointer] = []
    /// What an event handler set with event_result, for its acknowledgement.
    var eventResult: [UInt8]?

    init() {
        clientIDCString = .allocate(capacity: 21)
        clientIDCString.initialize(repeating: 0, count: 21)
    }

    var context: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ context: OpaquePointer?) -> PluginInvocation? {
        guard let context else { return nil }
        let invocation = Unmanaged<PluginInvocation>.fromOpaque(UnsafeRawPointer(context)).takeUnretainedValue()
        guard invocation.isActive, let thread = invocation.threadID, pthread_equal(thread, pthread_self()) != 0 else {
            return nil
        }
        return invocation
    }

    /// Starts a client event's callback; the event is moved in, not copied.
    func begin(_ event: consuming PluginEvent) {
        clientID = event.clientID
        eventKind = event.kind
        self.event = .some(consume event)
        start()
    }

    /// Starts a callback without a client event (a timer, a posted task, on_worker_start).
    func begin() {
        start()
    }

    private func start() {
        isActive = true
        sessionDecoded = false
        decodedSession = nil
        if let clientID {
            // Straight into the C string: no String per event. The NUL at [20] never changes.
            clientID.writeHexDigits(to: UnsafeMutableRawBufferPointer(start: clientIDCString, count: 20))
        }
    }

    func end() {
        isActive = false
        event = nil
        clientID = nil
        eventKind = nil
        eventResult = nil
        for buffer in retained { buffer.deallocate() }
        retained.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with the current event's body, read in place.
    func withEventBody<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        guard event != nil else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return event!.body.withUnsafeReadableBytes(body)
    }

    /// Keeps `bytes` alive for the rest of the callback and returns a view of them.
    func borrow(_ bytes: [UInt8]) -> gwd_bytes {
        let stored = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count + 1, alignment: 1)
        stored.copyBytes(from: bytes)
        stored[bytes.count] = 0  // a convenience NUL, never counted in len
        retained.append(stored)
        return gwd_bytes(data: stored.baseAddress!.assumingMemoryBound(to: CChar.self), len: bytes.count)
    }

    /// The current client's session as a PHP value (an empty array when it has none).
    var session: PHPValue {
        if !sessionDecoded {
            sessionDecoded = true
            if let event, event.session.readableBytes > 0 {
                decodedSession = try? PHPSerializer.unserialize(event.session)
            }
        }
        return decodedSession ?? .array(PHPArray())
    }

    /// Applies this callback's own set/update to the session it reads back.
    func replaceSession(_ value: PHPValue) {
        sessionDecoded = true
        decodedSession = value
    }
}
