import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A running `gatewayd` cluster for one test (or one test class), and the one-shot command
/// runner the tests share.
///
/// `start` runs `gatewayd start` in the foreground with fresh port-0 addresses and a fresh run
/// directory and returns once the master printed its ready line. `startDaemon` does the same
/// with `start -d`. `stop()` runs `gatewayd stop`, waits for the master, and fails when any
/// process the fixture ever saw (in the ready line, in `status --json`, or by its unique run
/// directory in `/proc/<pid>/cmdline`) is still alive. `killLeftovers()` SIGKILLs whatever is
/// left; `deinit` calls it too, so a failing test never leaves processes behind.
///
/// Runs on the test thread; not thread-safe.
final class GatewaydProcess {
    // MARK: - Locating things

    /// The repository root: this file is Tests/EndToEndTests/GatewaydProcess.swift.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static let located: Result<URL, GatewaydFixtureError> = locateBinary()

    /// The `gatewayd` executable: `$GATEWAYD_BIN`, else the one SwiftPM built next to the test
    /// bundle (the test target depends on the executable, so it is built first).
    static func binaryURL() throws -> URL { try located.get() }

    private static func locateBinary() -> Result<URL, GatewaydFixtureError> {
        let environment = ProcessInfo.processInfo.environment
        if let override = environment["GATEWAYD_BIN"], !override.isEmpty {
            return FileManager.default.isExecutableFile(atPath: override)
                ? .success(URL(fileURLWithPath: override))
                : .failure(GatewaydFixtureError("GATEWAYD_BIN=\(override) is not an executable file"))
        }
        // The products directory is the one holding the .xctest bundle (Linux: an executable
        // file; macOS: a directory).
        var directories: [URL] = []
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        if let executable = Bundle.main.executableURL {
            directories.append(executable.deletingLastPathComponent())
        }
        directories.append(Bundle.main.bundleURL)
        directories.append(Bundle.main.bundleURL.deletingLastPathComponent())
        if let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: own).deletingLastPathComponent())
        }
        for directory in directories {
            let candidate = directory.appendingPathComponent("gatewayd")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory),
               !isDirectory.boolValue, FileManager.default.isExecutableFile(atPath: candidate.path) {
                return .success(candidate)
            }
        }
        return .failure(GatewaydFixtureError(
            "no gatewayd executable next to the tests (looked in \(directories.map(\.path))); set GATEWAYD_BIN"))
    }

    /// A fresh, empty directory named `<prefix>XXXXXX` inside `parent` (default: `$TMPDIR` when
    /// short, else /tmp); short, because a run directory may hold Unix socket paths.
    static func makeTemporaryDirectory(prefix: String, in parent: String? = nil) throws -> String {
        var root = "/tmp"
        if let parent {
            root = parent
        } else if let tmp = ProcessInfo.processInfo.environment["TMPDIR"], !tmp.isEmpty, tmp.count < 48 {
            root = tmp.hasSuffix("/") ? String(tmp.dropLast()) : tmp
        }
        var template = Array("\(root)/\(prefix)XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw GatewaydFixtureError("mkdtemp in \(root): \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    // MARK: - Waiting

    /// Evaluates `condition` until it holds or `timeout` passes; returns whether it held.
    /// The only way the tests wait for something asynchronous that sends no message.
    @discardableResult
    static func poll(
        until condition: () throws -> Bool, timeout: Duration, interval: Duration = .milliseconds(20)
    ) rethrows -> Bool {
        let deadline = Deadline(timeout)
        while true {
            if try condition() { return true }
            if deadline.hasPassed { return false }
            deadline.pause(interval)
        }
    }

    // MARK: - One-shot commands

    /// Runs `gatewayd <arguments>` to completion (or kills it at the deadline), with
    /// `environment` added to this process's.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)
    ) throws -> CommandResult {
        try runExecutable(binaryURL(), arguments, environment: environment, timeout: timeout)
    }

    /// Runs any executable with stdout and stderr captured in files (not pipes: a daemon that
    /// inherits them must not keep the call waiting for EOF); kills it at the deadline.
    static func runExecutable(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)
    ) throws -> CommandResult {
        let directory = try makeTemporaryDirectory(prefix: "gwd-cmd-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outPath = "\(directory)/stdout"
        let errPath = "\(directory)/stderr"
        let out = try openForWriting(outPath)
        defer { _ = Glibc.close(out) }
        let err = try openForWriting(errPath)
        defer { _ = Glibc.close(err) }

        let child = try ChildProcess(
            executable: executable.path, arguments: arguments, stdout: out, stderr: err, environment: environment)
        let display = [executable.lastPathComponent] + arguments
        guard child.waitForExit(timeout: timeout) else {
            child.signal(SIGKILL)
            _ = child.waitForExit(timeout: .seconds(10))
            let partial = CommandResult(
                arguments: display, exitCode: -1, stdout: readText(outPath), stderr: readText(errPath))
            throw GatewaydFixtureError("killed after \(timeout): \(partial)")
        }
        return CommandResult(
            arguments: display, exitCode: child.exitCode ?? -1, stdout: readText(outPath), stderr: readText(errPath))
    }

    /// Creates (or truncates) a file for a child's output; close-on-exec in this process.
    static func openForWriting(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GatewaydFixtureError("open \(path): \(String(cString: strerror(errno)))") }
        return fd
    }

    // MARK: - A cluster

    /// The directory this fixture owns: `run/` (the run directory) and `stderr.log`.
    let baseDirectory: String
    /// What the fixture passed as `--run-dir`; unique, so it also finds the cluster's
    /// processes in `/proc/<pid>/cmdline`.
    let runDirectory: String
    let masterPID: pid_t
    /// Every `listen=` URL of the ready line, e.g. `websocket://127.0.0.1:41234`.
    let listenURLs: [String]
    /// The port of the first listen URL.
    let listenPort: Int
    /// The `register=` address of the ready line.
    let registerAddress: String
    /// The ready line as printed.
    let readyLine: String

    /// The foreground master, or nil for a daemon (then only its pid is known).
    private let master: ChildProcess?
    private let stderrPath: String
    /// Every pid this fixture has seen, with its start time (see ``ProcessTable/Stat``).
    private var knownPIDs: [pid_t: UInt64] = [:]
    private var finished = false

    private init(
        baseDirectory: String, runDirectory: String, ready: ParsedReadyLine, readyLine: String,
        master: ChildProcess?, stderrPath: String
    ) {
        self.baseDirectory = baseDirectory
        self.runDirectory = runDirectory
        self.masterPID = ready.pid
        self.listenURLs = ready.listen
        self.listenPort = ready.port
        self.registerAddress = ready.register
        self.readyLine = readyLine
        self.master = master
        self.stderrPath = stderrPath
        remember(ready.pid)
    }

    deinit {
        if !finished { killLeftovers() }
    }

    /// The arguments of a cluster on fresh ports: `start --run-dir … --plugin … --listen
    /// websocket://127.0.0.1:0 --register 127.0.0.1:0 --start-port 0 --gateway-count G
    /// --worker-count W`.
    static func startArguments(runDirectory: String, plugin: String?, gatewayCount: Int, workerCount: Int) -> [String] {
        ["start", "--run-dir", runDirectory] + (plugin.map { ["--plugin", $0] } ?? []) + [
            "--listen", "websocket://127.0.0.1:0", "--register", "127.0.0.1:0", "--start-port", "0",
            "--gateway-count", String(gatewayCount), "--worker-count", String(workerCount),
        ]
    }

    /// Starts a cluster in the foreground and returns once its ready line arrived.
    ///
    /// - Parameters:
    ///   - plugin: the .so path (see ``ConformancePlugin``); nil runs the built-in demo.
    ///   - extraArguments: appended after the standard ones.
    ///   - readyTimeout: how long `gatewayd` may take to print its ready line.
    /// - Throws: when it exits or stays silent first, with its stderr; nothing is left running.
    static func start(
        plugin: String?, gatewayCount: Int = 1, workerCount: Int = 1,
        extraArguments: [String] = [], readyTimeout: Duration = .seconds(60)
    ) throws -> GatewaydProcess {
        try start(readyTimeout: readyTimeout) { runDirectory in
            startArguments(runDirectory: runDirectory, plugin: plugin, gatewayCount: gatewayCount, workerCount: workerCount)
                + extraArguments
        }
    }

    /// Starts `gatewayd <arguments(run directory)>` in the foreground, through `launcher` when
    /// given (e.g. `ip netns exec <namespace>`, which execs gatewayd in place), and returns once
    /// its ready line arrived. `runDirectory` reuses one (a host started again after its master
    /// died); by default each start gets a new one.
    static func start(
        launcher: [String] = [], readyTimeout: Duration = .seconds(60), runDirectory reused: String? = nil,
        arguments makeArguments: (String) -> [String]
    ) throws -> GatewaydProcess {
        let base = try makeTemporaryDirectory(prefix: "gwd-e2e-")
        let runDirectory = reused ?? "\(base)/run"
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        let stderrPath = "\(base)/stderr.log"
        let errorLog = try openForWriting(stderrPath)
        defer { _ = Glibc.close(errorLog) }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            throw GatewaydFixtureError("pipe: \(String(cString: strerror(errno)))")
        }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])

        let arguments = makeArguments(runDirectory)
        let command = launcher + [try binaryURL().path] + arguments
        let master: ChildProcess
        do {
            master = try ChildProcess(
                executable: command[0], arguments: Array(command.dropFirst()), stdout: writeEnd, stderr: errorLog)
        } catch {
            _ = Glibc.close(readEnd)
            _ = Glibc.close(writeEnd)
            throw error
        }
        _ = Glibc.close(writeEnd)

        switch readReadyLine(from: readEnd, of: master, timeout: readyTimeout) {
        case .ready(let line, let parsed):
            // Keep draining stdout so a chatty process never blocks on a full pipe; the
            // thread ends at EOF, when the last process holding stdout exits.
            Thread.detachNewThread {
                var chunk = [UInt8](repeating: 0, count: 4096)
                while read(readEnd, &chunk, chunk.count) > 0 {}
                _ = Glibc.close(readEnd)
            }
            return GatewaydProcess(
                baseDirectory: base, runDirectory: runDirectory, ready: parsed, readyLine: line,
                master: master, stderrPath: stderrPath)
        case .failed(let why, let stdout):
            _ = Glibc.close(readEnd)
            master.signal(SIGKILL)
            _ = master.waitForExit(timeout: .seconds(10))
            killAll(commandLineContaining: runDirectory)
            throw GatewaydFixtureError("""
                gatewayd start did not become ready: \(why)
                arguments: \(arguments)
                --- stdout ---
                \(stdout.suffix(2000))
                --- stderr (\(stderrPath)) ---
                \(readText(stderrPath).suffix(6000))
                """)
        }
    }

    /// Runs `gatewayd start -d`, which must return 0 only once everything serves, after
    /// printing the ready line. Returns the fixture and the command's result.
    static func startDaemon(
        plugin: String, gatewayCount: Int = 1, workerCount: Int = 1,
        extraArguments: [String] = [], timeout: Duration = .seconds(60)
    ) throws -> (GatewaydProcess, CommandResult) {
        let base = try makeTemporaryDirectory(prefix: "gwd-e2e-")
        let runDirectory = "\(base)/run"
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        var arguments = startArguments(
            runDirectory: runDirectory, plugin: plugin, gatewayCount: gatewayCount, workerCount: workerCount)
        arguments.insert("-d", at: 1)
        arguments += extraArguments
        let result: CommandResult
        do {
            result = try run(arguments, timeout: timeout)
        } catch {
            killAll(commandLineContaining: runDirectory)
            throw error
        }
        let stdoutLines = result.stdout.split(separator: "\n").map(String.init)
        guard result.exitCode == 0,
              let line = stdoutLines.first(where: { $0.hasPrefix(readyPrefix) }),
              let parsed = parseReadyLine(line)
        else {
            killAll(commandLineContaining: runDirectory)
            throw GatewaydFixtureError("gatewayd start -d did not report ready: \(result)")
        }
        let stderrPath = "\(base)/stderr.log"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: Data(result.stderr.utf8))
        let fixture = GatewaydProcess(
            baseDirectory: base, runDirectory: runDirectory, ready: parsed, readyLine: line,
            master: nil, stderrPath: stderrPath)
        return (fixture, result)
    }

    /// A WebSocket client connected to the first listen address.
    func connect(
        path: String = "/", query: String? = nil, headers: [(String, String)] = [],
        timeout: Duration = .seconds(10)
    ) throws -> WebSocketTestClient {
        try WebSocketTestClient.connect(
            host: "127.0.0.1", port: listenPort, path: path, query: query, headers: headers, timeout: timeout)
    }

    /// Runs `gatewayd status --json` and decodes it; remembers every pid it lists.
    func status() throws -> GatewaydStatus {
        let result = try Self.run(["status", "--json", "--run-dir", runDirectory], timeout: .seconds(30))
        guard result.exitCode == 0 else {
            throw GatewaydFixtureError("status --json failed: \(result)")
        }
        let status: GatewaydStatus
        do {
            status = try JSONDecoder().decode(GatewaydStatus.self, from: Data(result.stdout.utf8))
        } catch {
            throw GatewaydFixtureError("status --json printed something that is not the documented object: \(error)\n\(result)")
        }
        remember(status.master.pid)
        for entry in status.processes { remember(entry.pid) }
        return status
    }

    /// The tail of the cluster's stderr (its log), for failure messages.
    func stderrTail(_ count: Int = 6000) -> String {
        String(Self.readText(stderrPath).suffix(count))
    }

    /// Stops the cluster with `gatewayd stop` and checks that it is really gone.
    ///
    /// Fails when `stop` does not exit 0, when the master does not exit (with 0, for a
    /// foreground master) before `timeout`, or when any pid the fixture has seen or any
    /// process naming the run directory is alive afterwards; those are then SIGKILLed.
    /// On success the temporary directory is removed (unless `removingFiles` is false: the test
    /// reads them, e.g. the daemon's log, and removes ``baseDirectory`` itself); on failure it
    /// is kept for debugging.
    func stop(graceful: Bool = false, timeout: Duration = .seconds(30), removingFiles: Bool = true) throws {
        guard !finished else { return }
        var problems: [String] = []
        // Learn every child's pid first, so "every pid seen in status is gone" covers all.
        do { _ = try status() } catch { problems.append("before stopping: \(error)") }

        let result: CommandResult?
        do {
            result = try Self.run(["stop"] + (graceful ? ["-g"] : []) + ["--run-dir", runDirectory], timeout: timeout)
        } catch {
            result = nil
            problems.append("gatewayd stop: \(error)")
        }
        if let result, result.exitCode != 0 { problems.append("gatewayd stop failed: \(result)") }

        let deadline = Deadline(timeout)
        if let master {
            if !master.waitForExit(timeout: deadline.instant - ContinuousClock.now) {
                problems.append("the master (pid \(masterPID)) did not exit within \(timeout) of gatewayd stop")
            } else if master.exitCode != 0 {
                problems.append("the master exited with \(master.exitDescription), not exit code 0")
            }
        } else if !Self.poll(until: { ProcessTable.isGone(masterPID) }, timeout: deadline.instant - ContinuousClock.now) {
            problems.append("the master (pid \(masterPID)) did not exit within \(timeout) of gatewayd stop")
        }

        // gatewayd stop returns when everything exited; allow only the kernel's reaping delay.
        if !Self.poll(until: { leftoverPIDs().isEmpty }, timeout: .seconds(5)) {
            problems.append("still running after stop: " + leftoverPIDs().map(ProcessTable.describe).joined(separator: "; "))
        }

        if problems.isEmpty {
            finished = true
            if removingFiles { try? FileManager.default.removeItem(atPath: baseDirectory) }
            return
        }
        let log = stderrTail()
        killLeftovers()
        throw GatewaydFixtureError(
            problems.joined(separator: "\n") + "\n--- cluster stderr (\(stderrPath)) ---\n\(log)")
    }

    /// Processes of this cluster that are still alive (see ``ProcessTable/isGone(_:startTime:family:depth:)``).
    func leftoverPIDs() -> [pid_t] {
        let family = Set(knownPIDs.keys)
        var left = Set(knownPIDs.filter { !ProcessTable.isGone($0.key, startTime: $0.value, family: family) }.keys)
        left.formUnion(ProcessTable.pids(commandLineContaining: runDirectory))
        return left.sorted()
    }

    /// SIGKILLs every process of this cluster that is still alive. Safe to call any number of
    /// times; a pid is only signalled while it still names the process the fixture saw.
    func killLeftovers() {
        for pid in leftoverPIDs() { kill(pid, SIGKILL) }
        if let master, master.isRunning {
            master.signal(SIGKILL)
            _ = master.waitForExit(timeout: .seconds(10))
        }
        Self.poll(until: { leftoverPIDs().isEmpty }, timeout: .seconds(5))
        finished = true
    }

    private func remember(_ pid: pid_t) {
        guard pid > 0, knownPIDs[pid] == nil, let stat = ProcessTable.stat(pid) else { return }
        knownPIDs[pid] = stat.startTime
    }

    // MARK: - Helpers

    private static func killAll(commandLineContaining needle: String) {
        for pid in ProcessTable.pids(commandLineContaining: needle) { kill(pid, SIGKILL) }
        poll(until: { ProcessTable.pids(commandLineContaining: needle).isEmpty }, timeout: .seconds(5))
    }

    static func readText(_ path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    // MARK: - The ready line

    static let readyPrefix = "gatewayd ready: "

    struct ParsedReadyLine {
        let pid: pid_t
        let listen: [String]
        let port: Int
        let register: String
        let runDirectory: String
    }

    /// Parses `gatewayd ready: pid=<pid> listen=<url>[,<url>...] register=<host:port> run-dir=<dir>`.
    static func parseReadyLine(_ line: String) -> ParsedReadyLine? {
        guard line.hasPrefix(readyPrefix) else { return nil }
        var rest = Substring(line.dropFirst(readyPrefix.count))
        var runDirectory = ""
        if let range = rest.range(of: " run-dir=") {
            runDirectory = String(rest[range.upperBound...])
            rest = rest[..<range.lowerBound]
        }
        var fields: [String: String] = [:]
        for token in rest.split(separator: " ") {
            guard let equals = token.firstIndex(of: "=") else { continue }
            fields[String(token[..<equals])] = String(token[token.index(after: equals)...])
        }
        guard let pidText = fields["pid"], let pid = pid_t(pidText),
              let listenText = fields["listen"], let register = fields["register"]
        else { return nil }
        let listen = listenText.split(separator: ",").map(String.init)
        // A host without gateways listens for no clients: `listen=none`, port 0.
        guard let first = listen.first, let port = first == "none" ? 0 : port(of: first) else { return nil }
        return ParsedReadyLine(pid: pid, listen: listen, port: port, register: register, runDirectory: runDirectory)
    }

    /// The port of `scheme://host:port[/path]`.
    static func port(of url: String) -> Int? {
        var authority = Substring(url)
        if let scheme = authority.range(of: "://") { authority = authority[scheme.upperBound...] }
        if let slash = authority.firstIndex(of: "/") { authority = authority[..<slash] }
        guard let colon = authority.lastIndex(of: ":") else { return nil }
        return Int(authority[authority.index(after: colon)...])
    }

    private enum ReadyOutcome {
        case ready(String, ParsedReadyLine)
        case failed(String, stdout: String)
    }

    /// Reads stdout until the ready line, EOF, the master's exit or the deadline.
    private static func readReadyLine(from fd: Int32, of master: ChildProcess, timeout: Duration) -> ReadyOutcome {
        let deadline = Deadline(timeout)
        var collected: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        func completeLines() -> [String] {
            guard let lastNewline = collected.lastIndex(of: 10) else { return [] }
            return String(decoding: collected[..<lastNewline], as: UTF8.self)
                .split(separator: "\n").map(String.init)
        }
        while true {
            for line in completeLines() where line.hasPrefix(readyPrefix) {
                guard let parsed = parseReadyLine(line) else {
                    return .failed("malformed ready line \"\(line)\"", stdout: String(decoding: collected, as: UTF8.self))
                }
                return .ready(line, parsed)
            }
            let stdout = { String(decoding: collected, as: UTF8.self) }
            if deadline.hasPassed {
                return .failed("no ready line within \(timeout)", stdout: stdout())
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = Glibc.poll(&pfd, 1, deadline.remainingMilliseconds(cap: 100))
            if ready > 0 {
                let n = read(fd, &chunk, chunk.count)
                if n > 0 {
                    collected += chunk[0..<n]
                } else if n == 0 {
                    if completeLines().contains(where: { $0.hasPrefix(readyPrefix) }) { continue }
                    _ = master.waitForExit(timeout: .seconds(2))
                    return .failed("stdout closed before the ready line (\(master.exitDescription))", stdout: stdout())
                }
            } else if ready == 0 && !master.isRunning {
                return .failed("exited before the ready line (\(master.exitDescription))", stdout: stdout())
            }
        }
    }
}
