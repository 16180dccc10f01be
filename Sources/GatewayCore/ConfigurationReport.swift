import Foundation

/// What `gatewayd config check` and `gatewayd config init` print, from the table of keys.
public enum ConfigurationReport {
    /// One resolved setting: its value as text (`(secret)` for a secret that is set, the
    /// documented default for one that is not) and where it came from.
    public struct Row: Sendable, Hashable {
        public var key: String
        public var value: String
        public var source: String

        public init(key: String, value: String, source: String) {
            self.key = key
            self.value = value
            self.source = source
        }
    }

    /// Every key in table order. Never holds a secret.
    public static func rows(_ resolved: ConfigurationResolver.Resolved) -> [Row] {
        ConfigurationKey.all.compactMap { key in
            // A secret file's key is reported as the secret it set.
            guard key.excludes == nil else { return nil }
            let value = key.value(in: resolved.configuration)
            let text: String
            switch value {
            case nil: text = key.documentedDefault.replacingOccurrences(of: "`", with: "")
            case .some where key.secret: text = "(secret)"
            case .list(let items)?: text = items.joined(separator: ",")
            case .text(let string)?: text = string.isEmpty ? "\"\"" : string
            case let other?: text = other.yaml
            }
            return Row(key: key.name, value: text, source: resolved.source(of: key.name).naming(key))
        }
    }

    /// A config file with every key: its doc line as a comment, then the key with its default,
    /// or commented out with an example where the default is no value, depends on the host,
    /// or needs another key. It resolves to the defaults, so `config check` passes on it.
    public static func template(version: String) -> String {
        var lines = [
            "# gatewayd \(version) configuration: every key with its default (docs/configuration.md says more).",
            "# Precedence: built-in defaults < this file < environment (GATEWAYD_<KEY>) < command-line flags.",
            "# Relative paths are relative to this file. Check it with: gatewayd config check --config FILE",
        ]
        for key in ConfigurationKey.all {
            lines.append("")
            let shownDefault = key.defaultText.map { "; default: \($0.replacingOccurrences(of: "`", with: ""))" } ?? ""
            lines.append("# \(key.plainDoc)\(shownDefault)")
            if key.secret { lines.append("# A secret: prefer \(key.environmentName) or a file (mode 0600) to writing it here.") }
            if let value = key.defaultValue, key.requires == nil {
                lines.append(contentsOf: entry(key.name, value))
            } else if let example = key.example.map(ConfigurationValue.text) ?? key.defaultValue {
                lines.append(contentsOf: entry(key.name, example).map { "# " + $0 })
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func entry(_ name: String, _ value: ConfigurationValue) -> [String] {
        guard case .list(let items) = value else { return ["\(name): \(value.yaml)"] }
        return ["\(name):"] + items.map { "  - \(ConfigurationValue.yamlScalar($0))" }
    }
}
