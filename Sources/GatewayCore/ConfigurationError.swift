import Foundation

/// Where a setting came from, in the order they override each other.
public enum ConfigurationSource: Sendable, Hashable, CustomStringConvertible {
    case defaults
    /// The YAML file at this path.
    case file(String)
    /// `GATEWAYD_<KEY>`.
    case environment
    /// A command-line flag.
    case flag

    public var description: String {
        switch self {
        case .defaults: return "default"
        case .file(let path): return path
        case .environment: return "environment"
        case .flag: return "flag"
        }
    }

    /// Where `key` came from, as `config check` shows it: the file, `$GATEWAYD_KEY`, `--key`.
    func naming(_ key: ConfigurationKey) -> String {
        switch self {
        case .defaults, .file: return description
        case .environment: return "$" + key.environmentName
        case .flag: return "--" + key.flag
        }
    }

    /// How an error names `key` as it was written here: `/etc/gatewayd.yaml: max_connections`,
    /// `environment variable GATEWAYD_MAX_CONNECTIONS`, `--max-connections`.
    func label(of key: String) -> String {
        let entry = ConfigurationKey.named(key)
        switch self {
        case .defaults: return key
        case .file(let path): return "\(path): \(key)"
        case .environment: return entry.map { "environment variable \($0.environmentName)" } ?? key
        case .flag: return entry.map { "--\($0.flag)" } ?? key
        }
    }
}

/// A configuration problem, worded for the one-line error the command prints: where (the file,
/// the environment variable or the flag), the key, and the value.
public struct ConfigurationError: Error, Hashable, CustomStringConvertible {
    public enum Problem: Sendable, Hashable {
        /// The file cannot be read: why.
        case unreadable(String)
        /// YAML syntax: the parser's reason with its line and column, on one line.
        case malformed(String)
        case unknownKey(String)
        /// A command-line argument that is no flag of a key (`--wroker-count`, or a stray word).
        case unexpectedArgument(String)
        /// `key: "value" is not <expected>`; `expected` is worded to follow "is not".
        case invalid(key: String, value: String, expected: String)
        /// `key: <reason>`, for what no single value explains (two keys that exclude each other).
        case refused(key: String, reason: String)
    }

    public var problem: Problem
    /// nil until the resolver knows which layer set the key.
    public var source: ConfigurationSource?

    public init(_ problem: Problem, source: ConfigurationSource? = nil) {
        self.problem = problem
        self.source = source
    }

    public static func invalid(key: String, value: String, expected: String) -> ConfigurationError {
        ConfigurationError(.invalid(key: key, value: value, expected: expected))
    }

    public static func refused(key: String, reason: String) -> ConfigurationError {
        ConfigurationError(.refused(key: key, reason: reason))
    }

    /// The key the problem is about, if any.
    public var key: String? {
        switch problem {
        case .invalid(let key, _, _), .refused(let key, _): return key
        case .unknownKey, .unexpectedArgument, .unreadable, .malformed: return nil
        }
    }

    public func from(_ source: ConfigurationSource) -> ConfigurationError {
        ConfigurationError(problem, source: self.source ?? source)
    }

    public var description: String {
        let place = source ?? .defaults
        switch problem {
        case .unreadable(let reason): return "\(place): cannot read the config file: \(reason)"
        case .malformed(let reason): return "\(place): not valid YAML: \(reason)"
        case .unknownKey(let key):
            let suggestion = ConfigurationKey.closest(to: key).map { " (did you mean \($0)?)" } ?? ""
            return "\(place): \(key): unknown key\(suggestion)"
        case .unexpectedArgument(let argument):
            guard argument.hasPrefix("--") else { return "\(argument): unexpected argument" }
            let name = argument.dropFirst(2).replacingOccurrences(of: "-", with: "_")
            let suggestion = ConfigurationKey.closest(to: name).flatMap { ConfigurationKey.named($0)?.flag }
            return "\(argument): unknown option" + (suggestion.map { " (did you mean --\($0)?)" } ?? "")
        case .invalid(let key, let value, let expected):
            let shown = ConfigurationKey.named(key)?.secret == true && !value.isEmpty ? "(secret)" : Self.quoted(value)
            return "\(place.label(of: key)): \(shown) is not \(expected)"
        case .refused(let key, let reason):
            return "\(place.label(of: key)): \(reason)"
        }
    }

    /// A value in double quotes, with quotes, backslashes and control characters escaped, so the
    /// error stays one line whatever the value holds.
    static func quoted(_ value: String) -> String {
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case "\r": text += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    text += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        return text + "\""
    }
}
