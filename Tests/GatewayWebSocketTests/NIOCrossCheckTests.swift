import GatewayWebSocket
import XCTest

/// The same client bytes through the gateway's SwiftNIO pipeline (`NIOReferenceGateway`: the
/// real `GatewayServer`, `WebSocketHandshakeHandler` and `WebSocketConnectionHandler`) and
/// through this module's codecs (`CodecGateway`): the bytes written back (101 or refusal,
/// pongs, close frames), what the worker is told (the ON_WEBSOCKET_CONNECT body, each message)
/// and whether the connection is closed must all be equal.
final class NIOCrossCheckTests: XCTestCase {
    private static let handshake = Array(UpgradeRequests.chromium.utf8)

    @discardableResult
    private func assertSameSession(
        _ reads: [[UInt8]], maxMessageBytes: Int = 1024, verdict: Int = 0, reference: NIOReferenceGateway? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) -> ClientSession {
        let reference = reference ?? NIOReferenceGateway(maxMessageBytes: maxMessageBytes)
        let expected = reference.session(reads, verdict: verdict)
        let actual = CodecGateway.session(reads, maxMessageBytes: maxMessageBytes, verdict: verdict)
        XCTAssertEqual(actual.written, expected.written, "written: \(String(decoding: expected.written.prefix(60), as: UTF8.self).debugDescription)", file: file, line: line)
        XCTAssertEqual(actual.connectInfo, expected.connectInfo, "ON_WEBSOCKET_CONNECT body", file: file, line: line)
        XCTAssertEqual(actual.messages, expected.messages, "messages", file: file, line: line)
        XCTAssertEqual(actual.closed, expected.closed, "closed", file: file, line: line)
        return expected
    }

    // MARK: - Handshakes

    private func request(
        _ extra: String = "", target: String = "/", method: String = "GET", version: String = "HTTP/1.1",
        key: String? = "dGhlIHNhbXBsZSBub25jZQ==", webSocketVersion: String? = "13", upgrade: String? = "websocket",
        connection: String? = "Upgrade"
    ) -> String {
        UpgradeRequests.request(
            extra, target: target, method: method, version: version, key: key, webSocketVersion: webSocketVersion, upgrade: upgrade,
            connection: connection)
    }

