import Crypto
import Foundation

/// The two answers to an upgrade request, byte for byte what the SwiftNIO handshake handler wrote.
public enum WebSocketHandshakeResponse {
    /// RFC 6455 §1.3: appended to the client's key before hashing.
    private static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Sec-WebSocket-Accept for `key`: base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String {
        Data(Insecure.SHA1.hash(data: Data((key + acceptGUID).utf8))).base64EncodedString()
    }

    /// The 101 that completes the handshake; with `extensions`, a Sec-WebSocket-Extensions
    /// header carrying the agreed extension (permessage-deflate's answer).
    public static func switchingProtocols(key: String, extensions: String? = nil) -> [UInt8] {
        let extensionsLine = extensions.map { "Sec-WebSocket-Extensions: \($0)\r\n" } ?? ""
        return Array(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(acceptValue(forKey: key))\r\n\(extensionsLine)\r\n"
                .utf8)
    }

    /// A refusal with `status` (the plugin's verdict, 503 when none came in time, or a
    /// `WebSocketHandshakeRefusal`'s), an empty body, and the connection closed after it.
    /// `extraHeaders` are whole header lines, each ending in CRLF.
    public static func refusal(status: Int, extraHeaders: String = "") -> [UInt8] {
        let phrase = HTTPReasonPhrase.phrase(for: status)
        return Array("HTTP/1.1 \(status) \(phrase)\r\nContent-Length: 0\r\nConnection: close\r\n\(extraHeaders)\r\n".utf8)
    }
}
