import Foundation
import GatewayCore
import XCTest

/// docs/metrics.md lists every metric gatewayd defines, with its type and labels, and no other.
final class MetricsDocumentationTests: XCTestCase {
    struct Row: Hashable {
        var name: String
        var type: String
        var labels: [String]
    }

    /// The rows of the table in docs/metrics.md ("| `name` | type | `label`, … | meaning |").
    static func documentedRows() throws -> [Row] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/metrics.md"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("| `gatewayd_") else { return nil }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5 else { return nil }
            let labels = cells[3].split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) }
            return Row(name: cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`")), type: cells[2], labels: labels)
        }
    }

    func testTheTableListsEveryMetricWithItsTypeAndLabels() throws {
        let documented = try Self.documentedRows()
        XCTAssertEqual(Set(documented.map(\.name)).count, documented.count, "a metric listed twice")
        let defined = MetricsCatalog.all.map { Row(name: $0.name, type: $0.kind.rawValue, labels: $0.allLabels) }
        for row in defined where !documented.contains(row) {
            XCTFail("docs/metrics.md does not list \(row.name) as \(row.type) with labels \(row.labels)")
        }
        for row in documented where !defined.contains(row) {
            XCTFail("docs/metrics.md lists \(row.name) (\(row.type), \(row.labels)), which gatewayd does not export so")
        }
    }

    /// Names as Prometheus wants them: counters end in _total, no family is another's prefix
    /// plus a histogram suffix.
    func testNamesFollowPrometheusConventions() {
        for definition in MetricsCatalog.all {
            XCTAssertNotNil(definition.name.range(of: "^gatewayd_[a-z0-9_]+$", options: .regularExpression), definition.name)
            XCTAssertEqual(definition.kind == .counter, definition.name.hasSuffix("_total"), definition.name)
            XCTAssertEqual(definition.kind == .histogram, !definition.buckets.isEmpty, definition.name)
        }
    }
}
