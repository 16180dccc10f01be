import Foundation

/// A client of Chromium's DevTools protocol over the browser's WebSocket, on the tests' own
/// ``WebSocketTestClient``: one connection for the browser and every page, each page's
/// commands carrying its session id (`Target.attachToTarget` with `flatten`).
///
/// Calls are synchronous: `call` sends a command and reads until its reply, keeping the
/// events that arrive meanwhile (the tests enable no domain that sends many). Not thread-safe.
final class DevToolsConnection {
    private let socket: WebSocketTestClient
    private var lastID = 0
    /// The latest events (`{"method": …, "params": …}`), oldest first; at most 200 are kept.
    private(set) var events: [[String: Any]] = []

    /// Connects to `ws://127.0.0.1:<port>/devtools/browser/<id>`.
    init(port: Int, path: String, timeout: Duration = .seconds(10)) throws {
        socket = try WebSocketTestClient.connect(host: "127.0.0.1", port: port, path: path, timeout: timeout)
    }

    /// Sends `method` (to a page when `session` is given) and returns its result object.
    /// - Throws: the protocol's error message, or why no reply came in time.
    @discardableResult
    func call(
        _ method: String, _ parameters: [String: Any] = [:], session: String? = nil, timeout: Duration = .seconds(30)
    ) throws -> [String: Any] {
        lastID += 1
        let id = lastID
        var command: [String: Any] = ["id": id, "method": method, "params": parameters]
        if let session { command["sessionId"] = session }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: command), as: UTF8.self)
        try socket.sendText(text, timeout: timeout)
        let deadline = Deadline(timeout)
        while true {
            guard !deadline.hasPassed else { throw GatewaydFixtureError("DevTools: no reply to \(method) within \(timeout)") }
            let frame = try socket.receive(timeout: deadline.instant - ContinuousClock.now)
            guard case .text(let reply) = frame else {
                throw GatewaydFixtureError("DevTools: \(frame) while waiting for the reply to \(method)")
            }
            guard let object = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any] else { continue }
            guard let replyID = object["id"] as? Int else {
                events.append(object)
                if events.count > 200 { events.removeFirst(events.count - 200) }
                continue
            }
            guard replyID == id else { continue }  // a reply to a call that timed out earlier
            if let error = object["error"] as? [String: Any] {
                throw GatewaydFixtureError("DevTools: \(method) failed: \(error["message"] ?? error)")
            }
            return object["result"] as? [String: Any] ?? [:]
        }
    }

    func close() {
        socket.close()
    }
}
