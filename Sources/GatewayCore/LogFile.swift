#if canImport(Glibc)
import Glibc
#endif

/// The daemon's log file, which stdout and stderr of every gatewayd process point at.
///
/// logrotate renames the file and then signals the master (SIGHUP): each process opens a new
/// file at the same path and `dup2`s it onto its stdout and stderr, so the log handler (which
/// writes to the descriptor number), the crash handler and anything else writing there move to
/// the new file at once. Until a process has done so its lines land in the renamed file, which
/// is what rotation expects.
public enum LogFile {
    /// Opens `path` for appending, creating it; returns the descriptor or the errno text.
    public static func open(_ path: String) -> Result<Int32, LogFileError> {
        // 0600: the run directory's files are its owner's (RunDirectory.createPrivate).
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return .failure(LogFileError(path: path, reason: String(cString: strerror(errno)))) }
        return .success(descriptor)
    }

    /// Points this process's stdout and stderr at a freshly opened `path`.
    public static func reopen(_ path: String) -> Result<Void, LogFileError> {
        open(path).map { descriptor in
            // dup2 swaps the descriptor atomically: a concurrent write goes to one file or the other.
            _ = dup2(descriptor, STDOUT_FILENO)
            _ = dup2(descriptor, STDERR_FILENO)
            _ = close(descriptor)
        }
    }
}

public struct LogFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot open log file \(path): \(reason)" }
}
