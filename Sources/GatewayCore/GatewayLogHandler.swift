import Foundation
import Logging

/// Writes one line per log record to a file descriptor (stderr, or the log file of a daemon)
/// with a single `write(2)`, so lines from every gatewayd process stay whole in one file.
///
/// The line is text or JSON (``LogFormat``, ``LogRecord``). The pid is read at log time, so a
/// handler bootstrapped in the master is right in its forked children too (swift-log may only
/// be bootstrapped once per process image). The descriptor is a number, not an open file: a
/// log file reopened onto it (`dup2`, on SIGHUP) is written from the next record on.
public struct GatewayLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let descriptor: Int32
    private let format: LogFormat

    public init(label: String, level: Logger.Level, format: LogFormat = .text, descriptor: Int32 = STDERR_FILENO) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.descriptor = descriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let record = LogRecord(
            timestamp: Self.timestamp(), level: event.level, label: label, pid: getpid(), message: "\(event.message)",
            metadata: merged)
        var bytes = Array(record.line(format).utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, now.tv_nsec / 1_000_000)
    }
}

extension Logger.Level {
    /// The level for a config/command-line name (validated by GatewayConfiguration).
    public init(configurationName: String) {
        switch configurationName {
        case "debug": self = .debug
        case "warning": self = .warning
        case "error": self = .error
        default: self = .info
        }
    }
}
