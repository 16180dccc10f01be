import Foundation
import GatewayEventLoop
import Glibc
import XCTest

final class MailboxTests: XCTestCase {
    func testOffersPastTheCapacityAreRefused() throws {
        let loop = try EventLoop()
        let mailbox = Mailbox<Int>(capacity: 3, waker: loop.waker)
        XCTAssertEqual((1...4).map { mailbox.offer($0) }, [.accepted, .accepted, .accepted, .full])
        var taken: [Int] = []
        mailbox.takeAll(into: &taken)
        XCTAssertEqual(taken, [1, 2, 3])
        XCTAssertEqual(mailbox.offer(5), .accepted, "room again once taken")
        mailbox.takeAll(into: &taken)
        XCTAssertEqual(taken, [1, 2, 3, 5], "appends to a non-empty buffer")
    }

    func testCloseRefusesLaterOffersButKeepsQueuedElements() throws {
        let loop = try EventLoop()
        let mailbox = Mailbox<String>(capacity: .max, waker: loop.waker)
        XCTAssertFalse(mailbox.isClosed)
        XCTAssertEqual(mailbox.offer("a"), .accepted)
        XCTAssertEqual(mailbox.offer("b"), .accepted)
        mailbox.close()
        XCTAssertTrue(mailbox.isClosed)
        XCTAssertEqual(mailbox.offer("c"), .closed)
        var taken: [String] = []
        mailbox.takeAll(into: &taken)
        XCTAssertEqual(taken, ["a", "b"])
        taken.removeAll()
        mailbox.takeAll(into: &taken)
        XCTAssertEqual(taken, [])
    }

    func testAnOfferWakesTheLoop() throws {
        let loop = try EventLoop()
        let mailbox = Mailbox<Int>(capacity: 16, waker: loop.waker)
        var taken: [Int] = []
        loop.onWake = { [unowned loop] in
            mailbox.takeAll(into: &taken)
            loop.stop()
        }
        let thread = Thread { _ = mailbox.offer(7) }
        thread.start()
        loop.run(failAfter: 10)
        XCTAssertEqual(taken, [7])
    }

    func testFourProducersDeliverEveryElementOnceInOrder() throws {
        let producers = 4
        let perProducer = 10_000
        let loop = try EventLoop()
        // Small enough that producers hit .full and retry, which must not lose a wake.
        let mailbox = Mailbox<(producer: Int, sequence: Int)>(capacity: 256, waker: loop.waker)
        var expected = [Int](repeating: 0, count: producers)
        var received = 0
        var buffer: [(producer: Int, sequence: Int)] = []
        loop.onWake = { [unowned loop] in
            mailbox.takeAll(into: &buffer)
            for element in buffer {
                XCTAssertEqual(element.sequence, expected[element.producer], "producer \(element.producer)")
                expected[element.producer] = element.sequence + 1
            }
            received += buffer.count
            buffer.removeAll(keepingCapacity: true)
            if received == producers * perProducer { loop.stop() }
        }
        for producer in 0..<producers {
            Thread {
                for sequence in 0..<perProducer {
                    while mailbox.offer((producer, sequence)) == .full { sched_yield() }
                }
            }.start()
        }
        loop.run(failAfter: 60)
        XCTAssertEqual(received, producers * perProducer)
        XCTAssertEqual(expected, [Int](repeating: perProducer, count: producers))
    }
}
