import NIOConcurrencyHelpers

/// Queries this client sent to each gateway and how many of them went unanswered within the
/// timeout: what the HTTP API role reports as `gatewayd_queries_total` and
/// `gatewayd_query_timeouts_total` (the workers count theirs the same way). Counted per query
/// and gateway, under one lock.
public struct GatewayQueryCounts: Sendable, Hashable {
    public var sent: UInt64 = 0
    public var timedOut: UInt64 = 0
}

final class GatewayQueryTally: Sendable {
    private let counts = NIOLockedValueBox<[String: GatewayQueryCounts]>([:])

    /// One query run: the gateways it went to, and those of them that timed out.
    func record(sentTo gateways: [String], timedOut: [String]) {
        counts.withLockedValue { counts in
            for gateway in gateways { counts[gateway, default: GatewayQueryCounts()].sent += 1 }
            for gateway in timedOut { counts[gateway, default: GatewayQueryCounts()].timedOut += 1 }
        }
    }

    var snapshot: [String: GatewayQueryCounts] { counts.withLockedValue { $0 } }
}
