#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GatewayWebSocket
import XCTest

/// The decoder's heap calls, counted by `bench/malloc-counter` preloaded into a child run of
/// this test binary: none for messages in one frame (text, UTF-8 text, binary, ping, pong), one
/// per fragmented message (its reassembly buffer, under 4 KiB so it never grows).
///
/// The counters are process-wide and XCTest's threads allocate now and then, so each count is
/// the fewest of up to 5 runs of the same deterministic loop.
final class WebSocketFrameDecoderAllocationTests: XCTestCase {
    private static let reportVariable = "GATEWAYD_WEBSOCKET_ALLOCATION_REPORT"
    private static let rounds = 20_000

    func testDecodingAllocatesOnlyForFragmentedMessages() throws {
        let library = try MallocCounter.build()
        defer { try? FileManager.default.removeItem(at: library.deletingLastPathComponent()) }
        let report = library.deletingLastPathComponent().appendingPathComponent("report")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["GatewayWebSocketTests.WebSocketFrameDecoderAllocationTests/testChildCountsAllocations"]
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = library.path
        environment["MALLOC_COUNTER_DIR"] = library.deletingLastPathComponent().appendingPathComponent("counters").path
        environment[Self.reportVariable] = report.path
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        child.waitUntilExit()
        XCTAssertEqual(child.terminationStatus, 0, "the child test failed")
        let text = try String(contentsOf: report, encoding: .utf8)
        XCTAssertEqual(text, "single-frame rounds=\(Self.rounds) allocations=0; fragmented messages=\(Self.rounds) allocations=\(Self.rounds)")
    }

    /// Run by the test above in a child process with the counter preloaded; does nothing otherwise.
    func testChildCountsAllocations() throws {
        guard let reportPath = ProcessInfo.processInfo.environment[Self.reportVariable] else { return }
        let counter = try MallocCounter.attach()
        defer { counter.detach() }
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
        try "single-frame rounds=\(Self.rounds) allocations=\(single); fragmented messages=\(Self.rounds) allocations=\(fragments)"
            .write(toFile: reportPath, atomically: false, encoding: .utf8)
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

/// bench/malloc-counter: built into a temporary directory, and read from inside the child.
private struct MallocCounter {
    let descriptor: Int32

    /// Compiles the preload library; skips the test without a C compiler.
    static func build() throws -> URL {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../bench/malloc-counter/malloc-counter.c").standardizedFileURL
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("websocket-alloc-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let library = work.appendingPathComponent("malloc-counter.so")
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compile.arguments = ["cc", "-O2", "-shared", "-fPIC", "-o", library.path, source.path]
        do { try compile.run() } catch { throw XCTSkip("no C compiler for bench/malloc-counter: \(error)") }
        compile.waitUntilExit()
        guard compile.terminationStatus == 0 else { throw XCTSkip("cc could not build bench/malloc-counter") }
        return library
    }

    static func attach() throws -> MallocCounter {
        let path = "\(ProcessInfo.processInfo.environment["MALLOC_COUNTER_DIR"]!)/\(getpid())"
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw XCTSkip("no malloc counter file: is bench/malloc-counter preloaded?") }
        return MallocCounter(descriptor: descriptor)
    }

    func detach() {
        close(descriptor)
    }

    /// Runs `body` once to warm up (lazy globals, metadata), then up to 5 times until a run
    /// counts nothing; returns the fewest heap calls a run made.
    func fewestAllocations(_ body: () throws -> Void) throws -> Int {
        try body()
        var fewest = Int.max
        for _ in 0..<5 where fewest > 0 {
            let before = try count()
            try body()
            fewest = min(fewest, try count() - before)
        }
        return fewest
    }

    /// malloc + calloc + realloc + aligned calls so far (layout: bench/malloc-counter/malloc-counter.c).
    private func count() throws -> Int {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        let read = withUnsafeMutableBytes(of: &words) { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard read == 48, words.0 == 0x7274_6e63_6c6c_616d else { throw CocoaError(.fileReadCorruptFile) }
        return Int(words.2 + words.3 + words.4 + words.5)
    }
}
