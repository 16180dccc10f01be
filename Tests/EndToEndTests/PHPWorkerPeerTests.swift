import Foundation
import XCTest

/// A PHP BusinessWorker facing a gatewayd gateway (issue 15), played by hand on sockets: it finds
/// the gateway through the register and sends WORKER_CONNECT, as GatewayWorker's BusinessWorker
/// does.
final class PHPWorkerPeerTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    /// A PHP BusinessWorker on the gatewayd worker's host with the same key (both default to the
    /// name BusinessWorker) is refused each time it tries — the attached worker stays — and the
    /// conflict is logged once and counted.
    func testAPHPWorkerWithTheKeyOfAnAttachedGatewaydWorkerIsRefusedAndLoggedOnce() throws {
        let cluster = try GatewaydProcess.start(plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1)
        self.cluster = cluster
        let registerPort = try XCTUnwrap(Int(cluster.registerAddress.split(separator: ":").last ?? ""))
        let register = try TCPTestSocket(port: registerPort)
        try register.write(Array("{\"event\":\"worker_connect\",\"secret_key\":\"\"}\n".utf8))
        let list = String(decoding: try register.readLine(), as: UTF8.self)
        let gatewayPort = try XCTUnwrap(
            list.split(separator: "\"").first { $0.hasPrefix("127.0.0.1:") }.flatMap { Int($0.split(separator: ":")[1]) },
            "no gateway in \(list)")

        let body = Array("{\"worker_key\":\"BusinessWorker:0\",\"secret_key\":\"\"}".utf8)
        var hello = [UInt8](repeating: 0, count: 28) + body
        hello[3] = UInt8(hello.count)
        hello[4] = 200  // WORKER_CONNECT
        hello[21] = 1  // scalar body
        for attempt in 1...3 {
            let worker = try TCPTestSocket(port: gatewayPort)
            try worker.write(hello)
            XCTAssertTrue(worker.isClosedByPeer(within: .seconds(5)), "attempt \(attempt) was not refused")
        }

        let gateway = try XCTUnwrap(try cluster.status().processes(role: "gateway").first)
        XCTAssertEqual(gateway.details?["worker_key_conflicts"], "3")
        let lines = cluster.stderrTail(50000).split(separator: "\n").filter { $0.contains("refusing a PHP BusinessWorker") }
        XCTAssertEqual(lines.count, 1, "\(lines)")
        XCTAssertTrue(lines.first?.contains("a gatewayd worker on the same host already uses the worker key 127.0.0.1:BusinessWorker:0") == true, "\(lines)")
        XCTAssertTrue(lines.first?.contains("worker_name") == true, "\(lines)")

        // The gatewayd worker stayed attached and serves.
        let client = try cluster.connect()
        try client.sendText("echo:still")
        XCTAssertEqual(try client.receiveText(timeout: .seconds(10)), "echo:still")
        client.close()
        register.close()
        try cluster.stop()
    }
}
