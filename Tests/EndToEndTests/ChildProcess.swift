#if canImport(Glibc)
import Glibc
#endif

/// A process the tests spawned with `posix_spawn(3)` and reap themselves with `waitpid(2)`.
///
/// Not `Foundation.Process`: on Linux it learns that a child exited from EOF on a socket the
/// child inherits, so a `gatewayd start -d` whose daemon inherits that socket looks alive until
/// the daemon dies, and a foreground master looks alive until its last child exits. Here the
/// child gets exactly stdin (/dev/null), stdout and stderr, plus nothing else: every other
/// descriptor is closed in the child (`closefrom` where glibc has it; the tests' own
/// descriptors are close-on-exec anyway). The signal mask and dispositions are reset, so
/// `gatewayd` sees SIGTERM/SIGINT as a shell would deliver them.
///
/// Used from one test thread; not thread-safe.
final class ChildProcess {
    let pid: pid_t
    let arguments: [String]
    /// The raw `waitpid` status once reaped.
    private var waitStatus: Int32?

    /// Starts `executable` with `arguments`; its stdout and stderr go to the given descriptors
    /// (duplicated in the child; the caller still owns them). `environment` is added to (or
    /// replaces variables of) this process's environment.
    init(executable: String, arguments: [String], stdout: Int32, stderr: Int32, environment: [String: String] = [:]) throws {
        self.arguments = [executable] + arguments

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        if let closeFrom = Self.addCloseFrom {
            _ = closeFrom(&actions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = self.arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var inherited: [String] = []
        var entry = environ
        while let variable = entry.pointee {
            let text = String(cString: variable)
            if !environment.keys.contains(where: { text.hasPrefix($0 + "=") }) { inherited.append(text) }
            entry += 1
        }
        let envp: [UnsafeMutablePointer<CChar>?] = (inherited + environment.map { "\($0.key)=\($0.value)" }).map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var child: pid_t = 0
        let status = argv.withUnsafeBufferPointer { argvBuffer in
            envp.withUnsafeBufferPointer { posix_spawn(&child, executable, &actions, &attributes, argvBuffer.baseAddress!, $0.baseAddress!) }
        }
        guard status == 0 else {
            throw GatewaydFixtureError("posix_spawn \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
    }

    deinit {
        // Never leave a zombie (or a running child) behind.
        if waitStatus == nil {
            kill(pid, SIGKILL)
            _ = waitForExit(timeout: .seconds(10))
        }
    }

    /// Reaps the child if it exited; true while it runs.
    var isRunning: Bool {
        reap(blocking: false)
        return waitStatus == nil
    }

    /// Waits until the child exits or `timeout` passes; true when it exited.
    func waitForExit(timeout: Duration) -> Bool {
        let deadline = Deadline(timeout)
        while true {
            if !isRunning { return true }
            if deadline.hasPassed { return false }
            deadline.pause(.milliseconds(5))
        }
    }

    /// Sends `signal` unless the child was already reaped (its pid may then name another process).
    func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// The exit code, or 128 + the signal number for a child killed by a signal; nil while
    /// it runs.
    var exitCode: Int32? {
        guard let status = waitStatus else { return nil }
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// "exit code N" / "killed by signal N" / "still running".
    var exitDescription: String {
        guard let status = waitStatus else { return "still running" }
        let signal = status & 0x7F
        return signal == 0 ? "exit code \((status >> 8) & 0xFF)" : "killed by signal \(signal)"
    }

    private func reap(blocking: Bool) {
        guard waitStatus == nil else { return }
        var status: Int32 = 0
        let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
        if result == pid {
            waitStatus = status
        } else if result < 0 && errno == ECHILD {
            waitStatus = 0xFF << 8  // reaped elsewhere: report it as exit code 255
        }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time
    /// because the Swift Glibc module does not declare it.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
}
