import Foundation

/// The conformance plugins (conformance-protocol.md), built once per test run: C and Swift as
/// they are now, and the C plugin exactly as it was at ABI 1.1, built against the frozen 1.1
/// header (an old plugin must keep working on a newer host).
///
/// `path()` runs `gatewayd plugin build` the first time it is asked for a kind and remembers
/// the result, failure included, for the life of the test process. The C plugin builds in a
/// second; the Swift one is a release `swift build` and can take minutes the first time.
/// `GATEWAYD_C_PLUGIN` / `GATEWAYD_SWIFT_PLUGIN` name a prebuilt .so to use instead.
enum ConformancePlugin: String, CaseIterable, Sendable {
    case c
    case swift
    case cABI1_1 = "c-abi-1.1"

    /// The plugin's source: a folder of C files, or a Swift package.
    var sourceURL: URL {
        let plugins = GatewaydProcess.repositoryRoot.appendingPathComponent("plugins")
        switch self {
        case .c: return plugins.appendingPathComponent("conformance-c")
        case .swift: return plugins.appendingPathComponent("conformance-swift")
        case .cABI1_1: return Self.frozenFixtures.appendingPathComponent("conformance-abi-1.1.c")
        }
    }

    /// Where the frozen sources and headers are kept.
    private static var frozenFixtures: URL {
        GatewaydProcess.repositoryRoot.appendingPathComponent("Tests/GatewayWorkerTests/Fixtures")
    }

    /// The descriptor's name, as `plugin check` prints it.
    var pluginName: String { self == .cABI1_1 ? "conformance-c" : "conformance-\(rawValue)" }

    /// The version compiled into the checked-in source.
    var version: String { "1" }

    private var overrideVariable: String {
        switch self {
        case .c: return "GATEWAYD_C_PLUGIN"
        case .swift: return "GATEWAYD_SWIFT_PLUGIN"
        case .cABI1_1: return "GATEWAYD_C_ABI_1_1_PLUGIN"
        }
    }

    private var buildTimeout: Duration {
        switch self {
        case .c, .cABI1_1: return .seconds(120)
        case .swift: return .seconds(1200)
        }
    }

    private static let built = LockedValue<[ConformancePlugin: Result<String, GatewaydFixtureError>]>([:])
    private static let outputDirectory = LockedValue<String?>(nil)

    /// The path of the built .so.
    func path() throws -> String {
        try Self.built.withLock { cache in
            if let known = cache[self] { return try known.get() }
            let result = Result { try build() }.mapError { $0 as? GatewaydFixtureError ?? GatewaydFixtureError("\($0)") }
            cache[self] = result
            return try result.get()
        }
    }

    /// Removes the built plugins when the test process exits (registered with `atexit`).
    private static func removeOutputDirectory() {
        if let directory = outputDirectory.withLock({ $0 }) {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    private func build() throws -> String {
        if let prebuilt = ProcessInfo.processInfo.environment[overrideVariable], !prebuilt.isEmpty {
            guard FileManager.default.fileExists(atPath: prebuilt) else {
                throw GatewaydFixtureError("\(overrideVariable)=\(prebuilt) does not exist")
            }
            return prebuilt
        }
        let directory = try Self.outputDirectory.withLock { directory in
            if let directory { return directory }
            let made = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-plugins-")
            directory = made
            atexit { ConformancePlugin.removeOutputDirectory() }
            return made
        }
        let output = "\(directory)/conformance-\(rawValue).so"
        if self == .cABI1_1 {
            // `plugin build` would compile against this binary's header; this one must not.
            let headers = "\(directory)/abi-1.1"
            try FileManager.default.createDirectory(atPath: headers, withIntermediateDirectories: true)
            let header = "\(headers)/gatewayd.h"
            if !FileManager.default.fileExists(atPath: header) {
                try FileManager.default.copyItem(
                    atPath: Self.frozenFixtures.appendingPathComponent("gatewayd-1.1.h").path, toPath: header)
            }
            let result = try GatewaydProcess.runExecutable(
                URL(fileURLWithPath: "/usr/bin/env"),
                ["cc", "-std=c99", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-I", headers, sourceURL.path, "-o", output],
                timeout: buildTimeout)
            guard result.exitCode == 0 else {
                throw GatewaydFixtureError("building the frozen ABI 1.1 conformance plugin failed: \(result)")
            }
            return output
        }
        let result = try GatewaydProcess.run(
            ["plugin", "build", sourceURL.path, "-o", output], timeout: buildTimeout)
        guard result.exitCode == 0, FileManager.default.fileExists(atPath: output) else {
            throw GatewaydFixtureError("building the \(rawValue) conformance plugin failed: \(result)")
        }
        return output
    }
}
