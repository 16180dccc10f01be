import CTLS

#if canImport(Glibc)
import Glibc
#endif

/// A server's TLS settings for one listener: its certificate chain and private key (PEM
/// files), and the oldest protocol version it accepts. An OpenSSL `SSL_CTX`; each connection's
/// session holds a reference of its own, so a context replaced at `gatewayd reload` lives on
/// for the connections that started with it.
public final class TLSServerContext: @unchecked Sendable {  // SSL_CTX is immutable once built here
    let context: OpaquePointer

    /// Loads and checks the certificate chain and key; a problem throws one line naming the
    /// file and OpenSSL's reason.
    public init(certificateChainFile: String, privateKeyFile: String, minimumVersion: TLSVersion = .tls12) throws(TLSConfigurationError) {
        // A file that cannot be opened gets the system's reason, not OpenSSL's three-deep stack.
        for (key, path) in [("tls_certificate", certificateChainFile), ("tls_private_key", privateKeyFile)] where access(path, R_OK) != 0 {
            throw TLSConfigurationError(key: key, value: path, reason: String(cString: strerror(errno)))
        }
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSConfigurationError(key: "tls_certificate", value: certificateChainFile, reason: Self.lastError())
        }
        self.context = context
        ERR_clear_error()
        guard SSL_CTX_use_certificate_chain_file(context, certificateChainFile) == 1 else {
            throw TLSConfigurationError(key: "tls_certificate", value: certificateChainFile, reason: Self.lastError())
        }
        let mismatch = TLSConfigurationError(
            key: "tls_private_key", value: privateKeyFile, reason: "does not match the certificate in \(certificateChainFile)")
        guard SSL_CTX_use_PrivateKey_file(context, privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
            let reason = Self.lastError()
            // OpenSSL's words for a key of another certificate: "key values mismatch".
            throw reason.contains("key values mismatch") ? mismatch : TLSConfigurationError(key: "tls_private_key", value: privateKeyFile, reason: reason)
        }
        guard SSL_CTX_check_private_key(context) == 1 else { throw mismatch }
        _ = gwd_ssl_ctx_set_min_proto_version(context, minimumVersion.openSSLValue)
        // Buffers only while a record is in flight (an idle connection keeps none); writes that
        // the kernel takes in part go on from the engine's backlog, which may have moved.
        _ = gwd_ssl_ctx_set_mode(
            context, gwd_ssl_mode_release_buffers() | gwd_ssl_mode_enable_partial_write() | gwd_ssl_mode_accept_moving_write_buffer())
        // A client asking to renegotiate (TLS 1.2) would make reads want writes and back.
        SSL_CTX_set_options(context, gwd_ssl_op_no_renegotiation())
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// OpenSSL's reason for the last failure, one line (the queue is emptied).
    static func lastError() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self))
        }
        return reasons.isEmpty ? "unknown OpenSSL error" : reasons.joined(separator: "; ")
    }
}

/// The oldest TLS version a listener accepts (`tls_min_version`).
public enum TLSVersion: String, Sendable, CaseIterable {
    case tls12 = "1.2"
    case tls13 = "1.3"

    var openSSLValue: Int32 {
        switch self {
        case .tls12: return gwd_tls1_2_version()
        case .tls13: return gwd_tls1_3_version()
        }
    }
}

/// A certificate or key that cannot serve: which setting, which file, and why.
public struct TLSConfigurationError: Error, CustomStringConvertible {
    public var key: String
    public var value: String
    public var reason: String

    public var description: String { "\(key) \(value): \(reason)" }
}
