import CTLS
import Glibc

/// The client side of TLS for the end-to-end tests' own clients (WebSocketTestClient), with
/// OpenSSL on the test's non-blocking socket; the certificate is not verified (the tests make
/// their own, self-signed) but the subject it carries is read, so a test can tell which one a
/// gateway served.
final class TLSClientSession {
    private let context: OpaquePointer
    private let ssl: OpaquePointer

    /// OpenSSL writes with write(2), which raises SIGPIPE on a socket the gateway closed.
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Runs the handshake on `fd` (non-blocking) until done or the deadline.
    init(fd: Int32, serverName: String, deadline: Deadline) throws {
        _ = Self.ignoreSIGPIPE
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw WebSocketTestClientError.io("SSL_CTX_new failed") }
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            throw WebSocketTestClientError.io("SSL_new failed")
        }
        self.context = context
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        _ = serverName.withCString { SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0)) }
        while true {
            let result = SSL_connect(ssl)
            if result == 1 { return }
            let error = SSL_get_error(ssl, result)
            guard error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE else {
                throw WebSocketTestClientError.connectFailed("TLS handshake failed (SSL error \(error))")
            }
            var pfd = pollfd(fd: fd, events: Int16(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), revents: 0)
            let wait = deadline.remainingMilliseconds()
            guard wait > 0, poll(&pfd, 1, wait) >= 0 else { throw WebSocketTestClientError.timedOut("the TLS handshake") }
        }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// The served certificate's subject common name.
    var peerCommonName: String? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        var name = [CChar](repeating: 0, count: 256)
        guard X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, &name, Int32(name.count)) > 0 else {
            return nil
        }
        return String(decoding: name.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
    }

    /// The negotiated protocol, e.g. "TLSv1.3".
    var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// Decrypted bytes OpenSSL holds that the socket will not signal again.
    var hasBufferedInput: Bool { SSL_pending(ssl) > 0 }

    /// send(2)'s contract: bytes taken, or -1 with errno EAGAIN (try when writable) or EPIPE.
    func send(_ bytes: UnsafeRawPointer, count: Int) -> Int {
        var written = 0
        let result = SSL_write_ex(ssl, bytes, count, &written)
        return result == 1 ? written : failure(result)
    }

    /// recv(2)'s contract: bytes, 0 at the end, or -1 with errno EAGAIN or ECONNRESET.
    func receive(_ buffer: UnsafeMutableRawPointer, count: Int) -> Int {
        var read = 0
        let result = SSL_read_ex(ssl, buffer, count, &read)
        return result == 1 ? read : failure(result)
    }

    private func failure(_ result: Int32) -> Int {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            errno = EAGAIN
        case SSL_ERROR_ZERO_RETURN:
            return 0
        default:
            ERR_clear_error()
            errno = ECONNRESET
        }
        return -1
    }
}
