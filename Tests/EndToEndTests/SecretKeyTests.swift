import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// secretKey on a real cluster: the register and the gateway's inner port refuse peers with a
/// wrong or missing key, and nothing such a peer sends is ever executed. Frames are built here
/// by hand from `gateway-protocol.md`, not with the server's codecs.
final class SecretKeyTests: XCTestCase {
    private var cluster: GatewaydProcess?

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        super.tearDown()
    }

    /// One inner-protocol frame: the 28-byte big-endian header, ext_data, body.
    private func frame(command: UInt8, connectionID: UInt32 = 0, flag: UInt8 = 1, ext: String = "", body: String) -> [UInt8] {
        let ext = Array(ext.utf8)
        let body = Array(body.utf8)
        var bytes: [UInt8] = []
        func u32(_ value: UInt32) { bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
        func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xff)] }
        u32(UInt32(28 + ext.count + body.count))
        bytes.append(command)
        u32(0); u16(0); u32(0); u16(0)  // local ip/port, client ip/port: zero from workers and clients
        u32(connectionID)
        bytes.append(flag)
        u16(0)
        u32(UInt32(ext.count))
        return bytes + ext + body
    }

    private func authentication(_ key: String) -> [UInt8] {
        frame(command: 202, flag: 0, body: #"{"secret_key":"\#(key)"}"#)
    }

    /// Connects to host:port, writes `bytes`, and returns what came back and whether the peer
    /// closed the connection within `timeout`.
    private func exchange(
        _ address: String, _ bytes: [UInt8], timeout: Duration = .seconds(10)
    ) throws -> (received: [UInt8], closed: Bool) {
        let colon = try XCTUnwrap(address.lastIndex(of: ":"))
        let socket = try WebSocketTestClient.openSocket(
            host: String(address[..<colon]), port: try XCTUnwrap(Int(address[address.index(after: colon)...])),
            deadline: Deadline(.seconds(5)))
        defer { _ = Glibc.close(socket) }
        try WebSocketTestClient.writeAll(socket: socket, bytes: bytes, deadline: Deadline(.seconds(5)))
        let deadline = Deadline(timeout)
        var received: [UInt8] = []
        while try WebSocketTestClient.waitReadable(socket: socket, deadline: deadline) {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = recv(socket, &chunk, chunk.count, 0)
            if count <= 0 { return (received, true) }
            received += chunk[..<count]
        }
        return (received, false)
    }

    /// Closed by the peer with nothing sent back.
    private func refused(_ outcome: (received: [UInt8], closed: Bool)) -> Bool {
        outcome.closed && outcome.received.isEmpty
    }

    func testWrongOrMissingSecretsAreRefusedAndNothingIsExecuted() throws {
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), gatewayCount: 1, workerCount: 1, extraArguments: ["--secret-key", "s3cret"])
        self.cluster = cluster
        let client = try cluster.connect()
        let gateway = try XCTUnwrap(try cluster.status().processes(role: "gateway").first)
        let inner = try XCTUnwrap(gateway.details?["inner"])

        // Register: a wrong secret is closed without an answer; the right one gets the list.
        XCTAssertTrue(refused(try exchange(cluster.registerAddress, Array("{\"event\":\"worker_connect\",\"secret_key\":\"nope\"}\n".utf8))))
        let listed = try exchange(
            cluster.registerAddress, Array("{\"event\":\"worker_connect\",\"secret_key\":\"s3cret\"}\n".utf8), timeout: .seconds(1))
        let answer = String(decoding: listed.received, as: UTF8.self)
        XCTAssertTrue(answer.contains("broadcast_addresses") && answer.contains(inner), answer)

        // Inner port: a command with no authentication, one after a wrong secret, and a worker
        // with a wrong secret are each closed at once, with nothing sent back.
        XCTAssertTrue(refused(try exchange(inner, frame(command: 6, body: "unauthenticated"))))
        XCTAssertTrue(refused(try exchange(inner, authentication("wrong") + frame(command: 6, body: "wrong secret"))))
        XCTAssertTrue(refused(
            try exchange(inner, frame(command: 200, flag: 0, body: #"{"worker_key":"Intruder:0","secret_key":"wrong"}"#))))
        XCTAssertEqual(try cluster.status().processes(role: "gateway").first?.details?["auth_failures"], "3")

        // With the right secret the same command runs, and it is the first thing the client sees:
        // none of the refused ones was executed before it.
        XCTAssertFalse(try exchange(inner, authentication("s3cret") + frame(command: 6, body: "authorized"), timeout: .seconds(1)).closed)
        XCTAssertEqual(try client.receive(), .text("authorized"))
        client.close()
        try cluster.stop()
    }
}
