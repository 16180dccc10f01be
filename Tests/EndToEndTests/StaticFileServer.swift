import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `python3 -m http.server` serving a directory on a free loopback port: how the examples'
/// READMEs say to serve their pages. Stopped by `stop()` or when released.
final class StaticFileServer {
    /// Why it cannot run here, or nil when it can.
    static var missing: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let found = path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/python3") }
        return found ? nil : "python3 is not installed (it serves the example pages; .ci/run installs it)"
    }

    let port: Int
    private let process: ChildProcess

    /// Serves `directory`; its log (one line per request) goes to `log`.
    init(directory: String, log logPath: String, timeout: Duration = .seconds(30)) throws {
        let log = try GatewaydProcess.openForWriting(logPath)
        defer { _ = Glibc.close(log) }
        let process = try ChildProcess(
            executable: "/usr/bin/env",
            arguments: ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory],
            stdout: log, stderr: log)
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        var port = 0
        GatewaydProcess.poll(until: {
            let text = GatewaydProcess.readText(logPath)
            if let range = text.range(of: " port "), let number = Int(text[range.upperBound...].prefix(while: \.isNumber)) {
                port = number
            }
            return port > 0 || !process.isRunning
        }, timeout: timeout)
        guard port > 0 else {
            process.signal(SIGKILL)
            _ = process.waitForExit(timeout: .seconds(10))
            throw GatewaydFixtureError("python3 -m http.server did not start:\n\(GatewaydProcess.readText(logPath).suffix(2000))")
        }
        self.port = port
        self.process = process
    }

    deinit { stop() }

    func stop() {
        process.signal(SIGTERM)
        if !process.waitForExit(timeout: .seconds(10)) {
            process.signal(SIGKILL)
            _ = process.waitForExit(timeout: .seconds(10))
        }
    }
}
