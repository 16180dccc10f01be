import ArgumentParser
import GatewayCore

struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Replace every worker with one running the plugin file as it is now; no client is disconnected.",
        discussion: """
            A canary loads the new plugin first: if it cannot (no entry symbol, another ABI major, on_worker_start \
            failing), the running workers keep serving and this command fails with the reason. Otherwise a new \
            generation of workers starts, each old worker finishes every event it was sent, then exits. \
            SIGUSR1 to the master does the same.
            """)

    @OptionGroup var runDirectory: RunDirectoryOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        // Canary, new generation and the old one's drain: allow for the drain timeout.
        let response = try runDirectory.request(.reload, timeoutSeconds: 600)
        guard let report = response.reload else { throw failCommand("the master sent no reload report") }
        if json { return try printJSON(report) }
        if let gateways = report.certificatesReloaded {
            print("TLS certificate read again by \(gateways) gateway\(gateways == 1 ? "" : "s") (new handshakes use it)")
        }
        // A host without workers reloads its certificates only.
        guard !report.newPlugin.isEmpty else { return }
        print("reloaded: \(ReloadReport.describe(report.oldPlugin)) -> \(ReloadReport.describe(report.newPlugin))")
        print(
            "\(report.replaced) worker\(report.replaced == 1 ? "" : "s") replaced, \(report.killed) killed at the drain timeout, in \(String(format: "%.2f", report.seconds)) s"
        )
    }
}
