import Foundation
import CoreMetrics
import GatewayCore
import Prometheus

/// The master's `/metrics`: the children's reports added up (``MetricsLedger``) and the
/// master's own events, in the Prometheus text format.
///
/// Counters and gauges go through swift-metrics onto swift-prometheus registries: counters
/// into one that lives as long as the master (each scrape adds what a series grew by, so the
/// registry's counters are the ledger's and never go down), gauges into a fresh one per scrape
/// (a process that is gone leaves no stale gauge). The workers' callback-time histograms are
/// written here in the same format: they arrive as bucket counts, and swift-prometheus'
/// `Histogram` only takes observations one by one, which the workers do not keep (a lock or a
/// library call per event would cost the message path what the issue forbids).
///
/// Confined to the master's thread.
public final class MetricsExporter {
    public var ledger = MetricsLedger()
    private let version: String
    private let counters = PrometheusCollectorRegistry()
    private let factory: CatalogMetricsFactory
    /// What each counter series has been raised to so far.
    private var exported: [SeriesKey: Double] = [:]

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public init(version: String) {
        self.version = version
        factory = CatalogMetricsFactory(registry: counters)
        // Every outcome from the start, so the families are there before the first reload.
        for outcome in ReloadOutcome.allCases {
            CoreMetrics.Counter(label: "gatewayd_reloads_total", dimensions: [("outcome", outcome.rawValue)], factory: factory)
                .increment(by: 0)
            if outcome != .refused {
                _ = CoreMetrics.Timer(
                    label: "gatewayd_reload_duration_seconds", dimensions: [("outcome", outcome.rawValue)], factory: factory)
            }
        }
        CoreMetrics.Counter(label: "gatewayd_reload_workers_killed_total", factory: factory).increment(by: 0)
    }

    /// A reload ended (refused ones have no duration).
    public func reloadFinished(_ outcome: ReloadOutcome, seconds: Double?, killedWorkers: Int) {
        CoreMetrics.Counter(label: "gatewayd_reloads_total", dimensions: [("outcome", outcome.rawValue)], factory: factory).increment()
        if let seconds {
            CoreMetrics.Timer(label: "gatewayd_reload_duration_seconds", dimensions: [("outcome", outcome.rawValue)], factory: factory)
                .recordNanoseconds(Int64((seconds * 1e9).rounded()))
        }
        if killedWorkers > 0 {
            CoreMetrics.Counter(label: "gatewayd_reload_workers_killed_total", factory: factory).increment(by: killedWorkers)
        }
    }

    /// The text of one scrape. `processes` includes the master itself (`role: .master`);
    /// `crashes` and `restarts` are per role since the master started.
    public func render(processes: [ProcessView], crashes: [Role: Int], restarts: [Role: Int]) -> [UInt8] {
        var series = ledger.series(of: processes)
        for process in processes where process.serving {
            let labels = [process.role.rawValue, String(process.index)]
            let up = SeriesKey(name: "gatewayd_process_up", labels: labels)
            series.values[up] = max(series.values[up] ?? 0, process.up ? 1 : 0)
            series.values[SeriesKey(name: "gatewayd_process_resident_memory_bytes", labels: labels), default: 0] += Double(
                process.residentBytes)
        }
        let roles = Set(processes.map(\.role)).subtracting([.master])
        for role in roles {
            series.values[SeriesKey(name: "gatewayd_process_crashes_total", labels: [role.rawValue])] = Double(crashes[role] ?? 0)
            series.values[SeriesKey(name: "gatewayd_process_restarts_total", labels: [role.rawValue])] = Double(restarts[role] ?? 0)
        }
        series.values[SeriesKey(name: "gatewayd_build_info", labels: [version])] = 1

        let gauges = PrometheusCollectorRegistry()
        let gaugeFactory = CatalogMetricsFactory(registry: gauges)
        for (key, value) in series.values.sorted(by: { $0.key < $1.key }) {
            guard let definition = MetricsCatalog.definition(named: key.name) else { continue }
            let dimensions = Array(zip(definition.allLabels, key.labels))
            switch definition.kind {
            case .counter:
                let delta = value - (exported[key] ?? 0)
                guard delta > 0 || exported[key] == nil else { continue }
                exported[key] = value
                CoreMetrics.Counter(label: key.name, dimensions: dimensions, factory: factory).increment(by: Int64(max(delta, 0)))
            case .gauge:
                CoreMetrics.Gauge(label: key.name, dimensions: dimensions, factory: gaugeFactory).record(value)
            case .histogram:
                break
            }
        }
        var text = counters.emitToBuffer()
        gauges.emit(into: &text)
        Self.writeHistograms(series.histograms, into: &text)
        return text
    }

    /// Histogram families in the text format: cumulative buckets, +Inf, sum, count.
    static func writeHistograms(_ histograms: [SeriesKey: HistogramValue], into text: inout [UInt8]) {
        let families = Dictionary(grouping: histograms.keys.sorted(), by: \.name)
        for name in families.keys.sorted() {
            guard let definition = MetricsCatalog.definition(named: name) else { continue }
            text += Array("# HELP \(name) \(escapeHelp(definition.help))\n# TYPE \(name) histogram\n".utf8)
            for key in families[name]! {
                let value = histograms[key]!
                let labels = zip(definition.allLabels, key.labels).map { "\($0)=\"\(escapeLabel($1))\"" }
                let prefix = labels.isEmpty ? "" : labels.joined(separator: ",") + ","
                var cumulative: UInt64 = 0
                for (bound, count) in zip(definition.buckets + [.infinity], value.counts) {
                    cumulative &+= count
                    let le = bound.isInfinite ? "+Inf" : "\(bound)"
                    text += Array("\(name)_bucket{\(prefix)le=\"\(le)\"} \(cumulative)\n".utf8)
                }
                let braces = labels.isEmpty ? "" : "{\(labels.joined(separator: ","))}"
                text += Array("\(name)_sum\(braces) \(value.sum)\n\(name)_count\(braces) \(cumulative)\n".utf8)
            }
        }
    }

    static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func escapeLabel(_ text: String) -> String {
        escapeHelp(text).replacingOccurrences(of: "\"", with: "\\\"")
    }
}

/// How a reload ended, as `gatewayd_reloads_total` labels it.
public enum ReloadOutcome: String, Sendable, Hashable, CaseIterable {
    case done, failed, refused
}
