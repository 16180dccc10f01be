import Foundation

/// One setting of gatewayd: its name in the YAML file, its environment variable and flag, its
/// type and range, its default, its one-line doc, whether it is a secret, and how it reads and
/// writes a ``GatewayConfiguration``. ``ConfigurationKey/all`` (ConfigurationKeys.swift) is
/// the one table that drives the file, the environment, the flags, validation, `config init`,
/// `config check` and the table in docs/configuration.md (a test compares them).
public struct ConfigurationKey: Sendable {
    /// What a value is written as, in every source.
    public enum ValueType: String, Sendable {
        case text
        /// Text naming a file: relative to the config file when it comes from one, else to the
        /// working directory.
        case path
        case integer
        /// A decimal number (`0.5`).
        case number
        /// `true` or `false` (also yes/no, on/off, 1/0); a flag takes no value.
        case bool
        /// A YAML list, or one string; comma-separated in the environment and in a flag,
        /// which may also be repeated.
        case list
    }

    /// The YAML key, snake_case.
    public let name: String
    public let type: ValueType
    /// One line: the start of the key's meaning in docs/configuration.md, its comment in
    /// `config init`, its flag's help.
    public let doc: String
    /// The long flag without `--`: the name with dashes unless the table says otherwise.
    public let flag: String
    /// Never printed: `config check` and errors show `(secret)`.
    public let secret: Bool
    /// What the docs say the default is when there is no value to show (`off`, `built-in
    /// demo`) or it depends on the machine (`/tmp/gatewayd-<uid>`); `config init` then writes
    /// the key commented out, with ``example``.
    public let defaultText: String?
    /// A value for the commented-out line `config init` writes.
    public let example: String?
    /// The range a number must be in (`1...256`, `1...3600000 milliseconds`), for the help and
    /// `config init`; the check enforces it.
    public let limits: String?
    /// Another key that must be set for this one to mean anything (`http_api_token` needs
    /// `http_api_listen`).
    public let requires: String?
    /// A key that sets the same thing another way: not both in one source.
    public let excludes: String?
    /// The expected phrase (worded to follow "is not") when a well-typed value is out of
    /// range or badly formed; nil when it is fine.
    let check: @Sendable (ConfigurationValue) -> String?
    /// The value in a configuration; nil when unset.
    let read: @Sendable (GatewayConfiguration) -> ConfigurationValue?
    /// Stores a value that passed ``check``.
    let write: @Sendable (inout GatewayConfiguration, ConfigurationValue) throws(ConfigurationError) -> Void

    init(
        _ name: String, _ type: ValueType, doc: String, flag: String? = nil, secret: Bool = false,
        defaultText: String? = nil, example: String? = nil, limits: String? = nil, requires: String? = nil,
        excludes: String? = nil,
        check: @escaping @Sendable (ConfigurationValue) -> String? = { _ in nil },
        read: @escaping @Sendable (GatewayConfiguration) -> ConfigurationValue?,
        write: @escaping @Sendable (inout GatewayConfiguration, ConfigurationValue) throws(ConfigurationError) -> Void
    ) {
        self.name = name
        self.type = type
        self.doc = doc
        self.flag = flag ?? name.replacingOccurrences(of: "_", with: "-")
        self.secret = secret
        self.defaultText = defaultText
        self.example = example
        self.limits = limits
        self.requires = requires
        self.excludes = excludes
        self.check = check
        self.read = read
        self.write = write
    }

    /// `GATEWAYD_` and the key in capitals: `GATEWAYD_SECRET_KEY`.
    public var environmentName: String { "GATEWAYD_" + name.uppercased() }

    /// The built-in default, when there is a value to show.
    public var defaultValue: ConfigurationValue? {
        defaultText == nil ? read(GatewayConfiguration()) : nil
    }

    /// The default as docs/configuration.md and `config check` write it.
    public var documentedDefault: String {
        if let defaultText { return defaultText }
        switch defaultValue {
        case .list(let items)?: return items.joined(separator: ",")
        case let value?: return value.yaml
        case nil: return "none"
        }
    }

    /// The doc line with the limits, without Markdown: `config init`'s comment, the flag's help.
    public var plainDoc: String {
        (doc + (limits.map { " (\($0))" } ?? "")).replacingOccurrences(of: "`", with: "")
    }

