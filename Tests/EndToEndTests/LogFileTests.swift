import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's log file: `log_format: json` writes one JSON object per line from every
/// process, and SIGHUP (logrotate's postrotate) moves the master and every running child to a
/// new file at the same path.
final class LogFileTests: XCTestCase {
    private var daemon: GatewaydProcess?

    override func tearDown() {
        daemon?.killLeftovers()
        if let daemon { try? FileManager.default.removeItem(atPath: daemon.baseDirectory) }
        daemon = nil
        super.tearDown()
    }

    /// Every line of the log, each parsed as a JSON object (failing on the first that is not).
    private func jsonLines(of path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let text = GatewaydProcess.readText(path)
        var objects: [[String: Any]] = []
        for (number, text) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !text.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                XCTFail("line \(number + 1) of \(path) is not a JSON object: \(text)", file: file, line: line)
                continue
            }
            objects.append(object)
        }
        return objects
    }

    func testJSONLogHasOneObjectPerLineWithTheNamedFields() throws {
        let plugin = try ConformancePlugin.c.path()
        let (daemon, _) = try GatewaydProcess.startDaemon(
            plugin: plugin, gatewayCount: 1, workerCount: 1, extraArguments: ["--log-format", "json", "--log-level", "debug"])
        self.daemon = daemon
        let status = try daemon.status()

        // Traffic, a plugin's own log line (whose text has quotes and a colon) and a reload:
        // lines from every role, with metadata.
        let client = try daemon.connect()
        try client.sendText("echo:json")
        try client.expectText("echo:json")
        try client.sendText("to:not-a-client-id:hi")
        client.close()
        let reload = try GatewaydProcess.run(["reload", "--run-dir", daemon.runDirectory])
        XCTAssertEqual(reload.exitCode, 0, "\(reload)")
        try daemon.stop(removingFiles: false)

        let lines = try jsonLines(of: "\(daemon.runDirectory)/gatewayd.log")
        XCTAssertGreaterThan(lines.count, 10)
        let timestamp = try NSRegularExpression(pattern: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#)
        for object in lines {
            XCTAssertEqual(Set(object.keys), ["timestamp", "level", "role", "pid", "message", "metadata"], "\(object)")
            let stamp = object["timestamp"] as? String ?? ""
            XCTAssertEqual(timestamp.numberOfMatches(in: stamp, range: NSRange(stamp.startIndex..., in: stamp)), 1, "\(object)")
            XCTAssertTrue(["debug", "info", "warning", "error"].contains(object["level"] as? String ?? ""), "\(object)")
            XCTAssertTrue(["master", "register", "gateway", "worker"].contains(object["role"] as? String ?? ""), "\(object)")
            XCTAssertGreaterThan(object["pid"] as? Int ?? 0, 0, "\(object)")
            XCTAssertNotNil(object["message"] as? String, "\(object)")
            XCTAssertNotNil(object["metadata"] as? [String: Any], "\(object)")
        }
        XCTAssertEqual(Set(lines.compactMap { $0["role"] as? String }), ["master", "register", "gateway", "worker"])
        let masterLines = lines.filter { $0["role"] as? String == "master" }
        XCTAssertEqual(Set(masterLines.compactMap { $0["pid"] as? Int }), [Int(status.master.pid)])
        XCTAssertTrue(masterLines.contains { ($0["message"] as? String)?.hasPrefix("reload done:") == true })
        let pluginLine = lines.first { ($0["message"] as? String)?.hasPrefix("conformance-c:") == true }
        XCTAssertEqual((pluginLine?["metadata"] as? [String: Any])?["gw.plugin"] as? String, "conformance-c")
        XCTAssertEqual(pluginLine?["level"] as? String, "warning")
        XCTAssertEqual(pluginLine?["role"] as? String, "worker")
        XCTAssertEqual(pluginLine?["message"] as? String, "conformance-c: to failed: invalid argument (1)")
    }

    func testSIGHUPReopensTheLogInTheMasterAndEveryChild() throws {
        let plugin = try ConformancePlugin.c.path()
        let (daemon, _) = try GatewaydProcess.startDaemon(plugin: plugin, gatewayCount: 1, workerCount: 1)
        self.daemon = daemon
        let status = try daemon.status()
        let children = status.processes.filter { $0.role != "master" }.map(\.pid)
        XCTAssertEqual(children.count, 3, "register, gateway, worker: \(status.processes)")
        let client = try daemon.connect()  // connected before the rotation, served after it

        // What logrotate does: rename, then signal.
        let log = "\(daemon.runDirectory)/gatewayd.log"
        let rotated = log + ".1"
        XCTAssertEqual(rename(log, rotated), 0)
        XCTAssertEqual(kill(daemon.masterPID, SIGHUP), 0)

        // Every process says so in the new file, with its own pid.
        let everyone = [daemon.masterPID] + children
        let reopened = GatewaydProcess.poll(
            until: {
                let lines = GatewaydProcess.readText(log).split(separator: "\n").filter { $0.contains("log file reopened") }
                return everyone.allSatisfy { pid in lines.contains { $0.contains("[\(pid)]") } }
            }, timeout: .seconds(10))
        XCTAssertTrue(reopened, "new log:\n\(GatewaydProcess.readText(log))\nrotated log tail:\n\(GatewaydProcess.readText(rotated).suffix(3000))")

        // A running child's next lines go to the new file only: the worker's plugin logs one.
        try client.sendText("to:not-a-client-id:after-rotation")
        try client.sendText("echo:after")
        try client.expectText("echo:after")
        let pluginLine = "conformance-c: to failed"
        XCTAssertTrue(
            GatewaydProcess.poll(until: { GatewaydProcess.readText(log).contains(pluginLine) }, timeout: .seconds(10)),
            GatewaydProcess.readText(log))
        XCTAssertTrue(GatewaydProcess.readText(log).contains("gatewayd.worker[\(status.processes(role: "worker")[0].pid)] \(pluginLine)"))
        XCTAssertFalse(GatewaydProcess.readText(rotated).contains(pluginLine))
        XCTAssertFalse(GatewaydProcess.readText(rotated).contains("log file reopened"))
        client.close()

        // The master's later lines too (and the workers a reload forks inherit the new file).
        let reload = try GatewaydProcess.run(["reload", "--run-dir", daemon.runDirectory])
        XCTAssertEqual(reload.exitCode, 0, "\(reload)")
        XCTAssertTrue(GatewaydProcess.readText(log).contains("reload done:"))
        XCTAssertFalse(GatewaydProcess.readText(rotated).contains("reload"))
        try daemon.stop()
    }
}
