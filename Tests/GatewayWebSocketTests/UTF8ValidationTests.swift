import XCTest

@testable import GatewayWebSocket

/// The allocation-free validator against the standard library's `String(validating:)`, which
/// the SwiftNIO path used.
final class UTF8ValidationTests: XCTestCase {
    private func assertAgrees(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        let expected = String(validating: bytes, as: UTF8.self) != nil
        let actual = bytes.withUnsafeBytes { UTF8Validation.isValid($0) }
        XCTAssertEqual(actual, expected, "\(bytes.map { String($0, radix: 16) })", file: file, line: line)
    }

    func testEveryOneAndTwoByteSequence() {
        for first in 0...255 {
            assertAgrees([UInt8(first)])
            for second in 0...255 { assertAgrees([UInt8(first), UInt8(second)]) }
        }
    }

    func testThreeAndFourByteSequencesAroundEveryBoundary() {
        let edges: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        for lead in 0xC0...0xFF {
            for second in edges {
                for third in edges {
                    assertAgrees([UInt8(lead), second, third])
                    for fourth in edges where lead >= 0xF0 { assertAgrees([UInt8(lead), second, third, fourth]) }
                }
            }
        }
    }

    func testNonASCIIAtEveryOffsetOfTheWordLoop() {
        for offset in 0..<24 {
            for inserted in [[0xC3, 0xA9], [0xFF], [0xE2, 0x82], [0xF0, 0x9F, 0x98, 0x80]] as [[UInt8]] {
                var bytes = Array(repeating: UInt8(ascii: "a"), count: 24)
                bytes.insert(contentsOf: inserted, at: offset)
                assertAgrees(bytes)
                assertAgrees(Array(bytes.prefix(offset + inserted.count - 1)))
            }
        }
    }

    func testRandomBytes() {
        var random = SeededRandom(seed: 0x5EED)
        let alphabet: [UInt8] = [0x20, 0x41, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC2, 0xC3, 0xDF, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF3, 0xF4, 0xF8]
        for _ in 0..<100_000 {
            let count = Int(random.next() % 24)
            assertAgrees((0..<count).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
        }
    }

    func testRealText() {
        for text in ["", "plain", "héllo wörld", "日本語のテキスト", "emoji 😀👍🏽", String(repeating: "ascii then ü ", count: 40)] {
            XCTAssertTrue(Array(text.utf8).withUnsafeBytes { UTF8Validation.isValid($0) })
        }
    }
}

/// xorshift64*: reproducible pseudo-random numbers for tests.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
