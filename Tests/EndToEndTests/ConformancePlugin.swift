import Foundation

/// The two conformance plugins (conformance-protocol.md), built once per test run.
///
/// `path()` runs `gatewayd plugin build` the first time it is asked for a kind and remembers
/// the result, failure included, for the life of the test process. The C plugin builds in a
/// second; the Swift one is a release `swift build` and can take minutes the first time.
/// `GATEWAYD_C_PLUGIN` / `GATEWAYD_SWIFT_PLUGIN` name a prebuilt .so to use instead.
enum ConformancePlugin: String, CaseIterable, Sendable {
    case c
    case swift

    /// The plugin's source: a folder of C files, or a Swift package.
    var sourceURL: URL {
        let plugins = GatewaydProcess.repositoryRoot.appendingPathComponent("plugins")
        switch self {
        case .c: return plugins.appendingPathComponent("conformance-c")
        case .swift: return plugins.appendingPathComponent("conformance-swift")
        }
    }

    /// The descriptor's name, as `plugin check` prints it.
    var pluginName: String { "conformance-\(rawValue)" }

    /// The version compiled into the checked-in source.
    var version: String { "1" }

    private var overrideVariable: String {
        switch self {
        case .c: return "GATEWAYD_C_PLUGIN"
        case .swift: return "GATEWAYD_SWIFT_PLUGIN"
        }
    }

    private var buildTimeout: Duration {
        switch self {
        case .c: return .seconds(120)
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
        let result = try GatewaydProcess.run(
            ["plugin", "build", sourceURL.path, "-o", output], timeout: buildTimeout)
        guard result.exitCode == 0, FileManager.default.fileExists(atPath: output) else {
            throw GatewaydFixtureError("building the \(rawValue) conformance plugin failed: \(result)")
        }
        return output
    }
}
