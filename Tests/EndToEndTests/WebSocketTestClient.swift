import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small, blocking RFC 6455 client over a plain POSIX TCP socket, for end-to-end tests.
///
/// It speaks the protocol on purpose without NIO or Foundation networking, so the tests do
/// not share code (or bugs) with the server: the upgrade is checked byte by byte
/// (`Sec-WebSocket-Accept` included), every client frame is masked with a fresh random key,
/// and server frames are checked for masking, RSV bits, control-frame limits, fragmentation
/// order and UTF-8. Every wait is a deadline on `poll(2)`.
///
/// permessage-deflate only when a test offers it (a `Sec-WebSocket-Extensions` request
/// header): then RSV1 marks a compressed message, which is inflated with zlib before it is
/// returned (as the server agreed, without context takeover).
///
/// Not thread-safe: one test thread owns one client.
final class WebSocketTestClient {
    /// A frame opcode (RFC 6455 §5.2).
    enum Opcode: UInt8 {
        case continuation = 0x0
        case text = 0x1
        case binary = 0x2
        case close = 0x8
        case ping = 0x9
        case pong = 0xA

        var isControl: Bool { rawValue & 0x8 != 0 }
    }

    /// What ``receive(timeout:)`` hands back: one whole message (fragments joined), a control
    /// frame, or the end of the connection.
    enum Frame: Equatable, CustomStringConvertible {
        case text(String)
        case binary([UInt8])
        /// Only when ``answersPings`` is false; otherwise pings are answered and skipped.
        case ping([UInt8])
        case pong([UInt8])
        /// The server sent a close frame; `code` is nil when its payload was empty.
        case closed(code: UInt16?, reason: String)
        /// The TCP stream ended (EOF or reset) without a close frame, or after one.
        case endOfStream

        /// True for both ways a connection can end.
        var isConnectionEnd: Bool {
            switch self {
            case .closed, .endOfStream: return true
            default: return false
            }
        }

        var description: String {
            switch self {
            case .text(let text):
                let shown = text.count > 200 ? "\(text.prefix(200))… (\(text.utf8.count) bytes)" : text
                return "text \"\(shown)\""
            case .binary(let bytes): return "binary \(Self.hex(bytes))"
            case .ping(let bytes): return "ping \(Self.hex(bytes))"
            case .pong(let bytes): return "pong \(Self.hex(bytes))"
            case .closed(let code, let reason):
                return "close frame (code \(code.map(String.init) ?? "none"), reason \"\(reason)\")"
            case .endOfStream: return "end of stream"
            }
        }

        private static func hex(_ bytes: [UInt8]) -> String {
            let shown = bytes.prefix(64).map { String(format: "%02x", $0) }.joined()
            return bytes.count > 64 ? "\(shown)… (\(bytes.count) bytes)" : "[\(shown)]"
        }
    }

    /// The GUID of RFC 6455 §1.3, appended to the key before hashing.
    static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The server's `101` answer.
    let handshakeResponse: HTTPResponseHead
    /// When true (the default), a ping is answered with a pong carrying the same payload and
    /// is not returned by ``receive(timeout:)``.
    var answersPings = true

    private var socket: Int32
    /// wss://: the session over `socket`, which every read and write then goes through.
    let tls: TLSClientSession?
    /// The rest of a frame ``flood(_:stall:limit:)`` could not finish.
    private var unsentOutput: [UInt8] = []
    private var buffer: [UInt8]
    private var readOffset = 0
    private var reachedEnd = false
    private var closeSent = false
    private var fragmentOpcode: Opcode?
    private var fragmentPayload: [UInt8] = []
    private var fragmentCompressed = false
    /// The server's `Sec-WebSocket-Extensions` answer, when the test offered one.
    let extensions: String?
    /// Messages that arrived compressed (RSV1), and the last one's bytes as sent.
    private(set) var compressedMessagesReceived = 0
    private(set) var lastCompressedPayload: [UInt8] = []

    private init(socket: Int32, tls: TLSClientSession?, handshakeResponse: HTTPResponseHead, leftover: [UInt8]) {
        self.socket = socket
        self.tls = tls
        self.handshakeResponse = handshakeResponse
        self.buffer = leftover
        self.extensions = handshakeResponse.header("Sec-WebSocket-Extensions")
    }

    deinit { close() }

    // MARK: - Connecting

