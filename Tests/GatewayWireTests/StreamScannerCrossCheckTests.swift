import GatewayWire
import NIOCore
import XCTest

/// The raw-byte scanners against the SwiftNIO decoders they replace: the same streams, cut into
/// the same reads, must give the same messages, the same first failure and the same bytes left.
final class StreamScannerCrossCheckTests: XCTestCase {
    private static let textStreams: [String] = [
        "", "\n", "\r\n", "\r\r\n", "\n\n\n", "hello\n", "a\r\r\n\nbc\r\n", "inner\rcr\n", "no newline",
        "12345678\n", "1234567\r\n", "123456789\n", "1234567\r\r\n", "short\nthis line is over the limit\nok\n",
        "tail\r", "\r", "a\nb\nc", "\u{e9}t\u{e9}\n\u{1F600}\r\n",
    ]

    private static let frameStreams: [[UInt8]] = [
        [], [0], [0, 0, 0], [0, 0, 0, 4], [0, 0, 0, 5], [0, 0, 0, 5, 0x41], frame(count: 5) + frame(count: 0) + frame(count: 3),
        [0, 0, 0, 0], [0, 0, 0, 1, 9], [0, 0, 0, 2, 9, 9], [0, 0, 0, 3], frame(count: 1) + [0, 0, 0, 3, 1, 2, 3],
        frame(count: 8), frame(count: 9), frame(count: 16) + frame(count: 17), frame(count: 2) + [0, 0, 1, 0] + [1, 2],
        [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3], frame(count: 0) + [0x80, 0, 0, 0],
    ]

    private static let limits = [0, 1, 3, 4, 8, 9, 16, 1 << 20, .max]

    func testHandMadeTextStreamsAtEverySplit() {
        for text in Self.textStreams {
            for limit in Self.limits {
                checkEveryCut(Array(text.utf8), .text, limit: limit)
            }
        }
    }

    func testHandMadeFrameStreamsAtEverySplit() {
        for stream in Self.frameStreams {
            for limit in Self.limits {
                checkEveryCut(stream, .frame, limit: limit)
            }
        }
    }

    func testRandomTextStreams() {
        var random = SeededRandom(state: 0x7E47_0001)
        var tally = Tally()
        for _ in 0..<1000 {
            let stream = Self.randomText(&random)
            let limit = Self.limits.randomElement(using: &random)!
            tally.add(checkEveryCut(stream, .text, limit: limit, random: &random))
        }
        tally.assertCoversEveryCase(malformed: false)
    }

    func testRandomFrameStreams() {
        var random = SeededRandom(state: 0xF4A3_0001)
        var tally = Tally()
        for _ in 0..<1000 {
            let limit = Self.limits.randomElement(using: &random)!
            let stream = Self.randomFrames(&random, limit: limit)
            tally.add(checkEveryCut(stream, .frame, limit: limit, random: &random))
        }
        tally.assertCoversEveryCase(malformed: true)
    }

    /// The comparison is not blind: a limit one apart, or the other protocol, shows.
    func testTheComparisonSeesADifference() {
        let line = Array("1234\n".utf8)
        XCTAssertNotEqual(StreamFeed.scan([line], .text, limit: 3), StreamFeed.decodeWithNIO([line], .text, limit: 4))
        XCTAssertEqual(StreamFeed.scan([line], .text, limit: 4), StreamFeed.decodeWithNIO([line], .text, limit: 4))
        let frames = Self.frame(count: 2) + [0, 0, 0, 3]
        XCTAssertNotEqual(StreamFeed.scan([frames], .frame, limit: 1), StreamFeed.decodeWithNIO([frames], .frame, limit: 2))
        XCTAssertNotEqual(StreamFeed.scan([frames], .text, limit: 9), StreamFeed.decodeWithNIO([frames], .frame, limit: 9))
    }

