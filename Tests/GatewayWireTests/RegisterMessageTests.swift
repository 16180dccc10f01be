import GatewayWire
import XCTest

final class RegisterMessageTests: XCTestCase {
    private func lines(of vector: JSONValue) -> [String] {
        if let sent = vector["decoded"]?["sent_lines"]?.arrayValue {
            return sent.map { $0.stringValue! }
        }
        return [vector["line"]!.stringValue!]
    }

    /// Every captured register line parses to what its JSON says, and the kinds gatewayd emits
    /// re-encode to the captured bytes exactly.
    func testEveryCapturedLine() throws {
        var parsed = 0
        var reEncoded = 0
        for vector in Fixtures.registerVectors {
            let id = vector["id"]!.stringValue!
            let hex = vector["hex"]!.stringValue!
            guard !hex.isEmpty else { continue }
            let lines = self.lines(of: vector)
            for line in lines {
                let result = Result { () throws(RegisterMessageError) -> RegisterMessage in
                    try RegisterMessage.parse(Array(line.utf8))
                }
                switch id {
                case "R5.not_json":
                    XCTAssertEqual(result.error, .notJSON, id)
                    continue
                case "R5.unknown_event":
                    XCTAssertEqual(result.error, .unknownEvent("foo"), id)
                    continue
                case "R5.gateway_without_address":
                    XCTAssertEqual(result.error, .missingAddress, id)
                    continue
                default:
                    break
                }
                let message = try result.get()
                let json = try JSONValue.parse(Array(line.utf8))
                switch message {
                case .gatewayConnect(let address, let secretKey):
                    XCTAssertEqual(json["event"], "gateway_connect", id)
                    XCTAssertEqual(address, json["address"]?.stringValue, id)
                    XCTAssertEqual(secretKey, json["secret_key"]?.stringValue ?? "", id)
                case .workerConnect(let secretKey):
                    XCTAssertEqual(json["event"], "worker_connect", id)
                    XCTAssertEqual(secretKey, json["secret_key"]?.stringValue ?? "", id)
                case .ping:
                    XCTAssertEqual(json, ["event": "ping"], id)
                case .broadcastAddresses(let addresses):
                    XCTAssertEqual(json["event"], "broadcast_addresses", id)
                    XCTAssertEqual(addresses.map(JSONValue.string), json["addresses"]?.arrayValue, id)
                }
                parsed += 1
                // The probes hand-built some lines differently from PHP; everything sent by a
                // real PHP peer must be reproduced byte for byte.
                if !id.hasPrefix("R5.") {
                    XCTAssertEqual(message.encodedLine(), Fixtures.bytes(hex: hex), id)
                    reEncoded += 1
                }
            }
        }
        XCTAssertEqual(parsed, 23)
        XCTAssertEqual(reEncoded, 15)
    }

    func testRegisterRepliesReEncode() throws {
        for vector in Fixtures.registerVectors {
            for stream in [vector["response"]?["hex"]?.stringValue, vector["connection"]?["s2c_hex"]?.stringValue] {
                guard let stream, !stream.isEmpty, vector["id"]?.stringValue != "R5.not_json" else { continue }
                var bytes = Fixtures.bytes(hex: stream)
                XCTAssertEqual(bytes.popLast(), UInt8(ascii: "\n"))
                let message = try RegisterMessage.parse(bytes)
                XCTAssertEqual(message.encodedLine(), Fixtures.bytes(hex: stream))
            }
        }
    }

    func testBadRequestLineMatchesTheCapture() {
        let vector = Fixtures.vector("R5.not_json")
        XCTAssertEqual(
            RegisterMessage.badRequestLine(remoteIP: "127.0.0.1", line: Array("hello".utf8)),
            Fixtures.bytes(hex: vector["response"]!["hex"]!.stringValue!)
        )
    }

