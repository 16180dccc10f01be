import CGatewayABI
import Foundation
import XCTest

/// The ABI 1.2 rows, `tick:` and `post:`, held to the same host calls for the C and the Swift
/// plugin; and conformance-c's `api:` calls of the 1.2 functions. Timers are fired and posted
/// tasks run by hand, on the test thread, as the host would on the plugin thread (where a timer
/// or a task has no current client).
extension ConformanceDriver {
    /// Runs on_worker_start (the plugins start their poster thread there), `body`, then
    /// on_worker_stop (which joins it).
    func whileStarted(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) rethrows {
        XCTAssertEqual(plugin.pointee.on_worker_start?(FakeHost.context), 0, file: file, line: line)
        defer { plugin.pointee.on_worker_stop?(FakeHost.context) }
        try body()
    }

    /// Fires timer `id` outside any client event; returns the host calls its callback made.
    func fire(_ id: UInt64) -> [HostCall] {
        fakeHost.calls = []
        fakeHost.currentClient = nil
        XCTAssertTrue(fakeHost.fire(id), "timer \(id) exists")
        return fakeHost.calls
    }

    /// Waits for `count` posted tasks, runs them, and returns the host calls they made.
    func runPosted(_ count: Int, file: StaticString = #filePath, line: UInt = #line) -> [HostCall] {
        XCTAssertTrue(fakePosts.wait(for: count), "\(count) tasks posted", file: file, line: line)
        fakeHost.calls = []
        fakeHost.currentClient = nil
        XCTAssertEqual(fakePosts.drain(), count, file: file, line: line)
        return fakeHost.calls
    }

    func sent(_ text: String, to client: String = clientA) -> HostCall {
        HostCall(function: "send_to_client", client: client, data: text, bytes: Array(text.utf8))
    }

    func checkTick(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(send("tick:50:3", from: clientB), [HostCall(function: "timer_add", flags: GWD_TIMER_REPEAT, number: 50)],
                       "a repeating timer, no reply", file: file, line: line)
        let id = fakeHost.lastTimerID
        XCTAssertEqual(fire(id), [sent("tick:1", to: clientB)], file: file, line: line)
        XCTAssertEqual(fire(id), [sent("tick:2", to: clientB)], file: file, line: line)
        XCTAssertEqual(fire(id), [sent("tick:3", to: clientB), HostCall(function: "timer_del", number: Int64(id))],
                       "deleted after the n-th", file: file, line: line)
        XCTAssertTrue(fakeHost.timers.isEmpty, file: file, line: line)

        for unparsable in ["tick:50", "tick:x:2", "tick:50:0", "tick:50:", "tick::3", "tick:1234567890:1"] {
            XCTAssertEqual(send(unparsable), [], unparsable, file: file, line: line)
        }
        let refused = send("tick:0:1")
        XCTAssertEqual(refused.map(\.function), ["timer_add", "log"], file: file, line: line)
        XCTAssertEqual(refused.last?.data, failure("tick", "invalid argument", GWD_ERR_INVALID_ARGUMENT), file: file, line: line)
        XCTAssertTrue(fakeHost.timers.isEmpty, file: file, line: line)
    }

    func checkPost(file: StaticString = #filePath, line: UInt = #line) {
        whileStarted(file: file, line: line) {
            // (A plugin may declare its typed events there too: conformance-c does, with event_on.)
            XCTAssertEqual(fakeHost.calls.map(\.function).filter { !$0.hasPrefix("event_") }, ["get_poster"],
                           "the poster, once, at start", file: file, line: line)
            XCTAssertEqual(send("post:hello: there", from: clientB), [], "nothing at once", file: file, line: line)
            XCTAssertEqual(runPosted(1), [sent("posted:hello: there", to: clientB)], file: file, line: line)
            for index in 1...3 { send("post:\(index)") }
            XCTAssertEqual(runPosted(3), ["posted:1", "posted:2", "posted:3"].map { sent($0) }, "in order", file: file, line: line)
            XCTAssertEqual(send("post:"), [], file: file, line: line)
            XCTAssertEqual(runPosted(1), [sent("posted:")], file: file, line: line)
        }
        // Stopped: the thread is joined, and starting again works (tests only; a worker starts once).
        whileStarted(file: file, line: line) {
            send("post:again")
            XCTAssertEqual(runPosted(1), [sent("posted:again")], file: file, line: line)
        }
    }

