import CGatewayABI
import Foundation

/// A timer the plugin added to the fake host.
struct FakeTimer {
    var interval: Int64
    var flags: UInt32
    var callback: gwd_timer_fn
    var userData: UnsafeMutableRawPointer?
}

extension FakeHost {
    /// The poster handle get_poster hands out; post refuses any other.
    static var poster: OpaquePointer { OpaquePointer(bitPattern: 0x9057_0000)! }

    /// Fires timer `id` as the host does, on the calling thread (the tests' plugin thread): a
    /// one-shot timer is forgotten before its callback runs. False when there is no such timer.
    @discardableResult
    func fire(_ id: UInt64) -> Bool {
        guard let timer = timers[id] else { return false }
        if timer.flags & GWD_TIMER_REPEAT == 0 { timers[id] = nil }
        timer.callback(FakeHost.context, id, timer.userData)
        return true
    }

    /// The id of the timer added last.
    var lastTimerID: UInt64 { nextTimerID - 1 }
}

/// An event_emit argument as the fake records it: its type letter and value, e.g. "i:5", "s:HI".
func describeArgument(_ argument: gwd_arg) -> String {
    let type = Character(Unicode.Scalar(UInt8(truncatingIfNeeded: argument.type)))
    switch type {
    case "s": return "s:" + (argument.text.map { String(cString: $0) } ?? "<NULL>")
    case "S", "j": return "\(type):" + text(argument.text, argument.len)
    case "i": return "i:\(argument.integer)"
    case "d": return "d:\(argument.number)"
    case "b": return "b:\(argument.flag)"
    default: return "?\(argument.type)"
    }
}

/// The worker's queue of posted work, which any thread may post to: behind a lock, unlike the
/// rest of the fake. ``drain()`` runs the queued tasks on the calling thread, as the plugin
/// thread would.
final class FakePostQueue: @unchecked Sendable {
    private struct Queued {
        var callback: gwd_task_fn
        var userData: UnsafeMutableRawPointer?
    }

    private let condition = NSCondition()
    private var tasks: [Queued] = []
    private var refusal: Int32 = 0
    private var capacity = 16384
    private var acceptedCount = 0
    private var refusedCount = 0

    /// Answers `status` to every post from now on (0: accept again), e.g. GWD_ERR_STOPPING.
    func refuse(with status: gwd_status) {
        condition.withLock { refusal = Int32(bitPattern: status.rawValue) }
    }

    func setCapacity(_ capacity: Int) {
        condition.withLock { self.capacity = capacity }
    }

    /// How many tasks are waiting.
    var count: Int { condition.withLock { tasks.count } }

    /// How many posts were accepted since the last reset.
    var accepted: Int { condition.withLock { acceptedCount } }

    /// How many posts were refused (with ``refuse(with:)`` or for a full queue) since the last reset.
    var refused: Int { condition.withLock { refusedCount } }

    /// The table's `post`: any thread.
    func post(_ poster: OpaquePointer?, _ callback: gwd_task_fn?, _ userData: UnsafeMutableRawPointer?) -> Int32 {
        condition.withLock {
            guard poster == FakeHost.poster, let callback else { return Int32(bitPattern: GWD_ERR_INVALID_ARGUMENT.rawValue) }
            defer { condition.broadcast() }
            if refusal != 0 {
                refusedCount += 1
                return refusal
            }
            guard tasks.count < capacity else {
                refusedCount += 1
                return Int32(bitPattern: GWD_ERR_QUEUE_FULL.rawValue)
            }
            tasks.append(Queued(callback: callback, userData: userData))
            acceptedCount += 1
            return 0
        }
    }

    /// Waits until at least `count` tasks are queued; false after `timeout`.
    func wait(for count: Int, timeout: TimeInterval = 10) -> Bool {
        waitUntil(timeout: timeout) { $0.tasks.count >= count }
    }

    /// Waits until at least `count` posts were refused; false after `timeout`.
    func wait(forRefusals count: Int, timeout: TimeInterval = 10) -> Bool {
        waitUntil(timeout: timeout) { $0.refusedCount >= count }
    }

    private func waitUntil(timeout: TimeInterval, _ done: (FakePostQueue) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !done(self) {
            if !condition.wait(until: deadline) { return done(self) }
        }
        return true
    }

