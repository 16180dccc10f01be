import GatewayWire
import NIOCore
import XCTest

final class InnerExtDataTests: XCTestCase {
    private func buffer(_ text: String) -> ByteBuffer {
        ByteBuffer(string: text)
    }

    private func jsonSample(_ id: String) -> [UInt8] {
        let sample = Fixtures.phpSerializeSamples.first { $0["id"]?.stringValue == id }!
        return Fixtures.bytes(hex: sample["encoded_hex"]!.stringValue!)
    }

    /// Every captured JSON ext_data / body decodes into its type and re-encodes identically.
    func testEveryCapturedShapeRoundTrips() throws {
        var checked = 0
        for vector in Fixtures.frameVectors {
            let id = vector["id"]!.stringValue!
            let frame = Fixtures.expectedFrame(vector)
            let ext = Array(frame.extData.readableBytesView)
            let body = Array(frame.body.readableBytesView)
            switch frame.command {
            case .sendToAll:
                XCTAssertEqual(try SendToAllScope(extData: frame.extData).encodedExtData(), ext, id)
            case .sendToGroup:
                XCTAssertEqual(try SendToGroupExt(extData: frame.extData).encodedExtData(), ext, id)
            case .sendToUID, .batchGetClientIDByUID, .batchGetClientCountByGroup:
                XCTAssertEqual(UIDListExt.encode(try UIDListExt.decode(frame.extData)), ext, id)
            case .select:
                XCTAssertEqual(try SelectExt(extData: frame.extData).encodedExtData(), ext, id)
            case .workerConnect:
                XCTAssertEqual(try WorkerConnectBody(body: frame.body).encoded(), body, id)
            case .gatewayClientConnect:
                let decoded = try GatewayClientConnectBody(body: frame.body)
                XCTAssertEqual(decoded.secretKey, try JSONValue.parse(body)["secret_key"]?.stringValue, id)
                if !body.contains(UInt8(ascii: " ")) {
                    XCTAssertEqual(decoded.encoded(), body, id)
                }
            default:
                continue
            }
            checked += 1
        }
        XCTAssertEqual(checked, 34)
    }

    func testSendToAllScope() throws {
        XCTAssertEqual(SendToAllScope.everyone.encodedExtData(), [])
        XCTAssertEqual(SendToAllScope.excluding([1]).encodedExtData(), self.jsonSample("json.exclude"))
        XCTAssertEqual(SendToAllScope.excluding([1, 2]).encodedExtData(), self.jsonSample("json.exclude_two"))
        XCTAssertEqual(SendToAllScope.only([1, 2]).encodedExtData(), self.jsonSample("json.connections"))
        XCTAssertEqual(SendToAllScope.excluding([]).encodedExtData(), [])
        XCTAssertEqual(String(decoding: SendToAllScope.only([]).encodedExtData(), as: UTF8.self), "{\"connections\":[]}")

        XCTAssertEqual(try SendToAllScope(extData: ByteBuffer()), .everyone)
        XCTAssertEqual(try SendToAllScope(extData: self.buffer("{\"exclude\":{\"3\":\"3\",\"4\":4}}")), .excluding([3, 4]))
        XCTAssertEqual(try SendToAllScope(extData: self.buffer("{\"exclude\":[5,\"6\"]}")), .excluding([5, 6]))
        XCTAssertEqual(try SendToAllScope(extData: self.buffer("{\"exclude\":[]}")), .everyone)
        XCTAssertEqual(try SendToAllScope(extData: self.buffer("{\"exclude\":null}")), .everyone)
        XCTAssertEqual(try SendToAllScope(extData: self.buffer("{\"connections\":[\"7\",8,\"x\",-1]}")), .only([7, 8]))
        XCTAssertEqual(try SendToAllScope(extData: self.buffer("{\"connections\":{\"a\":9}}")), .only([9]))
        XCTAssertEqual(try SendToAllScope(extData: self.buffer("{\"connections\":[]}")), .only([]))
        XCTAssertEqual(try SendToAllScope(extData: self.buffer("{\"connections\":null,\"exclude\":{\"1\":1}}")), .excluding([1]))
        XCTAssertEqual(try SendToAllScope(extData: self.buffer("[]")), .everyone)
        XCTAssertThrowsError(try SendToAllScope(extData: self.buffer("{\"exclude\":")))
        XCTAssertThrowsError(try SendToAllScope(extData: self.buffer("room1")))
    }

    func testSendToGroupExt() throws {
        XCTAssertEqual(SendToGroupExt(groups: ["room1"], exclude: nil).encodedExtData(), self.jsonSample("json.group"))
        XCTAssertEqual(SendToGroupExt(groups: ["房间/1"], exclude: [1]).encodedExtData(), self.jsonSample("json.group_utf8_exclude"))
        XCTAssertEqual(SendToGroupExt(groups: ["a"], exclude: []).encodedExtData(), Array("{\"group\":[\"a\"],\"exclude\":null}".utf8))

        XCTAssertEqual(
            try SendToGroupExt(extData: self.buffer("{\"group\":[123,\"a\",1.5],\"exclude\":null}")),
            SendToGroupExt(groups: ["123", "a", "1.5"], exclude: nil)
        )
        XCTAssertEqual(
            try SendToGroupExt(extData: self.buffer("{\"exclude\":{\"2\":2},\"group\":{\"0\":\"x\",\"2\":\"y\"}}")),
            SendToGroupExt(groups: ["x", "y"], exclude: [2])
        )
        XCTAssertEqual(try SendToGroupExt(extData: self.buffer("{\"group\":[]}")), SendToGroupExt(groups: [], exclude: nil))
        XCTAssertThrowsError(try SendToGroupExt(extData: self.buffer("{\"exclude\":null}")))
        XCTAssertThrowsError(try SendToGroupExt(extData: self.buffer("{\"group\":\"room1\"}")))
        XCTAssertThrowsError(try SendToGroupExt(extData: self.buffer("{\"group\":[null]}")))
        XCTAssertThrowsError(try SendToGroupExt(extData: self.buffer("[\"room1\"]")))
        XCTAssertThrowsError(try SendToGroupExt(extData: ByteBuffer()))
    }