    /// Opens a TCP connection and performs the WebSocket upgrade.
    ///
    /// - Parameters:
    ///   - host: a name or address; the tests use `127.0.0.1`.
    ///   - path: the request target without the query.
    ///   - query: the query string without `?`, or nil for none.
    ///   - headers: extra request headers, sent after the standard ones.
    ///   - timeout: for connecting and reading the answer.
    /// - Throws: ``WebSocketTestClientError/handshakeRefused(_:)`` with the whole response
    ///   head when the server answers anything but `101`.
    static func connect(
        host: String = "127.0.0.1", port: Int, path: String = "/", query: String? = nil,
        headers: [(String, String)] = [], tls: Bool = false, timeout: Duration = .seconds(10)
    ) throws -> WebSocketTestClient {
        let deadline = Deadline(timeout)
        let socket = try openSocket(host: host, port: port, deadline: deadline)
        var handedOver = false
        defer { if !handedOver { _ = Glibc.close(socket) } }
        let session = tls ? try TLSClientSession(fd: socket, serverName: host, deadline: deadline) : nil

        var keyBytes = [UInt8](repeating: 0, count: 16)
        for i in keyBytes.indices { keyBytes[i] = UInt8.random(in: 0...255) }
        let key = Data(keyBytes).base64EncodedString()
        let target = query.map { "\(path)?\($0)" } ?? path
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var request = "GET \(target) HTTP/1.1\r\n"
        request += "Host: \(hostHeader)\r\n"
        request += "Upgrade: websocket\r\n"
        request += "Connection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: \(key)\r\n"
        request += "Sec-WebSocket-Version: 13\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try writeAll(socket: socket, tls: session, bytes: Array(request.utf8), deadline: deadline)

        let (head, leftover) = try readResponseHead(socket: socket, tls: session, deadline: deadline)
        guard head.statusCode == 101 else {
            throw WebSocketTestClientError.handshakeRefused(head)
        }
        guard let upgrade = head.header("Upgrade"), upgrade.lowercased() == "websocket" else {
            throw WebSocketTestClientError.handshakeInvalid("Upgrade is not \"websocket\"", head)
        }
        let connectionTokens = (head.header("Connection") ?? "").lowercased()
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard connectionTokens.contains("upgrade") else {
            throw WebSocketTestClientError.handshakeInvalid("Connection does not contain \"Upgrade\"", head)
        }
        let expectedAccept = Data(SHA1.hash(Array((key + acceptGUID).utf8))).base64EncodedString()
        guard head.header("Sec-WebSocket-Accept") == expectedAccept else {
            throw WebSocketTestClientError.handshakeInvalid(
                "Sec-WebSocket-Accept is not \(expectedAccept) (key \(key))", head)
        }
        let offered = headers.contains { $0.0.lowercased() == "sec-websocket-extensions" }
        if let extensions = head.header("Sec-WebSocket-Extensions"), !offered || !extensions.hasPrefix("permessage-deflate") {
            throw WebSocketTestClientError.handshakeInvalid("unrequested extensions \(extensions)", head)
        }
        if let proto = head.header("Sec-WebSocket-Protocol") {
            throw WebSocketTestClientError.handshakeInvalid("unrequested subprotocol \(proto)", head)
        }
        handedOver = true
        return WebSocketTestClient(socket: socket, tls: session, handshakeResponse: head, leftover: leftover)
    }

    /// Closes the socket without a close handshake. Idempotent.
    func close() {
        if socket >= 0 {
            _ = Glibc.close(socket)
            socket = -1
        }
    }

    // MARK: - Sending

    func sendText(_ text: String, timeout: Duration = .seconds(10)) throws {
        try sendFrame(opcode: .text, payload: Array(text.utf8), timeout: timeout)
    }

    func sendBinary(_ bytes: [UInt8], timeout: Duration = .seconds(10)) throws {
        try sendFrame(opcode: .binary, payload: bytes, timeout: timeout)
    }

    func sendPing(_ payload: [UInt8] = []) throws {
        try sendFrame(opcode: .ping, payload: payload)
    }

    /// Starts the closing handshake; the server should answer with its own close frame.
    /// - Parameter code: the status code, or nil for an empty close payload.
    func sendClose(code: UInt16? = 1000, reason: String = "") throws {
        var payload: [UInt8] = []
        if let code { payload = [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8) }
        closeSent = true
        try sendFrame(opcode: .close, payload: payload)
    }

