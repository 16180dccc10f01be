import GatewayWire
import XCTest

final class PHPValueMergeTests: XCTestCase {
    /// The captured CMD_UPDATE_SESSION results (G2.on_message.after_update_session, G4).
    func testCapturedSessionUpdates() throws {
        let session = try PHPSerializer.unserialize(Array("a:1:{s:4:\"name\";s:5:\"alice\";}".utf8))
        let update = try PHPSerializer.unserialize(Array("a:1:{s:4:\"lang\";s:2:\"zh\";}".utf8))
        XCTAssertEqual(
            PHPSerializer.serialize(session.replacingRecursive(with: update)),
            Array("a:2:{s:4:\"name\";s:5:\"alice\";s:4:\"lang\";s:2:\"zh\";}".utf8)
        )

        let update2 = Fixtures.vector("G4.update_session.request")["decoded"]!["ext_data"]!.stringValue!
        let expected = Fixtures.vector("G4.get_session_after_update.reply")["decoded"]!["payload"]!.stringValue!
        let merged = session.replacingRecursive(with: try PHPSerializer.unserialize(Array(update2.utf8)))
        XCTAssertEqual(PHPSerializer.serialize(merged), Array(expected.utf8))
    }

    func testNestedArraysMergeAndNewScalarsWin() {
        let base: PHPValue = ["a": ["x": 1, "y": 2], "b": 1, "c": ["keep": true], "d": "old"]
        let other: PHPValue = ["a": ["y": 3, "z": 4], "b": ["q"], "c": "flat", "e": .null]
        let expected: PHPValue = ["a": ["x": 1, "y": 3, "z": 4], "b": ["q"], "c": "flat", "d": "old", "e": .null]
        XCTAssertEqual(base.replacingRecursive(with: other), expected)
    }

    func testListsMergeByIndex() {
        let base: PHPValue = ["tags": ["x", "y", "z"], "deep": [["a": 1], ["b": 2]]]
        let other: PHPValue = ["tags": ["q"], "deep": ["1": ["c": 3]]]
        let expected: PHPValue = ["tags": ["q", "y", "z"], "deep": [["a": 1], ["b": 2, "c": 3]]]
        XCTAssertEqual(base.replacingRecursive(with: other), expected)
    }

    func testIntegerKeysAreNotRenumbered() {
        var left = PHPArray()
        left[.int(5)] = "a"
        var right = PHPArray()
        right[.int(7)] = "b"
        right[.int(5)] = "c"
        guard case .array(let merged) = PHPValue.array(left).replacingRecursive(with: .array(right)) else {
            return XCTFail("not an array")
        }
        XCTAssertEqual(merged.keys, [5, 7])
        XCTAssertEqual(merged.values, ["c", "b"])
    }

    func testEmptyAndNonArrays() {
        let session: PHPValue = ["k": "v"]
        XCTAssertEqual(session.replacingRecursive(with: [:] as PHPValue), session)
        XCTAssertEqual(PHPValue.array(PHPArray()).replacingRecursive(with: session), session)
        XCTAssertEqual(PHPValue.null.replacingRecursive(with: session), session)
        XCTAssertEqual(session.replacingRecursive(with: "x"), "x")
    }
}
