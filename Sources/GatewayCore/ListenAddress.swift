/// A `host:port` pair, as used for the register address.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv4 host). Port 0 is allowed: it means "pick a free port".
    public init(parsing text: String) throws(AddressError) {
        guard let colon = text.lastIndex(of: ":") else { throw AddressError(expected: "host:port") }
        let host = String(text[..<colon])
        guard IPv4Address(host) != nil else { throw AddressError(expected: "an IPv4 host:port") }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw AddressError(expected: "a port 0...65535")
        }
        self.init(host: host, port: port)
    }

    public var description: String { "\(host):\(port)" }
}

/// A client-facing listener URL: `websocket://`, `text://` or `frame://` + `host:port`.
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

    public init(scheme: Scheme, endpoint: HostPort) {
        self.scheme = scheme
        self.endpoint = endpoint
    }

    public init(parsing text: String) throws(AddressError) {
        guard let range = text.range(of: "://") else { throw AddressError(expected: "scheme://host:port") }
        guard let scheme = Scheme(rawValue: String(text[..<range.lowerBound])) else {
            let names = Scheme.allCases.map { "\($0.rawValue)://" }.joined(separator: ", ")
            throw AddressError(expected: "one of \(names)")
        }
        var rest = String(text[range.upperBound...])
        if rest.hasSuffix("/") { rest.removeLast() }
        self.init(scheme: scheme, endpoint: try HostPort(parsing: rest))
    }

    public var description: String { "\(scheme.rawValue)://\(endpoint)" }
}

/// What an address should have looked like.
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
