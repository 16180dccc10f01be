import NIOCore

/// The body of `CMD_ON_WEBSOCKET_CONNECT`: the client's handshake request as PHP code sees it.
///
/// The body is PHP `serialize(array('get' => $_GET, 'server' => $_SERVER, 'cookie' => $_COOKIE))`
/// built the way Workerman 4's `Websocket::parseHttpHeader` fills those globals, so a PHP
/// BusinessWorker gets byte-identical input from a gatewayd gateway:
/// - `server`: `REQUEST_METHOD`, `REQUEST_URI`, `SERVER_PROTOCOL`, then `HTTP_<NAME>` per header
///   in request order (name uppercased, `-` → `_`, value trimmed; a repeated header overwrites
///   in place), with `SERVER_NAME` / `SERVER_PORT` (split from the Host value at `:`) right
///   after `HTTP_HOST`, then `QUERY_STRING`. All strings.
/// - `get`: `parse_str` of the query (nothing for an empty query or `"0"`, as PHP's truthiness
///   test skips it).
/// - `cookie`: `parse_str` of the Cookie value with `"; "` replaced by `&`.
/// A plain value; safe on any thread.
public struct WebSocketConnectInfo: Hashable, Sendable {
    /// One request header as received.
    public struct Header: Hashable, Sendable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var method: String
    /// full request target incl. query
    public var uri: String
    /// "HTTP/1.1"
    public var httpVersion: String
    /// The headers in request order.
    public var headerFields: [Header]

    public init(method: String, uri: String, httpVersion: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.uri = uri
        self.httpVersion = httpVersion
        self.headerFields = headers.map { Header(name: $0.name, value: $0.value) }
    }

    /// The headers in request order, as tuples.
    public var headers: [(name: String, value: String)] {
        get { self.headerFields.map { (name: $0.name, value: $0.value) } }
        set { self.headerFields = newValue.map { Header(name: $0.name, value: $0.value) } }
    }

