import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A gateway that does not answer (SIGSTOPped) within `query_timeout_ms`: a query of every
/// gateway returns with GWD_ERR_TIMEOUT after the timeout, not later, the worker logs the silent
/// gateway by address, a query about a client of the live gateway is unaffected, and once the
/// gateway runs again queries are complete again.
final class QueryTimeoutTests: XCTestCase {
    private var cluster: GatewaydProcess?
    private var stopped: pid_t?

    override func tearDown() {
        if let stopped { kill(stopped, SIGCONT) }
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    /// The gateway inner address ("a.b.c.d:port") a client id names.
    private func innerAddress(of clientID: String) -> String {
        let bytes = stride(from: 0, to: 12, by: 2).map {
            UInt16(clientID.dropFirst($0).prefix(2), radix: 16) ?? 0
        }
        return "\(bytes[0]).\(bytes[1]).\(bytes[2]).\(bytes[3]):\(bytes[4] << 8 | bytes[5])"
    }

    /// Whether every thread of `pid` is in state T (stopped), per /proc/<pid>/task/*/stat.
    private func allThreadsStopped(_ pid: pid_t) -> Bool {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task"), !threads.isEmpty
        else { return false }
        return threads.allSatisfy { thread in
            let stat = GatewaydProcess.readText("/proc/\(pid)/task/\(thread)/stat")
            guard let close = stat.lastIndex(of: ")") else { return false }
            return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first == "T"
        }
    }

    private func request(_ client: WebSocketTestClient, _ text: String) throws -> String {
        try client.sendText(text)
        return try client.receiveText(timeout: .seconds(10))
    }

    func testASilentGatewayGivesTimeoutAfterTheQueryTimeoutAndIsLogged() throws {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-query-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = "\(directory)/gatewayd.yaml"
        try "query_timeout_ms: 700\nhttp_api_listen: 127.0.0.1:0\nhttp_api_allow_no_token: true\nmetrics_listen: 127.0.0.1:0\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), gatewayCount: 2, workerCount: 1, extraArguments: ["--config", config])
        self.cluster = cluster

        // Clients until each gateway has one.
        var opened: [WebSocketTestClient] = []
        var clients: [String: WebSocketTestClient] = [:]
        while clients.count < 2 {
            guard opened.count < 32 else { throw GatewaydFixtureError("32 clients all landed on one gateway") }
            let client = try cluster.connect()
            opened.append(client)
            let id = String(try request(client, "id:").dropFirst(3))
            if clients[innerAddress(of: id)] == nil { clients[innerAddress(of: id)] = client }
        }
        let all = "api:get_all_client_count:\(opened.count)"
        let gateways = try cluster.status().processes(role: "gateway")
        let silentEntry = try XCTUnwrap(gateways.first)
        let silent = try XCTUnwrap(silentEntry.details?["inner"])
        let asking = try XCTUnwrap(clients.first { $0.key != silent }?.value)
        let silentClient = try XCTUnwrap(clients[silent])
        let silentID = String(try request(silentClient, "id:").dropFirst(3))
        let askingID = String(try request(asking, "id:").dropFirst(3))
        XCTAssertEqual(try request(asking, "api:get_all_client_count"), all)

        XCTAssertEqual(kill(silentEntry.pid, SIGSTOP), 0)
        stopped = silentEntry.pid
        // A stop signal takes effect asynchronously: wait until every thread is stopped.
        XCTAssertTrue(
            GatewaydProcess.poll(until: { allThreadsStopped(silentEntry.pid) }, timeout: .seconds(5)),
            "gateway \(silentEntry.pid) did not stop: \(ProcessTable.describe(silentEntry.pid))")
        let started = ContinuousClock.now
        XCTAssertEqual(try request(asking, "api:get_all_client_count"), "api:get_all_client_count:error:GWD_ERR_TIMEOUT")
        let waited = ContinuousClock.now - started
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(650), "answered before the query timeout")
        XCTAssertLessThan(waited, .seconds(5), "the query timeout did not bound the wait")
        XCTAssertEqual(try request(asking, "api:get_all_client_id_list"), "api:get_all_client_id_list:error:GWD_ERR_TIMEOUT")
        XCTAssertEqual(try request(asking, "api:is_online \(askingID)"), "api:is_online:true", "only the live gateway is asked")
        XCTAssertEqual(try request(asking, "api:is_online \(silentID)"), "api:is_online:error:GWD_ERR_TIMEOUT")
        // The HTTP API's query times out on the same gateway: a 200 that names it unanswered.
        let httpAPIPort = try readyPort("http-api", of: cluster)
        let partial = try HTTPTestClient.post(port: httpAPIPort, "get-all-client-id-count", [:], token: nil)
        XCTAssertEqual(partial.statusCode, 200, "\(partial)")
        XCTAssertTrue(String(decoding: partial.body, as: UTF8.self).contains(#""unanswered":["\#(silent)"]"#), "\(partial)")
        let logged = GatewaydProcess.poll(
            until: { cluster.stderrTail(20000).contains("query getAllClientIdCount is partial: no answer from \(silent) (no answer in time)") },
            timeout: .seconds(5))
        XCTAssertTrue(logged, "no warning naming \(silent):\n\(cluster.stderrTail())")

        XCTAssertEqual(kill(silentEntry.pid, SIGCONT), 0)
        stopped = nil
        // The late answers to the timed-out queries are dropped in order; new ones are whole.
        var last = ""
        XCTAssertTrue(
            try GatewaydProcess.poll(
                until: { last = try request(asking, "api:get_all_client_count"); return last == all },
                timeout: .seconds(10), interval: .milliseconds(50)),
            "after SIGCONT: \(last)")
        XCTAssertEqual(try request(silentClient, "api:is_online \(silentID)"), "api:is_online:true")
        // Counted per gateway, by whoever asked: the worker's 3 and the HTTP API's 1.
        let metrics = String(
            decoding: try HTTPTestClient.request(port: try readyPort("metrics", of: cluster), method: "GET", path: "/metrics").body, as: UTF8.self)
        XCTAssertTrue(metrics.contains(#"gatewayd_query_timeouts_total{role="worker",gateway="\#(silent)"} 3"#), metrics)
        XCTAssertTrue(metrics.contains(#"gatewayd_query_timeouts_total{role="http-api",gateway="\#(silent)"} 1"#), metrics)
        for client in opened { client.close() }
        try cluster.stop()
    }

    /// The port of `field` (`http-api`, `metrics`) in the cluster's ready line.
    private func readyPort(_ field: String, of cluster: GatewaydProcess) throws -> Int {
        let token = try XCTUnwrap(cluster.readyLine.split(separator: " ").first { $0.hasPrefix(field + "=") }, cluster.readyLine)
        return try XCTUnwrap(GatewaydProcess.port(of: String(token.dropFirst(field.count + 1))))
    }
}
