import Foundation
import GatewayCore
import XCTest

/// docs/configuration.md's table against ``ConfigurationKey/all``: the same keys in the same
/// order, each with its flag, its environment variable, its default, and a meaning that starts
/// with the key's doc line.
final class ConfigurationDocumentationTests: XCTestCase {
    private struct Row {
        var key: String
        var flag: String
        var environment: String
        var defaultText: String
        var meaning: String
    }

    private func documentedRows() throws -> [Row] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").filter { $0.hasPrefix("| `") }.map { line in
            let cells = line.dropFirst(2).dropLast(2).components(separatedBy: " | ")
            return Row(
                key: cells[0], flag: cells[1], environment: cells[2], defaultText: cells[3],
                meaning: cells.dropFirst(4).joined(separator: " | "))
        }
    }

    /// The start of a key's row, as the docs should have it (printed when the docs disagree).
    private func expectedRow(_ key: ConfigurationKey) -> String {
        let defaultCell = (key.defaultText ?? "`\(key.documentedDefault)`") + (key.secret ? " (secret)" : "")
        return "| `\(key.name)` | `--\(key.flag)` | `\(key.environmentName)` | \(defaultCell) | \(key.doc)"
            + (key.limits.map { " (\($0))" } ?? "")
    }

    func testTheTableInTheDocsIsTheTableInTheCode() throws {
        let rows = try documentedRows()
        if rows.map(\.key) != ConfigurationKey.all.map({ "`\($0.name)`" }) {
            print("docs/configuration.md should have these rows:\n" + ConfigurationKey.all.map(expectedRow).joined(separator: "\n"))
        }
        XCTAssertEqual(rows.map(\.key), ConfigurationKey.all.map { "`\($0.name)`" }, "the same keys, in the same order")
        for (row, key) in zip(rows, ConfigurationKey.all) {
            XCTAssertEqual(row.flag, "`--\(key.flag)`", key.name)
            XCTAssertEqual(row.environment, "`\(key.environmentName)`", key.name)
            XCTAssertEqual(row.defaultText, (key.defaultText ?? "`\(key.documentedDefault)`") + (key.secret ? " (secret)" : ""), key.name)
            XCTAssertTrue(row.meaning.hasPrefix(key.doc), "\(key.name): the meaning starts with \"\(key.doc)\", not \"\(row.meaning)\"")
            if let limits = key.limits { XCTAssertTrue(row.meaning.contains(limits), "\(key.name): the meaning names \(limits)") }
        }
    }
}
