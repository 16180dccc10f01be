#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reads Linux's process table (`/proc`) to tell whether the processes a test started are
/// really gone, and to find ones it never learned the pid of.
enum ProcessTable {
    /// The fields of `/proc/<pid>/stat` the fixture needs.
    struct Stat: Equatable {
        /// `R`, `S`, `D`, `Z` (zombie), ...
        let state: Character
        let parentPID: pid_t
        /// Clock ticks after boot; with the pid it names one process for its whole life, so a
        /// reused pid is never mistaken for ours.
        let startTime: UInt64
    }

    static func stat(_ pid: pid_t) -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let closing = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt
        // cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime ...
        let fields = text[text.index(after: closing)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let parent = pid_t(fields[1]),
              let start = UInt64(fields[19])
        else { return nil }
        return Stat(state: state, parentPID: parent, startTime: start)
    }

    /// True when `pid` no longer runs.
    ///
    /// A zombie has exited; it counts as gone when nobody in `family` is left to reap it: its
    /// parent is not one of `family` (it was re-parented to init, or it is our own child that
    /// Foundation reaps), or that parent is itself gone. A zombie whose parent is a live
    /// cluster process means the cluster did not reap it, which is a bug.
    /// - Parameter startTime: when given and the pid now names a process started at another
    ///   time, the pid was reused and ours is gone.
    static func isGone(_ pid: pid_t, startTime: UInt64? = nil, family: Set<pid_t> = [], depth: Int = 0) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let stat = stat(pid) else { return kill(pid, 0) != 0 && errno == ESRCH }
        if let startTime, stat.startTime != startTime { return true }
        guard stat.state == "Z" else { return false }
        guard family.contains(stat.parentPID), depth < 8 else { return true }
        return isGone(stat.parentPID, family: family, depth: depth + 1)
    }

    /// Live (non-zombie) processes other than this one whose command line contains `needle`
    /// (the fixture passes a unique run directory, so this is `pgrep -f <run-dir>`).
    static func pids(commandLineContaining needle: String) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let ownPID = getpid()
        var found: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry), pid != ownPID,
                  let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty
            else { continue }
            let commandLine = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            if commandLine.contains(needle), stat(pid)?.state != "Z" { found.append(pid) }
        }
        return found.sorted()
    }

    /// `pid (state, parent, command line)` for failure messages.
    static func describe(_ pid: pid_t) -> String {
        let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            .map { String(decoding: $0.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self) } ?? "?"
        guard let stat = stat(pid) else { return "\(pid) (gone)" }
        return "\(pid) (state \(stat.state), parent \(stat.parentPID): \(commandLine.prefix(200)))"
    }
}
