import CTLS

#if canImport(Glibc)
import Glibc
#endif

/// One TLS connection over a non-blocking socket, server side: OpenSSL reads and writes the
/// descriptor itself. A pointer-sized value the engine keeps in a table beside its records;
/// `free()` once, when the connection ends.
public struct TLSSession {
    let ssl: OpaquePointer

    /// What a handshake, read or write step came to.
    public enum Outcome: Equatable {
        /// Bytes moved (read or written), or the handshake is done (0).
        case done(Int)
        /// Try again when the socket is readable.
        case wantsReadable
        /// Try again when the socket is writable.
        case wantsWritable
        /// The peer closed (close_notify, or the end of the stream).
        case closed
        /// A protocol or socket error: the connection is over.
        case failed
    }

    /// A session for `fd`, accepting (the handshake runs on the first reads); nil when OpenSSL
    /// cannot allocate one.
    public init?(serving fd: Int32, with context: TLSServerContext) {
        guard let ssl = SSL_new(context.context) else { return nil }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        self.ssl = ssl
    }

    public var isHandshakeDone: Bool { SSL_is_init_finished(ssl) == 1 }

    public func handshake() -> Outcome {
        let result = SSL_do_handshake(ssl)
        return result == 1 ? .done(0) : outcome(of: result)
    }

    /// Reads decrypted bytes into `buffer` until it is full or the socket has no more: several
    /// records per call, so that a level-triggered loop misses nothing OpenSSL holds.
    public func read(into buffer: UnsafeMutableRawPointer, count: Int) -> Outcome {
        var total = 0
        while total < count {
            var read = 0
            let result = SSL_read_ex(ssl, buffer + total, count - total, &read)
            guard result == 1 else {
                let stop = outcome(of: result)
                // What was read goes first; a close is seen again by the next call (the
                // socket stays readable at its end).
                return total > 0 && stop != .failed ? .done(total) : stop
            }
            total += read
        }
        return .done(total)
    }

    /// Encrypts and writes up to `count` bytes; `.done(n)` with the bytes taken (possibly
    /// fewer: retry the rest with the same bytes first).
    public func write(_ bytes: UnsafeRawPointer, count: Int) -> Outcome {
        var written = 0
        let result = SSL_write_ex(ssl, bytes, count, &written)
        return result == 1 ? .done(written) : outcome(of: result)
    }

    /// Sends close_notify if the socket takes it now (never waits for the peer's).
    public func shutdown() {
        if isHandshakeDone { _ = SSL_shutdown(ssl) }
    }

    public func free() {
        SSL_free(ssl)
    }

    private func outcome(of result: Int32) -> Outcome {
        let error = SSL_get_error(ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ:
            return .wantsReadable
        case SSL_ERROR_WANT_WRITE:
            return .wantsWritable
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        case SSL_ERROR_SYSCALL:
            ERR_clear_error()
            // The end of the stream without close_notify: a closed connection all the same.
            return errno == 0 || errno == ECONNRESET || errno == EPIPE ? .closed : .failed
        default:
            ERR_clear_error()
            return .failed
        }
    }
}
