import Foundation
import GatewayWire
import NIOCore
import XCTest

@testable import GatewayWorker

/// A gatewayd worker attached to a PHP gateway: the events a real GatewayWorker 4.0 gateway sent
/// its BusinessWorker (captured bytes, `G2.*`) become plugin events with the client id, session
/// and body the capture shows, and the WORKER_CONNECT a gatewayd worker sends carries what a PHP
/// gateway reads from it.
final class PHPGatewayCompatTests: XCTestCase {
    private static let vectors: [JSONValue] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../GatewayWireTests/Fixtures/vectors.json")
        guard let data = try? Data(contentsOf: url), let json = try? JSONValue.parse(Array(data)) else {
            fatalError("cannot read \(url.path)")
        }
        return json["vectors"]?.arrayValue ?? []
    }()

    private func event(_ id: String) throws -> PluginEvent {
        let vector = try XCTUnwrap(Self.vectors.first { $0["id"]?.stringValue == id }, "no vector \(id)")
        var bytes: [UInt8] = []
        var iterator = try XCTUnwrap(vector["hex"]?.stringValue).utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            bytes.append(UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)!)
        }
        var buffer = ByteBuffer(bytes: bytes)
        var parser = GatewayFrameParser()
        return try XCTUnwrap(PluginEvent(frame: try XCTUnwrap(try parser.parse(&buffer))))
    }

    func testCapturedGatewayEventsBecomePluginEvents() throws {
        let connect = try event("G2.on_connect")
        guard case .connect = connect.kind else { return XCTFail("\(connect.kind)") }
        XCTAssertEqual(connect.clientID.description, "7f000001326400000001")
        XCTAssertEqual(connect.gateway.description, "127.0.0.1:12900")

        let message = try event("G2.on_message.with_session")
        guard case .message(binary: false) = message.kind else { return XCTFail("\(message.kind)") }
        XCTAssertFalse(String(buffer: message.body).isEmpty)
        XCTAssertNotNil(try? PHPSerializer.unserialize(message.session), "the session arrives as PHP serialize()")

        let utf8 = try event("G2.on_message.utf8_with_session")
        XCTAssertNotNil(String(validating: utf8.body.readableBytesView, as: UTF8.self))

        let handshake = try event("G2.on_websocket_connect")
        guard case .handshake(awaitsVerdict: false) = handshake.kind else {
            return XCTFail("a PHP gateway never waits for a verdict: \(handshake.kind)")
        }
        let request = try PHPSerializer.unserialize(handshake.body)
        XCTAssertNotNil(request["server"]?["REQUEST_URI"], "the websocket-connect body is PHP's array(get, server, cookie)")

        let close = try event("G2.on_close.with_session")
        guard case .close = close.kind else { return XCTFail("\(close.kind)") }
    }

    func testOurWorkerConnectHasWhatAPHPGatewayReads() throws {
        // A PHP gateway json_decode()s the body and reads worker_key and secret_key; gatewayd's
        // extra member is ignored there.
        let body = WorkerConnectBody(
            workerKey: "BusinessWorker:0", secretKey: "s3cret", extra: [JSONMember(GatewaydCapability.key, .int(1))]
        ).encoded()
        let json = try JSONValue.parse(body)
        XCTAssertEqual(json["worker_key"]?.stringValue, "BusinessWorker:0")
        XCTAssertEqual(json["secret_key"]?.stringValue, "s3cret")
    }
}