    /// While post answers QUEUE_FULL the plugin's thread retries; a STOPPING post is dropped.
    func checkPostRetriesAFullQueue(file: StaticString = #filePath, line: UInt = #line) {
        whileStarted(file: file, line: line) {
            fakePosts.refuse(with: GWD_ERR_QUEUE_FULL)
            send("post:patient")
            XCTAssertTrue(fakePosts.wait(forRefusals: 3), "retried", file: file, line: line)
            XCTAssertEqual(fakePosts.count, 0, file: file, line: line)
            fakePosts.refuse(with: GWD_OK)
            XCTAssertEqual(runPosted(1), [sent("posted:patient")], file: file, line: line)
            let refusals = fakePosts.refused
            fakePosts.refuse(with: GWD_ERR_STOPPING)
            send("post:dropped")
            XCTAssertTrue(fakePosts.wait(forRefusals: refusals + 1), file: file, line: line)
            Thread.sleep(forTimeInterval: 0.02)
            XCTAssertEqual(fakePosts.refused, refusals + 1, "not retried", file: file, line: line)
            XCTAssertEqual(fakePosts.accepted, 1, file: file, line: line)
        }
        XCTAssertEqual(fakePosts.count, 0, "nothing posted after the refusal", file: file, line: line)
    }

    /// On a 1.1 host the plugin loads and starts; tick: and post: log UNSUPPORTED.
    static func checkTickAndPostOnAVersion1_1Host(_ library: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let size = MemoryLayout<gwd_host_api>.offset(of: \.timer_add)!
        let driver = try load(library, table: FakeHostTable.allocate { $0.struct_size = UInt32(size); $0.abi_minor = 1 })
        driver.whileStarted(file: file, line: line) {
            for command in ["tick:10:2", "post:x"] {
                let calls = driver.send(command)
                XCTAssertEqual(calls.map(\.function), ["log"], command, file: file, line: line)
                let logged = calls.first?.data ?? ""
                XCTAssertTrue(logged.hasPrefix("\(driver.name): \(command.prefix { $0 != ":" }) failed: "), logged, file: file, line: line)
                XCTAssertTrue(logged.hasSuffix(" (8)"), logged, file: file, line: line)
            }
        }
        XCTAssertEqual(fakePosts.count, 0, file: file, line: line)
    }

