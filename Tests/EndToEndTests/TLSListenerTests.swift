import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// wss:// listeners on a real cluster: WebSocket over TLS for this repository's client and for
/// `openssl s_client`, the minimum version, a certificate that cannot serve refusing the start
/// in one line, and `gatewayd reload` serving a renewed certificate to new handshakes while
/// open connections go on.
final class TLSListenerTests: XCTestCase {
    private var cluster: GatewaydProcess?
    private var directory: String!

    override func setUpWithError() throws {
        directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-tls-")
    }

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        super.tearDown()
    }

    /// A self-signed certificate for `commonName` written to `name`.pem and `name`.key.
    private func makeCertificate(_ name: String, commonName: String) throws -> (certificate: String, key: String) {
        let files = (certificate: "\(directory!)/\(name).pem", key: "\(directory!)/\(name).key")
        let result = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: "/usr/bin/openssl"),
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=\(commonName)", "-keyout", files.key, "-out", files.certificate])
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        return files
    }

    /// A cluster serving websocket:// (first) and wss:// (second) with the certificate files
    /// `tls.pem` / `tls.key`, plus `extra` YAML; the wss:// port.
    private func start(extra: String = "") throws -> (GatewaydProcess, Int) {
        let config = "ping_interval: 0\ntls_certificate: tls.pem\ntls_private_key: tls.key\n" + extra
        try config.write(toFile: "\(directory!)/gatewayd.yaml", atomically: true, encoding: .utf8)
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(),
            extraArguments: ["--config", "\(directory!)/gatewayd.yaml", "--listen", "websocket://127.0.0.1:0", "--listen", "wss://127.0.0.1:0"])
        self.cluster = cluster
        let secure = try XCTUnwrap(cluster.listenURLs.first { $0.hasPrefix("wss://") }, "\(cluster.listenURLs)")
        return (cluster, try XCTUnwrap(Int(secure.split(separator: ":").last ?? "")))
    }

    func testWSSCarriesWebSocketOverTLS() throws {
        _ = try makeCertificate("tls", commonName: "gateway.test")
        let (cluster, port) = try start(extra: "compression: true\n")
        let client = try WebSocketTestClient.connect(port: port, path: "/raw-echo", tls: true)
        XCTAssertEqual(client.tls?.peerCommonName, "gateway.test")
        XCTAssertEqual(client.tls?.protocolVersion, "TLSv1.3")
        try client.sendText("over tls")
        try client.expectText("over tls")
        let big = String(repeating: "0123456789abcdef", count: 64 * 1024)  // 1 MiB - over many records
        try client.sendText(big)
        try client.expectText(big, timeout: .seconds(30))
        // permessage-deflate on top of TLS.
        let compressing = try WebSocketTestClient.connect(
            port: port, path: "/raw-echo", headers: [("Sec-WebSocket-Extensions", "permessage-deflate")], tls: true)
        try compressing.sendText(big)
        try compressing.expectText(big, timeout: .seconds(30))
        XCTAssertEqual(compressing.compressedMessagesReceived, 1)
        // The plain listener still serves plain WebSocket.
        let plain = try cluster.connect(path: "/raw-echo")
        try plain.sendText("plain")
        try plain.expectText("plain")
        try cluster.stop()
    }

    func testOpenSSLsClientCompletesTheUpgrade() throws {
        _ = try makeCertificate("tls", commonName: "gateway.test")
        let (cluster, port) = try start()
        let request = "GET /raw-echo HTTP/1.1\r\nHost: gateway.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let output = try sClient(port: port, arguments: [], input: request)
        XCTAssertTrue(output.contains("HTTP/1.1 101 Switching Protocols"), output)
        XCTAssertTrue(output.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), output)
        try cluster.stop()
    }

    func testTheMinimumVersionRefusesOlderClients() throws {
        _ = try makeCertificate("tls", commonName: "gateway.test")
        let (cluster, port) = try start(extra: "tls_min_version: \"1.3\"\n")
        let request = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let old = try sClient(port: port, arguments: ["-tls1_2"], input: request)
        XCTAssertFalse(old.contains("101 Switching Protocols"), old)
        let current = try sClient(port: port, arguments: ["-tls1_3"], input: request)
        XCTAssertTrue(current.contains("101 Switching Protocols"), current)
        try cluster.stop()
    }

    func testACertificateThatCannotServeRefusesTheStartInOneLine() throws {
        let (certificate, _) = try makeCertificate("tls", commonName: "gateway.test")
        _ = try makeCertificate("other", commonName: "other")
        for (yaml, expected) in [
            ("tls_certificate: missing.pem\ntls_private_key: tls.key\n", "tls_certificate \(directory!)/missing.pem: "),
            ("tls_certificate: tls.pem\ntls_private_key: other.key\n", "tls_private_key \(directory!)/other.key: does not match the certificate in \(certificate)"),
            ("tls_certificate: tls.key\ntls_private_key: tls.key\n", "tls_certificate \(directory!)/tls.key: "),
        ] {
            try yaml.write(toFile: "\(directory!)/gatewayd.yaml", atomically: true, encoding: .utf8)
            let result = try GatewaydProcess.run(
                ["start", "--config", "\(directory!)/gatewayd.yaml", "--run-dir", "\(directory!)/run", "--plugin", try ConformancePlugin.c.path(),
                 "--listen", "wss://127.0.0.1:0", "--register", "127.0.0.1:0", "--start-port", "0"])
            XCTAssertNotEqual(result.exitCode, 0)
            XCTAssertEqual(result.errorLines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(expected), "expected \(expected) in: \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory!)/run/gatewayd.pid"), "nothing started")
        }
        // A wss:// listener without a certificate.
        let result = try GatewaydProcess.run(
            ["start", "--run-dir", "\(directory!)/run", "--listen", "wss://127.0.0.1:0", "--register", "127.0.0.1:0", "--start-port", "0"])
        XCTAssertNotEqual(result.exitCode, 0)
        XCTAssertTrue(result.stderr.contains("tls_certificate"), result.stderr)
    }

    func testReloadServesARenewedCertificateToNewHandshakesAndKeepsOpenConnections() throws {
        _ = try makeCertificate("tls", commonName: "first")
        let (cluster, port) = try start()
        let before = try WebSocketTestClient.connect(port: port, path: "/raw-echo", tls: true)
        XCTAssertEqual(before.tls?.peerCommonName, "first")

        // Renewed in place, as certbot does.
        _ = try makeCertificate("tls", commonName: "second")
        let reload = try GatewaydProcess.run(["reload", "--run-dir", cluster.runDirectory])
        XCTAssertEqual(reload.exitCode, 0, reload.stderr)
        XCTAssertTrue(reload.stdout.contains("TLS certificate read again by 1 gateway"), reload.stdout)
        let after = try WebSocketTestClient.connect(port: port, path: "/raw-echo", tls: true)
        XCTAssertEqual(after.tls?.peerCommonName, "second")
        // (A broadcast: which clients asked for /raw-echo is the old workers' memory.)
        try before.sendText("all:still connected")
        try before.expectText("still connected")

        // A broken certificate is refused by the reload; the gateway keeps serving the last one.
        try "not a certificate".write(toFile: "\(directory!)/tls.pem", atomically: true, encoding: .utf8)
        let refused = try GatewaydProcess.run(["reload", "--run-dir", cluster.runDirectory])
        XCTAssertNotEqual(refused.exitCode, 0)
        XCTAssertTrue(refused.stderr.contains("tls_certificate \(directory!)/tls.pem"), refused.stderr)
        let third = try WebSocketTestClient.connect(port: port, path: "/raw-echo", tls: true)
        XCTAssertEqual(third.tls?.peerCommonName, "second")
        try cluster.stop()
    }

    /// `openssl s_client` to the port with `input` and then a WebSocket close frame on its
    /// stdin; its stdout. The gateway answers the close and ends the connection, which ends
    /// s_client (-ign_eof: not the end of its stdin, which comes first).
    private func sClient(port: Int, arguments: [String], input: String) throws -> String {
        let inputFile = "\(directory!)/s_client-input"
        let closeFrame: [UInt8] = [0x88, 0x82, 0x11, 0x22, 0x33, 0x44, 0x03 ^ 0x11, 0xE8 ^ 0x22]  // 1000, masked
        try Data(Array(input.utf8) + closeFrame).write(to: URL(fileURLWithPath: inputFile))
        let result = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:\(port) -servername gateway.test -quiet -ign_eof \(arguments.joined(separator: " ")) < \(inputFile) 2>&1 | head -c 4096"])
        return result.stdout
    }
}
