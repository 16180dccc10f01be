/// The status line and headers of the server's answer to a WebSocket upgrade request.
///
/// Kept whole when the server refuses the upgrade (e.g. `403`), so a test can assert on the
/// status and see what the server said.
struct HTTPResponseHead: CustomStringConvertible {
    /// The first line, e.g. `HTTP/1.1 403 Forbidden`.
    let statusLine: String
    /// The numeric status, e.g. 403; 0 when the status line is not HTTP.
    let statusCode: Int
    /// Header fields in the order received; names keep the server's spelling.
    let headers: [(name: String, value: String)]
    /// Whatever body bytes arrived together with the head (may be incomplete).
    let body: [UInt8]

    init(statusLine: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.statusLine = statusLine
        self.headers = headers
        self.body = body
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        if parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) {
            statusCode = code
        } else {
            statusCode = 0
        }
    }

    /// The value of the first header named `name`, compared case-insensitively.
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var description: String {
        var text = statusLine
        for (name, value) in headers { text += "\n\(name): \(value)" }
        if !body.isEmpty { text += "\n\n" + String(decoding: body.prefix(512), as: UTF8.self) }
        return text
    }
}
