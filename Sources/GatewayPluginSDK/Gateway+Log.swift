import CGatewayABI

extension Gateway {
    /// The level of a line in the worker's log (`GWD_LOG_*`).
    public enum LogLevel: Int32, Sendable, CaseIterable {
        /// `GWD_LOG_DEBUG` (0): per-message detail.
        case debug = 0
        /// `GWD_LOG_INFO` (1): lifecycle events.
        case info = 1
        /// `GWD_LOG_WARNING` (2).
        case warning = 2
        /// `GWD_LOG_ERROR` (3).
        case error = 3
    }

    /// Writes one line to the worker's log (`log`). Does not throw: the host's log returns no
    /// status, and a plugin should not have to handle a failure to log.
    public func log(_ message: String, level: LogLevel = .info) {
        guard let log = api.entry(\.log) else { return }
        withBytes(of: message) { log(context, level.rawValue, $0, $1) }
    }
}
