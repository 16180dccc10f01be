import CTLS
import Foundation
import GatewayEventLoop
import GatewayTLS
import Glibc
import XCTest

@testable import GatewayIOEngine

/// TLS listeners of the client engine, against an OpenSSL client driven between the loop's
/// iterations on a non-blocking socket (as the plain tests drive theirs): the delegate sees
/// plaintext both ways, output the kernel refuses waits in the backlog and is encrypted when
/// it goes, a client that does not speak TLS is dropped, and a replaced certificate serves the
/// next handshakes.
extension ClientEngineTests {
    func testATLSConnectionCarriesPlaintextBothWays() throws {
        let certificate = try TestCertificate.make(commonName: "first")
        let (tlsPort, _) = try tlsListener(certificate)
        let client = try TLSTestClient(fd: try connect(toPort: tlsPort))
        recorder.consumeLines = true
        run { client.handshakeStep() && self.recorder.opened.count == 1 }
        XCTAssertEqual(client.peerCommonName, "first")
        let id = recorder.opened[0]
        client.write("hello over tls\nsecond line\n")
        run { self.recorder.lines[id]?.count == 2 }
        XCTAssertEqual(recorder.lines[id], ["hello over tls", "second line"])
        let shared = stage("to everyone\n")
        engine.send(id, staged: shared)
        engine.send(id, staged: shared)
        var received: [UInt8] = []
        run { client.read(into: &received); return received.count == 24 }
        XCTAssertEqual(String(decoding: received, as: UTF8.self), "to everyone\nto everyone\n")
    }

    func testTLSOutputTheKernelRefusesArrivesWholeAndInOrder() throws {
        let (tlsPort, _) = try tlsListener(try TestCertificate.make(commonName: "bulk"))
        let client = try TLSTestClient(fd: try connect(toPort: tlsPort))
        run { client.handshakeStep() && self.recorder.opened.count == 1 }
        let id = recorder.opened[0]
        var expected: [UInt8] = []
        for index in 0..<2048 {
            var piece = Array(String(format: "%08d", index).utf8)
            piece += [UInt8](repeating: UInt8(ascii: "a") + UInt8(index % 26), count: 3 * 1024 - 8)
            expected += piece
            piece.withUnsafeBytes { engine.send(id, bytes: $0) }
        }
        engine.flush()
        XCTAssertGreaterThan(engine.backlogBytes(of: id), 0, "the kernel took 6 MiB at once")
        var received: [UInt8] = []
        run { client.read(into: &received); return received.count >= expected.count }
        XCTAssertTrue(received == expected, "bytes lost or out of order")
        XCTAssertEqual(engine.queuedBytes(of: id), 0)
    }

    func testAClientThatDoesNotSpeakTLSIsDropped() throws {
        let (tlsPort, _) = try tlsListener(try TestCertificate.make(commonName: "strict"))
        recorder.consumeLines = true
        let plain = try connect(toPort: tlsPort)
        write(plain, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        run { self.recorder.closeCount == 1 }
        XCTAssertEqual(recorder.closed.values.first, .failed(EPROTO))
        XCTAssertTrue(recorder.lines.isEmpty, "no plaintext reached the delegate")
    }

    func testAReplacedCertificateServesTheNextHandshakes() throws {
        let (tlsPort, index) = try tlsListener(try TestCertificate.make(commonName: "old"))
        let before = try TLSTestClient(fd: try connect(toPort: tlsPort))
        run { before.handshakeStep() && self.recorder.opened.count == 1 }
        let renewed = try TestCertificate.make(commonName: "renewed")
        engine.replaceTLSContext(try TLSServerContext(certificateChainFile: renewed.certificate, privateKeyFile: renewed.key), forListener: index)
        let after = try TLSTestClient(fd: try connect(toPort: tlsPort))
        run { after.handshakeStep() && self.recorder.opened.count == 2 }
        XCTAssertEqual(before.peerCommonName, "old")
        XCTAssertEqual(after.peerCommonName, "renewed")
        // The connection that began with the old certificate goes on.
        Array("still here\n".utf8).withUnsafeBytes { engine.send(recorder.opened[0], bytes: $0) }
        var received: [UInt8] = []
        run { before.read(into: &received); return received.count == 11 }
    }

    func testABadCertificateOrKeyIsOneLineNamingTheFile() throws {
        let good = try TestCertificate.make(commonName: "good")
        let other = try TestCertificate.make(commonName: "other")
        let missing = good.certificate + ".missing"
        XCTAssertThrowsError(try TLSServerContext(certificateChainFile: missing, privateKeyFile: good.key)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("tls_certificate \(missing): "), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        XCTAssertThrowsError(try TLSServerContext(certificateChainFile: good.key, privateKeyFile: good.key)) { error in
            XCTAssertTrue("\(error)".hasPrefix("tls_certificate \(good.key): "), "\(error)")
        }
        XCTAssertThrowsError(try TLSServerContext(certificateChainFile: good.certificate, privateKeyFile: other.key)) { error in
            XCTAssertEqual("\(error)", "tls_private_key \(other.key): does not match the certificate in \(good.certificate)")
        }
    }

    /// A second listener, speaking TLS with `certificate`; its port and index.
    private func tlsListener(_ certificate: TestCertificate) throws -> (UInt16, Int) {
        let (fd, port) = try Self.listener()
        let context = try TLSServerContext(certificateChainFile: certificate.certificate, privateKeyFile: certificate.key)
        let index = try engine.listen(fd: fd, tls: context)
        addTeardownBlock { close(fd) }
        return (port, index)
    }
}

/// A self-signed certificate and its key, made by the openssl command in a temporary folder.
struct TestCertificate {
    let certificate: String
    let key: String

    static func make(commonName: String) throws -> TestCertificate {
        let directory = NSTemporaryDirectory() + "gwd-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let made = TestCertificate(certificate: directory + "/cert.pem", key: directory + "/key.pem")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=\(commonName)", "-keyout", made.key, "-out", made.certificate,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw POSIXError(.EIO) }
        return made
    }
}

/// An OpenSSL client on a non-blocking socket that the test owns (closed by the test's
/// teardown): each call does what it can now and returns.
final class TLSTestClient {
    private let context: OpaquePointer
    private let ssl: OpaquePointer

    init(fd: Int32) throws {
        guard let context = SSL_CTX_new(TLS_client_method()), let ssl = SSL_new(context) else { throw POSIXError(.ENOMEM) }
        self.context = context
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        SSL_set_connect_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// Moves the handshake on; true once it is done.
    func handshakeStep() -> Bool {
        SSL_do_handshake(ssl) == 1
    }

    var peerCommonName: String? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        var name = [CChar](repeating: 0, count: 256)
        guard X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, &name, Int32(name.count)) > 0 else {
            return nil
        }
        return String(decoding: name.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
    }

    /// Writes all of `text` (the test's messages fit the socket buffer).
    func write(_ text: String) {
        let bytes = Array(text.utf8)
        var written = 0
        let status = bytes.withUnsafeBytes { SSL_write_ex(ssl, $0.baseAddress, $0.count, &written) }
        XCTAssertEqual(status, 1)
        XCTAssertEqual(written, bytes.count)
    }

    /// Appends what can be read now.
    func read(into received: inout [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var read = 0
            let status = buffer.withUnsafeMutableBytes { SSL_read_ex(ssl, $0.baseAddress, $0.count, &read) }
            guard status == 1 else { return }
            received += buffer[..<read]
        }
    }
}