    /// Sends one frame exactly as asked: with `fin` false and `.continuation` a test builds a
    /// fragmented message; `masked` false produces a frame a server must refuse.
    /// `rsv1` marks a permessage-deflate message: `payload` is then sent as given (compress
    /// it with ``deflate(_:)``), or is whatever a test wants the server to try to inflate.
    func sendFrame(
        opcode: Opcode, payload: [UInt8], fin: Bool = true, masked: Bool = true, rsv1: Bool = false,
        timeout: Duration = .seconds(10)
    ) throws {
        guard socket >= 0 else { throw WebSocketTestClientError.io("send on a closed client") }
        var frame = Self.encodeFrame(opcode: opcode, payload: payload, fin: fin, masked: masked)
        if rsv1 { frame[0] |= 0x40 }
        try Self.writeAll(socket: socket, tls: tls, bytes: unsentOutput + frame, deadline: Deadline(timeout))
        unsentOutput = []
    }

    /// Sends the same text message over and over without reading, until the server stops
    /// taking bytes for `stall` (its back-pressure reached this socket) or `limit` bytes went
    /// out. Returns the bytes sent. What remains of a frame cut short goes out first on the
    /// next send, so the stream stays well formed.
    func flood(_ text: String, stall: Duration, limit: Int) throws -> Int {
        let frame = Self.encodeFrame(opcode: .text, payload: Array(text.utf8), fin: true, masked: true)
        var sent = 0
        var pending = unsentOutput
        unsentOutput = []
        while sent < limit {
            if pending.isEmpty { pending = frame }
            let n = pending.withUnsafeBytes { Self.transmit(socket: socket, tls: tls, $0.baseAddress!, count: pending.count) }
            if n > 0 {
                sent += n
                pending.removeFirst(n)
                continue
            }
            guard n < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                throw WebSocketTestClientError.io("send: \(String(cString: strerror(errno)))")
            }
            var pfd = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
            if poll(&pfd, 1, Deadline(stall).remainingMilliseconds()) == 0 { break }
        }
        unsentOutput = pending
        return sent
    }

    static func encodeFrame(opcode: Opcode, payload: [UInt8], fin: Bool, masked: Bool) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(payload.count + 14)
        frame.append((fin ? 0x80 : 0) | opcode.rawValue)
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch payload.count {
        case 0..<126:
            frame.append(maskBit | UInt8(payload.count))
        case 126...0xFFFF:
            frame.append(maskBit | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            frame.append(maskBit | 127)
            let length = UInt64(payload.count)
            for shift in stride(from: 56, through: 0, by: -8) {
                frame.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
            }
        }
        if masked {
            let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
            frame += mask
            for (i, byte) in payload.enumerated() { frame.append(byte ^ mask[i & 3]) }
        } else {
            frame += payload
        }
        return frame
    }

    // MARK: - Receiving

    /// The next message or control frame, waiting at most `timeout`.
    ///
    /// Fragments are joined into one `.text`/`.binary`; pings are answered (see
    /// ``answersPings``); a server close frame is answered with a close frame (unless this
    /// client already sent one) and returned as `.closed`; EOF is `.endOfStream`, also on
    /// every later call.
    func receive(timeout: Duration = .seconds(10)) throws -> Frame {
        let deadline = Deadline(timeout)
        while true {
            if let frame = try nextFrameFromBuffer() { return frame }
            if reachedEnd { return .endOfStream }
            try fill(deadline: deadline, waitingFor: "a WebSocket frame within \(timeout)")
        }
    }

    /// The next message, which must be a text message; pongs are skipped.
    func receiveText(
        timeout: Duration = .seconds(10), file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        let frame = try receiveSkippingPongs(timeout: timeout, file: file, line: line)
        guard case .text(let text) = frame else {
            throw WebSocketTestClientError.unexpectedFrame(
                expected: "a text message", received: frame.description, location: Self.location(file, line))
        }
        return text
    }

    /// Asserts that the next message is the text `expected` (pongs are skipped).
    func expectText(
        _ expected: String, timeout: Duration = .seconds(10),
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let frame = try receiveSkippingPongs(timeout: timeout, file: file, line: line)
        guard frame == .text(expected) else {
            throw WebSocketTestClientError.unexpectedFrame(
                expected: Frame.text(expected).description, received: frame.description,
                location: Self.location(file, line))
        }
    }

    /// Asserts that no message arrives within `interval`. Use sparingly: a positive
    /// assertion (an echo that must come next) is faster and cannot pass by being too quick.
    func expectNoMessage(
        within interval: Duration, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let deadline = Deadline(interval)
        while !deadline.hasPassed {
            let frame: Frame
            do {
                frame = try receive(timeout: deadline.instant - ContinuousClock.now)
            } catch WebSocketTestClientError.timedOut {
                return
            }
            if case .pong = frame { continue }
            throw WebSocketTestClientError.unexpectedFrame(
                expected: "no message within \(interval)", received: frame.description,
                location: Self.location(file, line))
        }
    }

    private func receiveSkippingPongs(timeout: Duration, file: StaticString, line: UInt) throws -> Frame {
        let deadline = Deadline(timeout)
        while true {
            let frame: Frame
            do {
                frame = try receive(timeout: max(.zero, deadline.instant - ContinuousClock.now))
            } catch WebSocketTestClientError.timedOut(let what) {
                throw WebSocketTestClientError.timedOut("\(Self.location(file, line)): \(what)")
            }
            if case .pong = frame { continue }
            return frame
        }
    }

    private static func location(_ file: StaticString, _ line: UInt) -> String {
        "\(String(describing: file).split(separator: "/").last ?? ""):\(line)"
    }

    /// Parses frames already buffered; returns nil when more bytes are needed.
    private func nextFrameFromBuffer() throws -> Frame? {
        while true {
            let available = buffer.count - readOffset
            guard available >= 2 else { return nil }
            let b0 = buffer[readOffset]
            let b1 = buffer[readOffset + 1]
            let fin = b0 & 0x80 != 0
            let compressed = b0 & 0x40 != 0
            let isFirstDataFrame = b0 & 0x0F == Opcode.text.rawValue || b0 & 0x0F == Opcode.binary.rawValue
            guard b0 & 0x30 == 0, !compressed || (extensions != nil && isFirstDataFrame) else {
                throw WebSocketTestClientError.protocolViolation("RSV bits set without an extension (0x\(String(b0, radix: 16)))")
            }
            guard let opcode = Opcode(rawValue: b0 & 0x0F) else {
                throw WebSocketTestClientError.protocolViolation("reserved opcode 0x\(String(b0 & 0x0F, radix: 16))")
            }
            guard b1 & 0x80 == 0 else {
                throw WebSocketTestClientError.protocolViolation("the server masked a frame")
            }
            var headerLength = 2
            var length = UInt64(b1 & 0x7F)
            if length == 126 {
                guard available >= 4 else { return nil }
                length = UInt64(buffer[readOffset + 2]) << 8 | UInt64(buffer[readOffset + 3])
                headerLength = 4
                if length < 126 { throw WebSocketTestClientError.protocolViolation("non-minimal 16-bit length \(length)") }
            } else if length == 127 {
                guard available >= 10 else { return nil }
                length = 0
                for i in 0..<8 { length = length << 8 | UInt64(buffer[readOffset + 2 + i]) }
                headerLength = 10
                if length <= 0xFFFF || length >> 63 != 0 {
                    throw WebSocketTestClientError.protocolViolation("bad 64-bit length \(length)")
                }
            }
            if opcode.isControl {
                guard fin else { throw WebSocketTestClientError.protocolViolation("fragmented control frame \(opcode)") }
                guard length <= 125 else { throw WebSocketTestClientError.protocolViolation("control frame of \(length) bytes") }
            }
            guard UInt64(available - headerLength) >= length else { return nil }
            let start = readOffset + headerLength
            let payload = Array(buffer[start..<(start + Int(length))])
            readOffset = start + Int(length)
            if readOffset == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                readOffset = 0
            }

            switch opcode {
            case .ping:
                if answersPings {
                    try? sendFrame(opcode: .pong, payload: payload)
                    continue
                }
                return .ping(payload)
            case .pong:
                return .pong(payload)
            case .close:
                var code: UInt16?
                var reason = ""
                if payload.count == 1 { throw WebSocketTestClientError.protocolViolation("close payload of 1 byte") }
                if payload.count >= 2 {
                    code = UInt16(payload[0]) << 8 | UInt16(payload[1])
                    guard let text = String(validating: payload[2...], as: UTF8.self) else {
                        throw WebSocketTestClientError.protocolViolation("close reason is not UTF-8")
                    }
                    reason = text
                }
                if !closeSent {
                    closeSent = true
                    let answer = code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } ?? []
                    try? sendFrame(opcode: .close, payload: answer)
                }
                return .closed(code: code, reason: reason)
            case .text, .binary:
                guard fragmentOpcode == nil else {
                    throw WebSocketTestClientError.protocolViolation("new \(opcode) frame inside a fragmented message")
                }
                if fin { return try message(opcode, payload, compressed: compressed) }
                fragmentOpcode = opcode
                fragmentPayload = payload
                fragmentCompressed = compressed
            case .continuation:
                guard let first = fragmentOpcode else {
                    throw WebSocketTestClientError.protocolViolation("continuation frame without a message")
                }
                fragmentPayload += payload
                if fin {
                    let whole = fragmentPayload
                    fragmentOpcode = nil
                    fragmentPayload = []
                    return try message(first, whole, compressed: fragmentCompressed)
                }
            }
        }
    }

    private func message(_ opcode: Opcode, _ received: [UInt8], compressed: Bool) throws -> Frame {
        var payload = received
        if compressed {
            compressedMessagesReceived += 1
            lastCompressedPayload = received
            payload = try Self.inflate(received)
        }
        if opcode == .binary { return .binary(payload) }
        guard let text = String(validating: payload, as: UTF8.self) else {
            throw WebSocketTestClientError.protocolViolation("text message is not valid UTF-8")
        }
        return .text(text)
    }

    // MARK: - permessage-deflate

    /// `bytes` as one permessage-deflate message: raw deflate, sync flush, its 00 00 FF FF
    /// tail removed (RFC 7692 §7.2.1).
    static func deflate(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        precondition(gwd_deflate_init_raw(&stream, level, 15, 8, Z_DEFAULT_STRATEGY) == Z_OK)
        defer { deflateEnd(&stream) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        let produced = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                precondition(CZlib.deflate(&stream, Z_SYNC_FLUSH) == Z_OK)
                return outputBuffer.count - Int(stream.avail_out)
            }
        }
        precondition(Array(output[(produced - 4)..<produced]) == [0, 0, 0xFF, 0xFF])
        return Array(output[..<(produced - 4)])
    }

    /// A permessage-deflate message inflated on its own (the server agreed to no context
    /// takeover); a protocol violation when zlib refuses it.
    static func inflate(_ compressed: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        precondition(gwd_inflate_init_raw(&stream, 15) == Z_OK)
        defer { inflateEnd(&stream) }
        var input = compressed + [0, 0, 0xFF, 0xFF]
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        try input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { outputBuffer in
                    stream.next_out = outputBuffer.baseAddress
                    stream.avail_out = uInt(outputBuffer.count)
                    let status = CZlib.inflate(&stream, Z_SYNC_FLUSH)
                    return (status, outputBuffer.count - Int(stream.avail_out))
                }
                result += chunk[..<produced]
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw WebSocketTestClientError.protocolViolation("a compressed message does not inflate (zlib \(status))")
                }
                if status == Z_STREAM_END || (stream.avail_in == 0 && stream.avail_out > 0) { return }
            }
        }
        return result
    }

    /// Reads what is available, waiting until `deadline`; sets `reachedEnd` on EOF/reset.
    private func fill(deadline: Deadline, waitingFor what: String) throws {
        guard socket >= 0 else { reachedEnd = true; return }
        guard try Self.waitReadable(socket: socket, tls: tls, deadline: deadline) else {
            throw WebSocketTestClientError.timedOut(what)
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { Self.receive(socket: socket, tls: tls, $0.baseAddress!, count: $0.count) }
        if n > 0 {
            buffer += chunk[0..<n]
        } else if n == 0 {
            reachedEnd = true
        } else {
            switch errno {
            case EAGAIN, EWOULDBLOCK, EINTR: return
            case ECONNRESET, EPIPE: reachedEnd = true
            case let code: throw WebSocketTestClientError.io("recv: \(String(cString: strerror(code)))")
            }
        }
    }

    // MARK: - Socket plumbing

    static func openSocket(host: String, port: Int, deadline: Deadline) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw WebSocketTestClientError.connectFailed("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }

        var lastError = "no address for \(host)"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = Glibc.socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = "socket: \(String(cString: strerror(errno)))"; continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            guard errno == EINPROGRESS else {
                lastError = "connect to \(host):\(port): \(String(cString: strerror(errno)))"
                _ = Glibc.close(fd)
                continue
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pfd, 1, deadline.remainingMilliseconds())
            var soError: Int32 = 0
            var soLength = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &soLength)
            if ready == 1 && soError == 0 { return fd }
            lastError = ready == 1
                ? "connect to \(host):\(port): \(String(cString: strerror(soError)))"
                : "connect to \(host):\(port): no answer before the deadline"
            _ = Glibc.close(fd)
        }
        throw WebSocketTestClientError.connectFailed(lastError)
    }

    /// send(2) without blocking, or through the TLS session.
    private static func transmit(socket: Int32, tls: TLSClientSession?, _ bytes: UnsafeRawPointer, count: Int) -> Int {
        tls?.send(bytes, count: count) ?? send(socket, bytes, count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
    }

    /// recv(2), or through the TLS session.
    private static func receive(socket: Int32, tls: TLSClientSession?, _ buffer: UnsafeMutableRawPointer, count: Int) -> Int {
        tls?.receive(buffer, count: count) ?? recv(socket, buffer, count, 0)
    }

    /// Waits for readability (at once when TLS holds decrypted bytes); false when the
    /// deadline passed first.
    static func waitReadable(socket: Int32, tls: TLSClientSession? = nil, deadline: Deadline) throws -> Bool {
        if tls?.hasBufferedInput == true { return true }
        while true {
            let wait = deadline.remainingMilliseconds()
            guard wait > 0 else { return false }
            var pfd = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, wait)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR {
                throw WebSocketTestClientError.io("poll: \(String(cString: strerror(errno)))")
            }
        }
    }

    static func writeAll(socket: Int32, tls: TLSClientSession? = nil, bytes: [UInt8], deadline: Deadline) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { transmit(socket: socket, tls: tls, $0.baseAddress! + written, count: bytes.count - written) }
            if n > 0 { written += n; continue }
            guard n < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                throw WebSocketTestClientError.io("send: \(String(cString: strerror(errno)))")
            }
            var pfd = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
            let wait = deadline.remainingMilliseconds()
            guard wait > 0, poll(&pfd, 1, wait) >= 0 else {
                throw WebSocketTestClientError.timedOut("sending \(bytes.count) bytes (\(written) written)")
            }
        }
    }

    /// Reads up to the blank line that ends the response head; returns the head and any bytes
    /// after it (the first frames, or the start of an error body).
    private static func readResponseHead(socket: Int32, tls: TLSClientSession?, deadline: Deadline) throws -> (HTTPResponseHead, [UInt8]) {
        var received: [UInt8] = []
        let terminator: [UInt8] = [13, 10, 13, 10]
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = firstIndex(of: terminator, in: received) {
                let headText = String(decoding: received[0..<end], as: UTF8.self)
                var lines = headText.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst()
                var headers: [(name: String, value: String)] = []
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else {
                        throw WebSocketTestClientError.handshakeInvalid("malformed header line \"\(line)\"", nil)
                    }
                    headers.append((String(line[..<colon]),
                                    line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
                }
                let rest = Array(received[(end + 4)...])
                return (HTTPResponseHead(statusLine: statusLine, headers: headers, body: rest), rest)
            }
            guard received.count < 65536 else {
                throw WebSocketTestClientError.handshakeInvalid("response head larger than 64 KiB", nil)
            }
            guard try waitReadable(socket: socket, tls: tls, deadline: deadline) else {
                throw WebSocketTestClientError.timedOut(
                    "the upgrade response (received so far: \(String(decoding: received, as: UTF8.self).debugDescription))")
            }
            let n = chunk.withUnsafeMutableBytes { receive(socket: socket, tls: tls, $0.baseAddress!, count: $0.count) }
            if n > 0 {
                received += chunk[0..<n]
            } else if n == 0 || errno == ECONNRESET {
                throw WebSocketTestClientError.handshakeInvalid(
                    "connection closed before the response head ended (received \(String(decoding: received, as: UTF8.self).debugDescription))",
                    nil)
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                throw WebSocketTestClientError.io("recv: \(String(cString: strerror(errno)))")
            }
        }
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }
}
