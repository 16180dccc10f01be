import GatewayWire
import XCTest

final class PHPValueJSONTests: XCTestCase {
    func testSessionShapes() throws {
        let session: PHPValue = ["name": "alice", "vip": 1, "tags": ["x", "y"], "score": 1.5, "ok": true, "none": .null]
        XCTAssertEqual(
            session.json,
            .object([
                JSONMember("name", "alice"), JSONMember("vip", 1), JSONMember("tags", ["x", "y"]), JSONMember("score", 1.5),
                JSONMember("ok", true), JSONMember("none", .null),
            ])
        )
        XCTAssertEqual(PHPValue(json: session.json), session)
    }

    func testListsAndMapsFollowPHP() throws {
        // {"0":..,"1":..} is a list once PHP coerced the keys, so it comes back as an array.
        XCTAssertEqual(PHPValue(json: try JSONValue.parse(Array("{\"0\":\"a\",\"1\":\"b\"}".utf8))).json, ["a", "b"])
        // Keys not 0..n-1 stay an object with string keys.
        let sparse = PHPValue(json: try JSONValue.parse(Array("{\"1\":\"a\",\"2\":\"b\"}".utf8)))
        XCTAssertEqual(sparse.arrayValue?.keys, [1, 2])
        XCTAssertEqual(String(decoding: sparse.json.serialized(), as: UTF8.self), "{\"1\":\"a\",\"2\":\"b\"}")
        // Empty arrays are lists, like json_encode(array()).
        XCTAssertEqual(PHPValue.array(PHPArray()).json, .array([]))
        XCTAssertEqual(PHPValue(json: .object([])), .array(PHPArray()))
        // A repeated key keeps its first position and takes the last value.
        let repeated = PHPValue(json: try JSONValue.parse(Array("{\"a\":1,\"b\":2,\"a\":3}".utf8)))
        XCTAssertEqual(repeated, ["a": 3, "b": 2])
    }

    func testStrings() {
        XCTAssertEqual(PHPValue.string("名字").json, "名字")
        XCTAssertEqual(PHPValue.string([0x61, 0xFF]).json, .string("a\u{FFFD}"))
        XCTAssertNil(PHPValue.string([0x61, 0xFF]).stringValue)
        XCTAssertEqual(PHPValue.string("ok").stringValue, "ok")
        XCTAssertEqual(PHPValue(json: "héllo"), .string(Array("héllo".utf8)))
        XCTAssertNil(PHPValue.int(1).stringValue)
    }

    func testFloatSessionEncodesLikeJSONEncode() throws {
        let sample = Fixtures.phpSerializeSamples.first { $0["id"]?.stringValue == "json.float_session" }!
        let value: PHPValue = ["c": 1.5, "d": 1.0]
        XCTAssertEqual(value.json.serialized(), Fixtures.bytes(hex: sample["encoded_hex"]!.stringValue!))
    }
}
