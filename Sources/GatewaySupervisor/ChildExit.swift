import CGatewaySystem
import Foundation

/// How a child process ended, as waitpid reported it.
enum ChildExit: Hashable, Sendable {
    case exited(status: Int32)
    case killed(signal: Int32)

    init(waitStatus: Int32) {
        if gwd_sys_signaled(waitStatus) != 0 {
            self = .killed(signal: gwd_sys_term_signal(waitStatus))
        } else {
            self = .exited(status: gwd_sys_exit_status(waitStatus))
        }
    }

    /// Exit status 0: the child meant to go (a canary done, a drained worker); not a crash.
    var isClean: Bool { self == .exited(status: 0) }

    /// "exited with status 1", "was killed by signal 11 (SIGSEGV)": the words of the master's log.
    var description: String {
        switch self {
        case .exited(let status): return "exited with status \(status)"
        case .killed(let signal): return "was killed by signal \(signal) (\(Self.signalName(signal)))"
        }
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGKILL: return "SIGKILL"
        case SIGTERM: return "SIGTERM"
        case SIGBUS: return "SIGBUS"
        case SIGILL: return "SIGILL"
        case SIGFPE: return "SIGFPE"
        case SIGTRAP: return "SIGTRAP"
        case SIGINT: return "SIGINT"
        default: return String(cString: strsignal(signal))
        }
    }
}

/// "250 ms" below a second, "1.5 s" above: how the master's log says durations.
func formatSeconds(_ seconds: Double) -> String {
    seconds < 1 ? "\(Int(seconds * 1000)) ms" : String(format: "%.1f s", seconds)
}
