import NIOCore
import XCTest

@testable import GatewayHub

/// A client with just what the directory reads.
final class DirectoryTestClient: DirectoryClient {
    let id: UInt32
    var session = ByteBuffer()
    var uid: String?
    var groups: Set<String> = []

    init(id: UInt32) {
        self.id = id
    }
}

final class ClientDirectoryTests: XCTestCase {
    typealias ConnectionTable = ClientDirectory<DirectoryTestClient>

    private func connection(_ id: UInt32) -> DirectoryTestClient {
        DirectoryTestClient(id: id)
    }

    /// Inserts `ids` as connections and returns them by id.
    @discardableResult
    private func insert(_ ids: [UInt32], into table: inout ConnectionTable) -> [UInt32: DirectoryTestClient] {
        var inserted: [UInt32: DirectoryTestClient] = [:]
        for id in ids {
            let made = connection(id)
            table.insert(made)
            inserted[id] = made
        }
        return inserted
    }

    // MARK: - Ids

    func testIDsCountUpFromOne() {
        var table = ConnectionTable()
        XCTAssertEqual((0..<5).map { _ in table.nextID() }, [1, 2, 3, 4, 5])
    }

    func testIDsSkipIDsInUse() {
        var table = ConnectionTable()
        insert([2, 3, 5], into: &table)
        XCTAssertEqual(table.nextID(), 1)
        XCTAssertEqual(table.nextID(), 4)
        XCTAssertEqual(table.nextID(), 6)
    }

    func testIDsOfRemovedConnectionsAreNotReusedUntilTheCounterComesBack() {
        var table = ConnectionTable()
        for _ in 0..<3 { table.insert(connection(table.nextID())) }
        table.remove(2)
        XCTAssertEqual(table.nextID(), 4, "the counter moves on; it does not fill the gap")
    }

    /// `lastID` is private and reaching 2^32−1 by calling `nextID()` takes ~4 billion steps, so
    /// this test sets it in place. The layout assumption is checked first (the word after the
    /// three dictionaries must track `nextID()`); if it does not hold, the test skips.
    private func setLastID(_ value: UInt32, in table: inout ConnectionTable) throws {
        let offset = 3 * MemoryLayout<[UInt32: DirectoryTestClient]>.stride
        guard MemoryLayout<ConnectionTable>.size == offset + MemoryLayout<UInt32>.size else {
            throw XCTSkip("ConnectionTable layout changed; cannot reach the wrap cheaply")
        }
        func stored(_ table: inout ConnectionTable) -> UInt32 {
            withUnsafeBytes(of: &table) { $0.load(fromByteOffset: offset, as: UInt32.self) }
        }
        var probe = ConnectionTable()
        let before = stored(&probe)
        _ = probe.nextID()
        _ = probe.nextID()
        guard before == 0, stored(&probe) == 2 else {
            throw XCTSkip("ConnectionTable layout changed; cannot reach the wrap cheaply")
        }
        withUnsafeMutableBytes(of: &table) { $0.storeBytes(of: value, toByteOffset: offset, as: UInt32.self) }
    }

    func testIDsWrapAtUInt32MaxBackToOne() throws {
        var table = ConnectionTable()
        try setLastID(UInt32.max - 2, in: &table)
        XCTAssertEqual(table.nextID(), UInt32.max - 1)
        XCTAssertEqual(table.nextID(), UInt32.max)
        XCTAssertEqual(table.nextID(), 1, "0 is never an id")
        XCTAssertEqual(table.nextID(), 2)
    }

    func testWrapSkipsIDsStillInUse() throws {
        var table = ConnectionTable()
        insert([1, 2, UInt32.max], into: &table)
        try setLastID(UInt32.max - 1, in: &table)
        XCTAssertEqual(table.nextID(), 3, "skips UInt32.max, then 1 and 2 after wrapping")
    }

    // MARK: - Connections

