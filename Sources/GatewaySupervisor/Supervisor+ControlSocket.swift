import Foundation
import GatewayCore

/// One connection to `<run-dir>/gatewayd.sock` until its request line is whole.
final class ControlConnection {
    let descriptor: Int32
    var inbox: [UInt8] = []
    init(descriptor: Int32) { self.descriptor = descriptor }
}

/// The control socket: one JSON request per connection (`status`, `connections`, `stop`,
/// `reload`), handed to the machine; the answer is written when the machine says so.
extension Supervisor {
    func acceptControlClients() {
        while true {
            let fd = accept(controlServer, nil, nil)
            if fd < 0 { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            controlClients.append(ControlConnection(descriptor: fd))
        }
    }

    private func dropClient(_ client: ControlConnection, close shouldClose: Bool) {
        controlClients.removeAll { $0 === client }
        if shouldClose { close(client.descriptor) }
    }

    func readRequest(from client: ControlConnection) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { read(client.descriptor, $0.baseAddress!, $0.count) }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return }
        if count <= 0 {
            dropClient(client, close: true)
            return
        }
        client.inbox += chunk[0..<count]
        guard let newline = client.inbox.firstIndex(of: UInt8(ascii: "\n")) else {
            if client.inbox.count > 65536 { dropClient(client, close: true) }
            return
        }
        let line = Data(client.inbox[..<newline])
        // One request per connection: from now on the master answers it and closes it.
        dropClient(client, close: false)
        guard let request = try? JSONDecoder().decode(ControlRequest.self, from: line) else {
            respond(to: client.descriptor, ControlResponse(ok: false, error: "malformed control request"))
            return
        }
        let requester = RequesterID(rawValue: client.descriptor)
        switch request.command {
        case .stop:
            perform(machine.stop(requester: requester, graceful: request.graceful ?? false, now: MasterInstant.now()))
        case .reload:
            requestReload(requester: client.descriptor)
        case .status, .connections, .metrics:
            perform(machine.query(request.command, requester: requester, now: MasterInstant.now()))
        }
    }

    func respond(to fd: Int32, _ response: ControlResponse) {
        _ = FileDescriptorIO.writeAll(fd, encodeResponse(response))
        close(fd)
    }

    private func encodeResponse(_ response: ControlResponse) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        var bytes = Array((try? encoder.encode(response)) ?? Data("{\"ok\":false}".utf8))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// The machine's view of the children, with what only the master process knows: its own
    /// line, the run directory, and each process's resident memory.
    func statusReport() -> StatusReport {
        let now = MasterInstant.now()
        let master = StatusReport.Process(
            role: .master, index: 0, pid: getpid(), state: "running", rssBytes: residentBytes(of: getpid()),
            connections: controlClients.count, messagesIn: 0, messagesOut: 0,
            uptimeSeconds: now.timeIntervalSince(startedAt), restarts: 0, details: [:])
        return StatusReport(
            master: .init(
                pid: getpid(), uptimeSeconds: now.timeIntervalSince(startedAt), runDir: runDirectory.path,
                version: version, plugin: configuration.plugin ?? "built-in demo"),
            listen: configuration.runs(.gateway) ? configuration.listen : [], register: configuration.register,
            processes: [master] + machine.childProcesses(now: now, residentBytes: residentBytes(of:)),
            exits: machine.exitCounts)
    }
}

/// Resident set size from /proc/<pid>/statm (pages × page size).
func residentBytes(of pid: pid_t) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
