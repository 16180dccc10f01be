import Foundation
import XCTest

/// Compiles small C plugins for the loader tests, the way `gatewayd plugin build` does.
///
/// Every library goes to its own name in one directory per test process: a loaded plugin is
/// never unloaded, and dlopen of a path already loaded would hand back the old library.
enum CPluginCompiler {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    // Only touched from test methods, which XCTest runs one at a time.
    nonisolated(unsafe) private static var outputDirectory: TemporaryDirectory?

    static func directory() throws -> TemporaryDirectory {
        if let outputDirectory { return outputDirectory }
        let created = try TemporaryDirectory("plugins")
        outputDirectory = created
        atexit { CPluginCompiler.outputDirectory?.remove() }
        return created
    }

    static func compiler() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        guard let cc = path.split(separator: ":").map({ "\($0)/cc" }).first(where: FileManager.default.isExecutableFile)
        else { throw XCTSkip("no cc on PATH") }
        return cc
    }

    /// Builds `source` into `<name>.so` and returns its path; `headerDirectory` holds the
    /// gatewayd.h to compile against (default: the repository's include/).
    static func build(_ name: String, _ source: String, headerDirectory: String? = nil) throws -> String {
        let cc = try compiler()
        let directory = try directory()
        let sourcePath = directory.file("\(name).c")
        let output = directory.file("\(name).so")
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cc)
        process.arguments = [
            "-std=c99", "-shared", "-fPIC", "-fvisibility=hidden", "-pthread",
            "-I", headerDirectory ?? repositoryRoot.appendingPathComponent("include").path, sourcePath, "-o", output,
        ]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            XCTFail("cc \(name).c failed:\n\(message)")
            throw XCTSkip("\(name) did not compile")
        }
        return output
    }

    /// A directory whose gatewayd.h is the header as ABI 1.0 shipped it (Fixtures/gatewayd-1.0.h).
    static func version1_0HeaderDirectory() throws -> String {
        try frozenHeaderDirectory("1.0")
    }

    /// A directory whose gatewayd.h is the header as ABI 1.1 shipped it (Fixtures/gatewayd-1.1.h).
    static func version1_1HeaderDirectory() throws -> String {
        try frozenHeaderDirectory("1.1")
    }

    private static func frozenHeaderDirectory(_ version: String) throws -> String {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/gatewayd-\(version).h")
        let target = try directory().file("abi-\(version)")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let header = "\(target)/gatewayd.h"
        if !FileManager.default.fileExists(atPath: header) {
            try FileManager.default.copyItem(atPath: fixture.path, toPath: header)
        }
        return target
    }
}
