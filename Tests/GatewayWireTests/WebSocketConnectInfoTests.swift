import GatewayWire
import NIOCore
import XCTest

final class WebSocketConnectInfoTests: XCTestCase {
    /// Splits the captured raw handshake the way any HTTP parser would.
    private func info(fromRequest request: String) throws -> WebSocketConnectInfo {
        let head = try XCTUnwrap(request.components(separatedBy: "\r\n\r\n").first)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ").map(String.init)
        XCTAssertEqual(requestLine.count, 3)
        let headers = lines.map { line -> (name: String, value: String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return WebSocketConnectInfo(method: requestLine[0], uri: requestLine[1], httpVersion: requestLine[2], headers: headers)
    }

    private func capturedBody(_ id: String) -> [UInt8] {
        Fixtures.payload(Fixtures.vector(id)["decoded"]?["body"])
    }

    /// Built from the captured handshakes, the body is byte-identical to Workerman 4's.
    func testBuildsTheCapturedWorkerman4Bodies() throws {
        for id in ["G2.on_websocket_connect", "G2.on_websocket_connect.plain"] {
            let request = try XCTUnwrap(Fixtures.vector(id)["context"]?["http_request"]?.stringValue)
            let info = try self.info(fromRequest: request)
            XCTAssertEqual(info.serializedBody(), self.capturedBody(id), id)
            XCTAssertEqual(PHPSerializer.serialize(info.phpValue()), self.capturedBody(id), id)
        }
    }

    func testReadsBothWorkermanLayoutsBack() throws {
        let expectedHeaders: [(String, String)] = [
            ("host", "127.0.0.1:17272"), ("upgrade", "websocket"), ("connection", "Upgrade"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="), ("sec-websocket-version", "13"),
            ("origin", "http://example.test"), ("cookie", "sid=xyz; lang=en"), ("user-agent", "gwcap/1.0"),
        ]
        let workerman4 = self.capturedBody("G2.on_websocket_connect")
        for id in ["G2.on_websocket_connect", "G2.on_websocket_connect.workerman5"] {
            let info = try WebSocketConnectInfo(body: ByteBuffer(bytes: self.capturedBody(id)))
            XCTAssertEqual(info.method, "GET", id)
            XCTAssertEqual(info.uri, "/chat?token=abc&room=1", id)
            XCTAssertEqual(info.httpVersion, "HTTP/1.1", id)
            XCTAssertEqual(info.path, "/chat", id)
            XCTAssertEqual(info.queryString, "token=abc&room=1", id)
            XCTAssertEqual(info.headers.map(\.name), expectedHeaders.map(\.0), id)
            XCTAssertEqual(info.headers.map(\.value), expectedHeaders.map(\.1), id)
            XCTAssertEqual(info.headerValue("Cookie"), "sid=xyz; lang=en", id)
            // Same handshake, so re-serializing in the Workerman 4 layout gives its bytes.
            XCTAssertEqual(info.serializedBody(), workerman4, id)
        }
        let plain = try WebSocketConnectInfo(body: ByteBuffer(bytes: self.capturedBody("G2.on_websocket_connect.plain")))
        XCTAssertEqual(plain.serializedBody(), self.capturedBody("G2.on_websocket_connect.plain"))
        XCTAssertEqual(plain.path, "/")
        XCTAssertEqual(plain.queryString, "")
    }

    func testServerArrayRules() throws {
        let info = WebSocketConnectInfo(
            method: "GET",
            uri: "/p?0",
            httpVersion: "HTTP/1.0",
            headers: [
                ("Host", "example.com"), ("X-Multi-Part", " padded \t"), ("Cookie", "a=1; b=x+y%21; c[]=2; c[]=3;d=4"),
                ("host", "h:1:2"),
            ]
        )
        let value = info.phpValue()
        let server = try XCTUnwrap(value["server"]?.arrayValue)
        XCTAssertEqual(
            server.keys,
            ["REQUEST_METHOD", "REQUEST_URI", "SERVER_PROTOCOL", "HTTP_HOST", "SERVER_NAME", "HTTP_X_MULTI_PART", "HTTP_COOKIE",
                "SERVER_PORT", "QUERY_STRING"]
        )
        // A repeated Host overwrites in place; SERVER_PORT appears once a port is seen.
        XCTAssertEqual(server["HTTP_HOST"], "h:1:2")
        XCTAssertEqual(server["SERVER_NAME"], "h")
        XCTAssertEqual(server["SERVER_PORT"], "1")
        XCTAssertEqual(server["HTTP_X_MULTI_PART"], "padded")
        // "0" is falsy in PHP: QUERY_STRING becomes "" and get stays empty.
        XCTAssertEqual(server["QUERY_STRING"], "")
        XCTAssertEqual(value["get"], [:])
        XCTAssertEqual(value["cookie"], ["a": "1", "b": "x y!", "c": ["2", "3;d=4"]])
    }

    func testQueryStringAndFragments() {
        func make(_ uri: String) -> WebSocketConnectInfo {
            WebSocketConnectInfo(method: "GET", uri: uri, httpVersion: "HTTP/1.1", headers: [])
        }
        XCTAssertEqual(make("/a?b=1#frag").queryString, "b=1")
        XCTAssertEqual(make("/a#frag?b=1").queryString, "")
        XCTAssertEqual(make("/a#frag?b=1").path, "/a")
        XCTAssertEqual(make("/a?").queryString, "")
        XCTAssertEqual(make("/a?x=%E5%BC%A0&y[]=1").phpValue()["get"], ["x": "张", "y": ["1"]])
        XCTAssertEqual(make("/").phpValue()["cookie"], [:])
    }

    func testHeadersAreHashableAndEditable() {
        var info = WebSocketConnectInfo(method: "GET", uri: "/", httpVersion: "HTTP/1.1", headers: [("Host", "a")])
        let copy = info
        info.headers.append((name: "Origin", value: "o"))
        XCTAssertNotEqual(info, copy)
        XCTAssertEqual(info.headerFields.last, WebSocketConnectInfo.Header(name: "Origin", value: "o"))
        XCTAssertEqual(Set([info, copy, info]).count, 2)
    }

    func testRejectsBodiesWithoutARequest() {
        XCTAssertThrowsError(try WebSocketConnectInfo(body: ByteBuffer(string: "N;")))
        XCTAssertThrowsError(try WebSocketConnectInfo(body: ByteBuffer(string: "a:1:{s:6:\"server\";a:0:{}}")))
        XCTAssertThrowsError(try WebSocketConnectInfo(body: ByteBuffer(string: "{\"server\":{}}")))
        XCTAssertThrowsError(try WebSocketConnectInfo(body: ByteBuffer(string: "O:8:\"stdClass\":0:{}")))
    }
}
