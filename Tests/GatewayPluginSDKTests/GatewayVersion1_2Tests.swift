import CGatewayABI
import Foundation
import GatewayPluginSDK
import XCTest

/// Something for a closure to capture, to see when the closure is released.
final class Token: Sendable {}

/// The ABI 1.2 parts of the SDK: timers (``GatewayTimer``) and work from other threads
/// (``GatewayPoster``), against the fake host, whose timers a test fires by hand and whose posted
/// tasks it runs by hand on the test thread (the "plugin thread").
final class GatewayVersion1_2Tests: GatewayCallTestCase {
    override func tearDown() {
        XCTAssertEqual(fakePosts.count, 0, "posted tasks left unrun")
        super.tearDown()
    }

    // MARK: Timers

    func testRepeatingTimerFiresUntilCancelled() throws {
        var fired: [UInt64] = []
        var timer: GatewayTimer?
        try inCallback { [b] gateway in
            timer = try gateway.addTimer(every: .milliseconds(250)) { gateway, timer in
                fired.append(timer.id)
                try? gateway.send("tick \(fired.count)", to: b)
            }
        }
        let id = try XCTUnwrap(timer).id
        XCTAssertEqual(fakeHost.sends, [HostCall(function: "timer_add", flags: GWD_TIMER_REPEAT, number: 250)])
        XCTAssertEqual(id, fakeHost.lastTimerID)
        XCTAssertTrue(try XCTUnwrap(timer).isActive)

        fakeHost.calls = []
        XCTAssertTrue(fakeHost.fire(id))
        XCTAssertTrue(fakeHost.fire(id))
        XCTAssertTrue(fakeHost.fire(id))
        XCTAssertEqual(fired, [id, id, id])
        XCTAssertEqual(fakeHost.sends.map(\.data), ["tick 1", "tick 2", "tick 3"])
        XCTAssertTrue(try XCTUnwrap(timer).isActive)
    }

    func testOneShotTimerFiresOnceAndReleasesItsClosure() throws {
        var token: Token? = Token()
        weak let released = token
        var runs = 0
        var timer: GatewayTimer?
        try inCallback { [token] gateway in
            timer = try gateway.addTimer(after: .seconds(2)) { _ in
                _ = token
                runs += 1
            }
        }
        token = nil
        XCTAssertEqual(fakeHost.sends, [HostCall(function: "timer_add", flags: GWD_TIMER_ONCE, number: 2000)])
        XCTAssertNotNil(released, "the timer keeps its closure until it fires")
        let id = try XCTUnwrap(timer).id

        XCTAssertTrue(fakeHost.fire(id))
        XCTAssertEqual(runs, 1)
        XCTAssertNil(released, "a one-shot timer releases its closure once it fired")
        XCTAssertFalse(try XCTUnwrap(timer).isActive)
        XCTAssertFalse(fakeHost.fire(id), "the host forgot it")

        fakeHost.calls = []
        try inCallback { _ in timer?.cancel() }
        XCTAssertEqual(fakeHost.sends, [], "cancelling a fired one-shot timer asks the host nothing")
    }

    func testCancelInsideTheCallbackAndTwice() throws {
        var token: Token? = Token()
        weak let released = token
        var runs = 0
        try inCallback { [token] gateway in
            try gateway.addTimer(every: .milliseconds(10)) { _, timer in
                _ = token
                runs += 1
                if runs == 2 {
                    timer.cancel()
                    XCTAssertFalse(timer.isActive)
                    timer.cancel()
                }
            }
        }
        token = nil
        let id = fakeHost.lastTimerID
        fakeHost.calls = []
        fakeHost.fire(id)
        XCTAssertNotNil(released)
        fakeHost.fire(id)
        XCTAssertEqual(runs, 2)
        XCTAssertEqual(fakeHost.sends, [HostCall(function: "timer_del", number: Int64(id))], "one timer_del for two cancels")
        XCTAssertNil(released, "released once its last run returned")
        XCTAssertFalse(fakeHost.fire(id), "deleted")
    }

    func testCancelFromAnotherCallbackTwiceReleasesTheClosure() throws {
        var token: Token? = Token()
        weak let released = token
        var timer: GatewayTimer?
        try inCallback { [token] gateway in
            timer = try gateway.addTimer(every: .seconds(1)) { _, _ in _ = token }
        }
        token = nil
        fakeHost.calls = []
        try inCallback { _ in
            timer?.cancel()
            timer?.cancel()
        }
        XCTAssertEqual(fakeHost.sends, [HostCall(function: "timer_del", number: Int64(fakeHost.lastTimerID))])
        XCTAssertNil(released)
        XCTAssertFalse(try XCTUnwrap(timer).isActive)
        XCTAssertTrue(fakeHost.timers.isEmpty)
    }