    func testHandshakesAgree() {
        let reference = NIOReferenceGateway(maxMessageBytes: 1024)
        let requests = [
            UpgradeRequests.chromium, UpgradeRequests.firefox, request(""),
            "\r\n\r\n" + request(""),
            request("X-A:  \t spaced \t \r\nX-B:\r\nx-dup: 1\r\nX-DUP: 2\r\nCookie: a=1; b=2\r\n"),
            request(target: "/p?q=1&r[]=2#frag"), request(target: "*x"), request(target: "http://example.com:80/ws?a=b"),
            request(target: "http://a#b/c"), request(target: "http://a?x#y"), request(target: "http://a^b/"), request(target: "http://a]b/"),
            request(key: "  dGhlIHNhbXBsZSBub25jZQ==\t "),
            request(upgrade: "WebSocket", connection: "keep-alive, Upgrade"), request(connection: " close ,\tupgrade\t"),
            request(upgrade: nil), request(connection: "keep-alive"), request(upgrade: "websocket, h2c"),
            request(webSocketVersion: "8"), request(webSocketVersion: nil), request(webSocketVersion: "13 "),
            request(key: nil), request(key: "short"), request(key: "dGhlIHNhbXBsZSBub25jZQ"), request(key: "AAAAAAAAAAAAAAAAAAAAAAA="),
            request(key: "dGhlIHNhbXBsZSBub25jZQ==="),
            request(method: "POST"), request(method: "get"), request(version: "HTTP/1.0"), request(version: "HTTP/2.0"),
            request(version: "HTTP/1.2"), request("Content-Length: 0\r\n"), request("Content-Length: 3\r\n") + "abc",
            request("Content-Length: x\r\n"), request("Content-Length: 1\r\nContent-Length: 1\r\n") + "a",
            request("Transfer-Encoding: gzip\r\n"), request("Transfer-Encoding: gzip\r\n", upgrade: nil),
            request("Transfer-Encoding: gzip\r\n", upgrade: "h2c"), request("Transfer-Encoding: gzip\r\nContent-Length: 0\r\n"),
            "GET / HTTP/1.1\nHost: h\n\n", "GET / HTTP/1.1 \r\n\r\n", "GET x HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
            "GET / HTTP/1.1\r\n Folded: x\r\n\r\n", "GET / HTTP/1.1\r\nName: a\u{7F}b\r\n\r\n", "\u{16}\u{03}\u{01}\u{02}\u{00}",
            "GET /\r\nHost: h\r\n\r\n", "GET / \r\nHost: h\r\n\r\n", "GET\r\n\r\n", "GET /chat?x\r\nUpgrade: websocket\r\n",
            "GET /x\nHost: h\r\n", "GET /x\nHost: h\r\n\r\n", "GET /x\n\r\n", "\rGET / HTTP/1.1\r\nA: b\r\n\r\n",
            "GET   /   HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        ]
        for text in requests {
            let bytes = Array(text.utf8)
            assertSameSession([bytes], reference: reference)
            assertSameSession([Array(bytes.prefix(bytes.count / 2)), Array(bytes.dropFirst(bytes.count / 2))], reference: reference)
        }
        let obsText = Array(request().utf8.dropLast(2)) + Array("X-Name: caf".utf8) + [0xC3, 0xA9, 0xFF, 0x20] + Array("\r\n\r\n".utf8)
        assertSameSession([obsText], reference: reference)
    }

    func testVerdictRefusalsAgree() {
        let reference = NIOReferenceGateway(maxMessageBytes: 1024)
        for verdict in [400, 401, 403, 404, 429, 451, 499, 500, 503, 599] {
            assertSameSession([Self.handshake + ClientFrame.text("early").bytes], verdict: verdict, reference: reference)
        }
    }

    // MARK: - Frames

    func testFramesPipelinedBehindTheRequestAgree() {
        assertSameSession([Self.handshake + [ClientFrame.text("one"), .ping([1]), .binary([2])].bytes])
    }

    func testEveryRuleAgrees() {
        let reference = NIOReferenceGateway(maxMessageBytes: 16)
        let broken: [[ClientFrame]] = [
            [ClientFrame(opcode: 0x1, payload: [0x61], maskingKey: nil)],
            [ClientFrame(reservedBits: 4, opcode: 0x2)], [ClientFrame(opcode: 0x3)], [ClientFrame(opcode: 0xB)],
            [ClientFrame(opcode: 0x9, payload: Array(repeating: 0, count: 126))], [ClientFrame(fin: false, opcode: 0x9)],
            [.continuation([1], fin: true)], [.text("a", fin: false), .text("b")],
            [ClientFrame(opcode: 0x8, payload: [3])], [.close(code: 1005)], [.close(code: 1000, reason: [0xFF])],
            [.close(code: 1000, reason: Array("fine".utf8))], [ClientFrame(opcode: 0x8)], [.close(code: 3333)],
            [.binary(Array(repeating: 0, count: 17))], [.binary(Array(repeating: 0, count: 9), fin: false), .continuation(Array(repeating: 0, count: 8), fin: true)],
            [.binary(Array(repeating: 0, count: 9), fin: false), .continuation(Array(repeating: 0, count: 8), fin: false), .continuation([], fin: true)],
            [.binary(Array(repeating: 0, count: 9), fin: false), .continuation(Array(repeating: 0, count: 8), fin: true)],
            [ClientFrame(opcode: 0x1, payload: [0xC3])], [ClientFrame(fin: false, opcode: 0x1, payload: [0xC3]), .continuation([0xA9], fin: true)],
            [ClientFrame(fin: false, opcode: 0x1, payload: [0xC3]), .continuation([0x41], fin: true)],
            [ClientFrame(reservedBits: 1, opcode: 0x3, payload: Array(repeating: 0, count: 17), maskingKey: nil)],
            [ClientFrame(opcode: 0x2, announcedLength: UInt64.max)],
        ]
        for frames in broken {
            let bytes = frames.bytes + ClientFrame.text("after").bytes
            assertSameSession([Self.handshake, [ClientFrame.text("before").bytes, bytes].flatMap { $0 }], maxMessageBytes: 16, reference: reference)
        }
    }

    func testRandomStreamsAgree() {
        var random = SeededRandom(seed: 0xC0DEC)
        var messages = 0
        var closeCodes: Set<[UInt8]> = []
        for limit in [16, 125, 1024] {
            let reference = NIOReferenceGateway(maxMessageBytes: limit)
            for _ in 0..<60 {
                var stream = Self.handshake
                for _ in 0..<Int(random.next() % 12) { stream += RandomFrames.message(using: &random, limit: limit).bytes }
                if random.next() % 3 == 0 { stream += RandomFrames.brokenFrame(using: &random).bytes }
                if random.next() % 4 == 0 { stream += ClientFrame.close(code: 1000).bytes }
                stream += ClientFrame.text("tail").bytes
                let session = assertSameSession(RandomFrames.reads(of: stream, using: &random), maxMessageBytes: limit, reference: reference)
                messages += session.messages.count
                if let close = session.written.lastRange(of: [0x88, 0x02]) { closeCodes.insert(Array(session.written[close.upperBound...])) }
            }
        }
        // The streams went everywhere: many messages, and every kind of ending.
        XCTAssertGreaterThan(messages, 300)
        XCTAssertTrue(closeCodes.isSuperset(of: [[0x03, 0xE8], [0x03, 0xEA], [0x03, 0xEF], [0x03, 0xF1]]), "\(closeCodes)")
    }
}

/// Random client traffic for the cross-checks.
enum RandomFrames {
    /// A message, sometimes fragmented (cut anywhere, even inside a character), with control
    /// frames between its fragments; sometimes larger than `limit`.
    static func message(using random: inout SeededRandom, limit: Int) -> [ClientFrame] {
        let size = Int(random.next() % UInt64(limit + limit / 4 + 2))
        let binary = random.next() % 2 == 0
        let payload: [UInt8] = binary ? (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) } : text(bytes: size, using: &random)
        let key = (0..<4).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let opcode: UInt8 = binary ? 0x2 : 0x1
        guard random.next() % 3 == 0, payload.count > 1 else {
            return [ClientFrame(opcode: opcode, payload: payload, maskingKey: key)] + control(using: &random)
        }
        var cuts = (0..<Int(random.next() % 4 + 1)).map { _ in Int(random.next() % UInt64(payload.count)) }.sorted()
        cuts.append(payload.count)
        var frames: [ClientFrame] = []
        var start = 0
        for (index, cut) in cuts.enumerated() {
            let fin = index == cuts.count - 1
            frames.append(ClientFrame(fin: fin, opcode: index == 0 ? opcode : 0x0, payload: Array(payload[start..<max(start, cut)]), maskingKey: key))
            start = max(start, cut)
            if !fin { frames += control(using: &random) }
        }
        return frames
    }

