import CGatewaySystem
import Foundation
import GatewayCore
import GatewaySupervisor
import Logging

/// `start -d`: the command forks a daemon that becomes the master, then waits on a pipe until
/// the master says every process is serving (or why it is not) before it returns.
enum Daemon {
    static func start(configuration: GatewayConfiguration) throws -> Int32 {
        let runDirectory = RunDirectory(path: configuration.runDirectory)
        do { try runDirectory.createPrivate() } catch { throw failCommand(error.description) }
        let log: Int32
        switch LogFile.open(runDirectory.logFile) {
        case .success(let descriptor): log = descriptor
        case .failure(let error): throw failCommand(error.description)
        }
        _ = fchmod(log, 0o600)  // a log from an older gatewayd was created 0644
        var channel: [Int32] = [0, 0]
        guard pipe(&channel) == 0 else { throw failCommand("pipe(): \(String(cString: strerror(errno)))") }
        gwd_sys_flush_stdio()
        let pid = fork()
        guard pid >= 0 else { throw failCommand("fork(): \(String(cString: strerror(errno)))") }
        if pid > 0 {
            // The command: wait for the master's verdict.
            close(channel[1])
            close(log)
            let line = FileDescriptorIO.readLine(channel[0], timeoutSeconds: 120).map { String(decoding: $0, as: UTF8.self) }
            guard let line else {
                throw failCommand("the daemon exited before it was ready; see \(runDirectory.logFile)")
            }
            if line.hasPrefix("ok ") {
                print(line.dropFirst(3))
                return 0
            }
            throw failCommand(String(line.dropFirst(line.hasPrefix("error ") ? 6 : 0)))
        }
        // The daemon: a session of its own, stdio detached, logs to the run directory.
        close(channel[0])
        setsid()
        let null = open("/dev/null", O_RDWR)
        dup2(null, STDIN_FILENO)
        dup2(log, STDOUT_FILENO)
        dup2(log, STDERR_FILENO)
        close(null)
        close(log)
        bootstrapLogging(configuration)
        let verdict = channel[1]
        let supervisor = Supervisor(
            configuration: configuration, version: Gatewayd.version, logger: Logger(label: "gatewayd.master"),
            logFile: runDirectory.logFile, closeInChildren: [verdict], runRole: RoleLauncher.run)
        let code = supervisor.run { result in
            let line: String
            switch result {
            case .success(let ready): line = "ok \(ready)\n"
            case .failure(let error): line = "error \(error.description)\n"
            }
            _ = FileDescriptorIO.writeAll(verdict, Array(line.utf8))
            close(verdict)
        }
        exit(code)
    }
}

/// Every gatewayd process logs through one handler, bootstrapped in the master before it forks.
func bootstrapLogging(_ configuration: GatewayConfiguration) {
    let level = Logger.Level(configurationName: configuration.logLevel)
    let format = configuration.logFormat ?? .text
    LoggingSystem.bootstrap { GatewayLogHandler(label: $0, level: level, format: format) }
}
