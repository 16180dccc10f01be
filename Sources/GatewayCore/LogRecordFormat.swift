import Logging

/// How log records are written: `text` (one human-readable line, values logfmt-quoted where
/// needed) or `json` (one JSON object per line, for log shippers).
public enum LogFormat: String, Sendable, Hashable, Codable, CaseIterable {
    case text
    case json
}

/// One log record as a line, in either format. Pure, so the escaping is tested without a
/// descriptor.
///
/// text: `2026-11-22T10:00:00.123Z INFO  gatewayd.gateway[4242] message gw.index=0 gw.reason="bad key"`
/// json: `{"timestamp":"2026-11-22T10:00:00.123Z","level":"info","role":"gateway","pid":4242,"message":"message","metadata":{"gw.index":"0"}}`
public struct LogRecord: Sendable {
    public var timestamp: String
    public var level: Logger.Level
    /// The logger's label, `gatewayd.<role>`.
    public var label: String
    public var pid: Int32
    public var message: String
    public var metadata: Logger.Metadata

    public init(timestamp: String, level: Logger.Level, label: String, pid: Int32, message: String, metadata: Logger.Metadata) {
        self.timestamp = timestamp
        self.level = level
        self.label = label
        self.pid = pid
        self.message = message
        self.metadata = metadata
    }

    /// `gatewayd.gateway` → `gateway`; another label is its own role.
    public var role: String {
        label.hasPrefix("gatewayd.") ? String(label.dropFirst("gatewayd.".count)) : label
    }

    /// The line in `format`, newline included.
    public func line(_ format: LogFormat) -> String {
        switch format {
        case .text: textLine()
        case .json: jsonLine()
        }
    }

    public func textLine() -> String {
        var line = timestamp + " "
        line += level.rawValue.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0)
        line += " \(label)[\(pid)] "
        // The message stays bare (it is read by people), but a line break in it must not start
        // what looks like another record.
        line += LogEscaping.controlCharactersEscaped(message)
        for key in metadata.keys.sorted() {
            line += " " + LogEscaping.logfmtKey(key) + "=" + LogEscaping.logfmtValue(metadata[key]!.description)
        }
        return line + "\n"
    }

    public func jsonLine() -> String {
        var line = "{\"timestamp\":" + LogEscaping.jsonString(timestamp)
        line += ",\"level\":" + LogEscaping.jsonString(level.rawValue)
        line += ",\"role\":" + LogEscaping.jsonString(role)
        line += ",\"pid\":\(pid)"
        line += ",\"message\":" + LogEscaping.jsonString(message)
        line += ",\"metadata\":" + LogEscaping.json(.dictionary(metadata))
        return line + "}\n"
    }
}

/// The quoting and escaping both formats need.
public enum LogEscaping {
    /// A JSON string literal (RFC 8259): `"` and `\` escaped, control characters as `\n`, `\r`,
    /// `\t` or `\u00XX`.
    public static func jsonString(_ text: String) -> String {
        "\"" + escaped(text, quotes: true) + "\""
    }

    /// Metadata as JSON: strings stay strings, dictionaries objects (keys sorted), arrays arrays.
    public static func json(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): return jsonString(text)
        case .stringConvertible(let convertible): return jsonString(convertible.description)
        case .array(let items): return "[" + items.map(json).joined(separator: ",") + "]"
        case .dictionary(let members):
            return "{" + members.keys.sorted().map { jsonString($0) + ":" + json(members[$0]!) }.joined(separator: ",") + "}"
        }
    }

    /// A logfmt value: bare unless it is empty or holds a space, `=`, `"` or a control
    /// character; then quoted, with `"`, `\` and control characters escaped as in JSON.
    public static func logfmtValue(_ text: String) -> String {
        guard text.isEmpty || text.unicodeScalars.contains(where: needsQuotes) else { return text }
        return "\"" + escaped(text, quotes: true) + "\""
    }

    /// A logfmt key: what would end it (space, `=`, `"`, control characters) becomes `_`.
    public static func logfmtKey(_ key: String) -> String {
        guard !key.isEmpty else { return "_" }
        guard key.unicodeScalars.contains(where: needsQuotes) else { return key }
        return String(String.UnicodeScalarView(key.unicodeScalars.map { needsQuotes($0) ? "_" : $0 }))
    }

    /// Control characters written as `\n`, `\r`, `\t` or `\u00XX`; everything else as is.
    public static func controlCharactersEscaped(_ text: String) -> String {
        text.unicodeScalars.contains(where: isControl) ? escaped(text, quotes: false) : text
    }

    /// Control characters escaped, and with `quotes` also `"` and `\` (the inside of a quoted
    /// string, JSON's or logfmt's, which escape alike).
    private static func escaped(_ text: String, quotes: Bool) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"" where quotes: out += "\\\""
            case "\\" where quotes: out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isControl(scalar):
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsQuotes(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "=" || scalar == "\"" || isControl(scalar)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool { scalar.value < 0x20 || scalar.value == 0x7F }
}