    func testEncodedLines() {
        XCTAssertEqual(
            String(decoding: RegisterMessage.gatewayConnect(address: "10.0.0.1:2900", secretKey: "k").encodedLine(), as: UTF8.self),
            "{\"event\":\"gateway_connect\", \"address\":\"10.0.0.1:2900\", \"secret_key\":\"k\"}\n"
        )
        // Pasted in unescaped, like PHP.
        XCTAssertEqual(
            String(decoding: RegisterMessage.workerConnect(secretKey: "a/\"b").encodedLine(), as: UTF8.self),
            "{\"event\":\"worker_connect\",\"secret_key\":\"a/\"b\"}\n"
        )
        XCTAssertEqual(String(decoding: RegisterMessage.ping.encodedLine(), as: UTF8.self), "{\"event\":\"ping\"}\n")
        XCTAssertEqual(
            String(decoding: RegisterMessage.broadcastAddresses(["1.2.3.4:1", "5.6.7.8:2"]).encodedLine(), as: UTF8.self),
            "{\"event\":\"broadcast_addresses\",\"addresses\":[\"1.2.3.4:1\",\"5.6.7.8:2\"]}\n"
        )
    }

    func testLenientParsingLikePHP() throws {
        func parse(_ text: String) throws(RegisterMessageError) -> RegisterMessage {
            try RegisterMessage.parse(Array(text.utf8))
        }
        XCTAssertEqual(try parse("{\"event\":\"worker_connect\"}"), .workerConnect(secretKey: ""))
        XCTAssertEqual(try parse(" { \"secret_key\" : \"s\" , \"event\" : \"worker_connect\" , \"x\":1 } "), .workerConnect(secretKey: "s"))
        XCTAssertEqual(try parse("{\"event\":\"worker_connect\",\"secret_key\":null}"), .workerConnect(secretKey: ""))
        XCTAssertEqual(try parse("{\"event\":\"worker_connect\",\"secret_key\":0}"), .workerConnect(secretKey: "0"))
        XCTAssertEqual(try parse("{\"event\":\"ping\",\"event\":\"worker_connect\"}"), .workerConnect(secretKey: ""))
        XCTAssertEqual(
            try parse("{\"event\":\"gateway_connect\",\"address\":\"1.2.3.4:5\"}"),
            .gatewayConnect(address: "1.2.3.4:5", secretKey: "")
        )
        // The object form PHP produces when array_unique left a key gap (json.broadcast_gap).
        let gap = Fixtures.phpSerializeSamples.first { $0["id"]?.stringValue == "json.broadcast_gap" }!
        XCTAssertEqual(
            try RegisterMessage.parse(Fixtures.bytes(hex: gap["encoded_hex"]!.stringValue!)),
            .broadcastAddresses(["127.0.0.1:2900", "127.0.0.1:2901"])
        )
        XCTAssertEqual(try parse("{\"event\":\"broadcast_addresses\"}"), .broadcastAddresses([]))
    }

    func testErrors() {
        let cases: [(String, RegisterMessageError)] = [
            ("hello", .notJSON), ("", .notJSON), ("{\"event\":\"ping\"", .notJSON), ("{\"event\":\"ping\"} x", .notJSON),
            ("[]", .missingEvent), ("5", .missingEvent), ("{}", .missingEvent), ("{\"event\":\"\"}", .missingEvent),
            ("{\"event\":\"0\"}", .missingEvent), ("{\"event\":null}", .missingEvent), ("{\"Event\":\"ping\"}", .missingEvent),
            ("{\"event\":\"foo\"}", .unknownEvent("foo")), ("{\"event\":\"PING\"}", .unknownEvent("PING")),
            ("{\"event\":5}", .unknownEvent("5")),
            ("{\"event\":\"gateway_connect\",\"secret_key\":\"s3cret\"}", .missingAddress),
            ("{\"event\":\"gateway_connect\",\"address\":\"\"}", .missingAddress),
            ("{\"event\":\"gateway_connect\",\"address\":null}", .missingAddress),
        ]
        for (line, expected) in cases {
            XCTAssertThrowsError(try RegisterMessage.parse(Array(line.utf8)), line) { error in
                XCTAssertEqual(error as? RegisterMessageError, expected, line)
            }
        }
        XCTAssertThrowsError(try RegisterMessage.parse([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])) { error in
            XCTAssertEqual(error as? RegisterMessageError, .notJSON)
        }
    }
}

extension Result {
    fileprivate var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
