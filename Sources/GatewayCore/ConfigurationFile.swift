import Foundation
import Yams

/// Reads a YAML config file into the values it sets, key by key, without interpreting them:
/// the keys' types (``ConfigurationKey``) do that, the same way for the environment and flags.
///
/// Every key is optional. A key with no value (`key:` or `key: ~`) leaves the default. Unknown
/// keys, nested mappings and YAML syntax errors are refused, each with one line naming the file.
public enum ConfigurationFile {
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: RawConfigurationValue
    }

    /// The keys the file sets, in the file's order.
    public static func entries(path: String) throws(ConfigurationError) -> [Entry] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(.unreadable(reason(for: path)), source: .file(path))
        }
        do {
            return try entries(yaml: text)
        } catch {
            throw error.from(.file(path))
        }
    }

    /// The keys `yaml` sets (a source other than a file, such as a test, has no path to name).
    public static func entries(yaml: String) throws(ConfigurationError) -> [Entry] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(.malformed(oneLine(error)))
        }
        guard let root, root.null == nil else { return [] }  // an empty file changes nothing
        guard case .mapping(let mapping) = root else {
            throw ConfigurationError(.malformed("the top level must be a mapping of keys to values"))
        }
        var entries: [Entry] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                throw ConfigurationError(.malformed("a key must be a plain name\(position(keyNode))"))
            }
            let key = keyScalar.string
            guard ConfigurationKey.named(key) != nil else { throw ConfigurationError(.unknownKey(key)) }
            guard valueNode.null == nil else { continue }
            switch valueNode {
            case .scalar(let scalar):
                entries.append(Entry(key: key, value: .scalar(scalar.string)))
            case .sequence(let sequence):
                var items: [String] = []
                for item in sequence {
                    guard case .scalar(let scalar) = item else {
                        throw ConfigurationError.invalid(key: key, value: "[…]", expected: "a list of plain values\(position(item))")
                    }
                    items.append(scalar.string)
                }
                entries.append(Entry(key: key, value: .list(items)))
            case .mapping, .alias:
                throw ConfigurationError.invalid(key: key, value: "{…}", expected: "a single value or a list\(position(valueNode))")
            }
        }
        return entries
    }

    /// A secret kept in a file of its own (mode 0600, outside the config): its contents without
    /// one trailing newline, as `echo secret > file` writes it. Empty is refused.
    public static func secret(fromFile path: String, key: String) throws(ConfigurationError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalid(key: key, value: path, expected: "a readable file (\(reason(for: path)))")
        }
        var text = String(decoding: data, as: UTF8.self)
        if text.last?.isNewline == true { text.removeLast() }  // "\n", or "\r\n" (one Character)
        guard !text.isEmpty else { throw .invalid(key: key, value: path, expected: "a file holding the secret (it is empty)") }
        return text
    }

    /// Yams' reason on one line: the position, the problem and its context, without the
    /// multi-line snippet of the source its description adds.
    static func oneLine(_ error: any Error) -> String {
        guard let yaml = error as? YamlError else { return flattened("\(error)") }
        switch yaml {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let context = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return "line \(mark.line), column \(mark.column): \(problem)\(context)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "line \(context.mark.line), column \(context.mark.column): duplicate keys \(duplicates.joined(separator: ", ")) \(context.text)"
        default:
            return flattened("\(yaml)")
        }
    }

    private static func flattened(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: "; ")
    }

    private static func position(_ node: Node) -> String {
        node.mark.map { " (line \($0.line), column \($0.column))" } ?? ""
    }

    private static func reason(for path: String) -> String {
        if access(path, F_OK) != 0 { return "no such file" }
        if access(path, R_OK) != 0 { return "permission denied" }
        return "not a UTF-8 text file"
    }
}