    /// uri before '?'
    public var path: String {
        let utf8 = self.uri.utf8
        guard let mark = utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) else {
            return self.uri
        }
        return String(self.uri[..<mark])
    }

    /// after '?', "" if none
    ///
    /// Like PHP's `parse_url(..., PHP_URL_QUERY)`, a `#fragment` is not part of it.
    public var queryString: String {
        let utf8 = self.uri.utf8
        guard let mark = utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }),
            utf8[mark] == UInt8(ascii: "?")
        else {
            return ""
        }
        let start = utf8.index(after: mark)
        let end = utf8[start...].firstIndex(of: UInt8(ascii: "#")) ?? utf8.endIndex
        return String(self.uri[start..<end])
    }

    /// The first value of a header, matched case-insensitively.
    public func headerValue(_ name: String) -> String? {
        let wanted = WebSocketConnectInfo.asciiUppercased(name)
        return self.headerFields.first { WebSocketConnectInfo.asciiUppercased($0.name) == wanted }?.value
    }

    /// `array('get' => ..., 'server' => ..., 'cookie' => ...)` exactly as Workerman 4 builds it.
    public func phpValue() -> PHPValue {
        var server = PHPArray()
        server["REQUEST_METHOD"] = .string(self.method)
        server["REQUEST_URI"] = .string(self.uri)
        server["SERVER_PROTOCOL"] = .string(self.httpVersion)
        var cookie = PHPArray()
        for header in self.headerFields {
            let key = WebSocketConnectInfo.asciiUppercased(header.name).replacingDashes()
            let value = WebSocketConnectInfo.phpTrim(header.value)
            server[.string(Array(("HTTP_" + key).utf8))] = .string(value)
            switch key {
            case "HOST":
                let parts = value.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
                server["SERVER_NAME"] = .string(Array(parts[0]))
                if parts.count > 1 {
                    server["SERVER_PORT"] = .string(Array(parts[1]))
                }
            case "COOKIE":
                cookie = PHPQueryString.parse(WebSocketConnectInfo.cookieQuery(value))
            default:
                break
            }
        }
        let query = self.queryString
        var get = PHPArray()
        if query.isEmpty || query == "0" {
            server["QUERY_STRING"] = .string("")
        } else {
            server["QUERY_STRING"] = .string(query)
            get = PHPQueryString.parse(query)
        }
        return .array(["get": .array(get), "server": .array(server), "cookie": .array(cookie)])
    }

    /// `serialize(phpValue())`: the body to send with flag 0.
    public func serializedBody() -> [UInt8] {
        PHPSerializer.serialize(self.phpValue())
    }

    /// Worker side: reads method, uri, protocol and headers back out of a body (Workerman 4 or 5 layout; HTTP_* keys map back to header names lowercased with '_' -> '-').
    ///
    /// Keys other than `REQUEST_METHOD`, `REQUEST_URI`, `SERVER_PROTOCOL` and `HTTP_*` (e.g.
    /// Workerman 5's `REMOTE_PORT`) are ignored. A missing `SERVER_PROTOCOL` reads as
    /// `HTTP/1.1`.
    public init(body: ByteBuffer) throws(InnerExtDataError) {
        let value: PHPValue
        do {
            value = try PHPSerializer.unserialize(body)
        } catch {
            throw InnerExtDataError(reason: "ON_WEBSOCKET_CONNECT body is not PHP-serialized: \(error)")
        }
        guard case .array(let server)? = value["server"] else {
            throw InnerExtDataError(reason: "ON_WEBSOCKET_CONNECT body has no \"server\" array")
        }
        guard let method = server["REQUEST_METHOD"].flatMap(WebSocketConnectInfo.phpString),
            let uri = server["REQUEST_URI"].flatMap(WebSocketConnectInfo.phpString)
        else {
            throw InnerExtDataError(reason: "ON_WEBSOCKET_CONNECT body lacks REQUEST_METHOD or REQUEST_URI")
        }
        self.method = method
        self.uri = uri
        self.httpVersion = server["SERVER_PROTOCOL"].flatMap(WebSocketConnectInfo.phpString) ?? "HTTP/1.1"
        var headers: [Header] = []
        for (key, element) in server {
            guard case .string(let keyBytes) = key, keyBytes.starts(with: Array("HTTP_".utf8)),
                let headerValue = WebSocketConnectInfo.phpString(element)
            else { continue }
            let name = keyBytes.dropFirst(5).map { byte -> UInt8 in
                switch byte {
                case UInt8(ascii: "_"): return UInt8(ascii: "-")
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte + 32
                default: return byte
                }
            }
            headers.append(Header(name: String(decoding: name, as: UTF8.self), value: headerValue))
        }
        self.headerFields = headers
    }

    // MARK: PHP string helpers

    /// PHP's `(string)` cast for scalars; nil for arrays.
    private static func phpString(_ value: PHPValue) -> String? {
        switch value {
        case .string(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .int(let number): return String(number)
        case .double(let number): return String(decoding: PHPDoubleFormatter.format(number, exponent: UInt8(ascii: "E")), as: UTF8.self)
        case .bool(let flag): return flag ? "1" : ""
        case .null: return ""
        case .array: return nil
        }
    }

    /// PHP 8 `strtoupper` (ASCII only, locale-independent).
    private static func asciiUppercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) ? $0 - 32 : $0 }, as: UTF8.self)
    }

    /// PHP `trim()`: strips " \t\n\r\0\x0B" from both ends.
    private static func phpTrim(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        let isTrimmed: (UInt8) -> Bool = { [0x20, 0x09, 0x0A, 0x0D, 0x00, 0x0B].contains($0) }
        guard let first = bytes.firstIndex(where: { !isTrimmed($0) }), let last = bytes.lastIndex(where: { !isTrimmed($0) }) else {
            return []
        }
        return Array(bytes[first...last])
    }

    /// `str_replace('; ', '&', $cookie)`.
    private static func cookieQuery(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(value.count)
        var index = 0
        while index < value.count {
            if value[index] == UInt8(ascii: ";"), index + 1 < value.count, value[index + 1] == UInt8(ascii: " ") {
                out.append(UInt8(ascii: "&"))
                index += 2
            } else {
                out.append(value[index])
                index += 1
            }
        }
        return out
    }
}

extension String {
    fileprivate func replacingDashes() -> String {
        String(decoding: self.utf8.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
    }
}
