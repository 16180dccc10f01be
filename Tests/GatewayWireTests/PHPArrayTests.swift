import GatewayWire
import XCTest

final class PHPArrayTests: XCTestCase {
    func testKeepsInsertionOrderAndPositionOnOverwrite() {
        var array: PHPArray = ["b": 1, "a": 2]
        array["c"] = 3
        array["b"] = 10
        XCTAssertEqual(array.keys, ["b", "a", "c"])
        XCTAssertEqual(array.values, [10, 2, 3])
        array["a"] = nil
        XCTAssertEqual(array.keys, ["b", "c"])
        XCTAssertNil(array["a"])
        XCTAssertEqual(array.count, 2)
        XCTAssertFalse(array.isEmpty)
    }

    func testKeyCoercion() {
        let array: PHPArray = ["1": "x", "01": "y", "-5": "z", "1.5": "w", "": "e", "-0": "m", " 1": "s"]
        XCTAssertEqual(
            array.keys,
            [.int(1), .string(Array("01".utf8)), .int(-5), .string(Array("1.5".utf8)), .string([]), .string(Array("-0".utf8)),
                .string(Array(" 1".utf8))]
        )
        XCTAssertEqual(array[PHPArrayKey.int(1)], "x")
        XCTAssertEqual(array["1"], "x")
        XCTAssertEqual(PHPArrayKey(coercing: "9223372036854775807"), .int(.max))
        XCTAssertEqual(PHPArrayKey(coercing: "-9223372036854775808"), .int(.min))
        XCTAssertEqual(PHPArrayKey(coercing: "9223372036854775808"), .string(Array("9223372036854775808".utf8)))
        XCTAssertEqual(PHPArrayKey(coercing: "0"), .int(0))
        XCTAssertEqual(PHPArrayKey(coercing: "-"), .string(Array("-".utf8)))
        XCTAssertEqual(PHPArrayKey(coercing: "1e3"), .string(Array("1e3".utf8)))
        XCTAssertEqual(PHPArrayKey(coercing: [0x31, 0x00]), .string([0x31, 0x00]))
    }

    func testAppendUsesNextFreeIndexLikePHP() {
        var array = PHPArray()
        array.append("a")
        array.append("b")
        XCTAssertEqual(array.keys, [0, 1])
        array[.int(10)] = "c"
        array.append("d")
        XCTAssertEqual(array.keys.last, 11)
        array[.int(11)] = nil
        array.append("e")  // PHP never reuses a freed index
        XCTAssertEqual(array.keys.last, 12)
        var negative = PHPArray()
        negative[.int(-5)] = "x"
        negative.append("y")
        XCTAssertEqual(negative.keys, [-5, 0])
        var full = PHPArray()
        full[.int(.max)] = "x"
        full.append("y")  // no free index left: PHP refuses too
        XCTAssertEqual(full.count, 1)
    }

    func testIsList() {
        XCTAssertTrue(PHPArray().isList)
        XCTAssertTrue(PHPArray(["a", "b"]).isList)
        XCTAssertFalse((["1": "a", "2": "b"] as PHPArray).isList)
        var reordered = PHPArray()
        reordered[.int(1)] = "b"
        reordered[.int(0)] = "a"
        XCTAssertFalse(reordered.isList)
        var removed = PHPArray(["a", "b", "c"])
        removed[.int(1)] = nil
        XCTAssertFalse(removed.isList)
    }

    /// Large arrays switch to a hash index; behaviour must not change.
    func testLargeArraysBehaveTheSame() {
        var array = PHPArray()
        for index in 0..<200 {
            array["k\(index)"] = .int(index)
        }
        for index in stride(from: 0, to: 200, by: 3) {
            array["k\(index)"] = nil
        }
        array["k10"] = 1000
        XCTAssertEqual(array.count, 200 - 67)
        for index in 0..<200 {
            let expected: PHPValue? = index % 3 == 0 ? nil : (index == 10 ? 1000 : .int(index))
            XCTAssertEqual(array["k\(index)"], expected, "\(index)")
        }
        XCTAssertEqual(array.keys.first, "k1")
        let rebuilt = PHPArray(entries: array.entries)
        XCTAssertEqual(rebuilt, array)
        XCTAssertEqual(rebuilt.hashValue, array.hashValue)
    }

    func testEqualityIsOrderSensitive() {
        let ab: PHPArray = ["a": 1, "b": 2]
        let ba: PHPArray = ["b": 2, "a": 1]
        XCTAssertNotEqual(ab, ba)
        XCTAssertEqual(ab, ["a": 1, "b": 2])
        XCTAssertEqual(Array(ab.map(\.key)), ["a", "b"])
    }
}
