import CGatewaySystem
import GatewayWire
import Synchronization

/// Which plugin callback runs now, published by the plugin thread for the slow-callback
/// watchdog on the control thread.
///
/// Written twice per event with plain atomic stores: no lock and no clock read on the event
/// path (the mutex and `clock_gettime` it replaced were 5 % of a worker's time per echoed
/// message). The watchdog samples it; `SlowCallbackDetector` decides from the samples.
final class CallbackWatch: Sendable {
    /// What runs: a client event's callback, a timer or a posted task.
    enum Callback: UInt8, Sendable, CaseIterable {
        case connect = 1, handshake, message, close, drain, timer, post

        init(_ kind: PluginEvent.Kind) {
            switch kind {
            case .connect: self = .connect
            case .handshake: self = .handshake
            case .message: self = .message
            case .close: self = .close
            case .drainMark: self = .drain
            }
        }

        var name: String {
            switch self {
            case .connect: return "on_connect"
            case .handshake: return "on_websocket_handshake"
            case .message: return "on_message"
            case .close: return "on_close"
            case .drain: return "drain"
            case .timer: return "timer callback"
            case .post: return "posted task"
            }
        }
    }

    /// One look at the plugin thread: the callback running and which one it is (a new
    /// `serial` for every callback).
    struct Sample: Equatable, Sendable {
        var serial: UInt64
        var callback: Callback
        var clientID: ClientID
    }

    /// Odd while a callback runs; the fields below belong to that serial.
    private let serial = Atomic<UInt64>(0)
    private let callback = Atomic<UInt8>(0)
    /// The client id's gateway address and connection id, packed.
    private let clientAddress = Atomic<UInt64>(0)
    private let clientConnection = Atomic<UInt32>(0)

    /// Plugin thread: a callback starts.
    func begin(_ callback: Callback, clientID: ClientID) {
        // For the crash handler too (plain stores; it reads them if this callback kills the process).
        gwd_sys_crash_context_set(Int32(callback.rawValue), clientID.ipv4, clientID.port, clientID.connectionID)
        self.callback.store(callback.rawValue, ordering: .relaxed)
        clientAddress.store(UInt64(clientID.ipv4) << 16 | UInt64(clientID.port), ordering: .relaxed)
        clientConnection.store(clientID.connectionID, ordering: .relaxed)
        // Release: a sampler that sees this odd serial sees the fields above.
        serial.store(serial.load(ordering: .relaxed) &+ 1, ordering: .releasing)
    }

    /// Plugin thread: the callback returned.
    func end() {
        gwd_sys_crash_context_clear()
        serial.store(serial.load(ordering: .relaxed) &+ 1, ordering: .releasing)
    }

    /// Any thread: the callback running now, or nil between callbacks. A sample taken while
    /// the plugin thread moves on is discarded (the serial changed under it), so the fields
    /// always belong to the serial returned.
    func sample() -> Sample? {
        let before = serial.load(ordering: .acquiring)
        guard before & 1 == 1 else { return nil }
        let code = callback.load(ordering: .relaxed)
        let address = clientAddress.load(ordering: .relaxed)
        let connection = clientConnection.load(ordering: .relaxed)
        atomicMemoryFence(ordering: .acquiring)
        guard serial.load(ordering: .relaxed) == before, let callback = Callback(rawValue: code) else { return nil }
        return Sample(
            serial: before, callback: callback,
            clientID: ClientID(ipv4: UInt32(truncatingIfNeeded: address >> 16), port: UInt16(truncatingIfNeeded: address), connectionID: connection))
    }
}

/// Decides, from periodic samples of a `CallbackWatch`, when a callback has overrun the
/// process timeout: the same callback seen running across samples spanning the timeout is
/// reported, once. It is seen late by at most one sampling period, so a report means it ran
/// at least the timeout. Pure: the caller passes the time.
struct SlowCallbackDetector {
    let timeoutNanoseconds: Int64
    private var watched: UInt64?
    private var firstSeen: Int64 = 0
    private var reported = false

    init(timeoutNanoseconds: Int64) {
        self.timeoutNanoseconds = timeoutNanoseconds
    }

    /// Returns the sample to report when its callback has now run longer than the timeout.
    mutating func observe(_ sample: CallbackWatch.Sample?, at now: Int64) -> CallbackWatch.Sample? {
        guard let sample else {
            watched = nil
            return nil
        }
        guard sample.serial == watched else {
            watched = sample.serial
            firstSeen = now
            reported = false
            return nil
        }
        guard !reported, now - firstSeen >= timeoutNanoseconds else { return nil }
        reported = true
        return sample
    }
}
