#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GatewayWire
import XCTest

/// The decoder's steady state allocates nothing: 100 000 decodes of every form and type run
/// in a child process (this test binary again, running `testChildDecodesWithoutAllocating`)
/// with `bench/malloc-counter` preloaded, which counts every malloc, calloc, realloc and
/// aligned allocation of the process; the child reads its own counters around the loop.
///
/// The counters are process-wide, and XCTest keeps a few dispatch threads that now and then
/// allocate. The decoder is deterministic (the same messages every time), so an allocation of
/// its own shows in every loop: the child runs the loop up to 5 times and stops at the first
/// one that counted nothing.
final class EventDecoderAllocationTests: XCTestCase {
    private static let childVariable = "GATEWAYD_EVENT_ALLOCATION_REPORT"
    private static let decodes = 100_000

    /// Messages of every form and argument type, with escapes, an acknowledgement, a slow-path
    /// double and a raw JSON value.
    static let messages = [
        #"["add", 2, 3]"#,
        #"["say", "room1", "hello \"world\" \u00e9\ud83d\ude00"]"#,
        #"{"event": "say", "room": "room1", "text": "hi", "ack": 7}"#,
        #"{"text": "hi", "room": "r", "event": "say"}"#,
        #"{"event": "add", "args": [2, 3], "ack": -1}"#,
        #"["all", "s", "S\u0000", -9223372036854775808, 0.30000000000000004, true, {"k": [1, 2.5, null]}]"#,
        #"{"event":"all","json":[],"flag":false,"num":1e-7,"int":42,"bytes":"","s":"x","ignored":{"a":[1,2]}}"#,
        #"["num", 1.5]"#,
        #"["ping"]"#,
    ]

    func testSteadyStateDecodingDoesNotAllocate() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../bench/malloc-counter/malloc-counter.c").standardizedFileURL
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("event-alloc-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let library = work.appendingPathComponent("malloc-counter.so")
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compile.arguments = ["cc", "-O2", "-shared", "-fPIC", "-o", library.path, source.path]
        do { try compile.run() } catch { throw XCTSkip("no C compiler to build bench/malloc-counter: \(error)") }
        compile.waitUntilExit()
        guard compile.terminationStatus == 0 else { throw XCTSkip("cc could not build bench/malloc-counter") }

        let report = work.appendingPathComponent("report")
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["GatewayWireTests.EventDecoderAllocationTests/testChildDecodesWithoutAllocating"]
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = library.path
        environment["MALLOC_COUNTER_DIR"] = work.appendingPathComponent("counters").path
        environment[Self.childVariable] = report.path
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        child.waitUntilExit()
        XCTAssertEqual(child.terminationStatus, 0, "the child test failed")
        let text = try String(contentsOf: report, encoding: .utf8)
        XCTAssertEqual(text, "decodes=\(Self.decodes) allocations=0", text)
    }

    /// Run by `testSteadyStateDecodingDoesNotAllocate` in a child process; does nothing
    /// otherwise.
    func testChildDecodesWithoutAllocating() throws {
        guard let reportPath = ProcessInfo.processInfo.environment[Self.childVariable] else { return }
        let counters = open("\(ProcessInfo.processInfo.environment["MALLOC_COUNTER_DIR"]!)/\(getpid())", O_RDONLY)
        guard counters >= 0 else { return XCTFail("no malloc counter file: is bench/malloc-counter preloaded?") }
        defer { close(counters) }

        let table = makeEventTable()
        let messages = Self.messages.map { Array($0.utf8) }
        let expected = messages.map { message -> EventDecodeResult in
            var decoder = EventDecoder()
            return decoder.decode(message, table: table)
        }
        for result in expected {
            guard case .event = result else { return XCTFail("not an event: \(result)") }
        }

        var decoder = EventDecoder()
        var failures = 0
        var checksum: Int64 = 0
        let allocations: Int = try messages.withUnsafeBufferPointer { messages in
            func run(_ rounds: Int) {
                for round in 0..<rounds {
                    let message = messages[round % messages.count]
                    let result = message.withUnsafeBytes { decoder.decode($0, table: table) }
                    guard case .event(let index, _) = result else {
                        failures += 1
                        continue
                    }
                    checksum &+= Int64(index) &+ Int64(decoder.arguments.count)
                    for argument in decoder.arguments { checksum &+= argument.integer &+ Int64(argument.length) }
                }
            }
            // Warm up: lazily initialized globals, generic metadata (this is a debug build).
            run(2 * messages.count)
            var fewest = Int.max
            for _ in 0..<5 where fewest > 0 {
                let before = try Self.allocationCount(counters)
                run(Self.decodes)
                fewest = min(fewest, try Self.allocationCount(counters) - before)
            }
            return fewest
        }
        XCTAssertEqual(failures, 0)
        XCTAssertNotEqual(checksum, 0)
        try "decodes=\(Self.decodes) allocations=\(allocations)".write(toFile: reportPath, atomically: false, encoding: .utf8)
    }

    /// malloc + calloc + realloc + aligned calls so far, from this process's counter file
    /// (layout: bench/malloc-counter/malloc-counter.c), read with pread into a stack buffer.
    private static func allocationCount(_ descriptor: Int32) throws -> Int {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        let read = withUnsafeMutableBytes(of: &words) { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard read == 48, words.0 == 0x7274_6e63_6c6c_616d else { throw CocoaError(.fileReadCorruptFile) }
        return Int(words.2 + words.3 + words.4 + words.5)
    }
}
