import Foundation
import XCTest

/// `/metrics` scraped from a live cluster (1 gateway, 2 workers, the HTTP API) while real
/// WebSocket clients talk to it: the counters move exactly with the traffic, a client closed by
/// the heartbeat shows under that reason, a reload and a killed worker are counted and take no
/// count back, and the families scraped are the ones docs/metrics.md lists.
final class MetricsTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    /// One scrape: each series' value, and the families (`# TYPE`).
    struct Scrape {
        var values: [String: Double] = [:]
        var families: Set<String> = []

        init(text: String) {
            for line in text.split(separator: "\n") {
                if line.hasPrefix("# TYPE ") {
                    families.insert(String(line.split(separator: " ")[2]))
                } else if !line.hasPrefix("#"), let space = line.lastIndex(of: " ") {
                    values[String(line[..<space])] = Double(line[line.index(after: space)...])
                }
            }
        }

        subscript(_ series: String) -> Double { values[series] ?? 0 }

        /// The sum over every series of `name` whose labels contain all of `labels`.
        func sum(_ name: String, _ labels: String...) -> Double {
            values.filter { key, _ in
                key.hasPrefix(name + "{") && labels.allSatisfy { key.contains($0) }
            }.values.reduce(0, +)
        }
    }

    private func scrape(port: Int, path: String = "/metrics") throws -> Scrape {
        let response = try HTTPTestClient.request(port: port, method: "GET", path: path)
        XCTAssertEqual(response.statusCode, 200, "\(response)")
        XCTAssertEqual(response.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        return Scrape(text: String(decoding: response.body, as: UTF8.self))
    }

    private func port(_ field: String, in readyLine: String) throws -> Int {
        let token = try XCTUnwrap(readyLine.split(separator: " ").first { $0.hasPrefix(field + "=") }, readyLine)
        return try XCTUnwrap(GatewaydProcess.port(of: String(token.dropFirst(field.count + 1))))
    }

    /// Polls scrapes until `condition` holds (counters a close or an exit moves arrive with the
    /// next report), and returns the scrape that satisfied it.
    private func scrape(port: Int, until condition: (Scrape) -> Bool, _ what: String) throws -> Scrape {
        var last = try scrape(port: port)
        let held = try GatewaydProcess.poll(until: {
            last = try scrape(port: port)
            return condition(last)
        }, timeout: .seconds(20), interval: .milliseconds(50))
        XCTAssertTrue(held, "\(what); last scrape: \(last.values.filter { $0.key.contains("closed") || $0.key.contains("process_") })")
        return last
    }

    func testCountersFollowTheTrafficOfALiveCluster() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-metrics-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/gatewayd.yaml"
        try """
            metrics_listen: 127.0.0.1:0
            http_api_listen: 127.0.0.1:0
            http_api_allow_no_token: true

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 2, extraArguments: ["--config", config])
        self.cluster = cluster
        let metricsPort = try port("metrics", in: cluster.readyLine)
        let httpAPIPort = try port("http-api", in: cluster.readyLine)
        let gateway = #"{role="gateway",index="0"}"#

        let client = try cluster.connect()
        try client.sendText("echo:warm-up")
        XCTAssertEqual(try client.receive(), .text("echo:warm-up"))

        // N messages: exactly N more in on the gateway, handled by the workers, timed as
        // on_message, answered; bytes both ways.
        let before = try scrape(port: metricsPort)
        let count = 25
        for index in 0..<count {
            try client.sendText("echo:\(index)")
            XCTAssertEqual(try client.receive(), .text("echo:\(index)"))
        }
        let after = try scrape(port: metricsPort)
        XCTAssertEqual(after["gatewayd_messages_in_total\(gateway)"] - before["gatewayd_messages_in_total\(gateway)"], Double(count))
        XCTAssertEqual(after["gatewayd_messages_out_total\(gateway)"] - before["gatewayd_messages_out_total\(gateway)"], Double(count))
        XCTAssertEqual(
            after.sum("gatewayd_messages_in_total", #"role="worker""#) - before.sum("gatewayd_messages_in_total", #"role="worker""#),
            Double(count))
        let onMessage = #"gatewayd_worker_event_duration_seconds_count{role="worker",callback="on_message"}"#
        XCTAssertEqual(after[onMessage] - before[onMessage], Double(count))
        XCTAssertGreaterThan(after[#"gatewayd_worker_event_duration_seconds_sum{role="worker",callback="on_message"}"#], 0)
        // Each frame: its text, a 2-byte header, and a 4-byte mask from the client.
        let text = (0..<count).map { "echo:\($0)".utf8.count }.reduce(0, +)
        XCTAssertEqual(
            after["gatewayd_client_bytes_in_total\(gateway)"] - before["gatewayd_client_bytes_in_total\(gateway)"], Double(text + 6 * count))
        XCTAssertEqual(
            after["gatewayd_client_bytes_out_total\(gateway)"] - before["gatewayd_client_bytes_out_total\(gateway)"], Double(text + 2 * count))
        XCTAssertEqual(after["gatewayd_client_connections\(gateway)"], 1)
        XCTAssertEqual(after["gatewayd_gateway_workers\(gateway)"], 2)
        XCTAssertEqual(after[#"gatewayd_register_gateways{role="register",index="0"}"#], 1)
        XCTAssertEqual(after[#"gatewayd_register_workers{role="register",index="0"}"#], 2)
        for process in ["master", "register", "gateway", "worker", "http-api"] {
            XCTAssertEqual(after[#"gatewayd_process_up{role="\#(process)",index="0"}"#], 1, process)
            XCTAssertGreaterThan(after[#"gatewayd_process_resident_memory_bytes{role="\#(process)",index="0"}"#], 0, process)
        }

        // A broadcast to the two clients connected now; a query of every gateway.
        let other = try cluster.connect()
        try other.sendText("echo:here")
        XCTAssertEqual(try other.receive(), .text("echo:here"))
        try client.sendText("all:news")
        XCTAssertEqual(try client.receive(), .text("news"))
        XCTAssertEqual(try other.receive(), .text("news"))
        try client.sendText("count:")
        XCTAssertEqual(try client.receive(), .text("count:2"))
        let traffic = try scrape(port: metricsPort)
        XCTAssertEqual(traffic["gatewayd_broadcast_deliveries_total\(gateway)"] - after["gatewayd_broadcast_deliveries_total\(gateway)"], 2)
        XCTAssertEqual(traffic.sum("gatewayd_queries_total", #"role="worker""#), 1)
        XCTAssertEqual(traffic.sum("gatewayd_query_timeouts_total", #"role="worker""#), 0)
        XCTAssertEqual(traffic["gatewayd_queries_answered_total\(gateway)"], 1)

        // A reload: the old workers' counts stay, those after the last scrape included (an old
        // worker sends its last counters when it has drained).
        for index in 0..<5 {
            try client.sendText("echo:r\(index)")
            XCTAssertEqual(try client.receive(), .text("echo:r\(index)"))
        }
        let reload = try GatewaydProcess.run(["reload", "--run-dir", cluster.runDirectory], timeout: .seconds(60))
        XCTAssertEqual(reload.exitCode, 0, "\(reload)")
        let reloaded = try scrape(port: metricsPort)
        XCTAssertEqual(reloaded[#"gatewayd_reloads_total{outcome="done"}"#], 1)
        XCTAssertEqual(reloaded[#"gatewayd_reload_duration_seconds_count{outcome="done"}"#], 1)
        XCTAssertEqual(
            reloaded.sum("gatewayd_messages_in_total", #"role="worker""#), traffic.sum("gatewayd_messages_in_total", #"role="worker""#) + 5)

        // A worker killed: a crash and a restart of the role, its count carried over.
        let worker = try XCTUnwrap(try cluster.status().processes(role: "worker").first)
        XCTAssertEqual(kill(worker.pid, SIGKILL), 0)
        let restarted = try scrape(port: metricsPort, until: { scrape in
            scrape[#"gatewayd_process_crashes_total{role="worker"}"#] == 1
                && scrape[#"gatewayd_process_restarts_total{role="worker"}"#] == 1
                && scrape.sum("gatewayd_process_up", #"role="worker""#) == 2
        }, "the killed worker counted as a crash and restarted")
        XCTAssertGreaterThanOrEqual(
            restarted.sum("gatewayd_messages_in_total", #"role="worker""#), reloaded.sum("gatewayd_messages_in_total", #"role="worker""#))
        try client.sendText("echo:after")
        XCTAssertEqual(try client.receive(), .text("echo:after"))

        // The HTTP API's queries, per gateway (the workers count theirs the same way).
        let gatewayInner = try XCTUnwrap(try cluster.status().processes(role: "gateway").first?.details?["inner"])
        for _ in 0..<3 {
            let count = try HTTPTestClient.post(port: httpAPIPort, "get-all-client-id-count", [:], token: nil)
            XCTAssertEqual(count.statusCode, 200, "\(count)")
        }
        let queried = try scrape(port: metricsPort)
        XCTAssertEqual(queried[#"gatewayd_queries_total{role="http-api",gateway="\#(gatewayInner)"}"#], 3)
        XCTAssertEqual(queried[#"gatewayd_query_timeouts_total{role="http-api",gateway="\#(gatewayInner)"}"#], 0)

        // The HTTP API serves the same families; both list exactly what docs/metrics.md does.
        _ = try scrape(port: httpAPIPort)  // counted once answered: the next scrape shows it
        let viaAPI = try scrape(port: httpAPIPort)
        XCTAssertGreaterThan(viaAPI[#"gatewayd_http_api_requests_total{role="http-api",index="0",status="200"}"#], 0)
        let documented = try Self.documentedMetrics()
        XCTAssertEqual(restarted.families.subtracting(documented), [], "exported but not in docs/metrics.md")
        XCTAssertEqual(documented.subtracting(viaAPI.families), [], "in docs/metrics.md but not exported")

        client.close()
        other.close()
        try cluster.stop()
    }

    /// Closes by reason: the heartbeat, the client itself, a message over the size limit.
    func testClosedConnectionsAreCountedByReason() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-metrics-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/gatewayd.yaml"
        try """
            ping_interval: 1
            ping_not_response_limit: 1
            max_message_bytes: 1024
            metrics_listen: 127.0.0.1:0

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1, extraArguments: ["--config", config])
        self.cluster = cluster
        let metricsPort = try port("metrics", in: cluster.readyLine)
        let closedBy = { (reason: String) in #"gatewayd_client_connections_closed_total{role="gateway",index="0",reason="\#(reason)"}"# }

        let silent = try cluster.connect()
        silent.answersPings = false
        var ended = false
        for _ in 0..<10 where !ended { ended = try silent.receive(timeout: .seconds(5)).isConnectionEnd }  // pings, then the close
        XCTAssertTrue(ended, "the silent client was not closed")
        let leaving = try cluster.connect()
        try leaving.sendText("echo:bye")
        XCTAssertEqual(try leaving.receive(), .text("echo:bye"))
        try leaving.sendClose()
        let large = try cluster.connect()
        try large.sendText(String(repeating: "x", count: 2000))
        XCTAssertEqual(try large.receive(), .closed(code: 1009, reason: ""))
        let closed = try scrape(port: metricsPort, until: { scrape in
            scrape[closedBy("heartbeat")] == 1 && scrape[closedBy("client")] == 1 && scrape[closedBy("size_limit")] == 1
        }, "one client closed by the heartbeat, one by itself, one for a message over max_message_bytes")
        XCTAssertEqual(closed[#"gatewayd_client_connections_opened_total{role="gateway",index="0"}"#], 3)
        XCTAssertEqual(closed.sum("gatewayd_client_connections_closed_total", #"role="gateway",index="0""#), 3)
        XCTAssertEqual(closed[#"gatewayd_client_connections{role="gateway",index="0"}"#], 0)
        try cluster.stop()
    }

    /// The metric names docs/metrics.md's table lists.
    static func documentedMetrics() throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/metrics.md"), encoding: .utf8)
        return Set(
            text.split(separator: "\n").filter { $0.hasPrefix("| `gatewayd_") }.map { line in
                String(line.dropFirst(3).prefix { $0 != "`" })
            })
    }
}
