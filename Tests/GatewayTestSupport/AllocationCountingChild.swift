#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

/// Heap calls counted by `bench/malloc-counter`, preloaded into a child run of this test binary:
/// the parent compiles the library and runs one test in the child, which counts its own
/// malloc, calloc, realloc and aligned calls around a loop and writes what it found to a report.
///
/// The counters are process-wide and XCTest's threads allocate now and then; the loops measured
/// are deterministic, so a count is the fewest of up to 5 runs of the same loop. Shared by the
/// test targets that count heap calls (GatewayWireTests, GatewayWebSocketTests).
public struct AllocationCountingChild {
    private static let reportVariable = "GATEWAYD_ALLOCATION_REPORT"
    private let counters: Int32
    private let reportPath: String

    /// In the parent: runs `test` ("Module.Class/method" of this test binary) in a counted
    /// child and returns its report. Skips without a C compiler.
    public static func report(of test: String) throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../bench/malloc-counter/malloc-counter.c").standardizedFileURL
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("gwd-alloc-\(getpid())-\(test.hashValue)")
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
        child.arguments = [test]
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = library.path
        environment["MALLOC_COUNTER_DIR"] = work.appendingPathComponent("counters").path
        environment[reportVariable] = report.path
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        child.waitUntilExit()
        XCTAssertEqual(child.terminationStatus, 0, "the child test failed")
        return try String(contentsOf: report, encoding: .utf8)
    }

    /// In the child: its counters. Nil in an ordinary test run, where the child test does nothing.
    public static func attach() throws -> AllocationCountingChild? {
        let environment = ProcessInfo.processInfo.environment
        guard let reportPath = environment[reportVariable] else { return nil }
        let counters = open("\(environment["MALLOC_COUNTER_DIR"]!)/\(getpid())", O_RDONLY)
        guard counters >= 0 else {
            XCTFail("no malloc counter file: is bench/malloc-counter preloaded?")
            return nil
        }
        return AllocationCountingChild(counters: counters, reportPath: reportPath)
    }

    /// Runs `body` once to warm up (lazily initialized globals, generic metadata: this is a debug
    /// build), then up to 5 times until a run counts nothing; returns the fewest calls a run made.
    public func fewestAllocations(_ body: () throws -> Void) throws -> Int {
        try body()
        var fewest = Int.max
        for _ in 0..<5 where fewest > 0 {
            let before = try allocationCount()
            try body()
            fewest = min(fewest, try allocationCount() - before)
        }
        return fewest
    }

    /// Hands `text` to the parent and closes the counters.
    public func finish(reporting text: String) throws {
        close(counters)
        try text.write(toFile: reportPath, atomically: false, encoding: .utf8)
    }

    /// malloc + calloc + realloc + aligned calls so far, from this process's counter file
    /// (layout: bench/malloc-counter/malloc-counter.c), read with pread into a stack buffer.
    private func allocationCount() throws -> Int {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        let read = withUnsafeMutableBytes(of: &words) { pread(counters, $0.baseAddress, $0.count, 0) }
        guard read == 48, words.0 == 0x7274_6e63_6c6c_616d else { throw CocoaError(.fileReadCorruptFile) }
        return Int(words.2 + words.3 + words.4 + words.5)
    }
}