    /// Valid UTF-8 of about `bytes` bytes, from ASCII to 4-byte characters.
    static func text(bytes: Int, using random: inout SeededRandom) -> [UInt8] {
        let characters = ["a", "Z", " ", "é", "ß", "€", "日", "😀", "\u{0}", "\u{7F}"].map { Array($0.utf8) }
        var out: [UInt8] = []
        while out.count < bytes { out += characters[Int(random.next() % UInt64(characters.count))] }
        return out
    }

    static func control(using random: inout SeededRandom) -> [ClientFrame] {
        switch random.next() % 4 {
        case 0: return [.ping((0..<Int(random.next() % 126)).map { UInt8(truncatingIfNeeded: $0) })]
        case 1: return [.pong(Array("beat".utf8))]
        default: return []
        }
    }

    /// One frame that breaks a rule.
    static func brokenFrame(using random: inout SeededRandom) -> [ClientFrame] {
        switch random.next() % 9 {
        case 0: return [ClientFrame(opcode: 0x1, payload: [0x61], maskingKey: nil)]
        case 1: return [ClientFrame(reservedBits: UInt8(random.next() % 7 + 1), opcode: 0x2)]
        case 2: return [ClientFrame(opcode: UInt8([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF][Int(random.next() % 10)]))]
        case 3: return [ClientFrame(fin: false, opcode: 0x9)]
        case 4: return [.continuation([1], fin: true)]
        case 5: return [.close(code: UInt16(truncatingIfNeeded: random.next()))]
        case 6: return [ClientFrame(opcode: 0x1, payload: [0xED, 0xA0, 0x80])]
        case 7: return [.text("open", fin: false), .binary([1])]
        default: return [ClientFrame(opcode: 0x8, payload: [1])]
        }
    }

    /// `stream` cut into 1 to 5 reads.
    static func reads(of stream: [UInt8], using random: inout SeededRandom) -> [[UInt8]] {
        let cuts = (0..<Int(random.next() % 5)).map { _ in Int(random.next() % UInt64(stream.count)) }.sorted()
        return EngineFeed.pieces(of: stream, cuts: cuts).map(Array.init)
    }
}
