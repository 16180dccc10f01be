import CGatewayABI

/// A client's WebSocket handshake request, copied out of the host's borrowed
/// `gwd_handshake`, so it may be kept after the callback returns.
///
/// Bytes that are not UTF-8 (allowed in header values) read as U+FFFD.
public struct HandshakeRequest: Hashable, Sendable {
    /// One request header; the name keeps the client's spelling.
    public struct Header: Hashable, Sendable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The request method, `"GET"`.
    public var method: String
    /// The request target without the query, e.g. `"/chat"`.
    public var path: String
    /// The query string without `?`; may be empty.
    public var query: String
    /// The client's IP address as text.
    public var remoteAddress: String
    public var remotePort: Int
    /// The headers in request order.
    public var headers: [Header]

    public init(method: String = "GET", path: String, query: String = "", remoteAddress: String = "",
                remotePort: Int = 0, headers: [Header] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.headers = headers
    }

    /// The value of the first header called `name`, compared without regard to ASCII case.
    public subscript(header name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The query's `name=value` parameters in order, split at `&` and the first `=`, and NOT
    /// percent-decoded (a parameter without `=` has the value `""`).
    public var queryParameters: [(name: String, value: String)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { parameter in
            guard let equals = parameter.firstIndex(of: "=") else { return (String(parameter), "") }
            return (String(parameter[..<equals]), String(parameter[parameter.index(after: equals)...]))
        }
    }

    /// The value of the first query parameter called `name`, not percent-decoded.
    public func queryParameter(_ name: String) -> String? {
        queryParameters.first { $0.name == name }?.value
    }
}

extension HandshakeRequest {
    /// Copies a host request, reading only the fields its `struct_size` covers (a missing
    /// field reads as empty).
    init(copying request: UnsafePointer<gwd_handshake>) {
        let size = Int(request.pointer(to: \.struct_size)!.pointee)
        func field<Value>(_ field: KeyPath<gwd_handshake, Value>) -> Value? {
            guard let offset = MemoryLayout<gwd_handshake>.offset(of: field),
                  offset + MemoryLayout<Value>.size <= size
            else { return nil }
            return request.pointer(to: field)!.pointee
        }
        var headers: [Header] = []
        if let count = field(\.header_count), let list = field(\.headers) ?? nil {
            headers = UnsafeBufferPointer(start: list, count: count).map {
                Header(name: String(copying: $0.name), value: String(copying: $0.value))
            }
        }
        self.init(method: field(\.method).map(String.init(copying:)) ?? "",
                  path: field(\.path).map(String.init(copying:)) ?? "",
                  query: field(\.query).map(String.init(copying:)) ?? "",
                  remoteAddress: field(\.remote_address).map(String.init(copying:)) ?? "",
                  remotePort: field(\.remote_port).map(Int.init) ?? 0,
                  headers: headers)
    }
}

extension String {
    /// Copies a borrowed host byte view, reading invalid UTF-8 as U+FFFD.
    init(copying bytes: gwd_bytes) {
        guard let data = bytes.data, bytes.len > 0 else {
            self = ""
            return
        }
        self = String(decoding: UnsafeRawBufferPointer(start: data, count: bytes.len), as: UTF8.self)
    }
}
