import XCTest

@testable import GatewayHub

final class RouterTestWorker: RoutedWorker {
    let key: String
    var assignedClients = 0
    var draining = false
    var isRouted = false

    init(key: String) {
        self.key = key
    }
}

final class RouterTestClient: RoutedClient {
    var worker: RouterTestWorker?
}

final class WorkerRouterTests: XCTestCase {
    typealias WorkerRouter = GatewayHub.WorkerRouter<RouterTestWorker>

    private func worker(_ key: String, assigned: Int = 0) -> RouterTestWorker {
        let link = RouterTestWorker(key: key)
        link.assignedClients = assigned
        return link
    }

    private func client(_ id: UInt32 = 1) -> RouterTestClient {
        RouterTestClient()
    }

    func testNoWorkerGivesNil() {
        var router = WorkerRouter()
        let client = client()
        XCTAssertNil(router.worker(for: client))
        XCTAssertNil(client.worker)
    }

    func testFirstPickAssignsAndCounts() {
        var router = WorkerRouter()
        let a = worker("10.0.0.1:a")
        XCTAssertNil(router.add(a))
        let client = client()
        XCTAssertTrue(router.worker(for: client) === a)
        XCTAssertTrue(client.worker === a)
        XCTAssertEqual(a.assignedClients, 1)
    }

    func testAssignmentIsSticky() {
        var router = WorkerRouter()
        let a = worker("a")
        _ = router.add(a)
        let client = client()
        _ = router.worker(for: client)

        let b = worker("b")
        _ = router.add(b)
        for _ in 0..<3 {
            XCTAssertTrue(router.worker(for: client) === a, "stays with its worker although b is less loaded")
        }
        XCTAssertEqual(a.assignedClients, 1, "asking again does not count again")
        XCTAssertEqual(b.assignedClients, 0)
    }

    func testNewClientGoesToTheLeastAssignedWorker() {
        var router = WorkerRouter()
        let a = worker("a", assigned: 2)
        let b = worker("b", assigned: 1)
        let c = worker("c", assigned: 3)
        for link in [a, b, c] { _ = router.add(link) }
        XCTAssertTrue(router.worker(for: client(1)) === b)
        XCTAssertEqual(b.assignedClients, 2)
    }

    func testTiesAreBrokenByKey() {
        var router = WorkerRouter()
        let links = ["w3", "w1", "w2"].map { worker($0) }
        for link in links { _ = router.add(link) }
        XCTAssertEqual(router.worker(for: client(1))?.key, "w1")
        XCTAssertEqual(router.worker(for: client(2))?.key, "w2")
        XCTAssertEqual(router.worker(for: client(3))?.key, "w3")
        XCTAssertEqual(router.worker(for: client(4))?.key, "w1", "round robin once all are level")
    }

    func testClientsSpreadEvenly() {
        var router = WorkerRouter()
        let links = ["a", "b", "c"].map { worker($0) }
        for link in links { _ = router.add(link) }
        for id in 1...9 { _ = router.worker(for: client(UInt32(id))) }
        XCTAssertEqual(links.map(\.assignedClients), [3, 3, 3])
    }

    func testRepicksWhenTheWorkerWasRemoved() {
        var router = WorkerRouter()
        let a = worker("a")
        let b = worker("b", assigned: 5)
        _ = router.add(a)
        _ = router.add(b)
        let client = client()
        XCTAssertTrue(router.worker(for: client) === a)

        router.remove(a)

        XCTAssertFalse(router.contains(a))
        XCTAssertTrue(router.worker(for: client) === b)
        XCTAssertTrue(client.worker === b)
        XCTAssertEqual(b.assignedClients, 6)
    }

    func testRepickWithNoWorkerLeftClearsTheAssignment() {
        var router = WorkerRouter()
        let a = worker("a")
        _ = router.add(a)
        let client = client()
        _ = router.worker(for: client)
        router.remove(a)
        XCTAssertNil(router.worker(for: client))
        XCTAssertNil(client.worker)
    }

    func testAddingTheSameKeyReturnsTheReplacedLink() {
        var router = WorkerRouter()
        let first = worker("10.0.0.1:BusinessWorker:0")
        let second = worker("10.0.0.1:BusinessWorker:0")
        XCTAssertNil(router.add(first))
        XCTAssertTrue(router.add(second) === first)
        XCTAssertEqual(router.count, 1)
        XCTAssertFalse(router.contains(first))
        XCTAssertTrue(router.contains(second))
    }

    func testClientsOfAReplacedLinkMoveToItsSuccessor() {
        var router = WorkerRouter()
        let first = worker("k")
        _ = router.add(first)
        let client = client()
        _ = router.worker(for: client)
        let second = worker("k")
        _ = router.add(second)
        XCTAssertTrue(router.worker(for: client) === second)
        XCTAssertEqual(second.assignedClients, 1)
    }

    func testRemovingAReplacedLinkKeepsItsSuccessor() {
        var router = WorkerRouter()
        let first = worker("k")
        let second = worker("k")
        _ = router.add(first)
        _ = router.add(second)
        router.remove(first)
        XCTAssertTrue(router.contains(second))
        XCTAssertEqual(router.count, 1)
    }

    func testReleaseDecrementsAndClears() {
        var router = WorkerRouter()
        let a = worker("a")
        _ = router.add(a)
        let one = client(1)
        let two = client(2)
        _ = router.worker(for: one)
        _ = router.worker(for: two)
        XCTAssertEqual(a.assignedClients, 2)

        router.release(one)

        XCTAssertEqual(a.assignedClients, 1)
        XCTAssertNil(one.worker)
        XCTAssertTrue(two.worker === a)
    }

    func testReleaseOfAnUnassignedClientDoesNothing() {
        var router = WorkerRouter()
        let a = worker("a", assigned: 1)
        _ = router.add(a)
        let client = client()
        router.release(client)
        router.release(client)
        XCTAssertEqual(a.assignedClients, 1)
    }

    func testReleasedLoadIsPickedAgain() {
        var router = WorkerRouter()
        let a = worker("a")
        let b = worker("b")
        _ = router.add(a)
        _ = router.add(b)
        let first = client(1)
        let second = client(2)
        _ = router.worker(for: first)  // a
        _ = router.worker(for: second)  // b
        router.release(second)
        XCTAssertTrue(router.worker(for: client(3)) === b)
    }
}
