import Foundation
import GatewayTestSupport
import GatewayWebSocket
import XCTest

/// The decoder's heap calls, counted by `bench/malloc-counter` preloaded into a child run of
/// this test binary (`AllocationCountingChild`): none for messages in one frame (text, UTF-8
/// text, binary, ping, pong), one per fragmented message (its reassembly buffer, under 4 KiB so
/// it never grows).
///
/// The counters are process-wide and XCTest's threads allocate now and then, so each count is
/// the fewest of up to 5 runs of the same deterministic loop.
final class WebSocketFrameDecoderAllocationTests: XCTestCase {
    private static let rounds = 20_000

    func testDecodingAllocatesOnlyForFragmentedMessages() throws {
        let text = try AllocationCountingChild.report(
            of: "GatewayWebSocketTests.WebSocketFrameDecoderAllocationTests/testChildCountsAllocations")
        XCTAssertEqual(text, "single-frame rounds=\(Self.rounds) allocations=0; fragmented messages=\(Self.rounds) allocations=\(Self.rounds)")
    }

    /// Run by the test above in a child process with the counter preloaded; does nothing otherwise.
    func testChildCountsAllocations() throws {
        guard let counter = try AllocationCountingChild.attach() else { return }
        let singleFrames: [ClientFrame] = [
            .text("hello, gateway"), .text("héllo wörld 😀 " + String(repeating: "x", count: 100)),
            .binary(Array(repeating: 0xAB, count: 300)), .ping([1, 2, 3]), .pong([]),
        ]
        let fragmented: [ClientFrame] = [.text("frag", fin: false), .ping([]), .continuation(Array("mented".utf8), fin: true)]
        // The frames and the buffer they are decoded in are made before counting.
        let singleBytes = singleFrames.bytes
        let fragmentedBytes = fragmented.bytes
        let work = UnsafeMutableRawBufferPointer.allocate(byteCount: max(singleBytes.count, fragmentedBytes.count), alignment: 8)
        defer { work.deallocate() }
        let single = try counter.fewestAllocations { try Self.decodeRepeatedly(singleBytes, in: work, expectedEvents: 5) }
        let fragments = try counter.fewestAllocations { try Self.decodeRepeatedly(fragmentedBytes, in: work, expectedEvents: 2) }
        try counter.finish(
            reporting: "single-frame rounds=\(Self.rounds) allocations=\(single); fragmented messages=\(Self.rounds) allocations=\(fragments)")
    }

    /// Decodes a fresh copy of `frames` `rounds` times with one decoder, as a connection would
    /// (decoding unmasks in place, so each round copies the frames into `work` first).
    private static func decodeRepeatedly(_ frames: [UInt8], in work: UnsafeMutableRawBufferPointer, expectedEvents: Int) throws {
        var decoder = WebSocketFrameDecoder(maximumMessageBytes: 1 << 20)
        var events = 0
        frames.withUnsafeBytes { pristine in
            for _ in 0..<rounds {
                work.copyMemory(from: pristine)
                let round = UnsafeMutableRawBufferPointer(rebasing: work[..<pristine.count])
                var offset = 0
                while true {
                    let result = decoder.decode(UnsafeMutableRawBufferPointer(rebasing: round[offset...]))
                    offset += result.consumed
                    if case .needMoreBytes = result.event { break }
                    events += 1
                }
            }
        }
        guard events == rounds * expectedEvents else { throw CocoaError(.featureUnsupported) }
    }
}
