import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking client for the `text://` (newline-delimited) and `frame://` (u32 big-endian total
/// length + body) protocols, over a plain POSIX socket; every wait is a deadline on poll(2).
/// Framing is written out here by hand, independently of the server's codecs.
final class StreamTestClient {
    enum Framing { case text, frame }

    let framing: Framing
    private var socket: Int32
    private var buffer: [UInt8] = []

    init(framing: Framing, port: Int, timeout: Duration = .seconds(10)) throws {
        self.framing = framing
        socket = try WebSocketTestClient.openSocket(host: "127.0.0.1", port: port, deadline: Deadline(timeout))
    }

    deinit { close() }

    func close() {
        if socket >= 0 {
            _ = Glibc.close(socket)
            socket = -1
        }
    }

    /// Sends one message framed for the protocol.
    func send(_ message: String, timeout: Duration = .seconds(10)) throws {
        try sendBytes(framed(Array(message.utf8)), timeout: timeout)
    }

    /// Sends bytes exactly as given (for malformed or oversized input).
    func sendBytes(_ bytes: [UInt8], timeout: Duration = .seconds(10)) throws {
        try WebSocketTestClient.writeAll(socket: socket, bytes: bytes, deadline: Deadline(timeout))
    }

    func framed(_ body: [UInt8]) -> [UInt8] {
        switch framing {
        case .text: return body + [UInt8(ascii: "\n")]
        case .frame:
            let total = UInt32(body.count + 4)
            return [UInt8(total >> 24), UInt8(total >> 16 & 0xff), UInt8(total >> 8 & 0xff), UInt8(total & 0xff)] + body
        }
    }

    /// The next whole message, or nil when the server closed the connection first.
    func receive(timeout: Duration = .seconds(10)) throws -> String? {
        let deadline = Deadline(timeout)
        while true {
            if let message = takeMessage() { return String(decoding: message, as: UTF8.self) }
            guard try WebSocketTestClient.waitReadable(socket: socket, deadline: deadline) else {
                throw WebSocketTestClientError.timedOut("waiting for a \(framing) message")
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(socket, &chunk, chunk.count, 0)
            if count > 0 {
                buffer += chunk[..<count]
            } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                return nil
            }
        }
    }

    private func takeMessage() -> [UInt8]? {
        switch framing {
        case .text:
            guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            defer { buffer.removeSubrange(...newline) }
            return Array(buffer[..<newline])
        case .frame:
            guard buffer.count >= 4 else { return nil }
            let total = Int(buffer[0]) << 24 | Int(buffer[1]) << 16 | Int(buffer[2]) << 8 | Int(buffer[3])
            guard buffer.count >= total else { return nil }
            defer { buffer.removeSubrange(..<total) }
            return Array(buffer[4..<total])
        }
    }
}
