import Foundation

/// One HTTP/1.1 request per connection (`Connection: close`) over a plain socket, for the
/// HTTP API's end-to-end tests: the response is read to the end and split into head and body.
enum HTTPTestClient {
    static func request(
        port: Int, method: String = "POST", path: String, token: String? = nil, body: [UInt8]? = nil,
        headers: [String] = [], timeout: Duration = .seconds(15)
    ) throws -> HTTPResponseHead {
        let socket = try TCPTestSocket(port: port, timeout: timeout)
        var head = ["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close"]
        if let token { head.append("Authorization: Bearer \(token)") }
        if let body { head += ["Content-Type: application/json", "Content-Length: \(body.count)"] }
        head += headers
        try socket.write(Array((head.joined(separator: "\r\n") + "\r\n\r\n").utf8) + (body ?? []), timeout: timeout)
        let received = try socket.readToEnd(timeout: timeout)
        guard let end = received.indices.dropLast(3).first(where: { received[$0..<($0 + 4)].elementsEqual([13, 10, 13, 10]) }) else {
            throw GatewaydFixtureError("no HTTP response head in \(String(decoding: received, as: UTF8.self).debugDescription)")
        }
        var lines = String(decoding: received[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let fields = lines.map { line -> (name: String, value: String) in
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
        return HTTPResponseHead(statusLine: statusLine, headers: fields, body: Array(received[(end + 4)...]))
    }

    /// `POST /v1/<function>` with a JSON object body.
    static func post(port: Int, _ function: String, _ arguments: [String: Any], token: String?) throws -> HTTPResponseHead {
        let body = try JSONSerialization.data(withJSONObject: arguments)
        return try request(port: port, path: "/v1/\(function)", token: token, body: Array(body))
    }
}

extension HTTPResponseHead {
    /// The body parsed as JSON.
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) }
}
