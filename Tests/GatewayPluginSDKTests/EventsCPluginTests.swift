import CGatewayABI
import Foundation
import XCTest

/// plugins/events-c/events.c, the C example of docs/events.md: it compiles warning-free, declares
/// its three events with the signatures the docs give, and its handlers emit through event_emit
/// — called here as the host would call them after decoding a message (the fake host does not
/// decode events; the host's own tests cover that).
final class EventsCPluginTests: XCTestCase {
    static let source = "plugins/events-c/events.c"

    typealias AddHandler = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int64, Int64) -> Int32
    typealias ShoutHandler = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32
    typealias TypesHandler = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int64, Double, Bool,
                                             UnsafePointer<CChar>?, Int) -> Int32

    override func setUp() {
        resetFakeHost()
    }

    func started() throws -> ConformanceDriver {
        let driver = try ConformanceDriver.load(try PluginBuilds.plugin(Self.source, output: "events-c.so"))
        XCTAssertEqual(driver.plugin.pointee.on_worker_start?(FakeHost.context), 0)
        return driver
    }

    func handler<Handler>(_ name: String, as type: Handler.Type) throws -> Handler {
        unsafeBitCast(try XCTUnwrap(fakeHost.eventHandlers[name]?.handler, name), to: Handler.self)
    }

    func emitted(_ name: String, _ arguments: [String]) -> HostCall {
        HostCall(function: "event_emit", name: name, data: clientA, flags: GWD_EMIT_CLIENT, list: arguments)
    }

    func testItDeclaresTheThreeEventsAtStart() throws {
        let driver = try started()
        XCTAssertEqual(driver.name, "events-c")
        XCTAssertEqual(fakeHost.calls, [
            HostCall(function: "event_on", name: "add", data: "i:a i:b"),
            HostCall(function: "event_on", name: "shout", data: "s:text"),
            HostCall(function: "event_on", name: "types", data: "s:s i:i d:d b:b j:j"),
        ])
    }

    func testTheHandlersEmitToTheSender() throws {
        _ = try started()
        fakeHost.calls = []
        let add = try handler("add", as: AddHandler.self)
        XCTAssertEqual(clientA.withCString { add(FakeHost.context, $0, 2, 3) }, 0)
        XCTAssertEqual(clientA.withCString { add(FakeHost.context, $0, .max, 1) }, 0)

        let shout = try handler("shout", as: ShoutHandler.self)
        XCTAssertEqual(clientA.withCString { id in "héllo, wörld 1".withCString { shout(FakeHost.context, id, $0) } }, 0)

        let types = try handler("types", as: TypesHandler.self)
        let json = #"{"a": [1, "x"]}"#
        XCTAssertEqual(clientA.withCString { id in
            "s".withCString { s in json.withCString { j in types(FakeHost.context, id, s, -1, 2.5, true, j, json.utf8.count) } }
        }, 0)

        XCTAssertEqual(fakeHost.calls, [
            emitted("sum", ["i:5"]),
            emitted("sum", ["i:\(Int64.min)"]),
            emitted("shouted", ["s:HéLLO, WöRLD 1"]),
            emitted("types", ["s:s", "i:-1", "d:2.5", "b:1", "j:\(json)"]),
        ])
    }

    /// The handler's status is event_emit's (the acknowledgement's status).
    func testAFailedEmitIsTheHandlersStatus() throws {
        _ = try started()
        fakeHost.statuses["event_emit"] = Int32(GWD_ERR_TOO_LARGE.rawValue)
        let add = try handler("add", as: AddHandler.self)
        XCTAssertEqual(clientA.withCString { add(FakeHost.context, $0, 1, 1) }, Int32(GWD_ERR_TOO_LARGE.rawValue))
    }

    /// gwd_event_on_table stops at the first refusal and returns its status.
    func testARefusedDeclarationStopsTheTable() throws {
        let driver = try ConformanceDriver.load(try PluginBuilds.plugin(Self.source, output: "events-c.so"))
        fakeHost.statuses["event_on"] = Int32(GWD_ERR_EXISTS.rawValue)
        XCTAssertEqual(driver.plugin.pointee.on_worker_start?(FakeHost.context), Int32(GWD_ERR_EXISTS.rawValue))
        XCTAssertEqual(fakeHost.calls, [HostCall(function: "event_on", name: "add", data: "i:a i:b")])
    }

    func testItRefusesToStartOnAVersion1_1Host() throws {
        let library = try PluginBuilds.plugin(Self.source, output: "events-c.so")
        let table = FakeHostTable.allocate {
            $0.struct_size = UInt32(MemoryLayout<gwd_host_api>.offset(of: \.timer_add)!)
            $0.abi_minor = 1
        }
        let driver = try ConformanceDriver.load(library, table: table)
        XCTAssertEqual(driver.plugin.pointee.on_worker_start?(FakeHost.context), Int32(GWD_ERR_UNSUPPORTED.rawValue))
        XCTAssertEqual(fakeHost.calls, [])
    }

    /// docs/events.md shows the whole file, under 40 lines.
    func testTheDocsShowThisFile() throws {
        let file = try String(contentsOf: PluginBuilds.repositoryRoot.appendingPathComponent(Self.source), encoding: .utf8)
        let doc = try String(contentsOf: PluginBuilds.repositoryRoot.appendingPathComponent("docs/events.md"), encoding: .utf8)
        let section = try XCTUnwrap(doc.range(of: "\n## C\n"))
        let start = try XCTUnwrap(doc.range(of: "```c\n", range: section.upperBound..<doc.endIndex))
        let end = try XCTUnwrap(doc.range(of: "```\n", range: start.upperBound..<doc.endIndex))
        XCTAssertEqual(String(doc[start.upperBound..<end.lowerBound]), file)
        XCTAssertLessThan(file.split(separator: "\n", omittingEmptySubsequences: false).count - 1, 40)
    }
}
