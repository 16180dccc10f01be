/// Upgrade requests for the handshake tests: real browsers' and a builder for variants.
enum UpgradeRequests {
    /// Chromium 131's upgrade request, header for header.
    static let chromium = """
        GET /chat?room=lobby&id=7 HTTP/1.1\r
        Host: gateway.example.com:8282\r
        Connection: Upgrade\r
        Pragma: no-cache\r
        Cache-Control: no-cache\r
        User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r
        Upgrade: websocket\r
        Origin: https://app.example.com\r
        Sec-WebSocket-Version: 13\r
        Accept-Encoding: gzip, deflate, br, zstd\r
        Accept-Language: en-US,en;q=0.9\r
        Cookie: session=abc123; theme=dark\r
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
        Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r
        \r

        """

    /// Firefox's: `keep-alive, Upgrade`, lowercase `websocket`, Sec-Fetch headers.
    static let firefox = """
        GET /ws HTTP/1.1\r
        Host: localhost:8282\r
        User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r
        Accept: */*\r
        Accept-Language: en-US,en;q=0.5\r
        Accept-Encoding: gzip, deflate, br, zstd\r
        Sec-WebSocket-Version: 13\r
        Origin: http://localhost:8000\r
        Sec-WebSocket-Extensions: permessage-deflate\r
        Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r
        Connection: keep-alive, Upgrade\r
        Sec-Fetch-Dest: websocket\r
        Sec-Fetch-Mode: websocket\r
        Sec-Fetch-Site: same-site\r
        Pragma: no-cache\r
        Cache-Control: no-cache\r
        Upgrade: websocket\r
        \r

        """

    /// A minimal valid request with `extra` header lines (each ending in CRLF) added.
    static func request(
        _ extra: String = "", target: String = "/", method: String = "GET", version: String = "HTTP/1.1",
        key: String? = "dGhlIHNhbXBsZSBub25jZQ==", webSocketVersion: String? = "13", upgrade: String? = "websocket",
        connection: String? = "Upgrade"
    ) -> String {
        var head = "\(method) \(target) \(version)\r\nHost: h\r\n"
        if let upgrade { head += "Upgrade: \(upgrade)\r\n" }
        if let connection { head += "Connection: \(connection)\r\n" }
        if let key { head += "Sec-WebSocket-Key: \(key)\r\n" }
        if let webSocketVersion { head += "Sec-WebSocket-Version: \(webSocketVersion)\r\n" }
        return head + extra + "\r\n"
    }
}
