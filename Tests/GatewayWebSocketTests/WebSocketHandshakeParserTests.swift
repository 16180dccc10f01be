import GatewayWebSocket
import XCTest

/// `WebSocketHandshakeParser` on real browsers' requests and on broken ones; every request is
/// also parsed one byte per read and in two reads cut at every offset.
final class WebSocketHandshakeParserTests: XCTestCase {
    /// Parses `request` delivered whole, a byte at a time and cut at every offset; all must agree.
    @discardableResult
    private func parse(
        _ request: [UInt8], maximumRequestBytes: Int = WebSocketHandshakeParser.defaultMaximumRequestBytes,
        file: StaticString = #filePath, line: UInt = #line
    ) -> (result: HandshakeOutcome, rest: [UInt8]) {
        let whole = EngineFeed.handshake(request, maximumRequestBytes: maximumRequestBytes)
        let byByte = EngineFeed.handshake(request, cuts: Array(0..<request.count), maximumRequestBytes: maximumRequestBytes)
        XCTAssertEqual(byByte.result, whole.result, "one byte at a time", file: file, line: line)
        XCTAssertEqual(byByte.rest, whole.rest, file: file, line: line)
        for cut in 1..<max(request.count, 1) {
            let split = EngineFeed.handshake(request, cuts: [cut], maximumRequestBytes: maximumRequestBytes)
            XCTAssertEqual(split.result, whole.result, "cut at \(cut)", file: file, line: line)
            XCTAssertEqual(split.rest, whole.rest, "cut at \(cut)", file: file, line: line)
            if split.result != whole.result { break }
        }
        return whole
    }

    private func assertRefused(
        _ request: String, _ refusal: WebSocketHandshakeRefusal, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(parse(Array(request.utf8), file: file, line: line).result, .refused(refusal), request.debugDescription, file: file, line: line)
    }

    // MARK: - Browsers

