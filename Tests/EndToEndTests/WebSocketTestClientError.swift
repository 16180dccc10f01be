/// Why a ``WebSocketTestClient`` call failed. Each case says enough to debug a red test
/// without a packet capture; `location` is the test line that asked, where there is one.
enum WebSocketTestClientError: Error, CustomStringConvertible {
    /// The host name did not resolve or the TCP connection failed.
    case connectFailed(String)
    /// The server answered the upgrade with something other than `101`.
    case handshakeRefused(HTTPResponseHead)
    /// The server said `101` but the answer is not a valid RFC 6455 upgrade.
    case handshakeInvalid(String, HTTPResponseHead?)
    /// Nothing (or not enough) arrived before the deadline.
    case timedOut(String)
    /// The server broke RFC 6455 (masked frame, bad fragmentation, invalid UTF-8 ...).
    case protocolViolation(String)
    /// A frame arrived that the test did not expect.
    case unexpectedFrame(expected: String, received: String, location: String)
    /// A socket call failed.
    case io(String)

    var description: String {
        switch self {
        case .connectFailed(let why): return "WebSocket connect failed: \(why)"
        case .handshakeRefused(let head): return "WebSocket handshake refused: \(head.statusLine)"
        case .handshakeInvalid(let why, let head):
            return "invalid WebSocket handshake response: \(why)" + (head.map { "\n\($0)" } ?? "")
        case .timedOut(let what): return "timed out: \(what)"
        case .protocolViolation(let why): return "server violated RFC 6455: \(why)"
        case .unexpectedFrame(let expected, let received, let location):
            return "\(location): expected \(expected), received \(received)"
        case .io(let why): return "socket error: \(why)"
        }
    }
}
