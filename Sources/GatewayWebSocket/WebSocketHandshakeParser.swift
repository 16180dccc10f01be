import Foundation

/// What the bytes a client sent so far say about its upgrade request.
public enum WebSocketHandshakeParseResult: Sendable {
    /// No whole request yet; offer the same bytes again with more behind them.
    case needMoreBytes
    /// Send the refusal's `response` and close (the SwiftNIO path counted those with
    /// `isMalformedHTTP` as malformed handshakes).
    case refused(WebSocketHandshakeRefusal)
    /// A valid upgrade request. The first `consumed` bytes were the request (head and any
    /// Content-Length body, which is skipped); the bytes after them are already WebSocket
    /// frames, pipelined by the client, for `WebSocketFrameDecoder` once the 101 is sent.
    case upgrade(WebSocketUpgradeRequest, consumed: Int)
}

/// Reads a client's HTTP/1.1 upgrade request from raw bytes and applies the checks the SwiftNIO
/// handshake handler made, in its order: GET and HTTP/1.1 (else 400), `Upgrade: websocket` and
/// a Connection `upgrade` token (else 426 asking for it), Sec-WebSocket-Version 13 (else 426
/// naming it), and a Sec-WebSocket-Key that is the base64 of 16 bytes (else 400).
///
/// One parser per connection, for one request. Offer it the connection's unconsumed bytes each
/// time more arrive (the same bytes first, the new ones behind them): it scans each byte once
/// and parses the head once, when its empty line is in.
public struct WebSocketHandshakeParser {
    /// SwiftNIO's HTTP decoder limit, which the gateway used: 80 KiB.
    public static let defaultMaximumRequestBytes = 80 * 1024

    /// The largest request accepted: any empty lines before it, the head, and a body.
    public let maximumRequestBytes: Int
    private var scanner = RequestHeadScanner()
    /// A request already accepted whose Content-Length body is still arriving.
    private var awaitingBody: (request: WebSocketUpgradeRequest, end: Int)?

    public init(maximumRequestBytes: Int = Self.defaultMaximumRequestBytes) {
        self.maximumRequestBytes = maximumRequestBytes
    }

    /// `bytes` must begin with the bytes of every earlier call. After `.refused` or
    /// `.upgrade` the parser's work is done.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> WebSocketHandshakeParseResult {
        if let (request, end) = awaitingBody {
            return bytes.count >= end ? .upgrade(request, consumed: end) : .needMoreBytes
        }
        switch scanner.scan(UnsafeRawBufferPointer(rebasing: bytes.prefix(maximumRequestBytes))) {
        case .malformed:
            return .refused(.malformedRequest)
        case .incomplete:
            return bytes.count >= maximumRequestBytes ? .refused(.requestTooLarge) : .needMoreBytes
        case .complete(let head):
            do {
                return try upgrade(head: head, in: bytes)
            } catch {
                return .refused(error)
            }
        }
    }

    private mutating func upgrade(
        head: Range<Int>, in bytes: UnsafeRawBufferPointer
    ) throws(WebSocketHandshakeRefusal) -> WebSocketHandshakeParseResult {
        guard let parsed = HTTPRequestHead(UnsafeRawBufferPointer(rebasing: bytes[head])) else { throw .malformedRequest }
        let bodyLength = try Self.bodyLength(of: parsed)
        // Refused requests are answered at once: no body of theirs is worth waiting for.
        let request = try Self.upgradeRequest(parsed)
        guard bodyLength <= maximumRequestBytes - head.upperBound else { throw .requestTooLarge }
        let end = head.upperBound + bodyLength
        guard bytes.count >= end else {
            awaitingBody = (request, end)
            return .needMoreBytes
        }
        return .upgrade(request, consumed: end)
    }

    /// The Content-Length body, skipped as SwiftNIO skipped it. A Transfer-Encoding is taken
    /// only where llhttp read no body for it (an upgrade, not chunked); chunked bodies are
    /// refused rather than decoded, as no WebSocket client sends one.
    private static func bodyLength(of head: HTTPRequestHead) throws(WebSocketHandshakeRefusal) -> Int {
        let lengths = values(of: "content-length", in: head)
        let codings = values(of: "transfer-encoding", in: head).flatMap(commaSeparatedTokens)
        if !codings.isEmpty {
            guard lengths.isEmpty, codings.last != "chunked", isUpgradeForLLHTTP(head) else { throw .transferEncoding }
            return 0
        }
        guard let value = lengths.first else { return 0 }
        // llhttp: digits, then spaces at most; a second Content-Length is an error even if equal.
        let digits = value.utf8.reversed().drop { $0 == UInt8(ascii: " ") }.reversed()
        guard lengths.count == 1, !digits.isEmpty, let length = Int(String(decoding: digits, as: UTF8.self)),
            digits.allSatisfy(HTTPSyntax.isDigit)
        else { throw .invalidContentLength }
        return length
    }

    /// llhttp's own idea of an upgrade (any Upgrade header and a Connection `upgrade` token),
    /// after which it read no body unless one was announced.
    private static func isUpgradeForLLHTTP(_ head: HTTPRequestHead) -> Bool {
        !values(of: "upgrade", in: head).isEmpty && values(of: "connection", in: head).flatMap(commaSeparatedTokens).contains("upgrade")
    }

    /// The SwiftNIO handler's checks, in its order.
    private static func upgradeRequest(_ head: HTTPRequestHead) throws(WebSocketHandshakeRefusal) -> WebSocketUpgradeRequest {
        switch (head.versionMajor, head.versionMinor) {
        case (1, 1): break
        case (1, 0): throw head.method == "GET" ? .httpVersionTooOld : .methodNotGet
        default: throw .malformedRequest  // llhttp knows only 0.9, 1.0, 1.1 and 2.0; NIO refuses all but 1.x
        }
        guard head.method == "GET" else { throw .methodNotGet }
        let connectionTokens = values(of: "connection", in: head).flatMap(commaSeparatedTokens)
        guard values(of: "upgrade", in: head).contains(where: { $0.lowercased() == "websocket" }), connectionTokens.contains("upgrade") else {
            throw .notAnUpgrade
        }
        guard values(of: "sec-websocket-version", in: head).first == "13" else { throw .unsupportedWebSocketVersion }
        guard let key = values(of: "sec-websocket-key", in: head).first?.trimmingCharacters(in: .whitespaces),
            let decodedKey = Data(base64Encoded: key), decodedKey.count == 16
        else { throw .invalidKey }
        return WebSocketUpgradeRequest(method: head.method, uri: head.target, httpVersion: "HTTP/1.1", headers: head.headers, key: key)
    }

    private static func values(of lowercaseName: String, in head: HTTPRequestHead) -> [String] {
        HTTPSyntax.values(of: lowercaseName, in: head.headers)
    }

    /// A list-valued header's elements as SwiftNIO's `headers[canonicalForm:]` split them
    /// (at commas, spaces and tabs trimmed), lowercased as the handshake handler compared them.
    private static func commaSeparatedTokens(_ value: String) -> [String] {
        value.split(separator: ",").map { element in
            let utf8 = element.utf8
            guard let first = utf8.firstIndex(where: { !HTTPSyntax.isWhitespace($0) }) else { return "" }
            let last = utf8.lastIndex(where: { !HTTPSyntax.isWhitespace($0) })!
            return String(Substring(utf8[first...last])).lowercased()
        }
    }
}
