import Foundation

/// Talks to a running master over its control socket: one request line, one response line.
/// Blocking and thread-free, so commands stay plain synchronous ParsableCommands.
public enum ControlClient {
    public enum Failure: Error, CustomStringConvertible {
        case notRunning(runDirectory: String)
        case io(String)

        public var description: String {
            switch self {
            case .notRunning(let dir): return "no gatewayd is running in \(dir) (no live master, no control socket)"
            case .io(let reason): return reason
            }
        }
    }

    public static func send(
        _ request: ControlRequest, runDirectory: RunDirectory, timeoutSeconds: Double = 30
    ) throws(Failure) -> ControlResponse {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .io("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(runDirectory.controlSocket.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .io("control socket path too long: \(runDirectory.controlSocket)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
            raw[path.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw .notRunning(runDirectory: runDirectory.path) }
        var line = Array((try? JSONEncoder().encode(request)) ?? Data())
        line.append(UInt8(ascii: "\n"))
        guard FileDescriptorIO.writeAll(fd, line) else { throw .io("cannot write to the control socket") }
        guard let reply = FileDescriptorIO.readLine(fd, timeoutSeconds: timeoutSeconds) else {
            throw .io("the master did not answer within \(Int(timeoutSeconds)) s")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(ControlResponse.self, from: Data(reply))
        } catch {
            throw .io("unreadable answer from the master: \(error)")
        }
    }
}

/// Small blocking helpers over raw descriptors.
public enum FileDescriptorIO {
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&pfd, 1, 1000)
                    continue
                }
                return false
            }
            offset += written
        }
        return true
    }

    /// Reads until "\n" (excluded) or EOF with a deadline; nil on timeout or EOF before any byte.
    public static func readLine(_ fd: Int32, timeoutSeconds: Double) -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(remaining, 1) * 1000) + 1)
            if ready < 0 && errno != EINTR { return nil }
            if ready <= 0 { continue }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return nil
            }
            if count == 0 { return result.isEmpty ? nil : result }
            if let newline = chunk[0..<count].firstIndex(of: UInt8(ascii: "\n")) {
                result += chunk[0..<newline]
                return result
            }
            result += chunk[0..<count]
        }
    }
}
