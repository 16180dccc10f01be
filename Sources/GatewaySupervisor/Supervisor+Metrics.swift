import Foundation
import GatewayCore
import GatewayMetrics

/// One HTTP connection to `metrics_listen`: its request, then its response, then closed.
final class MetricsConnection {
    enum Stage {
        /// Reading the request head.
        case reading
        /// The children were asked; the answer comes within `metricsQueryTimeout`.
        case awaitingAnswer
        /// Writing the response.
        case writing
    }

    let descriptor: Int32
    let deadline: MasterInstant
    var stage = Stage.reading
    var inbox: [UInt8] = []
    var outbox: [UInt8] = []
    var written = 0
    var headOnly = false

    init(descriptor: Int32, deadline: MasterInstant) {
        self.descriptor = descriptor
        self.deadline = deadline
    }

    /// Not polled while awaiting the answer: the descriptor names the requester until then.
    var pollEvents: Int16 { stage == .writing ? Int16(POLLOUT) : Int16(POLLIN) }
}

/// `/metrics` on `metrics_listen`, served by the master's own poll loop: no thread, no
/// SwiftNIO (the master forks, and a thread before a fork would hand children locks nobody
/// can release). A scrape asks every ready child for its counters (``SupervisorStateMachine``'s
/// `metrics` query) and is answered when all have replied, or after at most a second with the
/// previous report of those that did not. Nothing on a gateway's or a worker's message path
/// waits for it. One request per connection; a slow or silent client is cut at 10 s.
extension Supervisor {
    static let metricsConnectionLimit = 32
    static let metricsRequestLimit = 8192
    static let metricsConnectionTimeout: TimeInterval = 10

    func acceptMetricsClients() {
        guard let listener = metricsSocket?.descriptor else { return }
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            guard metricsClients.count < Self.metricsConnectionLimit else {
                close(fd)
                continue
            }
            metricsClients.append(
                MetricsConnection(descriptor: fd, deadline: MasterInstant.now().addingTimeInterval(Self.metricsConnectionTimeout)))
        }
    }

    /// Reads or writes what the connection is ready for.
    func serviceMetricsClient(_ client: MetricsConnection) {
        switch client.stage {
        case .reading: readMetricsRequest(client)
        case .writing: writeMetricsResponse(client)
        case .awaitingAnswer: break
        }
    }

    /// Closes connections past their deadline, unless the children are still being asked.
    func expireMetricsClients(now: MasterInstant) {
        for client in metricsClients where client.deadline <= now && client.stage != .awaitingAnswer {
            dropMetricsClient(client)
        }
    }

    private func dropMetricsClient(_ client: MetricsConnection) {
        metricsClients.removeAll { $0 === client }
        close(client.descriptor)
    }

    private func readMetricsRequest(_ client: MetricsConnection) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { read(client.descriptor, $0.baseAddress!, $0.count) }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return }
        guard count > 0 else { return dropMetricsClient(client) }
        client.inbox += chunk[0..<count]
        guard let headEnd = Self.endOfHead(client.inbox) else {
            if client.inbox.count > Self.metricsRequestLimit { respond(client, status: "431 Request Header Fields Too Large", body: "") }
            return
        }
        let requestLine = String(decoding: client.inbox[..<headEnd].prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            return respond(client, status: "400 Bad Request", body: "not an HTTP/1.x request\n")
        }
        let path = parts[1].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path == "/metrics" else { return respond(client, status: "404 Not Found", body: "see /metrics\n") }
        guard parts[0] == "GET" || parts[0] == "HEAD" else {
            return respond(client, status: "405 Method Not Allowed", body: "use GET\n", extraHeaders: "Allow: GET, HEAD\r\n")
        }
        client.headOnly = parts[0] == "HEAD"
        client.stage = .awaitingAnswer
        perform(machine.query(.metrics, requester: RequesterID(rawValue: client.descriptor), now: MasterInstant.now()))
    }

    private static func endOfHead(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// The machine's `.answerMetrics`: a scrape gets HTTP, the control socket JSON.
    func answerMetrics(to requester: Int32) {
        let text = renderMetrics()
        if let client = metricsClients.first(where: { $0.descriptor == requester }) {
            respond(client, status: "200 OK", body: text, contentType: MetricsExporter.contentType)
        } else {
            respond(to: requester, ControlResponse(ok: true, metrics: String(decoding: text, as: UTF8.self)))
        }
    }

    private func respond(
        _ client: MetricsConnection, status: String, body: String, contentType: String = "text/plain; charset=utf-8",
        extraHeaders: String = ""
    ) {
        respond(client, status: status, body: Array(body.utf8), contentType: contentType, extraHeaders: extraHeaders)
    }

    private func respond(
        _ client: MetricsConnection, status: String, body: [UInt8], contentType: String, extraHeaders: String = ""
    ) {
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\(extraHeaders)\r\n"
        client.outbox = Array(head.utf8) + (client.headOnly ? [] : body)
        client.stage = .writing
        writeMetricsResponse(client)
    }

    private func writeMetricsResponse(_ client: MetricsConnection) {
        while client.written < client.outbox.count {
            let count = client.outbox.withUnsafeBytes {
                write(client.descriptor, $0.baseAddress! + client.written, $0.count - client.written)
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno == EAGAIN { return }  // the rest when the socket is writable
            guard count > 0 else { return dropMetricsClient(client) }
            client.written += count
        }
        shutdown(client.descriptor, Int32(SHUT_WR))
        dropMetricsClient(client)
    }

    /// Every process's latest report (the master's own line included), added up.
    func renderMetrics() -> [UInt8] {
        var processes = [
            ProcessView(role: .master, index: 0, serving: true, up: true, residentBytes: residentBytes(of: getpid()), metrics: nil)
        ]
        for child in machine.children where child.purpose != .canary {
            processes.append(
                ProcessView(
                    role: child.role, index: child.index, serving: child.purpose == .serving,
                    up: child.isRunning && child.state == .ready, residentBytes: child.isRunning ? residentBytes(of: child.pid) : 0,
                    metrics: child.isRunning ? child.counters?.metrics : nil))
        }
        return metrics.render(processes: processes, crashes: machine.exits, restarts: machine.restartCounts)
    }
}
