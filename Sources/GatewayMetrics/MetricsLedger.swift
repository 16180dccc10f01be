import GatewayCore

/// One process as the master sees it when a scrape is answered.
public struct ProcessView: Sendable {
    public var role: Role
    public var index: Int
    /// Serving (not a reload's canary or an old worker draining away): its gauges count.
    public var serving: Bool
    /// Running and said it is ready.
    public var up: Bool
    public var residentBytes: Int
    /// Its latest report (nil before the first).
    public var metrics: ProcessMetrics?

    public init(role: Role, index: Int, serving: Bool, up: Bool, residentBytes: Int, metrics: ProcessMetrics?) {
        self.role = role
        self.index = index
        self.serving = serving
        self.up = up
        self.residentBytes = residentBytes
        self.metrics = metrics
    }
}

/// A series: a catalog metric and every label it carries, in the catalog's order.
public struct SeriesKey: Hashable, Sendable, Comparable {
    public var name: String
    public var labels: [String]  // values, in `MetricDefinition.allLabels` order

    public static func < (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        (lhs.name, lhs.labels.joined(separator: "\u{1}")) < (rhs.name, rhs.labels.joined(separator: "\u{1}"))
    }
}

/// Bucket counts (not cumulative, +Inf last) and the sum of one histogram series.
public struct HistogramValue: Sendable, Hashable {
    public var counts: [UInt64]
    public var sum: Double

    mutating func add(_ other: HistogramValue) {
        if counts.count < other.counts.count { counts += Array(repeating: 0, count: other.counts.count - counts.count) }
        for (index, count) in other.counts.enumerated() { counts[index] &+= count }
        sum += other.sum
    }
}

/// The host's series at one moment: what `/metrics` renders.
public struct HostSeries: Sendable {
    public var values: [SeriesKey: Double] = [:]
    public var histograms: [SeriesKey: HistogramValue] = [:]
}

/// Adds the children's reports up into the host's series, and keeps the counters of processes
/// that exited so that every counter only grows: a restarted worker starts from zero, its
/// predecessor's last report stays counted (what it did after that report is lost with it).
/// Gauges come from serving processes only.
public struct MetricsLedger: Sendable {
    private var carried: [SeriesKey: Double] = [:]
    private var carriedHistograms: [SeriesKey: HistogramValue] = [:]

    public init() {}

    /// A process exited: its counters and histograms from its last report stay counted.
    public mutating func retire(_ metrics: ProcessMetrics, role: Role, index: Int) {
        var series = HostSeries()
        Self.add(metrics, role: role, index: index, gauges: false, into: &series)
        for (key, value) in series.values { carried[key, default: 0] += value }
        for (key, value) in series.histograms { carriedHistograms[key, default: HistogramValue(counts: [], sum: 0)].add(value) }
    }

    /// The host's series: what exited, plus every live process's latest report.
    public func series(of processes: [ProcessView]) -> HostSeries {
        var series = HostSeries(values: carried, histograms: carriedHistograms)
        for process in processes {
            guard let metrics = process.metrics else { continue }
            Self.add(metrics, role: process.role, index: process.index, gauges: process.serving, into: &series)
        }
        return series
    }

    /// Samples of names the catalog does not know, or with other labels, are left out: a child
    /// of another version cannot put a family in the output that docs/metrics.md does not list.
    static func add(_ metrics: ProcessMetrics, role: Role, index: Int, gauges: Bool, into series: inout HostSeries) {
        for sample in metrics.samples {
            guard let definition = MetricsCatalog.definition(named: sample.name), definition.kind != .histogram,
                gauges || definition.kind == .counter,
                let key = key(definition, role: role, index: index, labels: sample.labels)
            else { continue }
            series.values[key, default: 0] += sample.value
        }
        for sample in metrics.histograms {
            guard let definition = MetricsCatalog.definition(named: sample.name), definition.kind == .histogram,
                sample.counts.count == definition.buckets.count + 1,
                let key = key(definition, role: role, index: index, labels: sample.labels)
            else { continue }
            series.histograms[key, default: HistogramValue(counts: [], sum: 0)].add(HistogramValue(counts: sample.counts, sum: sample.sum))
        }
    }

    /// The series a sample belongs to; nil when its labels are not the definition's.
    static func key(_ definition: MetricDefinition, role: Role, index: Int, labels: [String: String]) -> SeriesKey? {
        guard labels.count == definition.labels.count else { return nil }
        var values: [String] = []
        switch definition.scope {
        case .host: break
        case .process: values = [role.rawValue, String(index)]
        case .role: values = [role.rawValue]
        }
        for label in definition.labels {
            guard let value = labels[label] else { return nil }
            values.append(value)
        }
        return SeriesKey(name: definition.name, labels: values)
    }
}
