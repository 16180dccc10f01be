import Foundation

/// Resolves gatewayd's settings: built-in defaults, then the YAML file, then the environment
/// (`GATEWAYD_<KEY>`), then command-line flags; each layer overrides the ones before it. Every
/// value goes through its key's type and check (``ConfigurationKey``), so an error names the
/// source that set it; the whole is then validated once.
public struct ConfigurationResolver {
    /// The YAML file (`--config`), if any.
    public var file: String?
    /// The process environment; only the table's `GATEWAYD_<KEY>` names are read, and an empty
    /// value counts as unset.
    public var environment: [String: String]
    /// Flags by key, in the order given.
    public var flags: [(key: String, value: RawConfigurationValue)]
    /// What relative paths from the environment and flags are relative to.
    public var workingDirectory: String

    public init(
        file: String?, environment: [String: String], flags: [(key: String, value: RawConfigurationValue)],
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.file = file
        self.environment = environment
        self.flags = flags
        self.workingDirectory = workingDirectory
    }

    /// A resolved configuration and where each key that was set came from (absent: default).
    public struct Resolved {
        public var configuration: GatewayConfiguration
        public var sources: [String: ConfigurationSource]

        public func source(of key: String) -> ConfigurationSource { sources[key] ?? .defaults }
    }

    public func resolve() throws(ConfigurationError) -> Resolved {
        var resolved = Resolved(configuration: GatewayConfiguration(), sources: [:])
        if let file {
            let path = absolute(file, base: workingDirectory)
            let entries = try ConfigurationFile.entries(path: file).map { ($0.key, $0.value) }
            try apply(entries, from: .file(file), base: (path as NSString).deletingLastPathComponent, to: &resolved)
        }
        let fromEnvironment = ConfigurationKey.all.compactMap { key -> (String, RawConfigurationValue)? in
            guard let value = environment[key.environmentName], !value.isEmpty else { return nil }
            return (key.name, .scalar(value))
        }
        try apply(fromEnvironment, from: .environment, base: workingDirectory, to: &resolved)
        try apply(flags.map { ($0.key, $0.value) }, from: .flag, base: workingDirectory, to: &resolved)

        for key in ConfigurationKey.all {
            guard let needed = key.requires, let source = resolved.sources[key.name], resolved.sources[needed] == nil else { continue }
            throw ConfigurationError(.refused(key: key.name, reason: "needs \(needed), which is not set"), source: source)
        }
        // Children and a daemon must not depend on the caller's working directory.
        resolved.configuration.runDirectory = absolute(resolved.configuration.runDirectory, base: workingDirectory)
        do {
            try resolved.configuration.validate()
        } catch {
            throw error.from(error.key.map { resolved.source(of: $0) } ?? .defaults)
        }
        return resolved
    }

    /// One layer: each value read by its key's type, checked, and written.
    private func apply(
        _ entries: [(String, RawConfigurationValue)], from source: ConfigurationSource, base: String, to resolved: inout Resolved
    ) throws(ConfigurationError) {
        let names = Set(entries.map(\.0))
        for (name, raw) in entries {
            guard let key = ConfigurationKey.named(name) else { throw ConfigurationError(.unknownKey(name), source: source) }
            if let other = key.excludes, names.contains(other) {
                throw ConfigurationError(.refused(key: name, reason: "set either \(other) or \(name), not both"), source: source)
            }
            do throws(ConfigurationError) {
                var value: ConfigurationValue
                switch key.type.parse(raw) {
                case .success(let parsed): value = parsed
                case .failure(let mismatch): throw ConfigurationError.invalid(key: name, value: raw.text, expected: mismatch.expected)
                }
                if key.type == .path { value = .text(absolute(value.string, base: base)) }
                try key.validate(value)
                try key.write(&resolved.configuration, value)
            } catch {
                throw error.from(source)
            }
            resolved.sources[name] = source
            if let other = key.excludes { resolved.sources[other] = source }  // a secret file sets the secret
        }
    }

    private func absolute(_ path: String, base: String) -> String {
        path.hasPrefix("/") || path.isEmpty ? path : (base.isEmpty ? workingDirectory : base) + "/" + path
    }
}

extension ConfigurationKey {
    /// Throws when `value` fails the key's check; a list is checked item by item and may not be empty.
    func validate(_ value: ConfigurationValue) throws(ConfigurationError) {
        guard case .list(let items) = value else {
            if let expected = check(value) { throw .invalid(key: name, value: value.text, expected: expected) }
            return
        }
        guard !items.isEmpty else { throw .refused(key: name, reason: "needs at least one value") }
        for item in items {
            if let expected = check(.text(item)) { throw .invalid(key: name, value: item, expected: expected) }
        }
    }
}