    /// conformance-c's `api:` calls of the 1.2 functions.
    func checkAPIVersion1_2(file: StaticString = #filePath, line: UInt = #line) {
        // timer_add / timer_del
        let repeating = fakeHost.nextTimerID
        XCTAssertEqual(api("timer_add 100 1"), "api:timer_add:\(repeating)", file: file, line: line)
        XCTAssertEqual(fakeHost.timers[repeating]?.interval, 100, file: file, line: line)
        XCTAssertEqual(fire(repeating), [sent("api:timer:\(repeating)")], file: file, line: line)
        XCTAssertEqual(fire(repeating), [sent("api:timer:\(repeating)")], file: file, line: line)
        XCTAssertEqual(api("timer_del \(repeating)"), "api:timer_del:null", file: file, line: line)
        XCTAssertEqual(api("timer_del \(repeating)"), "api:timer_del:error:GWD_ERR_NOT_FOUND", file: file, line: line)
        let once = fakeHost.nextTimerID
        XCTAssertEqual(api("timer_add 5 0"), "api:timer_add:\(once)", file: file, line: line)
        XCTAssertEqual(fakeHost.timers[once]?.flags, GWD_TIMER_ONCE, file: file, line: line)
        XCTAssertEqual(fire(once), [sent("api:timer:\(once)")], file: file, line: line)
        XCTAssertEqual(api("timer_del \(once)"), "api:timer_del:error:GWD_ERR_NOT_FOUND", "a fired one-shot timer", file: file, line: line)
        let invalid: [(String, String)] = [
            ("timer_add 0 1", "the host's check"), ("timer_add -5 0", "the host's check"),
            ("timer_add 1000000000001 1", "the host's check"), ("timer_add 100 2", "unknown flags: the host's check"),
            ("timer_add 100 0 null", "a NULL callback: the host's check"), ("timer_add 100 0 nope", "the plugin's parse"),
            ("timer_add 100", "the plugin's parse"), ("timer_add 9223372036854775808 1", "the plugin's parse"),
            ("timer_del x", "the plugin's parse"),
        ]
        for (call, why) in invalid {
            XCTAssertEqual(api(call), "api:\(call.prefix { $0 != " " }):error:GWD_ERR_INVALID_ARGUMENT", "\(call): \(why)",
                           file: file, line: line)
        }
        XCTAssertEqual(apiCalls("timer_add -9223372036854775808 1"),
                       [HostCall(function: "timer_add", flags: GWD_TIMER_REPEAT, number: .min)], file: file, line: line)
        XCTAssertTrue(fakeHost.timers.isEmpty, file: file, line: line)

        // get_poster, post
        XCTAssertEqual(api("get_poster"), "api:get_poster:null", file: file, line: line)
        XCTAssertEqual(api("get_poster null"), "api:get_poster:error:GWD_ERR_INVALID_ARGUMENT", file: file, line: line)
        XCTAssertEqual(api("post hi there"), "api:post:null", file: file, line: line)
        XCTAssertEqual(runPosted(1), [sent("api:posted:hi there")], "after the callback", file: file, line: line)
        XCTAssertEqual(api("post_null poster"), "api:post_null:error:GWD_ERR_INVALID_ARGUMENT", file: file, line: line)
        XCTAssertEqual(api("post_null callback"), "api:post_null:error:GWD_ERR_INVALID_ARGUMENT", file: file, line: line)
        XCTAssertEqual(api("post_null other"), "api:post_null:error:GWD_ERR_INVALID_ARGUMENT", file: file, line: line)
        fakePosts.refuse(with: GWD_ERR_STOPPING)
        XCTAssertEqual(api("post late"), "api:post:error:GWD_ERR_STOPPING", file: file, line: line)
        XCTAssertEqual(api("post_many 3"), #"api:post_many:{"accepted":0,"status":"GWD_ERR_STOPPING"}"#, file: file, line: line)
        fakePosts.refuse(with: GWD_OK)

        // post_many: the queue bound, exactly once, in order
        fakePosts.setCapacity(4)
        XCTAssertEqual(api("post_many 6"), #"api:post_many:{"accepted":4,"status":"GWD_ERR_QUEUE_FULL"}"#, file: file, line: line)
        XCTAssertEqual(runPosted(4), [sent("api:post_many:ran:4")], file: file, line: line)
        XCTAssertEqual(api("post_many 2"), #"api:post_many:{"accepted":2,"status":"GWD_OK"}"#, file: file, line: line)
        XCTAssertEqual(runPosted(2), [sent("api:post_many:ran:2")], file: file, line: line)
        XCTAssertEqual(api("post_many 0"), "api:post_many:error:GWD_ERR_INVALID_ARGUMENT", file: file, line: line)
        XCTAssertEqual(api("post_many 1000001"), "api:post_many:error:GWD_ERR_INVALID_ARGUMENT", file: file, line: line)
    }

    /// On a 1.1 host the 1.2 `api:` functions answer UNSUPPORTED without calling anything.
    static func checkAPIVersion1_2OnAVersion1_1Host(_ library: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let size = MemoryLayout<gwd_host_api>.offset(of: \.timer_add)!
        let driver = try load(library, table: FakeHostTable.allocate { $0.struct_size = UInt32(size); $0.abi_minor = 1 })
        for call in ["timer_add 10 1", "timer_del 1", "get_poster", "post x", "post_null poster", "post_many 1"] {
            let function = call.prefix { $0 != " " }
            XCTAssertEqual(driver.api(call), "api:\(function):error:GWD_ERR_UNSUPPORTED", call, file: file, line: line)
        }
        XCTAssertEqual(driver.apiCalls("get_all_client_count"), [HostCall(function: "get_all_client_count")], file: file, line: line)
    }
}
