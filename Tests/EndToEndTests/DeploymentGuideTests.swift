import Foundation
import XCTest

/// docs/deployment.md's three-host example, run as written: its YAML file, its three
/// `gatewayd start` lines (each on the host its comment names, at the addresses its table gives)
/// and its `gatewayd client` lines, read from the guide itself so the two cannot drift apart.
///
/// Differences, each forced by running every "host" on one machine: the config lives in a
/// temporary directory instead of /etc/gatewayd (the conformance plugin stands in for chat.so),
/// each host gets its own `--run-dir`, and `-d` is left out so the test owns the masters.
final class DeploymentGuideTests: XCTestCase {
    private var lab: NetworkLab?
    private let clusters = LabClusters()
    private var directory: String?

    override func tearDown() {
        let passing = (testRun?.failureCount ?? 0) == 0
        for problem in clusters.stopAll() where passing { XCTFail(problem) }
        lab?.tearDown()
        lab = nil
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        super.tearDown()
    }

    func testTheThreeHostExampleWorksAsWritten() throws {
        let guide = GatewaydProcess.readText(
            GatewaydProcess.repositoryRoot.appendingPathComponent("docs/deployment.md").path)
        let yaml = try XCTUnwrap(Markdown.codeBlocks("yaml", in: guide).first, "the guide has no yaml block")
        let commands = Markdown.codeBlocks("sh", in: guide).joined(separator: "\n")
        // "| gw-a | 10.0.0.1 | register, gateway |" rows name the hosts and their addresses.
        var addresses: [String: String] = [:]
        for row in guide.split(separator: "\n") where row.hasPrefix("| ") {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.count == 3, cells[1].hasPrefix("10.0.0.") { addresses[cells[0]] = cells[1] }
        }
        XCTAssertEqual(addresses.count, 3, "the guide's host table: \(addresses)")

        let lab = try NetworkLab(
            hosts: Array(addresses.keys.sorted()) + ["client"],
            addresses: addresses.merging(["client": "10.0.0.9"]) { $1 })
        self.lab = lab
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-guide-")
        self.directory = directory
        try yaml.write(toFile: "\(directory)/cluster.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: try ConformancePlugin.c.path(), toPath: "\(directory)/chat.so")

        // Each start line runs on the host named by the comment above it.
        var host: String?
        var started: [String: GatewaydProcess] = [:]
        for line in commands.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# ") { host = String(line.dropFirst(2)) }
            guard line.hasPrefix("gatewayd start"), let name = host else { continue }
            let arguments = Self.words(line).dropFirst()
                .filter { $0 != "-d" }
                .map { $0.replacingOccurrences(of: "/etc/gatewayd", with: directory) }
            started[name] = try clusters.start(on: lab[name]) { Array(arguments) + ["--run-dir", $0] }
        }
        XCTAssertEqual(started.keys.sorted(), ["gw-a", "gw-b", "work"], "the guide starts its three hosts")

        // What the guide says status shows, once the workers reached every gateway.
        let workers = try XCTUnwrap(started["work"])
        let linked = try GatewaydProcess.poll(
            until: {
                let rows = try workers.status().processes(role: "worker")
                return rows.count == 4 && rows.allSatisfy { $0.details?["gateways"] == "4" }
            }, timeout: .seconds(10), interval: .milliseconds(50))
        XCTAssertTrue(linked, "every worker linked to the 4 gateways")
        for gatewayHost in [started["gw-a"], started["gw-b"]].compactMap({ $0 }) {
            for row in try gatewayHost.status().processes(role: "gateway") {
                XCTAssertEqual(row.details?["registers"], "2/2")
                XCTAssertEqual(row.details?["workers"], "4")
            }
        }

        let client = lab["client"]
        let (onA, onB) = try lab.run(in: client) {
            (try WebSocketTestClient.connect(host: addresses["gw-a"]!, port: 7272),
             try WebSocketTestClient.connect(host: addresses["gw-b"]!, port: 7272))
        }
        try onA.sendText("uid:alice")
        try onA.expectText("uid:alice")
        try onB.sendText("touid:alice:hello-from-gw-b")
        try onA.expectText("hello-from-gw-b")

        // The guide's GatewayClient lines, from the client host.
        let clientLines = commands.split(separator: "\n").map(String.init).filter { $0.hasPrefix("gatewayd client") }
        XCTAssertEqual(clientLines.count, 2)
        var outputs: [String] = []
        for line in clientLines {
            let result = try GatewaydProcess.runExecutable(
                URL(fileURLWithPath: client.launcher[0]),
                Array(client.launcher.dropFirst()) + [try GatewaydProcess.binaryURL().path] + Self.words(line).dropFirst(),
                timeout: .seconds(30))
            XCTAssertEqual(result.exitCode, 0, "\(result)")
            outputs.append(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        XCTAssertEqual(outputs.first, #"{"result":2}"#, "get-all-client-id-count")
        try onA.expectText("maintenance at noon")
        try onB.expectText("maintenance at noon")
    }

    /// Splits a shell line into words: whitespace separates, double quotes group.
    private static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var inWord = false
        for character in line {
            if character == "\"" {
                quoted.toggle()
                inWord = true
            } else if character == " " && !quoted {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
