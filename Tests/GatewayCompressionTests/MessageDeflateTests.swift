import CZlib
@testable import GatewayCompression
import XCTest

/// Whole-message deflate and inflate without context takeover, against zlib's own inflate
/// where a window smaller than 15 must be respected.
final class MessageDeflateTests: XCTestCase {
    private let json = Array(
        (0..<40).map { #"{"type":"message","room":"lobby","from":"user\#($0)","text":"hello everyone, this is message \#($0)"}"# }
            .joined(separator: "\n").utf8)

    private func compress(_ bytes: [UInt8], level: Int = 1, windowBits: UInt8 = 15) -> [UInt8] {
        let deflater = MessageDeflater(level: level)
        return bytes.withUnsafeBytes { Array(deflater.compress($0, windowBits: windowBits)) }
    }

    /// Every inflater `inflate` made, alive until the test ends: a result is a view into its
    /// inflater's buffer (read after the inflater was freed, it failed in the full suite).
    private var inflaters: [MessageInflater] = []

    private func inflate(_ bytes: [UInt8], limit: Int = 1 << 20) -> MessageInflater.Result {
        let inflater = MessageInflater(maximumMessageBytes: limit)
        inflaters.append(inflater)
        return bytes.withUnsafeBytes { inflater.inflate($0) }
    }

    private func inflated(_ result: MessageInflater.Result, file: StaticString = #filePath, line: UInt = #line) -> [UInt8]? {
        guard case .inflated(let bytes) = result else {
            XCTFail("not inflated: \(result)", file: file, line: line)
            return nil
        }
        return Array(bytes)
    }

    func testARoundTripAtEveryLevelAndWindow() {
        // Below and above MessageDeflater.smallMessageBytes: both of its streams.
        let long = Array(repeating: json, count: 5).flatMap { $0 }
        XCTAssertLessThan(json.count, MessageDeflater.smallMessageBytes)
        XCTAssertGreaterThan(long.count, MessageDeflater.smallMessageBytes)
        for message in [json, long] {
            for level in [1, 6, 9] {
                for bits in UInt8(8)...15 {
                    let compressed = compress(message, level: level, windowBits: bits)
                    // A 256-byte window gets run-length matches only (zlib's raw deflate has no 8).
                    XCTAssertLessThan(
                        compressed.count, bits == 8 ? message.count * 3 / 4 : message.count / 3, "level \(level), window \(bits)")
                    XCTAssertNotEqual(Array(compressed.suffix(4)), [0, 0, 0xFF, 0xFF], "the sync flush's tail is removed")
                    let inflater = MessageInflater(maximumMessageBytes: 1 << 20)
                    let result = compressed.withUnsafeBytes { inflater.inflate($0) }
                    XCTAssertEqual(inflated(result), message)
                }
            }
        }
    }

    func testEachMessageStandsAlone() {
        // No context takeover: the same message compresses to the same bytes every time, and
        // one deflater and one inflater serve any number of peers in any order.
        let deflater = MessageDeflater(level: 1)
        let inflater = MessageInflater(maximumMessageBytes: 1 << 20)
        let first = json.withUnsafeBytes { Array(deflater.compress($0, windowBits: 15)) }
        let other = Array("something else entirely, said twice: something else entirely".utf8)
        let between = other.withUnsafeBytes { Array(deflater.compress($0, windowBits: 12)) }
        let second = json.withUnsafeBytes { Array(deflater.compress($0, windowBits: 15)) }
        XCTAssertEqual(first, second)
        for (compressed, original) in [(second, json), (between, other), (first, json)] {
            XCTAssertEqual(inflated(compressed.withUnsafeBytes { inflater.inflate($0) }), original)
        }
    }

    func testASmallWindowIsRespected() throws {
        // Repeats 300 bytes apart: a 256-byte window must not refer back to them.
        let block = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let message = block + block + block
        for bits: Int32 in [8, 9, 10] {
            let compressed = compress(message, windowBits: UInt8(bits))
            XCTAssertEqual(try zlibInflate(compressed, windowBits: bits), message, "window \(bits)")
        }
    }

    func testTheEmptyMessage() {
        let compressed = compress([])
        XCTAssertEqual(inflated(inflate(compressed)), [])
        XCTAssertEqual(inflated(inflate([0x00])), [], "RFC 7692 §7.2.3.6's single 0x00 byte")
    }

    func testAFinalBlockIsAccepted() {
        // "Hello" as a final block (RFC 7692 §7.2.3.1's example).
        XCTAssertEqual(inflated(inflate([0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])), Array("Hello".utf8))
        XCTAssertEqual(inflated(inflate([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])), Array("Hello".utf8))
    }

    func testABombStopsAtTheLimitWithoutInflatingFurther() {
        let limit = 64 * 1024
        let bomb = compress([UInt8](repeating: 0, count: 8 << 20), level: 9)
        XCTAssertLessThan(bomb.count, 16 * 1024)
        let inflater = MessageInflater(maximumMessageBytes: limit)
        guard case .tooLarge = bomb.withUnsafeBytes({ inflater.inflate($0) }) else { return XCTFail("not refused") }
        XCTAssertLessThanOrEqual(inflater.outputCapacityForTesting, limit + 1, "never more than the limit allocated")
        // Exactly at the limit is fine; one byte more is not.
        XCTAssertEqual(inflated(inflate(compress([UInt8](repeating: 1, count: limit)), limit: limit))?.count, limit)
        guard case .tooLarge = inflate(compress([UInt8](repeating: 1, count: limit + 1)), limit: limit) else { return XCTFail() }
        // And the inflater goes on working after a refusal.
        XCTAssertEqual(inflated(json.count <= limit ? compress(json).withUnsafeBytes { inflater.inflate($0) } : .invalid), json)
    }

    func testGarbageIsInvalid() {
        for garbage: [UInt8] in [[0xFF, 0xFF, 0xFF, 0xFF], [0x07], Array("not deflate at all".utf8)] {
            guard case .invalid = inflate(garbage) else { return XCTFail("\(garbage) accepted") }
        }
    }

    /// zlib's raw inflate with exactly `windowBits`: it refuses distances beyond the window.
    private func zlibInflate(_ compressed: [UInt8], windowBits: Int32) throws -> [UInt8] {
        var stream = z_stream()
        XCTAssertEqual(gwd_inflate_init_raw(&stream, windowBits), Z_OK)
        defer { inflateEnd(&stream) }
        var input = compressed + [0, 0, 0xFF, 0xFF]
        var output = [UInt8](repeating: 0, count: 1 << 16)
        let status = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                return CZlib.inflate(&stream, Z_SYNC_FLUSH)
            }
        }
        guard status == Z_OK || status == Z_STREAM_END else { throw ZlibFailure(status: status) }
        return Array(output[..<Int(stream.total_out)])
    }

    private struct ZlibFailure: Error { let status: Int32 }
}