    /// Compares scanner and decoder on `stream` in one read, one byte per read, cut in two at
    /// every offset and, given `random`, cut in 2 to 6 reads at random 8 times.
    @discardableResult
    private func checkEveryCut(
        _ stream: [UInt8], _ kind: StreamFeed.Kind, limit: Int, random: inout SeededRandom, file: StaticString = #filePath,
        line: UInt = #line
    ) -> StreamFeed.Outcome {
        let whole = checkCut([stream], kind, limit: limit, file: file, line: line)
        checkCut(stream.map { [$0] }, kind, limit: limit, file: file, line: line)
        for cut in 0...stream.count {
            checkCut([Array(stream[..<cut]), Array(stream[cut...])], kind, limit: limit, file: file, line: line)
        }
        for _ in 0..<8 where stream.count > 1 {
            let cuts = (0..<Int.random(in: 1...5, using: &random)).map { _ in Int.random(in: 0...stream.count, using: &random) }.sorted()
            let reads = zip([0] + cuts, cuts + [stream.count]).map { Array(stream[$0..<$1]) }
            checkCut(reads, kind, limit: limit, file: file, line: line)
        }
        return whole
    }

    private func checkEveryCut(_ stream: [UInt8], _ kind: StreamFeed.Kind, limit: Int, file: StaticString = #filePath, line: UInt = #line) {
        var random = SeededRandom(state: UInt64(stream.count))
        checkEveryCut(stream, kind, limit: limit, random: &random, file: file, line: line)
    }

    @discardableResult
    private func checkCut(_ reads: [[UInt8]], _ kind: StreamFeed.Kind, limit: Int, file: StaticString, line: UInt) -> StreamFeed.Outcome {
        let scanned = StreamFeed.scan(reads, kind, limit: limit, file: file, line: line)
        let decoded = StreamFeed.decodeWithNIO(reads, kind, limit: limit)
        XCTAssertEqual(scanned, decoded, "\(kind) limit \(limit), reads \(reads)", file: file, line: line)
        return scanned
    }

    private static func frame(count: Int) -> [UInt8] {
        withUnsafeBytes(of: UInt32(4 + count).bigEndian) { Array($0) } + (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37) }
    }

    /// Up to 48 bytes, many of them "\n" and "\r".
    private static func randomText(_ random: inout SeededRandom) -> [UInt8] {
        (0..<Int.random(in: 0...48, using: &random)).map { _ in
            switch Int.random(in: 0..<20, using: &random) {
            case 0..<3: UInt8(ascii: "\n")
            case 3..<6: UInt8(ascii: "\r")
            case 6: UInt8.random(in: 0...255, using: &random)
            default: UInt8(ascii: "a")
            }
        }
    }

    /// Frames near the limit, lengths below the header, truncated frames and stray bytes.
    private static func randomFrames(_ random: inout SeededRandom, limit: Int) -> [UInt8] {
        var stream: [UInt8] = []
        for _ in 0..<Int.random(in: 0...5, using: &random) {
            let fitting = min(limit, 18)
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<6: stream += frame(count: Int.random(in: 0...fitting, using: &random))
            case 6: stream += frame(count: Int.random(in: fitting...fitting + 2, using: &random))
            case 7: stream += [0, 0, 0, UInt8.random(in: 0...3, using: &random)]
            case 8: stream += frame(count: Int.random(in: 1...20, using: &random)).dropLast(Int.random(in: 1...3, using: &random))
            default: stream += (0..<Int.random(in: 1...6, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
        }
        return stream
    }

    /// How many streams ended each way, so a generator that drifts into one case shows.
    private struct Tally {
        var messages = 0, tooLong = 0, malformed = 0, unfinished = 0, unfinishedWithSize = 0

        mutating func add(_ outcome: StreamFeed.Outcome) {
            messages += outcome.messages.count
            switch outcome.failure {
            case .tooLong?: tooLong += 1
            case .malformed?: malformed += 1
            default:
                if outcome.leftover > 0 { unfinished += 1 }
                if outcome.pendingMessageSize > 0 { unfinishedWithSize += 1 }
            }
        }

        func assertCoversEveryCase(malformed expectMalformed: Bool, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertGreaterThan(messages, 500, file: file, line: line)
            XCTAssertGreaterThan(tooLong, 50, file: file, line: line)
            XCTAssertGreaterThan(unfinished, 40, file: file, line: line)
            if expectMalformed {
                XCTAssertGreaterThan(malformed, 30, file: file, line: line)
                XCTAssertGreaterThan(unfinishedWithSize, 20, file: file, line: line)
            } else {
                XCTAssertEqual(malformed, 0, file: file, line: line)
                XCTAssertEqual(unfinishedWithSize, 0, file: file, line: line)
            }
        }
    }
}
