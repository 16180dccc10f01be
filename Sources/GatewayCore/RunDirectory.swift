import Foundation

/// The files a running deployment keeps in its run directory.
public struct RunDirectory: Sendable, Hashable {
    public var path: String

    public init(path: String) {
        self.path = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
    }

    public var pidFile: String { path + "/gatewayd.pid" }
    public var controlSocket: String { path + "/gatewayd.sock" }
    public var logFile: String { path + "/gatewayd.log" }
    /// The running deployment's resolved configuration (real ports), for `restart`.
    public var configurationFile: String { path + "/gatewayd.config.json" }
    /// The content-addressed plugin store: `<sha256>.so`, read-only copies workers load.
    public var pluginStore: String { path + "/plugins" }

    /// The master pid from the pid file, if that process is alive.
    public func runningMasterPID() -> Int32? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }
}