    /// Outside any callback there is no context to call timer_del with: the timer is deleted the
    /// next time it fires, without running its body.
    func testCancelOutsideACallbackTakesEffectAtTheNextFire() throws {
        var token: Token? = Token()
        weak let released = token
        var runs = 0
        var timer: GatewayTimer?
        try inCallback { [token] gateway in
            timer = try gateway.addTimer(every: .seconds(1)) { _, _ in
                _ = token
                runs += 1
            }
        }
        token = nil
        fakeHost.calls = []
        timer?.cancel()
        XCTAssertEqual(fakeHost.calls, [])
        XCTAssertFalse(try XCTUnwrap(timer).isActive)
        XCTAssertNil(released, "the body is dropped at once")
        fakeHost.fire(try XCTUnwrap(timer).id)
        XCTAssertEqual(runs, 0)
        XCTAssertEqual(fakeHost.sends, [HostCall(function: "timer_del", number: Int64(fakeHost.lastTimerID))])
        XCTAssertTrue(fakeHost.timers.isEmpty)
    }

    func testAFireAndForgetTimerLivesOnWithTheHost() throws {
        var runs = 0
        try inCallback { gateway in
            try gateway.addTimer(every: .milliseconds(5)) { _, _ in runs += 1 }  // the handle is dropped
        }
        fakeHost.fire(fakeHost.lastTimerID)
        fakeHost.fire(fakeHost.lastTimerID)
        XCTAssertEqual(runs, 2)
    }

    func testIntervalsAreRoundedUpToMilliseconds() throws {
        try inCallback { gateway in
            try gateway.addTimer(every: .microseconds(1500)) { _, _ in }
            try gateway.addTimer(every: .nanoseconds(1)) { _, _ in }
            try gateway.addTimer(every: .seconds(3) + .milliseconds(7), repeats: false) { _, _ in }
        }
        XCTAssertEqual(fakeHost.sends.map(\.number), [2, 1, 3007])
        XCTAssertEqual(fakeHost.sends.map(\.flags), [GWD_TIMER_REPEAT, GWD_TIMER_REPEAT, GWD_TIMER_ONCE])
    }

    func testARefusedTimerThrowsTheHostsStatusAndReleasesItsClosure() throws {
        for (interval, code) in [(Duration.zero, GatewayError.Code.invalidArgument), (.milliseconds(-5), .invalidArgument),
                                 (.seconds(Int64.max), .invalidArgument)] {
            var token: Token? = Token()
            weak let released = token
            let error = gatewayError { [token] gateway in try gateway.addTimer(every: interval) { _, _ in _ = token } }
            token = nil
            XCTAssertEqual(error?.code, code, "\(interval)")
            XCTAssertEqual(error?.message, "invalid argument")
            XCTAssertNil(released, "\(interval)")
        }
        fakeHost.statuses["timer_add"] = Int32(GWD_ERR_STOPPING.rawValue)
        let stopping = gatewayError { try $0.addTimer(after: .seconds(1)) { _ in } }
        XCTAssertEqual(stopping?.code, .stopping)
        XCTAssertEqual(stopping?.description, "stopping (GWD_ERR_STOPPING)")
        XCTAssertTrue(fakeHost.timers.isEmpty)
    }

    // MARK: Posting

    /// A poster, got inside a callback.
    func poster() throws -> GatewayPoster {
        var poster: GatewayPoster?
        try inCallback { poster = try $0.poster() }
        XCTAssertEqual(fakeHost.calls.last, HostCall(function: "get_poster"))
        fakeHost.calls = []
        return try XCTUnwrap(poster)
    }