    func testUIDList() throws {
        XCTAssertEqual(UIDListExt.encode(["alice"]), self.jsonSample("json.uid_list"))
        XCTAssertEqual(UIDListExt.encode(["用户/1"]), self.jsonSample("json.uid_list_utf8"))
        XCTAssertEqual(UIDListExt.encode([]), Array("[]".utf8))
        XCTAssertEqual(try UIDListExt.decode(ByteBuffer(bytes: self.jsonSample("json.uid_numeric"))), ["42", "7"])
        XCTAssertEqual(try UIDListExt.decode(self.buffer("[true,-3]")), ["1", "-3"])
        XCTAssertThrowsError(try UIDListExt.decode(self.buffer("\"alice\"")))
        XCTAssertThrowsError(try UIDListExt.decode(self.buffer("[[1]]")))
        XCTAssertThrowsError(try UIDListExt.decode(self.buffer("alice")))
    }

    func testSelectExt() throws {
        XCTAssertEqual(SelectExt(fields: ["uid"]).encodedExtData(), self.jsonSample("json.select_all"))
        XCTAssertEqual(SelectExt(fields: ["uid"], groups: ["room1"]).encodedExtData(), self.jsonSample("json.select_group"))
        XCTAssertEqual(
            SelectExt(fields: ["session", "uid", "groups"], connectionIDs: [1]).encodedExtData(),
            self.jsonSample("json.select_conn")
        )
        let all = try SelectExt(extData: ByteBuffer(bytes: self.jsonSample("json.select_all")))
        XCTAssertFalse(all.hasConditions)
        XCTAssertEqual(
            try SelectExt(extData: self.buffer("{\"fields\":[\"uid\"],\"where\":{\"uid\":[42],\"connection_id\":[\"3\",4],\"x\":1}}")),
            SelectExt(fields: ["uid"], uids: ["42"], connectionIDs: [3, 4])
        )
        XCTAssertEqual(
            try SelectExt(extData: self.buffer("{\"fields\":[],\"where\":{\"groups\":[]}}")),
            SelectExt(fields: [], groups: [])
        )
        XCTAssertEqual(try SelectExt(extData: self.buffer("{\"fields\":[\"uid\"]}")), SelectExt(fields: ["uid"]))
        XCTAssertThrowsError(try SelectExt(extData: self.buffer("{\"where\":[]}")))
        XCTAssertThrowsError(try SelectExt(extData: ByteBuffer()))
    }

    func testWorkerConnectBody() throws {
        XCTAssertEqual(
            WorkerConnectBody(workerKey: "CapBusinessWorker:0", secretKey: "").encoded(),
            self.jsonSample("json.worker_body")
        )
        let withCapability = WorkerConnectBody(workerKey: "w:1", secretKey: "s", extra: [JSONMember("gatewayd", 1)])
        XCTAssertEqual(
            String(decoding: withCapability.encoded(), as: UTF8.self),
            "{\"worker_key\":\"w:1\",\"secret_key\":\"s\",\"gatewayd\":1}"
        )
        XCTAssertEqual(try WorkerConnectBody(body: ByteBuffer(bytes: withCapability.encoded())), withCapability)
        XCTAssertEqual(
            try WorkerConnectBody(body: self.buffer("{\"secret_key\":\"k\",\"x\":[1],\"worker_key\":\"a:0\"}")),
            WorkerConnectBody(workerKey: "a:0", secretKey: "k", extra: [JSONMember("x", [1])])
        )
        XCTAssertEqual(try WorkerConnectBody(body: self.buffer("{\"worker_key\":\"a:0\"}")).secretKey, "")
        XCTAssertThrowsError(try WorkerConnectBody(body: self.buffer("{\"secret_key\":\"\"}")))
        XCTAssertThrowsError(try WorkerConnectBody(body: self.buffer("[]")))
        XCTAssertThrowsError(try WorkerConnectBody(body: ByteBuffer()))
    }

    func testGatewayClientConnectBody() throws {
        XCTAssertEqual(GatewayClientConnectBody(secretKey: "s3cret").encoded(), self.jsonSample("json.auth_body"))
        XCTAssertEqual(try GatewayClientConnectBody(body: self.buffer("{\"secret_key\": \"s3cret\"}")).secretKey, "s3cret")
        XCTAssertEqual(try GatewayClientConnectBody(body: self.buffer("{}")).secretKey, "")
        XCTAssertEqual(try GatewayClientConnectBody(body: self.buffer("{\"secret_key\":false}")).secretKey, "false")
        XCTAssertThrowsError(try GatewayClientConnectBody(body: self.buffer("secret")))
        XCTAssertThrowsError(try GatewayClientConnectBody(body: self.buffer("\"s3cret\"")))
    }
}
