import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `contrib/systemd/gatewayd.service` as systemd would run it: its `ExecStart` (read from the
/// file, paths substituted) under a `NOTIFY_SOCKET` the test reads. READY=1 comes only once a
/// WebSocket client is served, `ExecReload` is bracketed by RELOADING=1 and READY=1, SIGTERM to
/// the main process (`KillMode=mixed`) says STOPPING=1, and nothing is left running.
final class SystemdUnitTests: XCTestCase {
    private var base: String?
    private var master: ChildProcess?

    override func tearDown() {
        if let base {
            for pid in ProcessTable.pids(commandLineContaining: base) { kill(pid, SIGKILL) }
            GatewaydProcess.poll(until: { ProcessTable.pids(commandLineContaining: base).isEmpty }, timeout: .seconds(5))
            try? FileManager.default.removeItem(atPath: base)
        }
        master = nil  // its deinit kills and reaps it if it still runs
        base = nil
        super.tearDown()
    }

    func testTheUnitReportsReadyReloadAndStopThroughNotifySocket() throws {
        let unit = try SystemdUnit.load()
        XCTAssertEqual(unit.value("Type"), "notify")
        XCTAssertEqual(unit.value("RuntimeDirectory"), "gatewayd")
        XCTAssertEqual(unit.value("RuntimeDirectoryMode"), "0700")
        XCTAssertEqual(unit.value("Restart"), "on-failure")
        XCTAssertEqual(unit.value("KillMode"), "mixed", "the test stops it as KillMode=mixed does: SIGTERM to the main process")
        XCTAssertNotNil(unit.value("LimitNOFILE").flatMap(Int.init))

        let run = try startUnit(unit, notifySocket: nil)
        let ready = try XCTUnwrap(try run.notify.receive(timeout: .seconds(60)), "no READY=1 within 60 s:\n\(run.stderr())")
        XCTAssertEqual(ready["READY"], "1", "the first notification: \(ready)")
        XCTAssertEqual(ready["MAINPID"], String(run.master.pid))
        let status = try XCTUnwrap(ready["STATUS"])
        let port = try XCTUnwrap(GatewaydProcess.parseReadyLine(status)?.port, status)
        // Sent right after the ready line, which the master prints once every process serves:
        // the line is out, and no process is still starting.
        XCTAssertTrue(GatewaydProcess.readText(run.stdoutPath).contains(GatewaydProcess.readyPrefix))
        let processes = try GatewaydProcess.run(["status", "--json", "--run-dir", "\(run.runtimeRoot)/gatewayd"])
        let report = try JSONDecoder().decode(GatewaydStatus.self, from: Data(processes.stdout.utf8))
        XCTAssertEqual(report.processes.filter { $0.role != "master" }.map(\.state), ["running", "running", "running"], "\(processes)")

        // READY=1 means serving: the first attempt must succeed.
        let client = try WebSocketTestClient.connect(host: "127.0.0.1", port: port, path: "/", timeout: .seconds(10))
        try client.sendText("echo:ready")
        try client.expectText("echo:ready")

        // systemctl reload: ExecReload, as the unit says.
        let reloadCommand = try run.substitute(try XCTUnwrap(unit.value("ExecReload")))
        let reload = try GatewaydProcess.runExecutable(URL(fileURLWithPath: reloadCommand[0]), Array(reloadCommand.dropFirst()))
        XCTAssertEqual(reload.exitCode, 0, "\(reload)")
        let reloading = try XCTUnwrap(try run.notify.receive(timeout: .seconds(10)), "nothing after the reload")
        XCTAssertEqual(reloading["RELOADING"], "1", "\(reloading)")
        XCTAssertNotNil(reloading["MONOTONIC_USEC"].flatMap(UInt64.init), "\(reloading)")
        // Sent before `gatewayd reload` returned, so it is already queued.
        let readyAgain = try XCTUnwrap(try run.notify.receive(timeout: .zero), "no READY=1 when the reload returned")
        XCTAssertEqual(readyAgain["READY"], "1", "\(readyAgain)")
        try client.sendText("echo:reloaded")
        try client.expectText("echo:reloaded")
        client.close()

        // systemctl stop with KillMode=mixed: SIGTERM to the main process only.
        XCTAssertEqual(kill(run.master.pid, SIGTERM), 0)
        let stopping = try XCTUnwrap(try run.notify.receive(timeout: .seconds(10)), "no STOPPING=1")
        XCTAssertEqual(stopping["STOPPING"], "1", "\(stopping)")
        try run.expectCleanExit()
        XCTAssertNil(try run.notify.receive(timeout: .zero), "nothing after STOPPING=1")
    }

    /// `NOTIFY_SOCKET=@name` is an abstract socket (what systemd's nspawn/user managers may use).
    func testAnAbstractNotifySocket() throws {
        let unit = try SystemdUnit.load()
        let run = try startUnit(unit, notifySocket: "@gwd-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let ready = try XCTUnwrap(try run.notify.receive(timeout: .seconds(60)), "no READY=1 within 60 s:\n\(run.stderr())")
        XCTAssertEqual(ready["READY"], "1", "\(ready)")
        XCTAssertEqual(kill(run.master.pid, SIGTERM), 0)
        XCTAssertEqual(try run.notify.receive(timeout: .seconds(10))?["STOPPING"], "1")
        try run.expectCleanExit()
    }

    // MARK: - Running the unit

    private struct UnitRun {
        let master: ChildProcess
        let notify: NotifySocket
        /// What `%t` stands for (systemd: /run); the run directory is `<it>/gatewayd`.
        let runtimeRoot: String
        let substitutions: [String: String]
        let stdoutPath: String
        let stderrPath: String

        func stderr() -> String { String(GatewaydProcess.readText(stderrPath).suffix(6000)) }

        func substitute(_ commandLine: String) throws -> [String] {
            try SystemdUnit.substitute(commandLine, substitutions)
        }

        /// The master exits 0 and takes every process of the run directory with it.
        func expectCleanExit(file: StaticString = #filePath, line: UInt = #line) throws {
            XCTAssertTrue(master.waitForExit(timeout: .seconds(30)), "the master did not exit", file: file, line: line)
            XCTAssertEqual(master.exitCode, 0, stderr(), file: file, line: line)
            XCTAssertTrue(
                GatewaydProcess.poll(until: { ProcessTable.pids(commandLineContaining: runtimeRoot).isEmpty }, timeout: .seconds(5)),
                "left running: \(ProcessTable.pids(commandLineContaining: runtimeRoot).map(ProcessTable.describe))", file: file,
                line: line)
        }
    }

    /// Starts the unit's ExecStart with a config on fresh loopback ports, as systemd would:
    /// the runtime directory made 0700 first, `NOTIFY_SOCKET` set (a path in the test's
    /// directory unless `notifySocket` names one).
    private func startUnit(_ unit: SystemdUnit, notifySocket: String?) throws -> UnitRun {
        let base = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-unit-")
        self.base = base
        let runtimeRoot = "\(base)/rt"
        let unitName = try XCTUnwrap(unit.value("RuntimeDirectory"))
        let mode = try XCTUnwrap(unit.value("RuntimeDirectoryMode").flatMap { UInt16($0, radix: 8) })
        try FileManager.default.createDirectory(atPath: runtimeRoot, withIntermediateDirectories: true)
        XCTAssertEqual(mkdir("\(runtimeRoot)/\(unitName)", mode_t(mode)), 0)

        let config = "\(base)/gatewayd.yaml"
        try """
            plugin: \(try ConformancePlugin.c.path())
            listen: websocket://127.0.0.1:0
            register: 127.0.0.1:0
            start_port: 0
            gateway_count: 1
            worker_count: 1
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let substitutions = [
            "/usr/local/bin/gatewayd": try GatewaydProcess.binaryURL().path,
            "/etc/gatewayd/gatewayd.yaml": config,
            "%t": runtimeRoot,
        ]
        let notify = try NotifySocket(name: notifySocket ?? "\(base)/notify.sock")
        let stdoutPath = "\(base)/stdout"
        let stderrPath = "\(base)/stderr"
        let out = try GatewaydProcess.openForWriting(stdoutPath)
        defer { close(out) }
        let err = try GatewaydProcess.openForWriting(stderrPath)
        defer { close(err) }
        let command = try SystemdUnit.substitute(try XCTUnwrap(unit.value("ExecStart")), substitutions)
        XCTAssertFalse(command.contains("-d") || command.contains("--daemon"), "systemd runs the master in the foreground")
        let master = try ChildProcess(
            executable: command[0], arguments: Array(command.dropFirst()), stdout: out, stderr: err,
            environment: ["NOTIFY_SOCKET": notify.name])
        self.master = master
        return UnitRun(
            master: master, notify: notify, runtimeRoot: runtimeRoot, substitutions: substitutions, stdoutPath: stdoutPath,
            stderrPath: stderrPath)
    }
}

/// The `[Service]` settings of `contrib/systemd/gatewayd.service`.
struct SystemdUnit {
    var service: [String: String] = [:]

    func value(_ key: String) -> String? { service[key] }

    /// A command line of the unit as words, with the installed paths and specifiers replaced
    /// by the test's; one left unreplaced fails.
    static func substitute(_ commandLine: String, _ substitutions: [String: String]) throws -> [String] {
        try commandLine.split(separator: " ").map { word in
            var word = String(word)
            for (from, to) in substitutions { word = word.replacingOccurrences(of: from, with: to) }
            guard !word.contains("%"), !word.contains("${") else {
                throw GatewaydFixtureError("the unit uses \(word), which the test does not substitute")
            }
            return word
        }
    }

    static func load() throws -> SystemdUnit {
        let path = GatewaydProcess.repositoryRoot.appendingPathComponent("contrib/systemd/gatewayd.service").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw GatewaydFixtureError("cannot read \(path)") }
        var unit = SystemdUnit()
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                section = line
                continue
            }
            guard section == "[Service]", let equals = line.firstIndex(of: "=") else { continue }
            unit.service[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return unit
    }
}

/// The service manager's end of sd_notify: an AF_UNIX datagram socket bound at `name` (a path,
/// or an abstract name when it starts with '@'), each datagram `KEY=value` lines.
final class NotifySocket {
    let name: String
    private let descriptor: Int32

    init(name: String) throws {
        self.name = name
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw GatewaydFixtureError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw GatewaydFixtureError("socket name too long: \(name)") }
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path.copyBytes(from: bytes)
            if bytes.first == UInt8(ascii: "@") { path[0] = 0 }
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0 else {
            close(descriptor)
            throw GatewaydFixtureError("bind \(name): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        close(descriptor)
        if !name.hasPrefix("@") { unlink(name) }
    }

    /// The next datagram's `KEY=value` lines, or nil when none arrives within `timeout`.
    func receive(timeout: Duration) throws -> [String: String]? {
        let deadline = Deadline(timeout)
        var pfd = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&pfd, 1, deadline.remainingMilliseconds())
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            break
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count >= 0 else { throw GatewaydFixtureError("recv: \(String(cString: strerror(errno)))") }
        var fields: [String: String] = [:]
        for line in String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return fields
    }
}
