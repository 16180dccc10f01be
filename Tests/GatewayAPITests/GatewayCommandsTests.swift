import GatewayWire
import NIOCore
import XCTest

@testable import GatewayAPI

/// The fire-and-forget calls: the bytes PHP's GatewayClient sent (captured in `../shared/compat`),
/// and GatewayWorker's routing (targeted calls to one gateway, exclude lists per gateway).
final class GatewayCommandsTests: XCTestCase {
    private let gatewayA = "127.0.0.1:12900"
    private let gatewayB = "10.0.0.2:2901"

    private func client(_ gateway: String, _ connection: UInt32) -> ClientID {
        ClientID(gateway: GatewayAddress(gateway)!, connectionID: connection)
    }

    private func hex(_ dispatch: GatewayDispatch, for gateway: String) -> String {
        Compat.hex(Array(dispatch.frame(for: gateway)?.readableBytesView ?? ByteBuffer().readableBytesView))
    }

    private func assertCaptured(_ vector: String, _ dispatch: GatewayDispatch, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(hex(dispatch, for: gatewayA), Compat.vector(vector)?["hex"]?.stringValue, vector, file: file, line: line)
    }

    func testRequestsAreTheBytesPHPGatewayClientSends() throws {
        let a = client(gatewayA, 1)
        let b = client(gatewayA, 2)
        assertCaptured("G4.send_to_all.request", GatewayCommands.sendToAll(Array("gc: to all".utf8))[0])
        assertCaptured("G4.send_to_all_exclude.request", GatewayCommands.sendToAll(Array("gc: all but A".utf8), excluding: [a])[0])
        assertCaptured(
            "G4.send_to_all.exclude_two.request", GatewayCommands.sendToAll(Array("gcE: nobody".utf8), excluding: [a, b])[0])
        assertCaptured("G4.send_to_client.request", GatewayCommands.sendToClient(b, Array("gc: to B".utf8)))
        assertCaptured("G4.send_to_group.request", GatewayCommands.sendToGroup(["room1"], Array("gc: to room1".utf8))[0])
        assertCaptured(
            "G4.send_to_group.exclude.utf8.request",
            GatewayCommands.sendToGroup(["房间/1"], Array("gcE: room minus A".utf8), excluding: [a])[0])
        assertCaptured("G4.send_to_uid.request", GatewayCommands.sendToUID(["alice"], Array("gc: to alice".utf8))[0])
        assertCaptured("G4.join_group.request", GatewayCommands.membership(.joinGroup, b, "room3"))
        assertCaptured("G4.bind_uid.request", GatewayCommands.membership(.bindUID, b, "bobby"))
        assertCaptured(
            "G4.update_session.request", GatewayCommands.session(a, ["vip": 1, "tags": ["x", "y"]], merge: true))
        assertCaptured(
            "G4.set_session.request", GatewayCommands.session(b, ["role": "guest", "name": "张三"], merge: false))
        assertCaptured("G4.kick.request", GatewayCommands.closeClient(b, message: Array("bye B".utf8)))
        // The PHP worker's own captured kick without a message: a serialized null, flag 0.
        assertCaptured("G3.kick.no_message", GatewayCommands.closeClient(b))
    }

    func testTargetedCommandsGoOnlyToTheClientsGateway() {
        let dispatch = GatewayCommands.sendToClient(client(gatewayB, 3), [1])
        XCTAssertEqual(dispatch.targets(among: [gatewayA, gatewayB]), [gatewayB])
        XCTAssertNil(dispatch.frame(for: gatewayA))
    }

    func testExcludeListsAreSplitPerGateway() throws {
        let dispatch = GatewayCommands.sendToAll([0x61], excluding: [client(gatewayA, 1), client(gatewayB, 7)])[0]
        var frameA = try XCTUnwrap(dispatch.frame(for: gatewayA))
        var frameB = try XCTUnwrap(dispatch.frame(for: gatewayB))
        var parser = GatewayFrameParser()
        XCTAssertEqual(String(buffer: try XCTUnwrap(try parser.parse(&frameA)).extData), #"{"exclude":{"1":1}}"#)
        XCTAssertEqual(String(buffer: try XCTUnwrap(try parser.parse(&frameB)).extData), #"{"exclude":{"7":7}}"#)
        let other = try XCTUnwrap(dispatch.frame(for: "10.0.0.9:2900"))
        XCTAssertEqual(other.readableBytes, 28 + 1, "a gateway without excluded clients gets the plain broadcast")
    }

    func testAClientListGoesToEachGatewayWithItsOwnConnections() throws {
        let dispatches = GatewayCommands.sendToAll(
            [0x61], clientIDs: [client(gatewayA, 1), client(gatewayB, 7), client(gatewayA, 2)], excluding: [client(gatewayA, 2)])
        XCTAssertEqual(dispatches.count, 2)
        var parser = GatewayFrameParser()
        var frameA = try XCTUnwrap(dispatches.compactMap { $0.frame(for: gatewayA) }.first)
        XCTAssertEqual(String(buffer: try XCTUnwrap(try parser.parse(&frameA)).extData), #"{"connections":{"1":1}}"#)
        XCTAssertTrue(GatewayCommands.sendToAll([0x61], clientIDs: []).isEmpty, "an empty list sends nothing, as in PHP")
    }
}
