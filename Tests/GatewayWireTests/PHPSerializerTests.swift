import GatewayWire
import NIOCore
import XCTest

final class PHPSerializerTests: XCTestCase {
    /// The PHP value a `serialize` sample describes: its JSON `value` read with PHP's key
    /// coercion, plus the sample's conventions for non-finite floats and binary strings.
    private func sampleValue(_ sample: JSONValue) -> PHPValue {
        let id = sample["id"]!.stringValue!
        let value = sample["value"]!
        if id.hasPrefix("float."), case .string(let text) = value {
            switch text {
            case "INF": return .double(.infinity)
            case "-INF": return .double(-.infinity)
            default: return .double(.nan)
            }
        }
        if let hex = value["bytes_hex"]?.stringValue {
            return .string(Fixtures.bytes(hex: hex))
        }
        return PHPValue(json: value)
    }

    func testEverySerializeSampleMatchesPHP() throws {
        var checked = 0
        for sample in Fixtures.phpSerializeSamples where sample["codec"]?.stringValue == "serialize" {
            let id = sample["id"]!.stringValue!
            let captured = Fixtures.bytes(hex: sample["serialized_hex"]!.stringValue!)
            if let text = sample["serialized"]?.stringValue {
                XCTAssertEqual(Array(text.utf8), captured, id)
            }
            if id == "obj.stdclass" {
                XCTAssertThrowsError(try PHPSerializer.unserialize(captured), id) { error in
                    XCTAssertEqual(error as? PHPSerializeError, .objectNotAllowed(offset: 0))
                }
                continue
            }
            let value = self.sampleValue(sample)
            XCTAssertEqual(PHPSerializer.serialize(value), captured, id)
            var buffer = ByteBuffer()
            PHPSerializer.serialize(value, into: &buffer)
            XCTAssertEqual(Array(buffer.readableBytesView), captured, id)

            let decoded = try PHPSerializer.unserialize(captured)
            XCTAssertEqual(PHPSerializer.serialize(decoded), captured, id)
            if case .double(let number) = value, number.isNaN {
                XCTAssertTrue(decoded.doubleValue?.isNaN == true, id)
            } else {
                XCTAssertEqual(decoded, value, id)
            }
            checked += 1
        }
        XCTAssertEqual(checked, 52)
    }

    func testSignOfZeroSurvives() throws {
        let decoded = try PHPSerializer.unserialize(Array("d:-0;".utf8))
        XCTAssertEqual(decoded.doubleValue?.sign, .minus)
        XCTAssertEqual(PHPSerializer.serialize(.double(0)), Array("d:0;".utf8))
    }

    /// Layout rules of PHP's `zend_gcvt(value, 17)` with shortest digits.
    func testDoubleFormatting() {
        let cases: [(Double, String)] = [
            (0.1, "0.1"), (1.5, "1.5"), (1.0, "1"), (-2.0, "-2"), (100.0, "100"), (0.30000000000000004, "0.30000000000000004"),
            (1e25, "1.0E+25"), (1.5e300, "1.5E+300"), (1e-7, "1.0E-7"), (-1.25e-10, "-1.25E-10"), (0.0001, "0.0001"),
            (0.00012, "0.00012"), (0.00001, "1.0E-5"), (1e16, "10000000000000000"), (1e17, "1.0E+17"),
            (123456789.125, "123456789.125"), (1234567890123456.8, "1234567890123456.8"),
            (9007199254740992, "9007199254740992"), (Double(Int.max), "9.223372036854776E+18"), (0.5, "0.5"),
            (1.7976931348623157e308, "1.7976931348623157E+308"), (2.2250738585072014e-308, "2.2250738585072014E-308"),
            (12.0e3, "12000"), (-0.0, "-0"), (.infinity, "INF"), (-.infinity, "-INF"), (.nan, "NAN"),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(PHPSerializer.serialize(.double(value)), Array("d:\(expected);".utf8), "\(value)")
            if value.isFinite {
                XCTAssertEqual(try PHPSerializer.unserialize(Array("d:\(expected);".utf8)).doubleValue, value, expected)
            }
        }
    }

