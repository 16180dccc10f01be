import CGatewayABI
import Glibc
import XCTest

@testable import GatewayWorker

/// Query results are ONE malloc'd block each (gatewayd.h, "Query results"): every array and
/// string a gwd_list or gwd_table points at lies inside it, each string has a NUL after it, and
/// a single free() releases it.
final class QueryResultMemoryTests: XCTestCase {
    /// The size of the block being checked: its header, arrays and strings (with their NULs).
    private var blockSize = 0

    /// Fails unless [pointer, pointer + length) lies inside the block at `base`.
    private func assertInside(
        _ pointer: UnsafeRawPointer?, _ length: Int, block base: UnsafeRawPointer, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        guard let pointer else { return XCTFail("NULL pointer", file: file, line: line) }
        XCTAssertGreaterThanOrEqual(pointer, base, file: file, line: line)
        XCTAssertLessThanOrEqual(pointer + length, base + blockSize, file: file, line: line)
    }

    private func stringBytes(_ strings: [String]) -> Int {
        strings.reduce(0) { $0 + $1.utf8.count + 1 }
    }

    /// The string of a view, checking that it is inside the block and NUL-terminated.
    private func string(
        _ view: gwd_bytes, block: UnsafeRawPointer, file: StaticString = #filePath, line: UInt = #line
    ) -> String {
        assertInside(view.data, view.len + 1, block: block, file: file, line: line)
        guard let data = view.data else { return "" }
        XCTAssertEqual(data[view.len], 0, "a NUL after every string", file: file, line: line)
        return String(decoding: UnsafeRawBufferPointer(start: data, count: view.len), as: UTF8.self)
    }

    func testListIsOneBlockOfViewsAndNulTerminatedStrings() throws {
        let ids = ["7f00000132c800000001", "7f00000132c800000002", "", "é/ü"]
        let list = try QueryResultMemory.list(ids.map { Array($0.utf8) })
        defer { free(list) }
        blockSize = MemoryLayout<gwd_list>.stride + 4 * MemoryLayout<gwd_bytes>.stride + stringBytes(ids)
        let base = UnsafeRawPointer(list)
        XCTAssertEqual(list.pointee.count, 4)
        assertInside(list.pointee.items, 4 * MemoryLayout<gwd_bytes>.stride, block: base)
        let items = UnsafeBufferPointer(start: list.pointee.items, count: list.pointee.count)
        XCTAssertEqual(items.map { string($0, block: base) }, ids)
        // A client id in a result is a valid `client_id` argument: 20 characters and a NUL.
        XCTAssertEqual(strlen(items[0].data!), 20)
        XCTAssertEqual(Int(bitPattern: items.baseAddress) % MemoryLayout<gwd_bytes>.alignment, 0)
    }

    func testEmptyListHasANonNullItemsPointer() throws {
        let list = try QueryResultMemory.list([])
        defer { free(list) }
        XCTAssertEqual(list.pointee.count, 0)
        XCTAssertNotNil(list.pointee.items)
    }

    func testListTableHoldsEveryEntrysItemsInTheSameBlock() throws {
        let table = try QueryResultMemory.table([
            (Array("room 1".utf8), .list([Array("alice".utf8), Array("bob".utf8)])),
            (Array("empty".utf8), .list([])),
            (Array("solo".utf8), .list([Array("carol".utf8)])),
        ])
        defer { free(table) }
        blockSize = MemoryLayout<gwd_table>.stride + 3 * MemoryLayout<gwd_table_entry>.stride
            + 3 * MemoryLayout<gwd_bytes>.stride + stringBytes(["room 1", "empty", "solo", "alice", "bob", "carol"])
        let base = UnsafeRawPointer(table)
        XCTAssertEqual(table.pointee.count, 3)
        assertInside(table.pointee.entries, 3 * MemoryLayout<gwd_table_entry>.stride, block: base)
        let entries = UnsafeBufferPointer(start: table.pointee.entries, count: table.pointee.count)
        var read: [String: [String]] = [:]
        for entry in entries {
            XCTAssertNotNil(entry.items, "list tables never have NULL items")
            assertInside(entry.items, entry.count * MemoryLayout<gwd_bytes>.stride, block: base)
            let items = UnsafeBufferPointer(start: entry.items, count: entry.count)
            read[string(entry.key, block: base)] = items.map { string($0, block: base) }
        }
        XCTAssertEqual(read, ["room 1": ["alice", "bob"], "empty": [], "solo": ["carol"]])
        XCTAssertEqual(entries.map { string($0.key, block: base) }, ["room 1", "empty", "solo"], "order kept")
    }

    func testNumberTableHasCountsAndNullItems() throws {
        let table = try QueryResultMemory.table([(Array("a".utf8), .number(3)), (Array("b".utf8), .number(0))])
        defer { free(table) }
        blockSize = MemoryLayout<gwd_table>.stride + 2 * MemoryLayout<gwd_table_entry>.stride + stringBytes(["a", "b"])
        let entries = UnsafeBufferPointer(start: table.pointee.entries, count: table.pointee.count)
        XCTAssertEqual(entries.map(\.count), [3, 0])
        XCTAssertEqual(entries.map { $0.items == nil }, [true, true])
        XCTAssertEqual(entries.map { string($0.key, block: UnsafeRawPointer(table)) }, ["a", "b"])
    }

    func testEmptyTableHasANonNullEntriesPointer() throws {
        let table = try QueryResultMemory.table([])
        defer { free(table) }
        XCTAssertEqual(table.pointee.count, 0)
        XCTAssertNotNil(table.pointee.entries)
    }

    func testBufferIsNulTerminatedAndFreedWithFree() throws {
        let buffer = try QueryResultMemory.buffer(Array(#"{"a":1}"#.utf8))
        defer { free(buffer.data) }
        XCTAssertEqual(buffer.len, 7)
        XCTAssertEqual(String(cString: try XCTUnwrap(buffer.data)), #"{"a":1}"#)
    }
}
