import GatewayWire
import NIOCore
import XCTest

/// gatewayd's own commands and the WORKER_CONNECT capability: numbers PHP does not use, never
/// replied to, and the frames of GATEWAYD_HELLO and QUERY_REPLY.
final class GatewaydProtocolExtensionsTests: XCTestCase {
    func testNumbers() {
        let expected: [(GatewayCommand, UInt8)] = [
            (.handshakeVerdict, 230), (.drainRequest, 231), (.drainMark, 232), (.drainDone, 233),
            (.gatewaydHello, 234), (.queryReply, 235),
        ]
        for (command, number) in expected {
            XCTAssertEqual(command.rawValue, number)
            XCTAssertNil(command.phpName, "\(number) is not GatewayWorker's")
            XCTAssertFalse(command.expectsReply, "\(number) is never answered")
        }
    }

    private func parsed(_ bytes: ByteBuffer) throws -> GatewayFrame {
        var bytes = bytes
        var parser = GatewayFrameParser()
        let frame = try XCTUnwrap(try parser.parse(&bytes))
        XCTAssertEqual(bytes.readableBytes, 0, "one frame exactly")
        return frame
    }

    func testHelloCarriesTheGatewaysVersion() throws {
        let frame = try parsed(GatewaydCapability.helloFrame())
        XCTAssertEqual(frame, GatewayFrame(command: .gatewaydHello, body: ByteBuffer(string: "4")))
        XCTAssertEqual(GatewaydCapability.helloVersion(frame), 4)
        XCTAssertNil(GatewaydCapability.helloVersion(GatewayFrame(command: .drainMark, body: ByteBuffer(string: "3"))))
        XCTAssertNil(GatewaydCapability.helloVersion(GatewayFrame(command: .gatewaydHello, body: ByteBuffer(string: "x"))))
        XCTAssertEqual(GatewaydCapability.helloVersion(GatewayFrame(command: .gatewaydHello, body: ByteBuffer(string: "7"))), 7)
    }

    func testQueryReplyIsTheBarePayloadInAFrame() throws {
        // What a query connection would get for CMD_GET_CLIENT_ID_BY_UID: u32 length, payload.
        var bare = ByteBuffer()
        bare.writeGatewayReply(.array([.int(1), .int(2)]))
        let payload = bare.getSlice(at: bare.readerIndex + 4, length: bare.readableBytes - 4)!

        var bytes = ByteBuffer()
        bytes.writeQueryReply(payload: payload)
        XCTAssertEqual(bytes.readableBytes, GatewayFrame.headerLength + payload.readableBytes)
        let frame = try parsed(bytes)
        XCTAssertEqual(frame, GatewayFrame(command: .queryReply, flags: [], body: payload))
        XCTAssertEqual(try PHPSerializer.unserialize(frame.body), .array([.int(1), .int(2)]))

        // The header: pack_len, cmd 235, then zeros (addresses, connection id, flags, ext_len).
        let header = Array(bytes.readableBytesView.prefix(GatewayFrame.headerLength))
        XCTAssertEqual(header, [0, 0, 0, UInt8(bytes.readableBytes), 235] + Array(repeating: 0, count: 23))

        var empty = ByteBuffer()
        empty.writeQueryReply(payload: ByteBuffer())
        XCTAssertEqual(try parsed(empty), GatewayFrame(command: .queryReply, flags: []))
    }

    private func body(_ capability: JSONValue?) -> WorkerConnectBody {
        WorkerConnectBody(
            workerKey: "BusinessWorker:0", secretKey: "",
            extra: capability.map { [JSONMember(GatewaydCapability.key, $0)] } ?? [])
    }

    func testCapabilityVersionsOfWorkerConnect() throws {
        XCTAssertEqual(GatewaydCapability.version, 4)
        XCTAssertEqual(GatewaydCapability.framedRepliesVersion, 3)
        XCTAssertEqual(GatewaydCapability.acknowledgedEventsVersion, 4)
        let expectations: [(JSONValue?, Int?, pings: Bool, framed: Bool)] = [
            (nil, nil, false, false), (.int(1), 1, false, false), (.int(2), 2, true, false), (.int(3), 3, true, true),
            (.int(4), 4, true, true), (.string("3"), nil, false, false),
        ]
        for (capability, version, pings, framed) in expectations {
            // Through the wire form, as a gateway reads it.
            let decoded = try WorkerConnectBody(body: ByteBuffer(bytes: body(capability).encoded()))
            XCTAssertEqual(GatewaydCapability.announcedVersion(decoded), version, "\(String(describing: capability))")
            XCTAssertEqual(GatewaydHeartbeat.workerPings(decoded), pings, "\(String(describing: capability))")
            XCTAssertEqual(GatewaydCapability.wantsFramedReplies(decoded), framed, "\(String(describing: capability))")
        }
    }
}