    func testInsertAndSubscript() {
        var table = ConnectionTable()
        let inserted = insert([7, 9], into: &table)
        XCTAssertEqual(table.count, 2)
        XCTAssertTrue(table[7] === inserted[7])
        XCTAssertNil(table[8])
    }

    func testRemoveOfUnknownIDDoesNothing() {
        var table = ConnectionTable()
        insert([1], into: &table)
        table.join(1, group: "room")
        table.remove(2)
        XCTAssertEqual(table.count, 1)
        XCTAssertEqual(table.members(of: "room"), [1])
    }

    func testRemoveDropsTheConnectionFromItsGroups() {
        var table = ConnectionTable()
        insert([1, 2], into: &table)
        table.join(1, group: "a")
        table.join(1, group: "b")
        table.join(2, group: "b")

        table.remove(1)

        XCTAssertNil(table[1])
        XCTAssertEqual(table.count, 1)
        XCTAssertEqual(table.members(of: "a"), [])
        XCTAssertNil(table.groups["a"], "an emptied group is dropped")
        XCTAssertEqual(table.members(of: "b"), [2])
    }

    /// Regression: remove() used to drop the connection before unbinding, so the uid map kept
    /// every closed connection's id (an unbounded leak, and after id wrap-around a reused id would
    /// receive another user's messages).
    func testRemoveUnbindsTheUID() {
        var table = ConnectionTable()
        table.insert(connection(table.nextID()))
        table.insert(connection(table.nextID()))
        table.bind(1, uid: "alice")
        table.bind(2, uid: "alice")
        table.remove(1)
        XCTAssertEqual(table.clients(of: "alice"), [2])
        table.remove(2)
        XCTAssertNil(table.uids["alice"], "an emptied uid is dropped")
    }

    // MARK: - Groups

    func testJoinAddsToTheGroupAndToTheConnection() {
        var table = ConnectionTable()
        let inserted = insert([1, 2], into: &table)
        table.join(1, group: "room")
        table.join(2, group: "room")
        table.join(1, group: "room")
        XCTAssertEqual(table.members(of: "room"), [1, 2])
        XCTAssertEqual(inserted[1]?.groups, ["room"])
        XCTAssertEqual(inserted[2]?.groups, ["room"])
    }

    func testJoinOfUnknownConnectionIsIgnored() {
        var table = ConnectionTable()
        table.join(42, group: "room")
        XCTAssertEqual(table.members(of: "room"), [])
        XCTAssertNil(table.groups["room"])
    }

    func testLeaveRemovesOnlyThatMembership() {
        var table = ConnectionTable()
        let inserted = insert([1, 2], into: &table)
        table.join(1, group: "a")
        table.join(1, group: "b")
        table.join(2, group: "a")

        table.leave(1, group: "a")

        XCTAssertEqual(table.members(of: "a"), [2])
        XCTAssertEqual(table.members(of: "b"), [1])
        XCTAssertEqual(inserted[1]?.groups, ["b"])
    }

    func testLeavingTheLastMemberDropsTheGroup() {
        var table = ConnectionTable()
        let inserted = insert([1], into: &table)
        table.join(1, group: "a")
        table.leave(1, group: "a")
        XCTAssertNil(table.groups["a"])
        XCTAssertEqual(inserted[1]?.groups, [])
    }

    func testLeaveOfAGroupNotJoinedDoesNothing() {
        var table = ConnectionTable()
        insert([1, 2], into: &table)
        table.join(2, group: "a")
        table.leave(1, group: "a")
        table.leave(1, group: "nope")
        XCTAssertEqual(table.members(of: "a"), [2])
        XCTAssertNil(table.groups["nope"])
    }

    func testUngroupRemovesTheGroupFromEveryMember() {
        var table = ConnectionTable()
        let inserted = insert([1, 2, 3], into: &table)
        table.join(1, group: "a")
        table.join(2, group: "a")
        table.join(2, group: "b")
        table.join(3, group: "b")

        table.ungroup("a")

        XCTAssertNil(table.groups["a"])
        XCTAssertEqual(table.members(of: "a"), [])
        XCTAssertEqual(inserted[1]?.groups, [])
        XCTAssertEqual(inserted[2]?.groups, ["b"])
        XCTAssertEqual(table.members(of: "b"), [2, 3])
        XCTAssertEqual(table.count, 3, "ungroup closes nobody")
    }