    func testRandomDoublesRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let value = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            guard value.isFinite else { continue }
            let bytes = PHPSerializer.serialize(.double(value))
            let decoded = try PHPSerializer.unserialize(bytes)
            XCTAssertEqual(decoded.doubleValue?.bitPattern, value.bitPattern, String(decoding: bytes, as: UTF8.self))
        }
    }

    func testAcceptsPHPInputVariants() throws {
        XCTAssertEqual(try PHPSerializer.unserialize(Array("i:+5;".utf8)), 5)
        XCTAssertEqual(try PHPSerializer.unserialize(Array("i:007;".utf8)), 7)
        XCTAssertEqual(try PHPSerializer.unserialize(Array("d:1e3;".utf8)), .double(1000))
        XCTAssertEqual(try PHPSerializer.unserialize(Array("d:.5;".utf8)), .double(0.5))
        XCTAssertEqual(try PHPSerializer.unserialize(Array("d:5.;".utf8)), .double(5))
        XCTAssertEqual(try PHPSerializer.unserialize(Array("d:-1.5E-3;".utf8)), .double(-0.0015))
        XCTAssertEqual(try PHPSerializer.unserialize(Array("d:7;".utf8)), .double(7))
        XCTAssertEqual(try PHPSerializer.unserialize(Array("s:0:\"\";".utf8)), "")
        // Duplicate keys: the later value wins in the first position (as PHP).
        let duplicate = try PHPSerializer.unserialize(Array("a:3:{i:0;s:1:\"a\";i:1;s:1:\"b\";i:0;s:1:\"c\";}".utf8))
        XCTAssertEqual(duplicate.arrayValue?.entries.map(\.key), [.int(0), .int(1)])
        XCTAssertEqual(duplicate[.int(0)], "c")
        // Numeric string keys become int keys (PHP's symtable rules).
        let numeric = try PHPSerializer.unserialize(Array("a:2:{s:1:\"5\";i:1;s:2:\"05\";i:2;}".utf8))
        XCTAssertEqual(numeric.arrayValue?.keys, [.int(5), .string(Array("05".utf8))])
        // The ByteBuffer entry point reads only the readable bytes.
        var buffer = ByteBuffer(string: "xxN;")
        buffer.moveReaderIndex(forwardBy: 2)
        XCTAssertEqual(try PHPSerializer.unserialize(buffer), .null)
        // Non-contiguous collections work too.
        XCTAssertEqual(try PHPSerializer.unserialize(Array("b:1;".utf8).lazy.map { $0 }), true)
    }

    private func assertRejects(
        _ text: String,
        _ expected: PHPSerializeError,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        self.assertRejects(Array(text.utf8), expected, file: file, line: line)
    }

    private func assertRejects(
        _ bytes: [UInt8],
        _ expected: PHPSerializeError,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertThrowsError(try PHPSerializer.unserialize(bytes), file: file, line: line) { error in
            XCTAssertEqual(error as? PHPSerializeError, expected, file: file, line: line)
        }
    }

    func testTruncatedInput() {
        self.assertRejects("", .unexpectedEnd(offset: 0))
        self.assertRejects("N", .unexpectedEnd(offset: 1))
        self.assertRejects("i:5", .unexpectedEnd(offset: 3))
        self.assertRejects("i:", .unexpectedEnd(offset: 2))
        self.assertRejects("b:", .unexpectedEnd(offset: 2))
        self.assertRejects("d:1.5", .unexpectedEnd(offset: 5))
        self.assertRejects("s:5:\"abc", .lengthTooLarge(offset: 2))
        self.assertRejects("s:3:\"abc", .unexpectedEnd(offset: 8))
        self.assertRejects("s:3:\"abc\"", .unexpectedEnd(offset: 9))
        self.assertRejects("s:3", .unexpectedEnd(offset: 3))
        self.assertRejects("a:1:{i:0;", .lengthTooLarge(offset: 2))
        self.assertRejects("a:1:{i:0;i:1;", .unexpectedEnd(offset: 13))
        self.assertRejects("a:0:{", .unexpectedEnd(offset: 5))
    }

    func testMalformedInput() {
        self.assertRejects("x", .unexpectedByte(offset: 0))
        self.assertRejects("N:", .unexpectedByte(offset: 1))
        self.assertRejects("b:2;", .unexpectedByte(offset: 2))
        self.assertRejects("b:1", .unexpectedEnd(offset: 3))
        self.assertRejects("i:1.5;", .unexpectedByte(offset: 3))
        self.assertRejects("i:;", .invalidNumber(offset: 2))
        self.assertRejects("i:-;", .invalidNumber(offset: 2))
        self.assertRejects("d:;", .invalidNumber(offset: 2))
        self.assertRejects("d:1e;", .invalidNumber(offset: 2))
        self.assertRejects("d:abc;", .invalidNumber(offset: 2))
        self.assertRejects("d:0x10;", .unexpectedByte(offset: 3))
        self.assertRejects("d:inf;", .invalidNumber(offset: 2))
        self.assertRejects("s:-1:\"\";", .unexpectedByte(offset: 2))
        self.assertRejects("s:1:'a';", .unexpectedByte(offset: 4))
        self.assertRejects("s:1:\"ab\";", .unexpectedByte(offset: 6))
        self.assertRejects("S:1:\"a\";", .unexpectedByte(offset: 0))
        self.assertRejects("a:1:{N;i:1;}", .unexpectedByte(offset: 5))
        self.assertRejects("a:1:{d:1.5;i:1;}", .unexpectedByte(offset: 5))
        self.assertRejects("a:1:{a:0:{}i:1;}", .unexpectedByte(offset: 5))
        self.assertRejects("a:2:{i:0;i:1;}", .lengthTooLarge(offset: 2))
        self.assertRejects("a:1:{i:0;i:1;i:2;i:3;}", .unexpectedByte(offset: 13))
        self.assertRejects("a:1:[i:0;i:1;]", .unexpectedByte(offset: 4))
    }

    func testNumbersOutOfRange() {
        self.assertRejects("i:9223372036854775808;", .invalidNumber(offset: 2))
        self.assertRejects("i:-9223372036854775809;", .invalidNumber(offset: 2))
        self.assertRejects("i:99999999999999999999999999;", .invalidNumber(offset: 2))
        XCTAssertEqual(try PHPSerializer.unserialize(Array("i:-9223372036854775808;".utf8)), .int(.min))
    }

    func testObjectsAndReferencesAreRefused() {
        self.assertRejects("O:8:\"stdClass\":0:{}", .objectNotAllowed(offset: 0))
        self.assertRejects("C:3:\"Foo\":0:{}", .objectNotAllowed(offset: 0))
        self.assertRejects("E:7:\"Foo:Bar\";", .objectNotAllowed(offset: 0))
        self.assertRejects("a:1:{i:0;O:8:\"stdClass\":0:{}}", .objectNotAllowed(offset: 9))
        self.assertRejects("a:2:{i:0;i:1;i:1;r:2;}", .referenceNotAllowed(offset: 17))
        self.assertRejects("a:2:{i:0;i:1;i:1;R:2;}", .referenceNotAllowed(offset: 17))
    }

    func testTrailingBytes() {
        self.assertRejects("N;x", .trailingBytes(offset: 2))
        self.assertRejects("i:1;i:2;", .trailingBytes(offset: 4))
        self.assertRejects("a:0:{} ", .trailingBytes(offset: 6))
        self.assertRejects([0x4E, 0x3B, 0x00], .trailingBytes(offset: 2))
    }

    /// Declared sizes are checked against the input before anything is reserved.
    func testHugeDeclaredLengths() {
        self.assertRejects("s:99999999999999999999:\"\";", .lengthTooLarge(offset: 2))
        self.assertRejects("s:9223372036854775807:\"\";", .lengthTooLarge(offset: 2))
        self.assertRejects("s:4294967296:\"x\";", .lengthTooLarge(offset: 2))
        self.assertRejects("a:9223372036854775807:{}", .lengthTooLarge(offset: 2))
        self.assertRejects("a:1000000000:{i:0;N;}", .lengthTooLarge(offset: 2))
    }

    /// 100000 nested arrays must fail with tooDeep, not overflow the stack.
    func testDepthBomb() {
        let depth = 100_000
        var bytes: [UInt8] = []
        bytes.reserveCapacity(depth * 10 + 2)
        for _ in 0..<depth { bytes.append(contentsOf: "a:1:{i:0;".utf8) }
        bytes.append(contentsOf: "N;".utf8)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "}"), count: depth))
        self.assertRejects(bytes, .tooDeep(limit: PHPSerializer.defaultMaximumDepth))

        // Exactly at the limit is fine; one more is not.
        func nested(_ levels: Int) -> [UInt8] {
            Array(String(repeating: "a:1:{i:0;", count: levels).utf8) + Array("N;".utf8)
                + [UInt8](repeating: UInt8(ascii: "}"), count: levels)
        }
        XCTAssertNoThrow(try PHPSerializer.unserialize(nested(PHPSerializer.defaultMaximumDepth)))
        self.assertRejects(nested(PHPSerializer.defaultMaximumDepth + 1), .tooDeep(limit: PHPSerializer.defaultMaximumDepth))
        XCTAssertThrowsError(try PHPSerializer.unserialize(nested(3), maximumDepth: 2)) { error in
            XCTAssertEqual(error as? PHPSerializeError, .tooDeep(limit: 2))
        }
    }

    /// Random and mutated inputs never crash; whatever decodes re-serializes and decodes again.
    func testMutatedInputsNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let seeds = Fixtures.phpSerializeSamples.compactMap { $0["serialized_hex"]?.stringValue }.map(Fixtures.bytes(hex:))
        for round in 0..<5000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + round % 3) where !bytes.isEmpty {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch round % 4 {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: index)
                case 2: bytes.insert(UInt8.random(in: 0x20...0x7E, using: &generator), at: index)
                default: bytes[index] = Array("aisdNb:;{}\"0123456789-".utf8).randomElement(using: &generator)!
                }
            }
            if let value = try? PHPSerializer.unserialize(bytes) {
                XCTAssertNotNil(try? PHPSerializer.unserialize(PHPSerializer.serialize(value)))
            }
        }
    }
}
