import Foundation
import XCTest

/// Builds the C plugins (and helper programs) the tests load, and finds the Swift plugins.
///
/// Everything built goes into one temporary directory per test process, removed at exit; a
/// file is built once and never rebuilt in place, since it may be loaded (the host never
/// dlcloses a plugin, and neither do the tests).
enum PluginBuilds {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
    static var include: String { repositoryRoot.appendingPathComponent("include").path }

    /// The flags plugins/README.md gives (-pthread: conformance-c runs a thread of its own),
    /// plus warnings as errors.
    static let pluginFlags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden", "-pthread"]

    // Test-owned state; tests run one at a time.
    nonisolated(unsafe) private static var directory: URL?
    nonisolated(unsafe) private static var built: [String: URL] = [:]

    static func compiler() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/cc" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static func temporaryDirectory() throws -> URL {
        if let directory { return directory }
        let created = FileManager.default.temporaryDirectory.appendingPathComponent("gatewayd-plugin-sdk-tests-\(getpid())")
        try FileManager.default.createDirectory(at: created, withIntermediateDirectories: true)
        directory = created
        atexit { PluginBuilds.removeTemporaryDirectory() }
        return created
    }

    private static func removeTemporaryDirectory() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Compiles C source text into `output` (in the temporary directory) with `flags`; skips
    /// the test when there is no `cc`, fails it when the source does not compile.
    static func compile(_ source: String, output: String, flags: [String]) throws -> URL {
        if let existing = built[output] { return existing }
        guard let cc = compiler() else { throw XCTSkip("no cc on PATH") }
        let directory = try temporaryDirectory()
        let file = directory.appendingPathComponent(output + ".c")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let result = directory.appendingPathComponent(output)
        let run = try self.run(cc, ["-I", include, file.path, "-o", result.path] + flags)
        guard run.reason == .exit, run.code == 0 else {
            XCTFail("cc \(output) failed:\n\(run.errors)")
            throw XCTSkip("\(output) did not compile")
        }
        built[output] = result
        return result
    }

    /// Compiles a C plugin of the repository, with `rewrite` (old line, new line) applied to its source.
    static func plugin(_ relativePath: String, output: String, rewrite: (String, String)? = nil) throws -> URL {
        var source = try String(contentsOf: repositoryRoot.appendingPathComponent(relativePath), encoding: .utf8)
        if let (old, new) = rewrite { source = source.replacingOccurrences(of: old, with: new) }
        return try compile(source, output: output, flags: pluginFlags)
    }

    /// A Swift plugin package's built library — `swift build -c release --package-path plugins/<package>`,
    /// or the path in the environment variable `variable` — or a skip when there is none.
    /// (Building a package from inside `swift test` would be slow and need its dependencies.)
    static func swiftPlugin(package: String, product: String, variable: String) throws -> URL {
        let fromEnvironment = ProcessInfo.processInfo.environment[variable].map { [$0] } ?? []
        let candidates = fromEnvironment + ["release", "debug"].map {
            repositoryRoot.appendingPathComponent("plugins/\(package)/.build/\($0)/lib\(product).so").path
        }
        guard let path = candidates.first(where: FileManager.default.fileExists(atPath:)) else {
            throw XCTSkip("plugins/\(package) is not built (swift build -c release --package-path plugins/\(package))")
        }
        return URL(fileURLWithPath: path)
    }

    static func run(_ executable: String, _ arguments: [String],
                    environment: [String: String] = [:]) throws -> (reason: Process.TerminationReason, code: Int32, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationReason, process.terminationStatus, output)
    }
}
