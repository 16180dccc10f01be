import Foundation

extension GatewaydProcess {
    /// Starts a cluster of the C conformance plugin with `config` as its YAML file, written
    /// into `directory`.
    static func start(config: String, in directory: String, gatewayCount: Int = 1, workerCount: Int = 1) throws -> GatewaydProcess {
        try config.write(toFile: "\(directory)/gatewayd.yaml", atomically: true, encoding: .utf8)
        return try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), gatewayCount: gatewayCount, workerCount: workerCount,
            extraArguments: ["--config", "\(directory)/gatewayd.yaml"])
    }

    /// Resident memory of a process in bytes, from /proc (0 when it is gone).
    static func residentBytes(of pid: Int32) -> Int {
        let status = readText("/proc/\(pid)/status")
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }
}
