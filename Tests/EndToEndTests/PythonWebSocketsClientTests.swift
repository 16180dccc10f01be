import Foundation
import XCTest

/// An independent client: Python's `websockets` library (installed by .ci/run) over wss:// with
/// permessage-deflate, which it offers by default and checks strictly (RFC 6455 and 7692).
final class PythonWebSocketsClientTests: XCTestCase {
    private var cluster: GatewaydProcess?
    private var directory: String!

    override func tearDown() {
        cluster?.killLeftovers()
        cluster = nil
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        super.tearDown()
    }

    func testPythonWebSocketsOverTLSWithCompression() throws {
        directory = try GatewaydProcess.makeTemporaryDirectory(prefix: "gwd-python-")
        let certificate = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: "/usr/bin/openssl"),
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-keyout", "\(directory!)/key.pem", "-out", "\(directory!)/cert.pem"])
        XCTAssertEqual(certificate.exitCode, 0, certificate.stderr)
        try "compression: true\nping_interval: 0\ntls_certificate: cert.pem\ntls_private_key: key.pem\n"
            .write(toFile: "\(directory!)/gatewayd.yaml", atomically: true, encoding: .utf8)
        let cluster = try GatewaydProcess.start(
            plugin: try ConformancePlugin.c.path(), extraArguments: ["--config", "\(directory!)/gatewayd.yaml", "--listen", "wss://127.0.0.1:0"])
        self.cluster = cluster
        let url = try XCTUnwrap(cluster.listenURLs.first { $0.hasPrefix("wss://") })
        let script = """
            import asyncio, json, ssl, sys
            from websockets.asyncio.client import connect
            async def main():
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                async with connect(sys.argv[1] + "/raw-echo", ssl=context, open_timeout=10) as ws:
                    message = json.dumps([{"room": "lobby", "text": "hello %d" % i} for i in range(100)])
                    await ws.send(message)
                    reply = await asyncio.wait_for(ws.recv(), 10)
                    print(json.dumps({
                        "echoed": reply == message,
                        "extensions": ws.response.headers.get("Sec-WebSocket-Extensions"),
                        "tls": ws.transport.get_extra_info("ssl_object").version(),
                    }))
            asyncio.run(main())
            """
        let result = try GatewaydProcess.runExecutable(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, url])
        XCTAssertEqual(result.exitCode, 0, "python3 websockets failed (is it installed? .ci/run installs it): \(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(report?["echoed"] as? Bool, true, result.stdout)
        XCTAssertEqual(
            report?["extensions"] as? String, "permessage-deflate; server_no_context_takeover; client_no_context_takeover", result.stdout)
        XCTAssertEqual(report?["tls"] as? String, "TLSv1.3", result.stdout)
        try cluster.stop()
    }
}
