import GatewayEventLoop
import Glibc
import XCTest

final class EventLoopIOTests: XCTestCase {
    func testReadableHandlerReceivesTheBytes() throws {
        let loop = try EventLoop()
        let (a, b) = try makeSocketPair()
        defer {
            close(a)
            close(b)
        }
        var received = ""
        let handler = ClosureHandler(onReadable: { [unowned loop] in
            received += readString(a) ?? "<EOF>"
            if received.count >= 5 { loop.stop() }
        })
        let registration = try loop.register(fd: a, interest: .readable, handler: handler)
        writeString(b, "hello")
        loop.run(failAfter: 10)
        loop.unregister(registration)
        XCTAssertEqual(received, "hello")
    }

    func testWritableInterestToggles() throws {
        let loop = try EventLoop()
        let (a, b) = try makeSocketPair()
        defer {
            close(a)
            close(b)
        }
        var writableIn: [Int] = []
        var iteration = 1
        let handler = ClosureHandler(onWritable: { writableIn.append(iteration) })
        let registration = try loop.register(fd: a, interest: [], handler: handler)
        // An empty socket is always writable: level-triggered, it is reported in every
        // iteration while the interest is set, and in none after.
        loop.afterIteration = { [unowned loop] in
            switch iteration {
            case 1: loop.setInterest(registration, .writable)
            case 3: loop.setInterest(registration, [])
            case 5: loop.setInterest(registration, [.readable, .writable])
            case 6: loop.setInterest(registration, .readable)
            case 8: loop.stop()
            default: break
            }
            iteration += 1
            loop.requestImmediateIteration()
        }
        loop.requestImmediateIteration()
        loop.run(failAfter: 10)
        loop.unregister(registration)
        XCTAssertEqual(writableIn, [2, 3, 6])
    }

    func testUnregisterInsideTheHandlerStopsFurtherCalls() throws {
        let loop = try EventLoop()
        let (a, b) = try makeSocketPair()
        defer {
            close(a)
            close(b)
        }
        var calls = 0
        var registration: Registration?
        let handler = ClosureHandler(onReadable: { [unowned loop] in
            calls += 1
            loop.unregister(registration!)  // without reading: level-triggered, it stays readable
        })
        weak let weakHandler = handler
        registration = try loop.register(fd: a, interest: .readable, handler: handler)
        writeString(b, "data")
        var iterations = 0
        loop.afterIteration = { [unowned loop] in
            iterations += 1
            if iterations == 5 { loop.stop() } else { loop.requestImmediateIteration() }
        }
        loop.run(failAfter: 10)
        XCTAssertEqual(calls, 1)
        loop.unregister(registration!)  // twice: ignored
        _ = consume handler
        XCTAssertNil(weakHandler, "unregister releases the handler")
    }

    func testEventsOfARegistrationRemovedEarlierInTheSameIterationAreDropped() throws {
        // Both descriptors are readable before the loop starts, so its first wait returns both.
        // Whichever handler runs first removes the other, closes its fd and registers a fresh
        // descriptor, which likely reuses the fd number and the slot. The stale event must
        // reach neither the removed handler nor the new one.
        let loop = try EventLoop()
        let (a1, b1) = try makeSocketPair()
        let (a2, b2) = try makeSocketPair()
        writeString(b1, "1")
        writeString(b2, "2")
        var calls: [String] = []
        var registrations: [Registration] = []
        let fds = [a1, a2]
        var replacement: (fd: Int32, peer: Int32, registration: Registration)?
        var handlers: [ClosureHandler] = []
        for index in 0..<2 {
            handlers.append(ClosureHandler(onReadable: { [unowned loop] in
                calls.append("handler \(index)")
                _ = readString(fds[index])
                let other = 1 - index
                loop.unregister(registrations[other])
                close(fds[other])
                do {
                    let (fresh, peer) = try makeSocketPair()
                    let handler = ClosureHandler(onReadable: { calls.append("replacement") })
                    replacement = (fresh, peer, try loop.register(fd: fresh, interest: .readable, handler: handler))
                } catch {
                    XCTFail("\(error)")
                }
                loop.unregister(registrations[index])
            }))
        }
        registrations = try (0..<2).map { try loop.register(fd: fds[$0], interest: .readable, handler: handlers[$0]) }
        var iterations = 0
        loop.afterIteration = { [unowned loop] in
            iterations += 1
            if iterations == 3 { loop.stop() } else { loop.requestImmediateIteration() }
        }
        loop.run(failAfter: 10)
        XCTAssertEqual(calls.count, 1, "\(calls)")
        XCTAssertTrue(calls.first?.hasPrefix("handler") ?? false)
        let survivor = calls.first == "handler 0" ? a1 : a2
        close(survivor)
        close(b1)
        close(b2)
        if let replacement {
            loop.unregister(replacement.registration)
            close(replacement.fd)
            close(replacement.peer)
        }
    }

    func testEndOfStreamReachesReadable() throws {
        let loop = try EventLoop()
        let (a, b) = try makeSocketPair()
        defer { close(a) }
        var reads: [String?] = []
        var registration: Registration?
        let handler = ClosureHandler(onReadable: { [unowned loop] in
            let text = readString(a)
            reads.append(text)
            if text == nil {
                loop.unregister(registration!)
                loop.stop()
            }
        })
        registration = try loop.register(fd: a, interest: .readable, handler: handler)
        writeString(b, "last words")
        close(b)
        loop.run(failAfter: 10)
        XCTAssertEqual(reads, ["last words", nil])
    }

    func testAHangUpCallsReadableEvenWithoutInterest() throws {
        let loop = try EventLoop()
        let (a, b) = try makeSocketPair()
        defer { close(a) }
        var eof = false
        var registration: Registration?
        let handler = ClosureHandler(onReadable: { [unowned loop] in
            eof = readString(a) == nil
            loop.unregister(registration!)
            loop.stop()
        })
        registration = try loop.register(fd: a, interest: [], handler: handler)
        close(b)
        loop.run(failAfter: 10)
        XCTAssertTrue(eof)
    }

    func testRegisteringABadDescriptorThrows() throws {
        let loop = try EventLoop()
        XCTAssertThrowsError(try loop.register(fd: -1, interest: .readable, handler: ClosureHandler())) { error in
            XCTAssertEqual((error as? EventLoopError)?.errno, EBADF)
            XCTAssertEqual((error as? EventLoopError)?.syscall, "epoll_ctl")
        }
        // The failed slot is reused cleanly.
        let (a, b) = try makeSocketPair()
        defer {
            close(a)
            close(b)
        }
        var called = false
        let registration = try loop.register(fd: a, interest: .writable, handler: ClosureHandler(onWritable: { [unowned loop] in
            called = true
            loop.stop()
        }))
        loop.run(failAfter: 10)
        loop.unregister(registration)
        XCTAssertTrue(called)
    }
}
