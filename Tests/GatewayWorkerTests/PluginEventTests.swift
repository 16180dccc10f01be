import GatewayWire
import NIOCore
import XCTest

@testable import GatewayWorker

final class PluginEventTests: XCTestCase {
    private let lanIP: UInt32 = 0x0A01_0203  // 10.1.2.3

    private func frame(_ command: GatewayCommand, flags: GatewayFrameFlags = .scalarBody) -> GatewayFrame {
        GatewayFrame(
            command: command, connectionID: 0x0102_0304, flags: flags,
            extData: ByteBuffer(string: "a:1:{s:4:\"name\";s:3:\"bob\";}"), body: ByteBuffer(string: "payload"),
            localIP: lanIP, localPort: 2900, clientIP: 0xC000_0207, clientPort: 50123, gatewayPort: 8282)
    }

    func testOnConnect() throws {
        let event = try XCTUnwrap(PluginEvent(frame: frame(.onConnect)))
        guard case .connect = event.kind else { return XCTFail("\(event.kind)") }
    }

    func testOnMessageText() throws {
        let event = try XCTUnwrap(PluginEvent(frame: frame(.onMessage)))
        guard case .message(let binary) = event.kind else { return XCTFail("\(event.kind)") }
        XCTAssertFalse(binary)
        XCTAssertEqual(String(buffer: event.body), "payload")
    }

    func testOnMessageBinary() throws {
        let event = try XCTUnwrap(PluginEvent(frame: frame(.onMessage, flags: [.scalarBody, .binary])))
        guard case .message(let binary) = event.kind else { return XCTFail("\(event.kind)") }
        XCTAssertTrue(binary)
    }

    func testOnClose() throws {
        let event = try XCTUnwrap(PluginEvent(frame: frame(.onClose)))
        guard case .close = event.kind else { return XCTFail("\(event.kind)") }
    }

    func testOnWebSocketConnectFromAPHPGatewayAwaitsNoVerdict() throws {
        let event = try XCTUnwrap(PluginEvent(frame: frame(.onWebSocketConnect, flags: [])))
        guard case .handshake(let awaitsVerdict) = event.kind else { return XCTFail("\(event.kind)") }
        XCTAssertFalse(awaitsVerdict)
    }

    func testOnWebSocketConnectAwaitingAVerdict() throws {
        let event = try XCTUnwrap(PluginEvent(frame: frame(.onWebSocketConnect, flags: .awaitsVerdict)))
        guard case .handshake(let awaitsVerdict) = event.kind else { return XCTFail("\(event.kind)") }
        XCTAssertTrue(awaitsVerdict)
    }

    func testBinaryFlagOnlyMattersForMessages() throws {
        let event = try XCTUnwrap(PluginEvent(frame: frame(.onWebSocketConnect, flags: .binary)))
        guard case .handshake(false) = event.kind else { return XCTFail("\(event.kind)") }
    }

    func testOtherCommandsAreNotEvents() {
        let others: [GatewayCommand] = [
            .sendToOne, .sendToAll, .kick, .destroy, .updateSession, .bindUID, .joinGroup, .workerConnect, .ping,
            .gatewayClientConnect, .handshakeVerdict, GatewayCommand(rawValue: 2), GatewayCommand(rawValue: 99),
        ]
        for command in others {
            XCTAssertNil(PluginEvent(frame: frame(command)), "\(command)")
        }
    }

    func testClientIDComesFromTheGatewayAddressAndConnection() throws {
        let event = try XCTUnwrap(PluginEvent(frame: frame(.onMessage)))
        XCTAssertEqual(event.clientID, ClientID(ipv4: lanIP, port: 2900, connectionID: 0x0102_0304))
        XCTAssertEqual(event.clientID.description, "0a0102030b5401020304")
    }

    func testGatewayAddressIsDottedIPAndInnerPort() throws {
        let event = try XCTUnwrap(PluginEvent(frame: frame(.onConnect)))
        XCTAssertEqual(event.gateway.description, "10.1.2.3:2900")
    }

    func testGatewayAddressOfExtremeValues() throws {
        var high = frame(.onConnect)
        high.localIP = 0xFFFF_FFFF
        high.localPort = 65535
        XCTAssertEqual(try XCTUnwrap(PluginEvent(frame: high)).gateway.description, "255.255.255.255:65535")
        var low = frame(.onConnect)
        low.localIP = 0
        low.localPort = 0
        XCTAssertEqual(try XCTUnwrap(PluginEvent(frame: low)).gateway.description, "0.0.0.0:0")
    }

    func testADrainMarkNamesTheGatewayItCameFrom() {
        let gateway = GatewayAddress(ipv4: lanIP, port: 2901)
        let mark = PluginEvent(drainMarkFrom: gateway)
        guard case .drainMark = mark.kind else { return XCTFail("\(mark.kind)") }
        XCTAssertEqual(mark.gateway, gateway)
    }

    func testSessionBodyAndClientAddressAreCarried() throws {
        let event = try XCTUnwrap(PluginEvent(frame: frame(.onMessage)))
        XCTAssertEqual(String(buffer: event.session), "a:1:{s:4:\"name\";s:3:\"bob\";}")
        XCTAssertEqual(String(buffer: event.body), "payload")
        XCTAssertEqual(event.clientIP, 0xC000_0207)
        XCTAssertEqual(event.clientPort, 50123)
    }

    func testNoSessionIsEmpty() throws {
        var bare = frame(.onConnect)
        bare.extData = ByteBuffer()
        bare.body = ByteBuffer()
        let event = try XCTUnwrap(PluginEvent(frame: bare))
        XCTAssertEqual(event.session.readableBytes, 0)
        XCTAssertEqual(event.body.readableBytes, 0)
    }
}