    /// ``wait(for:timeout:)`` for async tests, without blocking a cooperative thread.
    func waitAsync(for count: Int, timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while self.count < count {
            if ContinuousClock.now > deadline { return false }
            try? await Task<Never, Never>.sleep(for: .milliseconds(1))
        }
        return true
    }

    /// Runs every queued task, in order, on the calling thread, also those posted meanwhile;
    /// returns how many ran.
    @discardableResult
    func drain() -> Int {
        var ran = 0
        while let task = condition.withLock({ tasks.isEmpty ? nil : tasks.removeFirst() }) {
            task.callback(FakeHost.context, task.userData)
            ran += 1
        }
        return ran
    }

    /// Forgets queued tasks (their user data leaks: tests drain what they post) and refusals.
    func reset() {
        condition.withLock {
            tasks = []
            refusal = 0
            capacity = 16384
            acceptedCount = 0
            refusedCount = 0
        }
    }
}

/// The posted work of the fake host; shared by every thread.
let fakePosts = FakePostQueue()

extension FakeHostTable {
    /// The ABI 1.2 entries: timers kept in ``FakeHost/timers`` and fired by hand with
    /// ``FakeHost/fire(_:)``; posts queued in ``fakePosts`` and run by hand with
    /// ``FakePostQueue/drain()``. Argument checks as gatewayd.h gives them.
    static func installVersion1_2(_ table: inout gwd_host_api) {
        table.timer_add = { context, interval, flags, callback, userData, out in
            let status = fakeHost.record(context, HostCall(function: "timer_add", flags: flags, number: interval))
            guard status == 0 else { return status }
            guard interval > 0, interval <= 1_000_000_000_000, let callback, flags & ~GWD_TIMER_REPEAT == 0 else {
                return Int32(bitPattern: GWD_ERR_INVALID_ARGUMENT.rawValue)
            }
            guard fakeHost.timers.count < 65536 else { return Int32(bitPattern: GWD_ERR_TOO_LARGE.rawValue) }
            let id = fakeHost.nextTimerID
            fakeHost.nextTimerID += 1
            fakeHost.timers[id] = FakeTimer(interval: interval, flags: flags, callback: callback, userData: userData)
            out?.pointee = id
            return 0
        }
        table.timer_del = { context, id in
            let status = fakeHost.record(context, HostCall(function: "timer_del", number: Int64(bitPattern: id)))
            guard status == 0 else { return status }
            return fakeHost.timers.removeValue(forKey: id) != nil ? 0 : Int32(bitPattern: GWD_ERR_NOT_FOUND.rawValue)
        }
        table.get_poster = { context, out in
            let status = fakeHost.record(context, HostCall(function: "get_poster"))
            guard status == 0 else { return status }
            guard let out else { return Int32(bitPattern: GWD_ERR_INVALID_ARGUMENT.rawValue) }
            out.pointee = FakeHost.poster
            return 0
        }
        table.post = { poster, callback, userData in
            fakePosts.post(poster, callback, userData)
        }
        // Typed events: recorded, and the handlers kept so that a test can call them as the host
        // would. The Swift SDK decodes events itself and never calls these; its tests check that.
        table.event_on = { context, name, signature, handler in
            let name = name.map { String(cString: $0) }
            let signature = signature.map { String(cString: $0) }
            let status = fakeHost.record(context, HostCall(function: "event_on", name: name, data: signature))
            guard status == 0 else { return status }
            guard let name, let signature, let handler else { return Int32(bitPattern: GWD_ERR_INVALID_ARGUMENT.rawValue) }
            guard fakeHost.eventHandlers[name] == nil else { return Int32(bitPattern: GWD_ERR_EXISTS.rawValue) }
            fakeHost.eventHandlers[name] = (signature, handler)
            return 0
        }
        table.event_result = { context, json, length in
            fakeHost.record(context, HostCall(function: "event_result", data: text(json, length)))
        }
        table.event_emit = { context, kind, target, targetLength, name, args, count in
            fakeHost.record(context, HostCall(function: "event_emit", name: name.map { String(cString: $0) },
                                              data: target == nil ? nil : text(target, targetLength), flags: kind,
                                              list: UnsafeBufferPointer(start: args, count: args == nil ? 0 : count).map(describeArgument)))
        }
    }
}