    func testChromiumsRequest() throws {
        let frame = ClientFrame.text("pipelined").bytes
        let (result, rest) = parse(Array(UpgradeRequests.chromium.utf8) + frame)
        let request = try XCTUnwrap(result.request)
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.uri, "/chat?room=lobby&id=7")
        XCTAssertEqual(request.httpVersion, "HTTP/1.1")
        XCTAssertEqual(request.key, "dGhlIHNhbXBsZSBub25jZQ==")
        XCTAssertEqual(request.headers.count, 13)
        XCTAssertEqual(request.headers[0], ["Host", "gateway.example.com:8282"])
        XCTAssertEqual(request.headers[10], ["Cookie", "session=abc123; theme=dark"])
        XCTAssertEqual(request.headers[12], ["Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"])
        // Frames the client sent right behind its request are not the request's.
        XCTAssertEqual(rest, frame)
    }

    func testFirefoxsRequest() throws {
        let request = try XCTUnwrap(parse(Array(UpgradeRequests.firefox.utf8)).result.request)
        XCTAssertEqual(request.uri, "/ws")
        XCTAssertEqual(request.key, "x3JJHMbDL1EzLkh9GBhXDw==")
        XCTAssertEqual(request.headers.map { $0[0] }.last, "Upgrade")
    }

    func testTheConsumedCountCoversTheRequestExactly() {
        var parser = WebSocketHandshakeParser()
        let request = Array(UpgradeRequests.request().utf8)
        let bytes = request + [0x81, 0x80]
        let result = bytes.withUnsafeBytes { parser.parse($0) }
        guard case .upgrade(_, let consumed) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(consumed, request.count)
    }

    func testAnIncompleteRequestNeedsMoreBytes() {
        let request = Array(UpgradeRequests.chromium.utf8)
        XCTAssertEqual(EngineFeed.handshake(Array(request.dropLast())).result, .needMoreBytes)
        XCTAssertEqual(EngineFeed.handshake([]).result, .needMoreBytes)
    }

    // MARK: - What the worker is told

    func testHeaderValuesLoseLeadingWhitespaceAndKeepTrailing() throws {
        let request = try XCTUnwrap(parse(Array(UpgradeRequests.request("X-A:  \t spaced \t \r\nX-B:\r\nX-C: \r\n").utf8)).result.request)
        XCTAssertEqual(request.headers.suffix(3), [["X-A", "spaced \t "], ["X-B", ""], ["X-C", ""]])
    }

    func testRepeatedHeadersStayInOrderWithTheirSpelling() throws {
        let request = try XCTUnwrap(parse(Array(UpgradeRequests.request("x-dup: 1\r\nX-DUP: 2\r\nX-Dup: 3\r\n").utf8)).result.request)
        XCTAssertEqual(request.headers.suffix(3), [["x-dup", "1"], ["X-DUP", "2"], ["X-Dup", "3"]])
    }

    func testBytesAbove0x7FInValuesDecodeAsSwiftNIODecodedThem() throws {
        let request = Array(UpgradeRequests.request().utf8.dropLast(2)) + Array("X-Name: caf".utf8) + [0xC3, 0xA9, 0x20, 0xFF] + Array("\r\n\r\n".utf8)
        let parsed = try XCTUnwrap(parse(request).result.request)
        XCTAssertEqual(parsed.headers.last, ["X-Name", String(decoding: [0x63, 0x61, 0x66, 0xC3, 0xA9, 0x20, 0xFF], as: UTF8.self)])
    }

    func testTargetsAreKeptAsSent() throws {
        for target in [
            "/", "/a/b?c=d&e=%20#frag", "*", "*abc", "/?", "http://example.com:8282/ws?x=1", "https://user@[::1]:80/p", "/a#b#c?d",
            "http://a?x#y", "http://", "HTTP://a/", "http://a%20b!$&'()*+,;=~-._:@[]/#{}",
        ] {
            let request = try XCTUnwrap(parse(Array(UpgradeRequests.request(target: target).utf8)).result.request, target)
            XCTAssertEqual(request.uri, target)
        }
    }

    func testEmptyLinesBeforeTheRequestAreSkipped() throws {
        let (result, _) = parse(Array(("\r\n\n\r\n" + UpgradeRequests.request()).utf8))
        XCTAssertNotNil(result.request)
    }

    func testAKeyIsWhatFoundationDecodesToSixteenBytes() throws {
        // The SwiftNIO handler asked Data(base64Encoded:), which takes a surplus "=": so does this.
        let request = try XCTUnwrap(parse(Array(UpgradeRequests.request(key: "dGhlIHNhbXBsZSBub25jZQ===").utf8)).result.request)
        XCTAssertEqual(request.key, "dGhlIHNhbXBsZSBub25jZQ===")
    }

    func testTheKeyIsTrimmed() throws {
        let request = try XCTUnwrap(parse(Array(UpgradeRequests.request(key: "  dGhlIHNhbXBsZSBub25jZQ==\t ").utf8)).result.request)
        XCTAssertEqual(request.key, "dGhlIHNhbXBsZSBub25jZQ==")
        XCTAssertTrue(request.headers.contains(["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==\t "]))
    }

    // MARK: - What makes an upgrade

    func testUpgradeAndConnectionSpellings() {
        for (upgrade, connection) in [
            ("WebSocket", "upgrade"), ("WEBSOCKET", "UPGRADE"), ("websocket", "keep-alive, Upgrade"), ("websocket", " close ,\tupgrade\t"),
            ("websocket", "upgrade,"),
        ] {
            XCTAssertNotNil(parse(Array(UpgradeRequests.request(upgrade: upgrade, connection: connection).utf8)).result.request, "\(upgrade) / \(connection)")
        }
        XCTAssertNotNil(parse(Array(UpgradeRequests.request("Connection: Upgrade\r\n", connection: "keep-alive").utf8)).result.request)
        XCTAssertNotNil(parse(Array(UpgradeRequests.request("Upgrade: websocket\r\n", upgrade: "h2c").utf8)).result.request)
    }

    func testNotAnUpgradeIs426() {
        assertRefused(UpgradeRequests.request(upgrade: nil), .notAnUpgrade)
        assertRefused(UpgradeRequests.request(connection: nil), .notAnUpgrade)
        assertRefused(UpgradeRequests.request(upgrade: "websocket, h2c"), .notAnUpgrade)
        assertRefused(UpgradeRequests.request(upgrade: "websockets"), .notAnUpgrade)
        assertRefused(UpgradeRequests.request(connection: "upgraded"), .notAnUpgrade)
        assertRefused(UpgradeRequests.request(connection: "keep-alive"), .notAnUpgrade)
        XCTAssertEqual(WebSocketHandshakeRefusal.notAnUpgrade.status, 426)
        XCTAssertEqual(WebSocketHandshakeRefusal.notAnUpgrade.extraHeaders, "Upgrade: websocket\r\n")
    }

    func testAWebSocketVersionOtherThan13Is426() {
        for version in [nil, "8", "12", "13 ", "", "13, 8"] as [String?] {
            assertRefused(UpgradeRequests.request(webSocketVersion: version), .unsupportedWebSocketVersion)
        }
        // Only the first one counts.
        assertRefused(UpgradeRequests.request("Sec-WebSocket-Version: 13\r\n", webSocketVersion: "8"), .unsupportedWebSocketVersion)
        XCTAssertNotNil(parse(Array(UpgradeRequests.request("Sec-WebSocket-Version: 8\r\n").utf8)).result.request)
        XCTAssertEqual(WebSocketHandshakeRefusal.unsupportedWebSocketVersion.status, 426)
        XCTAssertEqual(WebSocketHandshakeRefusal.unsupportedWebSocketVersion.extraHeaders, "Sec-WebSocket-Version: 13\r\n")
    }

    func testAKeyThatIsNotTheBase64OfSixteenBytesIs400() {
        for key in [nil, "", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25j", "dGhlIHNhbXBsZSBub25jZQ==dGhl",
                    "dGhlIHNhbXBsZ SBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ!=", "AAAAAAAAAAAAAAAAAAAAAAA="] as [String?] {
            assertRefused(UpgradeRequests.request(key: key), .invalidKey)
        }
        XCTAssertEqual(WebSocketHandshakeRefusal.invalidKey.status, 400)
    }

    func testOnlyGETOverHTTP11() {
        assertRefused(UpgradeRequests.request(method: "POST"), .methodNotGet)
        assertRefused(UpgradeRequests.request(method: "get"), .methodNotGet)
        assertRefused(UpgradeRequests.request(target: "/x", method: "CONNECT"), .methodNotGet)
        assertRefused(UpgradeRequests.request(version: "HTTP/1.0"), .httpVersionTooOld)
        assertRefused(UpgradeRequests.request(method: "POST", version: "HTTP/1.0"), .methodNotGet)
        for version in ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.1"] {
            assertRefused(UpgradeRequests.request(version: version), .malformedRequest)
        }
    }

    // MARK: - Malformed requests

    func testMalformedRequestLines() {
        for line in [
            "GET / HTTP/1.1 ", " GET / HTTP/1.1", "GET\t/ HTTP/1.1", "GET /\tHTTP/1.1", "GET /", "GET / ", "GET", "GET / HTTP/1.1 extra", "GET / http/1.1",
            "GET / HTTP/01.1", "GET / HTTP/1.10", "GET x HTTP/1.1", "GET ?a HTTP/1.1", "GET #a HTTP/1.1", "GET http:/x HTTP/1.1",
            "GET h1://x HTTP/1.1", "GET http://x\"y/ HTTP/1.1", "GET http://x{y/ HTTP/1.1", "GET http://a#b HTTP/1.1",
            "GET http://a^b/ HTTP/1.1", "GET http://a|b/ HTTP/1.1", "GET http://a}b/ HTTP/1.1", "GET /\u{e9} HTTP/1.1", "G(T / HTTP/1.1",
        ] {
            assertRefused(line + "\r\nHost: h\r\n\r\n", .malformedRequest)
        }
        // Runs of spaces between the parts are accepted, as llhttp accepted them.
        XCTAssertNotNil(parse(Array(UpgradeRequests.request().replacingOccurrences(of: "GET / HTTP", with: "GET   /  HTTP").utf8)).result.request)
    }

    func testMalformedHeaderLines() {
        for header in [
            "Host : h", " Folded: x", "\tFolded: x", ": empty name", "NoColon", "Bad(Name): x", "Bad Name: x", "Name: a\u{7F}b",
            "Name: a\u{01}b", "Name: a\rb",
        ] {
            assertRefused(UpgradeRequests.request(header + "\r\n"), .malformedRequest)
        }
        // An obs-fold continuation line.
        assertRefused(UpgradeRequests.request("X-A: b\r\n  c\r\n"), .malformedRequest)
    }

    func testLineEndsMustBeCRLF() {
        assertRefused("GET / HTTP/1.1\nHost: h\n\n", .malformedRequest)
        assertRefused("GET / HTTP/1.1\r\nHost: h\n\r\n", .malformedRequest)
        assertRefused("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", .malformedRequest)
        assertRefused("GET / HTTP/1.1\r\nHost: h\r\n\rX", .malformedRequest)
    }

    func testMalformedBytesAreRefusedWithoutWaitingForTheHeadsEnd() {
        for prefix in [
            "G(", "GET\t", "GET x ", "GET ?", "GET h1", "GET http:/x", "GET /\u{7F}", "GET / HTTP/1.1 ", "GET / HTTQ", "GET / HTTP/x", "GET / HTTP/1.1\rX", "GET / HTTP/1.1\r\n ",
            "GET / HTTP/1.1\r\nSec-WebSoc=", "GET / HTTP/1.1\r\nA: b\u{1}", "GET / HTTP/1.1\r\nA: b\n", "GET / HTTP/1.1\r\n:", "GET / \r",
        ] {
            XCTAssertEqual(EngineFeed.handshake(Array(prefix.utf8)).result, .refused(.malformedRequest), prefix.debugDescription)
        }
        // Without a version, llhttp read on (HTTP/0.9) and the head was refused at its end.
        XCTAssertEqual(EngineFeed.handshake(Array("GET /\r\nHost: h\r\n".utf8)).result, .needMoreBytes)
        XCTAssertEqual(EngineFeed.handshake(Array("GET /x\nHost: h\r\n".utf8)).result, .needMoreBytes)
        assertRefused("GET /\r\nHost: h\r\n\r\n", .malformedRequest)
        assertRefused("GET /x\nHost: h\r\n\r\n", .malformedRequest)
        assertRefused("GET /x\n\r\n", .malformedRequest)
    }

    func testGarbageIsRefusedAtItsFirstBadByte() {
        // A TLS ClientHello: refused from its first byte, without waiting for more.
        XCTAssertEqual(EngineFeed.handshake([0x16, 0x03, 0x01]).result, .refused(.malformedRequest))
        XCTAssertEqual(EngineFeed.handshake([0x16]).result, .refused(.malformedRequest))
        XCTAssertEqual(EngineFeed.handshake(Array("GET / HTTP/1.1\n".utf8)).result, .refused(.malformedRequest))
        XCTAssertEqual(EngineFeed.handshake(Array("GET /\0".utf8)).result, .refused(.malformedRequest))
        XCTAssertTrue(WebSocketHandshakeRefusal.malformedRequest.isMalformedHTTP)
    }

    // MARK: - Size

    func testARequestLargerThanTheLimitIsRefused() {
        let request = Array(UpgradeRequests.request().utf8)
        XCTAssertNotNil(parse(request, maximumRequestBytes: request.count).result.request)
        XCTAssertEqual(parse(request, maximumRequestBytes: request.count - 1).result, .refused(.requestTooLarge))
        // Refused once the limit is reached without the head's end, not later.
        XCTAssertEqual(EngineFeed.handshake(Array(request.prefix(20)), maximumRequestBytes: 20).result, .refused(.requestTooLarge))
        XCTAssertEqual(EngineFeed.handshake(Array(request.prefix(19)), maximumRequestBytes: 20).result, .needMoreBytes)
        XCTAssertTrue(WebSocketHandshakeRefusal.requestTooLarge.isMalformedHTTP)
    }

    func testTheDefaultLimitIsSwiftNIOs() {
        XCTAssertEqual(WebSocketHandshakeParser.defaultMaximumRequestBytes, 80 * 1024)
        let padding = "X-Pad: " + String(repeating: "p", count: 80 * 1024) + "\r\n"
        XCTAssertEqual(EngineFeed.handshake(Array(UpgradeRequests.request(padding).utf8)).result, .refused(.requestTooLarge))
        let fits = "X-Pad: " + String(repeating: "p", count: 79 * 1024) + "\r\n"
        XCTAssertNotNil(EngineFeed.handshake(Array(UpgradeRequests.request(fits).utf8)).result.request)
    }

    func testScanningATrickledRequestReadsEachByteOnce() {
        // 80 KiB offered a byte more at a time: quadratic rescanning would take minutes.
        var parser = WebSocketHandshakeParser()
        let bytes = Array(UpgradeRequests.request("X-Pad: " + String(repeating: "p", count: 79 * 1024) + "\r\n").utf8)
        let start = Date()
        var result = WebSocketHandshakeParseResult.needMoreBytes
        bytes.withUnsafeBytes { all in
            for end in 1...all.count {
                result = parser.parse(UnsafeRawBufferPointer(rebasing: all[..<end]))
                if case .needMoreBytes = result { continue }
                XCTAssertEqual(end, all.count)
                break
            }
        }
        guard case .upgrade = result else { return XCTFail("\(result)") }
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
    }

    // MARK: - A body

    func testAContentLengthBodyIsSkipped() {
        let request = Array(UpgradeRequests.request("Content-Length: 5\r\n").utf8)
        let frame = ClientFrame.ping([1]).bytes
        let (result, rest) = parse(request + Array("hello".utf8) + frame)
        XCTAssertNotNil(result.request)
        XCTAssertEqual(rest, frame)
        XCTAssertEqual(EngineFeed.handshake(request + Array("hell".utf8)).result, .needMoreBytes)
        XCTAssertNotNil(parse(Array(UpgradeRequests.request("Content-Length: 0\r\n").utf8)).result.request)
        XCTAssertNotNil(parse(Array(UpgradeRequests.request("content-length: 00\r\n").utf8)).result.request)
        XCTAssertEqual(parse(Array(UpgradeRequests.request("Content-Length: 2  \r\n").utf8) + [1, 2]).rest, [])
    }

    func testABodyCountsAgainstTheLimit() {
        let request = Array(UpgradeRequests.request("Content-Length: 10\r\n").utf8)
        XCTAssertNotNil(EngineFeed.handshake(request + Array(repeating: 0, count: 10), maximumRequestBytes: request.count + 10).result.request)
        XCTAssertEqual(EngineFeed.handshake(request, maximumRequestBytes: request.count + 9).result, .refused(.requestTooLarge))
        XCTAssertEqual(
            EngineFeed.handshake(Array(UpgradeRequests.request("Content-Length: 99999999999999\r\n").utf8)).result, .refused(.requestTooLarge))
    }

    func testInvalidContentLengths() {
        for value in ["", "x", "+3", "-1", "1 2", "3\t", "0x10", "99999999999999999999999"] {
            assertRefused(UpgradeRequests.request("Content-Length: \(value)\r\n"), .invalidContentLength)
        }
        assertRefused(UpgradeRequests.request("Content-Length: 1\r\nContent-Length: 1\r\n"), .invalidContentLength)
    }

    func testTransferEncodings() {
        // A chunked body is refused rather than decoded (SwiftNIO read it and went on).
        assertRefused(UpgradeRequests.request("Transfer-Encoding: chunked\r\n"), .transferEncoding)
        assertRefused(UpgradeRequests.request("Transfer-Encoding: gzip\r\nTransfer-Encoding: Chunked \r\n"), .transferEncoding)
        // llhttp refused any other coding, except on an upgrade, which it gave no body.
        assertRefused(UpgradeRequests.request("Transfer-Encoding: gzip\r\n", upgrade: nil), .transferEncoding)
        assertRefused(UpgradeRequests.request("Transfer-Encoding: gzip\r\n", connection: "close"), .transferEncoding)
        assertRefused(UpgradeRequests.request("Transfer-Encoding: gzip\r\nContent-Length: 0\r\n"), .transferEncoding)
        let frame = ClientFrame.ping([]).bytes
        let (result, rest) = parse(Array(UpgradeRequests.request("transfer-encoding: gzip, chunked, br\r\n").utf8) + frame)
        XCTAssertNotNil(result.request)
        XCTAssertEqual(rest, frame)
        // What makes llhttp see an upgrade is any Upgrade header: the handler then says 426.
        assertRefused(UpgradeRequests.request("Transfer-Encoding: gzip\r\n", upgrade: "h2c"), .notAnUpgrade)
    }

    func testARefusedRequestIsAnsweredWithoutWaitingForItsBody() {
        XCTAssertEqual(EngineFeed.handshake(Array(UpgradeRequests.request("Content-Length: 50\r\n", method: "POST").utf8)).result, .refused(.methodNotGet))
    }
}
