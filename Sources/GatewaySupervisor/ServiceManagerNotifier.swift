import CGatewaySystem
import Glibc

/// What the master tells a service manager (systemd, `Type=notify`) about its state.
enum ServiceState: Hashable, Sendable {
    /// A reload began: the service stays up, but is not done changing.
    case reloading
    /// The reload ended (done, or refused with the old workers still serving).
    case reloaded
    /// The master is stopping every process.
    case stopping
}

/// sd_notify(3)'s protocol by hand: one datagram of `KEY=value` lines per state change to the
/// AF_UNIX socket named by `$NOTIFY_SOCKET`. No library and no thread — a datagram sent from
/// the master's loop — so the master still never starts a thread before it forks.
struct ServiceManagerNotifier {
    /// `$NOTIFY_SOCKET` when the master was started with it; nil: nobody to tell.
    let socketPath: String?

    /// Reads `$NOTIFY_SOCKET` and removes it from the environment: the children and the plugins
    /// they load are not the service's main process and must not talk to systemd as if they were.
    static func fromEnvironment() -> ServiceManagerNotifier {
        guard let value = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }), !value.isEmpty else {
            return ServiceManagerNotifier(socketPath: nil)
        }
        unsetenv("NOTIFY_SOCKET")
        return ServiceManagerNotifier(socketPath: value)
    }

    /// Every local process serves (after start-up, or again after a reload): `READY=1`, the
    /// master's pid, and the ready line as the status `systemctl status` shows.
    func ready(status: String) -> String? {
        send(["READY=1", "MAINPID=\(getpid())", "STATUS=\(status)"])
    }

    func reloading() -> String? {
        // systemd (253+, Type=notify-reload) wants the time the reload began with it.
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        return send(["RELOADING=1", "MONOTONIC_USEC=\(microseconds)", "STATUS=reloading the workers"])
    }

    func stopping() -> String? {
        send(["STOPPING=1", "STATUS=stopping"])
    }

    /// Sends the lines as one datagram; returns why it failed, nil when sent (or nobody listens).
    private func send(_ lines: [String]) -> String? {
        guard let socketPath else { return nil }
        let message = lines.joined(separator: "\n")
        let result = message.withCString { gwd_sys_notify(socketPath, $0, strlen($0)) }
        return result == 0 ? nil : "cannot notify the service manager at \(socketPath): \(String(cString: strerror(errno)))"
    }
}
