import GatewayWire
import XCTest

final class JSONValueTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONValue.parse(Array(text.utf8))
    }

    private func assertRejects(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try JSONValue.parse(bytes), file: file, line: line) { error in
            XCTAssertTrue(error is JSONParseError, file: file, line: line)
        }
    }

    private func assertRejects(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        self.assertRejects(Array(text.utf8), file: file, line: line)
    }

    func testParsesValues() throws {
        XCTAssertEqual(try self.parse("null"), .null)
        XCTAssertEqual(try self.parse(" true "), true)
        XCTAssertEqual(try self.parse("false"), false)
        XCTAssertEqual(try self.parse("0"), 0)
        XCTAssertEqual(try self.parse("-12"), -12)
        XCTAssertEqual(try self.parse("1.0"), .double(1))
        XCTAssertEqual(try self.parse("1e3"), .double(1000))
        XCTAssertEqual(try self.parse("-0.5E-2"), .double(-0.005))
        XCTAssertEqual(try self.parse("9223372036854775807"), .int(.max))
        XCTAssertEqual(try self.parse("-9223372036854775808"), .int(.min))
        XCTAssertEqual(try self.parse("9223372036854775808"), .double(9223372036854775808))
        XCTAssertEqual(try self.parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\""), .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        XCTAssertEqual(try self.parse("\"\\u623f\\u95f4\\/1\""), "房间/1")
        XCTAssertEqual(try self.parse("\"\\ud83d\\ude00\""), "😀")
        XCTAssertEqual(try self.parse("\"\\u0000\""), .string("\u{0}"))
        XCTAssertEqual(try self.parse("\"héllo 😀\""), "héllo 😀")
        XCTAssertEqual(try self.parse("[]"), [])
        XCTAssertEqual(try self.parse("{}"), .object([]))
        XCTAssertEqual(
            try self.parse("{\"a\" : [1, {\"b\":null}], \"a\":2}"),
            .object([JSONMember("a", [1, ["b": .null]]), JSONMember("a", 2)])
        )
    }

    func testAccessors() throws {
        let value = try self.parse("{\"k\":\"v\",\"n\":3,\"l\":[1],\"o\":{},\"k\":\"second\"}")
        XCTAssertEqual(value["k"]?.stringValue, "v")
        XCTAssertEqual(value["n"]?.intValue, 3)
        XCTAssertEqual(value["l"]?.arrayValue, [1])
        XCTAssertEqual(value["o"]?.objectValue, [])
        XCTAssertNil(value["missing"])
        XCTAssertNil(JSONValue.int(1)["k"])
        XCTAssertNil(JSONValue.int(1).stringValue)
    }

    func testRejectsMalformed() {
        for text in ["", " ", "nul", "tru", "[1,]", "[1 2]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "[", "{", "\"abc",
            "01", "-", "1.", ".5", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "'a'", "\"\\x41\"", "\"\\u12\"", "\"\\uZZZZ\"",
            "{} x", "[] []", "[1}", "{\"a\":1]", "[{]}", "{[]}", "1 2", "\"a\"\"b\"", "\u{FEFF}{}"]
        {
            self.assertRejects(text)
        }
    }

    func testRejectsControlCharactersAndBadUTF8() {
        self.assertRejects([0x22, 0x0A, 0x22])
        self.assertRejects([0x22, 0x61, 0x09, 0x22])
        self.assertRejects([0x22, 0xFF, 0x22])
        self.assertRejects([0x22, 0xC3, 0x22])
        self.assertRejects([0x22, 0xED, 0xA0, 0x80, 0x22])  // UTF-8-encoded surrogate
        self.assertRejects([0x22, 0x5C, 0x61, 0xE9, 0x22])
        self.assertRejects([0x5B, 0x22, 0x61, 0x22, 0x2C, 0x22, 0xC0, 0xAF, 0x22, 0x5D])
        self.assertRejects("\"\\ud800\"")
        self.assertRejects("\"\\ud800\\u0041\"")
        self.assertRejects("\"\\udc00\"")
        self.assertRejects("\"\\ud800")
    }

    func testNumbersOutOfRange() {
        self.assertRejects("1e999")
        self.assertRejects("-1e400")
        self.assertRejects("[1e309]")
        XCTAssertEqual(try self.parse("1e-999"), .double(0))
    }

    func testDepthLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try self.parse(ok))
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        self.assertRejects(tooDeep)
        let objects = String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65)
        self.assertRejects(objects)
        // A depth bomb fails fast instead of overflowing the stack.
        self.assertRejects(String(repeating: "[", count: 1_000_000))
    }

    func testErrorOffsets() {
        XCTAssertThrowsError(try self.parse("[1,]")) { error in
            XCTAssertEqual((error as? JSONParseError)?.offset, 3)
        }
        XCTAssertThrowsError(try self.parse("{} x")) { error in
            XCTAssertEqual((error as? JSONParseError)?.offset, 3)
        }
    }

    func testSerializationEscaping() {
        let value: JSONValue = ["group": ["房间/1"], "exclude": .null, "s": "a\"b\\c\n\u{1}\u{7F}😀"]
        XCTAssertEqual(
            String(decoding: value.serialized(), as: UTF8.self),
            "{\"group\":[\"\\u623f\\u95f4\\/1\"],\"exclude\":null,\"s\":\"a\\\"b\\\\c\\n\\u0001\u{7F}\\ud83d\\ude00\"}"
        )
        XCTAssertEqual(
            String(decoding: value.serialized(escaping: .minimal), as: UTF8.self),
            "{\"group\":[\"房间/1\"],\"exclude\":null,\"s\":\"a\\\"b\\\\c\\n\\u0001\u{7F}😀\"}"
        )
        XCTAssertEqual(JSONValue.array([1, 2.5, 1.0, 1e25, -0.0, .bool(false)]).serialized(), Array("[1,2.5,1,1.0e+25,-0,false]".utf8))
        XCTAssertEqual(JSONValue.double(.infinity).serialized(), Array("0".utf8))
        XCTAssertEqual(JSONValue.object([]).serialized(), Array("{}".utf8))
    }

    /// Every json_encode sample from the captures re-encodes identically with `.php` escaping.
    func testEveryJSONEncodeSampleMatchesPHP() throws {
        var checked = 0
        for sample in Fixtures.phpSerializeSamples where sample["codec"]?.stringValue == "json_encode" {
            let captured = Fixtures.bytes(hex: sample["encoded_hex"]!.stringValue!)
            XCTAssertEqual(Array(sample["encoded"]!.stringValue!.utf8), captured)
            let parsed = try JSONValue.parse(captured)
            XCTAssertEqual(parsed.serialized(escaping: .php), captured, sample["id"]!.stringValue!)
            checked += 1
        }
        XCTAssertEqual(checked, 17)
    }

    func testRoundTripThroughSerialization() throws {
        let value: JSONValue = [
            "a": [1, -2, 3.25, "x", .null, true], "nested": ["deep": ["deeper": []]], "unicode": "\u{10FFFF}\u{0}é",
        ]
        XCTAssertEqual(try JSONValue.parse(value.serialized()), value)
        XCTAssertEqual(try JSONValue.parse(value.serialized(escaping: .minimal)), value)
    }
}
