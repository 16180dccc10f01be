/// What a plugin's query returns: the merged answers, and — when some gateway gave none — the
/// status that goes with that partial result (gatewayd.h, "Partial results").
struct QueryOutcome<Value> {
    var value: Value
    /// ``HostError/timeout`` when some gateway did not answer in time, else
    /// ``HostError/unavailable`` when some gateway's link is down; nil when every gateway answered.
    var shortfall: HostError?

    /// Throws the shortfall; called once the partial result is in the plugin's hands.
    func requireComplete() throws {
        if let shortfall { throw shortfall }
    }
}
