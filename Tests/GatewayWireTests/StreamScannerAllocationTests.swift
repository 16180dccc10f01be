import GatewayWire
import GatewayTestSupport
import XCTest

/// The scanners allocate nothing, on any result: pipelined messages, partial ones, limits
/// hit and malformed headers, scanned 20 000 times over, counted in a child process
/// (`AllocationCountingChild`).
final class StreamScannerAllocationTests: XCTestCase {
    private static let rounds = 20_000

    func testScanningDoesNotAllocate() throws {
        let text = try AllocationCountingChild.report(of: "GatewayWireTests.StreamScannerAllocationTests/testChildScansWithoutAllocating")
        XCTAssertEqual(text, "rounds=\(Self.rounds) allocations=0")
    }

    /// Run by the test above in a child process; does nothing otherwise.
    func testChildScansWithoutAllocating() throws {
        guard let child = try AllocationCountingChild.attach() else { return }
        // Pipelined messages, then the limit hit (text) or a malformed header (frame).
        let lines = Array("one\r\n\n\r\r\nlonger line\ntoo long for the limit\n".utf8)
        let frames: [UInt8] = [0, 0, 0, 7, 1, 2, 3, 0, 0, 0, 4, 0, 0, 0, 6, 9, 9, 0, 0, 0, 2]
        let oversized: [UInt8] = [0, 0, 0, 200, 1]
        var results = 0
        let allocations = try child.fewestAllocations {
            results = 0
            for _ in 0..<Self.rounds {
                results += Self.scanEveryPrefix(of: lines, text: true)
                results += Self.scanEveryPrefix(of: frames, text: false)
                results += Self.scanEveryPrefix(of: oversized, text: false)
            }
        }
        XCTAssertGreaterThan(results, 0)
        try child.finish(reporting: "rounds=\(Self.rounds) allocations=\(allocations)")
    }

    /// Scans every prefix of `stream` (so the partial cases run as well as the whole ones) as the
    /// engine would, each with a new scanner, until it stops; returns how many results it gave.
    private static func scanEveryPrefix(of stream: [UInt8], text: Bool) -> Int {
        stream.withUnsafeBytes { stream in
            var results = 0
            for end in 0..<stream.count + 1 {
                var lineScanner = TextLineScanner(maximumLineLength: 16)
                var frameScanner = LengthPrefixedScanner(maximumBodyLength: 100)
                var offset = 0
                while true {
                    let bytes = UnsafeRawBufferPointer(rebasing: stream[offset..<end])
                    let result = text ? lineScanner.scan(bytes) : frameScanner.scan(bytes)
                    results += 1
                    guard case .message(_, let consumed) = result else { break }
                    offset += consumed
                }
            }
            return results
        }
    }
}