    /// The value `configuration` holds for this key; nil when unset.
    public func value(in configuration: GatewayConfiguration) -> ConfigurationValue? { read(configuration) }

    /// The problem with a well-typed value, worded to follow "is not"; nil when it is fine.
    public func problem(with value: ConfigurationValue) -> String? { check(value) }

    public static func named(_ name: String) -> ConfigurationKey? { index[name] }

    /// The key whose flag is `--flag`.
    public static func flagged(_ flag: String) -> ConfigurationKey? { all.first { $0.flag == flag } }

    private static let index: [String: ConfigurationKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// A known key within two edits of `name` (a typo), for "did you mean".
    static func closest(to name: String) -> String? {
        let scored = all.map { ($0.name, editDistance($0.name, name)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A typed setting value, whatever source it came from.
public enum ConfigurationValue: Sendable, Hashable {
    case text(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case list([String])

    /// As YAML writes it: strings quoted when YAML would read them as something else.
    public var yaml: String {
        switch self {
        case .text(let text): return Self.yamlScalar(text)
        case .integer(let number): return String(number)
        case .number(let number): return number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .list(let items): return "[" + items.map(Self.yamlScalar).joined(separator: ", ") + "]"
        }
    }

    /// The value in an error message (quoted there).
    var text: String {
        switch self {
        case .text(let text): return text
        case .list(let items): return items.joined(separator: ",")
        default: return yaml
        }
    }

    var string: String {
        if case .text(let text) = self { return text }
        return self.text
    }

    var strings: [String] {
        if case .list(let items) = self { return items }
        return [string]
    }

    var integer: Int {
        if case .integer(let number) = self { return number }
        return 0
    }

    var number: Double {
        switch self {
        case .number(let number): return number
        case .integer(let number): return Double(number)
        default: return 0
        }
    }

    var bool: Bool {
        if case .bool(let flag) = self { return flag }
        return false
    }

    /// Plain when YAML reads it back as the same string, else double-quoted.
    static func yamlScalar(_ text: String) -> String {
        let plain =
            !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && !"#,[]{}&*!|>'\"%@`".unicodeScalars.contains($0) }
            && !"-?:".contains(text.first!) && !text.hasSuffix(":") && !text.contains(": ")
            && Double(text) == nil && Int(text) == nil
            && !["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"].contains(text.lowercased())
        return plain ? text : ConfigurationError.quoted(text)
    }
}

extension ConfigurationKey.ValueType {
    /// Reads a value as written in a file, the environment or a flag; on failure the expected
    /// type, worded to follow "is not".
    func parse(_ raw: RawConfigurationValue) -> Result<ConfigurationValue, ConfigurationTypeMismatch> {
        let mismatch = Result<ConfigurationValue, ConfigurationTypeMismatch>.failure(ConfigurationTypeMismatch(expected: expectedScalar))
        switch (self, raw) {
        case (.list, _):
            let items = raw.items.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            return .success(.list(items.filter { !$0.isEmpty }))
        case (_, .list):
            return mismatch
        case (.text, .scalar(let text)), (.path, .scalar(let text)):
            return .success(.text(text))
        case (.integer, .scalar(let text)):
            return Int(text.replacingOccurrences(of: "_", with: "")).map { .success(.integer($0)) } ?? mismatch
        case (.number, .scalar(let text)):
            return Double(text).flatMap { $0.isFinite ? .success(.number($0)) : nil } ?? mismatch
        case (.bool, .scalar(let text)):
            switch text.lowercased() {
            case "true", "yes", "on", "1": return .success(.bool(true))
            case "false", "no", "off", "0": return .success(.bool(false))
            default: return mismatch
            }
        }
    }

    private var expectedScalar: String {
        switch self {
        case .text, .path, .list: return "a string"
        case .integer: return "an integer"
        case .number: return "a number"
        case .bool: return "true or false"
        }
    }
}

/// A value as a source wrote it, before its key's type reads it.
public enum RawConfigurationValue: Sendable, Hashable {
    case scalar(String)
    /// A YAML list, or a repeated flag.
    case list([String])

    var items: [String] {
        switch self {
        case .scalar(let text): return [text]
        case .list(let items): return items
        }
    }

    var text: String {
        switch self {
        case .scalar(let text): return text
        case .list(let items): return "[" + items.joined(separator: ", ") + "]"
        }
    }
}

struct ConfigurationTypeMismatch: Error {
    var expected: String
}
