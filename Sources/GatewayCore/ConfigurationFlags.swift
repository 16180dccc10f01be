import Foundation

/// The command-line form of every key: `--worker-count 4`, `--worker-count=4`, `--allow-no-secret`
/// (a bool alone means true), a list flag repeated or comma-separated. The flags are read here
/// from the table rather than declared one by one in the command, so a key added to the table
/// has its flag, its help line and its checks at once.
public enum ConfigurationFlags {
    /// The keys `arguments` set, in order; a repeated list flag is one list, a repeated other
    /// flag keeps its last value.
    public static func parse(_ arguments: [String]) throws(ConfigurationError) -> [(key: String, value: RawConfigurationValue)] {
        var values: [(key: String, value: RawConfigurationValue)] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw ConfigurationError(.unexpectedArgument(argument), source: .flag)
            }
            var name = String(argument.dropFirst(2))
            var inline: String?
            if let equals = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let key = ConfigurationKey.flagged(name) else {
                throw ConfigurationError(.unexpectedArgument("--\(name)"), source: .flag)
            }
            let text: String
            if let inline {
                text = inline
            } else if key.type == .bool {
                text = "true"
            } else if index < arguments.endIndex {
                text = arguments[index]
                index += 1
            } else {
                throw ConfigurationError(.refused(key: key.name, reason: "needs a value"), source: .flag)
            }
            if let earlier = values.firstIndex(where: { $0.key == key.name }) {
                values[earlier].value = key.type == .list ? .list(values[earlier].value.items + [text]) : .scalar(text)
            } else {
                values.append((key.name, key.type == .list ? .list([text]) : .scalar(text)))
            }
        }
        return values
    }

    /// Two lines or more per key: the flag with its value's kind, then the doc line and the
    /// default, wrapped short enough that argument-parser's own wrapping (80 columns) leaves
    /// them alone.
    public static var help: String {
        ConfigurationKey.all.map { key in
            let flag = key.flag
            let usage = key.type == .bool ? "--\(flag)" : "--\(flag) <\(key.type.rawValue)>"
            let text = key.plainDoc + "; default: " + key.documentedDefault.replacingOccurrences(of: "`", with: "")
            return (["  " + usage] + wrapped(text, width: 70).map { "      " + $0 }).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    private static func wrapped(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
