import GatewayWire
import XCTest

final class GatewayCommandTests: XCTestCase {
    func testNumbers() {
        let expected: [(GatewayCommand, UInt8)] = [
            (.onConnect, 1), (.onMessage, 3), (.onClose, 4), (.sendToOne, 5), (.sendToAll, 6), (.kick, 7),
            (.destroy, 8), (.updateSession, 9), (.getAllClientSessions, 10), (.isOnline, 11), (.bindUID, 12),
            (.unbindUID, 13), (.sendToUID, 14), (.getClientIDByUID, 15), (.batchGetClientIDByUID, 16),
            (.joinGroup, 20), (.leaveGroup, 21), (.sendToGroup, 22), (.getClientSessionsByGroup, 23),
            (.getClientCountByGroup, 24), (.select, 25), (.getGroupIDList, 26), (.ungroup, 27),
            (.batchGetClientCountByGroup, 28), (.workerConnect, 200), (.ping, 201), (.gatewayClientConnect, 202),
            (.getSessionByClientID, 203), (.setSession, 204), (.onWebSocketConnect, 205),
        ]
        for (command, number) in expected {
            XCTAssertEqual(command.rawValue, number, command.description)
        }
        XCTAssertEqual(Set(expected.map(\.0)).count, expected.count)
    }

    func testExactlyTheQueryCommandsExpectReplies() {
        let replied: Set<UInt8> = [10, 11, 15, 16, 23, 24, 25, 26, 28, 203]
        for raw in UInt8.min...UInt8.max {
            XCTAssertEqual(GatewayCommand(rawValue: raw).expectsReply, replied.contains(raw), "\(raw)")
        }
    }

    func testPHPNamesMatchTheCaptures() {
        var checked = Set<UInt8>()
        for vector in Fixtures.frameVectors {
            let decoded = vector["decoded"]!
            let command = GatewayCommand(rawValue: UInt8(decoded["cmd"]!.intValue!))
            XCTAssertEqual(command.phpName, decoded["cmd_name"]?.stringValue)
            checked.insert(command.rawValue)
        }
        XCTAssertEqual(checked.count, 30)
    }

    func testUnknownCommandsAreRepresentable() {
        let unknown = GatewayCommand(rawValue: 99)
        XCTAssertNil(unknown.phpName)
        XCTAssertEqual(unknown.description, "unknown(99)")
        XCTAssertFalse(unknown.expectsReply)
        XCTAssertEqual(GatewayCommand.onConnect.description, "onConnect")
    }
}
