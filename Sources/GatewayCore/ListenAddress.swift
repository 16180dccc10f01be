#if canImport(Glibc)
import Glibc
#endif

/// A `host:port` pair: the register, the HTTP API, /metrics and (inside a URL) client listeners.
///
/// The host is an IPv4 address, or `localhost`, which is read as 127.0.0.1 (not looked up:
/// inner addresses travel as 4-byte IPv4 in GatewayWorker's protocol, and the name must not
/// turn into ::1 on a host whose /etc/hosts says so). Client listeners may also be IPv6,
/// written `[::1]:7272`; see ``init(parsing:allowingIPv6:)``.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 address, or an IPv6 address without brackets (``isIPv6``).
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`. Port 0 is allowed: it means "pick a free port". With `allowingIPv6`,
    /// `[address]:port` is accepted too and its address kept in the canonical form inet_ntop gives.
    public init(parsing text: String, allowingIPv6: Bool = false) throws(AddressError) {
        let hostText: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]:") else {
                throw AddressError(expected: "[IPv6 address]:port")
            }
            guard allowingIPv6 else { throw AddressError(expected: "an IPv4 host:port or localhost:port (IPv6 is for client listeners only)") }
            hostText = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard let canonical = Self.canonicalIPv6(String(hostText)) else { throw AddressError(expected: "[IPv6 address]:port") }
            self.host = canonical
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw AddressError(expected: "host:port") }
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
            if hostText == "localhost" {
                self.host = "127.0.0.1"
            } else if IPv4Address(String(hostText)) != nil {
                self.host = String(hostText)
            } else {
                throw AddressError(
                    expected: allowingIPv6
                        ? "host:port with an IPv4 address, localhost or an IPv6 address in brackets"
                        : "an IPv4 host:port or localhost:port")
            }
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw AddressError(expected: "host:port with a port in 0...65535")
        }
        self.port = port
    }

    public var isIPv6: Bool { host.contains(":") }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    private static func canonicalIPv6(_ text: String) -> String? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A client-facing listener URL: `websocket://`, `wss://` (WebSocket over TLS), `text://` or
/// `frame://` + `host:port`, where the host may be IPv6 in brackets (`websocket://[::]:7272`).
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The client protocol spoken on a listener.
    public enum Scheme: String, Sendable, Hashable, CaseIterable {
        /// RFC 6455 WebSocket.
        case websocket
        /// Workerman's Text protocol: one message per `"\n"`-terminated line.
        case text
        /// Workerman's Frame protocol: a u32 big-endian total length (header included), then the body.
        case frame
    }

    public var scheme: Scheme
    public var endpoint: HostPort
    /// TLS on this listener (`wss://`: WebSocket only), with `tls_certificate` and `tls_private_key`.
    public var secure: Bool

    public init(scheme: Scheme, endpoint: HostPort, secure: Bool = false) {
        self.scheme = scheme
        self.endpoint = endpoint
        self.secure = secure
    }

    public init(parsing text: String) throws(AddressError) {
        guard let range = text.range(of: "://") else { throw AddressError(expected: "scheme://host:port") }
        let name = String(text[..<range.lowerBound])
        let secure = name == "wss"
        guard let scheme = secure ? .websocket : Scheme(rawValue: name) else {
            let names = ["websocket", "wss", "text", "frame"].map { "\($0)://" }.joined(separator: ", ")
            throw AddressError(expected: "a URL starting with one of \(names)")
        }
        var rest = String(text[range.upperBound...])
        if rest.hasSuffix("/") { rest.removeLast() }
        self.init(scheme: scheme, endpoint: try HostPort(parsing: rest, allowingIPv6: true), secure: secure)
    }

    public var description: String { "\(secure ? "wss" : scheme.rawValue)://\(endpoint)" }
}

/// What an address should have looked like, worded to follow "is not".
public struct AddressError: Error, Hashable {
    public var expected: String
}

/// A dotted-quad IPv4 address as a host-order number.
public struct IPv4Address: Sendable, Hashable, CustomStringConvertible {
    public var value: UInt32

    public init(value: UInt32) { self.value = value }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }
}
