import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The gateway's limits on a real cluster: slow consumers, connection count, handshake time.
final class ClientLimitsTests: XCTestCase {
    private var cluster: GatewaydProcess?
    private var directory: String?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        super.tearDown()
    }

    private func start(config: String) throws -> GatewaydProcess {
        let directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-limits-")
        self.directory = directory
        let cluster = try GatewaydProcess.start(config: config, in: directory)
        self.cluster = cluster
        return cluster
    }

    private func gateway(_ cluster: GatewaydProcess) throws -> GatewaydStatus.ProcessEntry {
        try XCTUnwrap(try cluster.status().processes(role: "gateway").first)
    }

    /// Floods `bytes` of broadcasts from `sender`, reading its own copies back in step so it is
    /// never slow itself; returns how many of its broadcasts came back.
    private func flood(from sender: WebSocketTestClient, bytes: Int, messageSize: Int, batch: Int = 8) throws -> Int {
        let payload = String(repeating: "x", count: messageSize)
        let messages = bytes / messageSize
        var received = 0
        for start in stride(from: 0, to: messages, by: batch) {
            let count = min(batch, messages - start)
            for _ in 0..<count { try sender.sendText("all:" + payload) }
            for _ in 0..<count {
                if case .text(let text) = try sender.receive(timeout: .seconds(30)), text.utf8.count == messageSize { received += 1 }
            }
        }
        return received
    }

    func testAClientThatNeverReadsCostsBoundedMemoryAndOthersAreServed() throws {
        // GatewayWorker's policy: drop what does not fit, keep the connection.
        let cluster = try start(config: "send_buffer_bytes: 262144\nslow_client_policy: drop\nping_interval: 0\n")
        let reader = try cluster.connect()
        let stalled = try cluster.connect()  // completes its handshake, then never reads again
        let gatewayPID = try gateway(cluster).pid
        let before = GatewaydProcess.residentBytes(of: gatewayPID)

        let flooded = 32 << 20
        XCTAssertEqual(try flood(from: reader, bytes: flooded, messageSize: 16 << 10), flooded / (16 << 10), "the reader got every broadcast")
        let growth = GatewaydProcess.residentBytes(of: gatewayPID) - before
        let details = try gateway(cluster).details ?? [:]
        XCTAssertGreaterThan(Int(details["slow_client_drops"] ?? "0") ?? 0, 0, "the stalled client's excess was dropped")
        XCTAssertEqual(try gateway(cluster).connections, 2, "the stalled client keeps its connection under 'drop'")
        // 32 MiB went to a client that reads nothing; the gateway kept at most its send buffer.
        XCTAssertLessThan(growth, 16 << 20, "gateway RSS grew by \(growth) bytes")
        print("slow-consumer test: 32 MiB broadcast to a stalled client, gateway RSS growth \(growth / 1024) KiB")
        stalled.close()
        reader.close()
        try cluster.stop()
    }

    func testASlowConsumerIsClosedByDefault() throws {
        let cluster = try start(config: "send_buffer_bytes: 65536\nping_interval: 0\n")
        let reader = try cluster.connect()
        let stalled = try cluster.connect()
        let deadline = Deadline(.seconds(60))
        // Broadcast until the gateway gives up on the stalled client (its kernel buffers fill first).
        while try gateway(cluster).details?["slow_client_closes"] != "1" {
            XCTAssertFalse(deadline.hasPassed, "the stalled client was never closed")
            if deadline.hasPassed { break }
            // One message in flight at a time, so the reader never has more than 16 KiB
            // waiting and is never a slow consumer itself.
            _ = try flood(from: reader, bytes: 1 << 20, messageSize: 16 << 10, batch: 1)
        }
        XCTAssertEqual(try gateway(cluster).connections, 1)
        try reader.sendText("echo:served")
        XCTAssertEqual(try reader.receive(), .text("echo:served"))
        stalled.close()
        reader.close()
        try cluster.stop()
    }

    func testASlowPluginHoldsBackItsClientsInsteadOfGrowingMemory() throws {
        // Small buffers so the chain worker → gateway → client fills quickly.
        let cluster = try start(config: "worker_queue_bytes: 1048576\nworker_buffer_bytes: 1048576\nping_interval: 0\n")
        let client = try cluster.connect()
        let status = try cluster.status()
        let gatewayPID = try XCTUnwrap(status.processes(role: "gateway").first?.pid)
        let workerPID = try XCTUnwrap(status.processes(role: "worker").first?.pid)
        let before = (gateway: GatewaydProcess.residentBytes(of: gatewayPID), worker: GatewaydProcess.residentBytes(of: workerPID))

        try client.sendText("sleep:8000")  // the plugin thread is busy for 8 s
        // Unknown messages are ignored by the plugin; send them until nothing more is taken.
        let sent = try client.flood("noop:" + String(repeating: "x", count: 64 << 10), stall: .seconds(1), limit: 512 << 20)
        XCTAssertLessThan(sent, 512 << 20, "back-pressure never reached the client")
        let held = (gateway: GatewaydProcess.residentBytes(of: gatewayPID) - before.gateway, worker: GatewaydProcess.residentBytes(of: workerPID) - before.worker)
        let worker = try XCTUnwrap(try cluster.status().processes(role: "worker").first)
        let gateway = try XCTUnwrap(try cluster.status().processes(role: "gateway").first)
        // The worker has no queue of its own to fill: its one thread runs the plugin, so while the
        // plugin is busy the worker reads nothing and the gateway's buffer for it fills instead.
        XCTAssertNil(worker.details?["backpressure_pauses"])
        // At least once: the worker's socket buffer may drain in bursts, each ending a pause.
        XCTAssertGreaterThanOrEqual(Int(gateway.details?["worker_backpressure_pauses"] ?? "0") ?? 0, 1)
        // The client got past every buffer only as far as the limits allow.
        XCTAssertLessThan(held.worker, 32 << 20, "worker RSS grew by \(held.worker) bytes")
        XCTAssertLessThan(held.gateway, 32 << 20, "gateway RSS grew by \(held.gateway) bytes")
        print("back-pressure test: client stalled after \(sent >> 20) MiB; RSS growth gateway \(held.gateway >> 10) KiB, worker \(held.worker >> 10) KiB")

        // When the plugin wakes, everything flows again, in order, nothing lost.
        try client.sendText("echo:after the flood", timeout: .seconds(60))
        XCTAssertEqual(try client.receive(timeout: .seconds(60)), .text("slept:8000"))
        XCTAssertEqual(try client.receive(timeout: .seconds(60)), .text("echo:after the flood"))
        client.close()
        try cluster.stop()
    }

    func testConnectionsBeyondTheLimitAreRefusedAndCounted() throws {
        let cluster = try start(config: "max_connections: 2\n")
        let first = try cluster.connect()
        let second = try cluster.connect()
        XCTAssertThrowsError(try cluster.connect(), "a third client must not be served")
        XCTAssertEqual(try gateway(cluster).details?["refused_connections"], "1")
        try first.sendText("echo:1")
        XCTAssertEqual(try first.receive(), .text("echo:1"))
        first.close()
        // A place is free again once a client leaves.
        XCTAssertTrue(GatewaydProcess.poll(until: { (try? self.gateway(cluster).connections) == 1 }, timeout: .seconds(10)))
        let third = try cluster.connect()
        try third.sendText("echo:3")
        XCTAssertEqual(try third.receive(), .text("echo:3"))
        second.close()
        third.close()
        try cluster.stop()
    }

    func testAHandshakeNeverCompletedIsClosedAfterTheTimeout() throws {
        let cluster = try start(config: "connect_timeout_ms: 300\n")
        let socket = try WebSocketTestClient.openSocket(host: "127.0.0.1", port: cluster.listenPort, deadline: Deadline(.seconds(5)))
        defer { _ = Glibc.close(socket) }
        // Half a request, then nothing: slowloris.
        try WebSocketTestClient.writeAll(socket: socket, bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8), deadline: Deadline(.seconds(5)))
        let deadline = Deadline(.seconds(10))
        var closed = false
        while !closed && !deadline.hasPassed {
            guard try WebSocketTestClient.waitReadable(socket: socket, deadline: deadline) else { break }
            var byte: UInt8 = 0
            closed = recv(socket, &byte, 1, 0) <= 0
        }
        XCTAssertTrue(closed, "the half-open handshake was not closed")
        XCTAssertEqual(try gateway(cluster).details?["handshake_timeouts"], "1")
        try cluster.stop()
    }
}