    func testUngroupOfUnknownGroupDoesNothing() {
        var table = ConnectionTable()
        insert([1], into: &table)
        table.join(1, group: "a")
        table.ungroup("b")
        XCTAssertEqual(table.members(of: "a"), [1])
    }

    func testRemoveAfterUngroupLeavesNoTrace() {
        var table = ConnectionTable()
        insert([1], into: &table)
        table.join(1, group: "a")
        table.ungroup("a")
        table.remove(1)
        XCTAssertTrue(table.groups.isEmpty)
    }

    // MARK: - Uids

    func testBindMapsTheUIDToItsClients() {
        var table = ConnectionTable()
        let inserted = insert([1, 2], into: &table)
        table.bind(1, uid: "alice")
        table.bind(2, uid: "alice")
        XCTAssertEqual(table.clients(of: "alice"), [1, 2])
        XCTAssertEqual(inserted[1]?.uid, "alice")
    }

    func testBindingAnotherUIDReplacesTheBinding() {
        var table = ConnectionTable()
        let inserted = insert([1, 2], into: &table)
        table.bind(1, uid: "alice")
        table.bind(2, uid: "alice")

        table.bind(1, uid: "bob")

        XCTAssertEqual(inserted[1]?.uid, "bob")
        XCTAssertEqual(table.clients(of: "bob"), [1])
        XCTAssertEqual(table.clients(of: "alice"), [2])
    }

    func testRebindingReleasesAUIDLeftWithoutClients() {
        var table = ConnectionTable()
        insert([1], into: &table)
        table.bind(1, uid: "alice")
        table.bind(1, uid: "bob")
        XCTAssertNil(table.uids["alice"])
        XCTAssertEqual(Set(table.uids.keys), ["bob"])
    }

    func testBindingTheSameUIDTwiceKeepsOneBinding() {
        var table = ConnectionTable()
        let inserted = insert([1], into: &table)
        table.bind(1, uid: "alice")
        table.bind(1, uid: "alice")
        XCTAssertEqual(table.clients(of: "alice"), [1])
        XCTAssertEqual(inserted[1]?.uid, "alice")
    }

    func testBindOfUnknownConnectionIsIgnored() {
        var table = ConnectionTable()
        table.bind(5, uid: "alice")
        XCTAssertNil(table.uids["alice"])
    }

    func testUnbindWithTheBoundUIDRemovesTheBinding() {
        var table = ConnectionTable()
        let inserted = insert([1], into: &table)
        table.bind(1, uid: "alice")
        table.unbind(1, uid: "alice")
        XCTAssertNil(inserted[1]?.uid)
        XCTAssertNil(table.uids["alice"])
        XCTAssertEqual(table.clients(of: "alice"), [])
    }

    func testUnbindWithAnotherUIDDoesNothing() {
        var table = ConnectionTable()
        let inserted = insert([1], into: &table)
        table.bind(1, uid: "alice")
        table.unbind(1, uid: "bob")
        XCTAssertEqual(inserted[1]?.uid, "alice")
        XCTAssertEqual(table.clients(of: "alice"), [1])
    }

    func testUnbindKeepsOtherClientsOfTheUID() {
        var table = ConnectionTable()
        insert([1, 2], into: &table)
        table.bind(1, uid: "alice")
        table.bind(2, uid: "alice")
        table.unbind(1, uid: "alice")
        XCTAssertEqual(table.clients(of: "alice"), [2])
    }

    // MARK: - Lookups

    func testMembersAndClientsOfUnknownNamesAreEmpty() {
        let table = ConnectionTable()
        XCTAssertEqual(table.members(of: "nobody"), [])
        XCTAssertEqual(table.clients(of: "nobody"), [])
        XCTAssertEqual(table.count, 0)
    }
}
