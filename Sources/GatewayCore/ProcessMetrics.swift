/// What one child reports for `/metrics`, beside its `status` counters: plain numbers it
/// already keeps, read when the master asks (never a metrics library call on a message path).
/// The master adds the `role` and `index` labels, carries the counters of processes that
/// exited, and renders the whole host (GatewayMetrics).
public struct ProcessMetrics: Codable, Sendable, Hashable {
    public var samples: [MetricSample]
    public var histograms: [HistogramSample]

    public init(samples: [MetricSample] = [], histograms: [HistogramSample] = []) {
        self.samples = samples
        self.histograms = histograms
    }

    /// A counter or gauge of the catalog (``MetricsCatalog``), by name.
    public mutating func add(_ name: String, _ value: Double, labels: [String: String] = [:]) {
        samples.append(MetricSample(name: name, labels: labels, value: value))
    }

    public mutating func add(_ name: String, _ value: some BinaryInteger, labels: [String: String] = [:]) {
        add(name, Double(value), labels: labels)
    }
}

/// One series of a counter or a gauge: its labels besides `role` and `index`.
public struct MetricSample: Codable, Sendable, Hashable {
    public var name: String
    public var labels: [String: String]
    public var value: Double

    public init(name: String, labels: [String: String] = [:], value: Double) {
        self.name = name
        self.labels = labels
        self.value = value
    }
}

/// One series of a histogram: observations per bucket of the catalog's bounds (not
/// cumulative; one more than the bounds, for +Inf) and their sum.
public struct HistogramSample: Codable, Sendable, Hashable {
    public var name: String
    public var labels: [String: String]
    public var counts: [UInt64]
    public var sum: Double

    public init(name: String, labels: [String: String] = [:], counts: [UInt64], sum: Double) {
        self.name = name
        self.labels = labels
        self.counts = counts
        self.sum = sum
    }
}