    func testPostFromAnotherThread() throws {
        let poster = try poster()
        let posted = DispatchSemaphore(value: 0)
        let thread = Thread { [b] in
            do {
                try poster.post { gateway in try? gateway.send("from a thread", to: b) }
            } catch {
                XCTFail("\(error)")
            }
            posted.signal()
        }
        thread.start()
        XCTAssertEqual(posted.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(fakePosts.count, 1)
        XCTAssertEqual(fakeHost.calls, [], "nothing runs before the plugin thread runs it")
        XCTAssertEqual(fakePosts.drain(), 1)
        XCTAssertEqual(fakeHost.sends.map(\.data), ["from a thread"])
        XCTAssertEqual(fakeHost.sends.map(\.client), [clientB])
    }

    func testPostFromATaskRunsInOrder() async throws {
        let poster = try poster()
        let task = Task { [b] in
            for index in 1...3 {
                try poster.post { gateway in try? gateway.send("\(index)", to: b) }
            }
        }
        try await task.value
        XCTAssertEqual(fakePosts.count, 3)
        XCTAssertEqual(fakePosts.drain(), 3)
        XCTAssertEqual(fakeHost.sends.map(\.data), ["1", "2", "3"])
    }

    func testAPostedClosureIsReleasedOnceItRan() throws {
        let poster = try poster()
        var token: Token? = Token()
        weak let released = token
        try poster.post { [token] _ in _ = token }
        token = nil
        XCTAssertNotNil(released, "queued: kept")
        XCTAssertEqual(fakePosts.drain(), 1)
        XCTAssertNil(released, "ran: released")
    }

    func testARefusedPostThrowsAndReleasesItsClosure() throws {
        let poster = try poster()
        for status in [GWD_ERR_QUEUE_FULL, GWD_ERR_STOPPING] {
            fakePosts.refuse(with: status)
            var token: Token? = Token()
            weak let released = token
            XCTAssertThrowsError(try poster.post { [token] _ in _ = token }) { error in
                XCTAssertEqual((error as? GatewayError)?.code, GatewayError.Code(rawValue: Int32(status.rawValue)))
            }
            token = nil
            XCTAssertNil(released)
        }
        fakePosts.refuse(with: GWD_OK)
        fakePosts.setCapacity(2)
        try poster.post { _ in }
        try poster.post { _ in }
        XCTAssertThrowsError(try poster.post { _ in }) { XCTAssertEqual(($0 as? GatewayError)?.code, .queueFull) }
        XCTAssertEqual(fakePosts.drain(), 2)
    }

    func testRunReturnsTheValueFromThePluginThread() async throws {
        let poster = try poster()
        async let count = poster.run { gateway in try gateway.allClientCount() }
        let queued = await fakePosts.waitAsync(for: 1)
        XCTAssertTrue(queued)
        XCTAssertEqual(fakePosts.drain(), 1)
        let value = try await count
        XCTAssertEqual(value, 17)
        XCTAssertEqual(fakeHost.sends, [HostCall(function: "get_all_client_count")])
    }

    func testRunRethrowsWhatTheBodyThrows() async throws {
        let poster = try poster()
        fakeHost.statuses["get_all_client_count"] = Int32(GWD_ERR_TIMEOUT.rawValue)
        async let count = poster.run { gateway in try gateway.allClientCount() }
        let queued = await fakePosts.waitAsync(for: 1)
        XCTAssertTrue(queued)
        fakePosts.drain()
        do {
            _ = try await count
            XCTFail("no error")
        } catch {
            XCTAssertEqual((error as? GatewayError)?.code, .timeout)
        }
    }

    func testRunThrowsARefusedPost() async throws {
        let poster = try poster()
        for (status, code) in [(GWD_ERR_QUEUE_FULL, GatewayError.Code.queueFull), (GWD_ERR_STOPPING, .stopping)] {
            fakePosts.refuse(with: status)
            do {
                _ = try await poster.run { _ in 1 }
                XCTFail("no error")
            } catch {
                XCTAssertEqual((error as? GatewayError)?.code, code)
            }
        }
        XCTAssertEqual(fakePosts.accepted, 0)
    }

    // MARK: Older hosts

    func testA1_1HostAnswersUnsupported() throws {
        let size = MemoryLayout<gwd_host_api>.offset(of: \.timer_add)!
        let descriptor = try register(
            ScriptedPlugin.self, table: FakeHostTable.allocate { $0.struct_size = UInt32(size); $0.abi_minor = 1 })
        var errors: [GatewayError] = []
        ScriptedPlugin.script = { gateway, _, _ in
            do { try gateway.addTimer(every: .seconds(1)) { _, _ in } } catch let error as GatewayError { errors.append(error) } catch {}
            do { _ = try gateway.poster() } catch let error as GatewayError { errors.append(error) } catch {}
        }
        deliver(.text("go"), to: descriptor)
        XCTAssertEqual(errors.map(\.code), [.unsupported, .unsupported])
        XCTAssertEqual(errors.map(\.message), [
            "the host's API table has no timer_add (ABI 1.1)",
            "the host's API table has no get_poster (ABI 1.1)",
        ])
        XCTAssertEqual(fakeHost.sends, [])
    }

    func testTheNewStatusesHaveNames() {
        XCTAssertEqual(GatewayError.Code.queueFull.rawValue, 13)
        XCTAssertEqual(GatewayError.Code.stopping.rawValue, 14)
        XCTAssertEqual("\(GatewayError.Code.queueFull) \(GatewayError.Code.stopping)", "GWD_ERR_QUEUE_FULL GWD_ERR_STOPPING")
    }
}
