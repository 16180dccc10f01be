import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking IPv4 TCP connection for tests that speak a protocol by hand (HTTP, the register
/// and gateway inner protocols). Every wait is a deadline on `poll(2)`. Not thread-safe.
final class TCPTestSocket {
    private var descriptor: Int32
    private var buffered: [UInt8] = []

    /// Connects to `127.0.0.1:port` (or `host:port`), failing at the deadline.
    init(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(5)) throws {
        let deadline = Deadline(timeout)
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw GatewaydFixtureError("socket: \(String(cString: strerror(errno)))") }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let started = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if started != 0 {
            guard errno == EINPROGRESS else { throw failure("connect to \(host):\(port)") }
            var pfd = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            let ready = poll(&pfd, 1, deadline.remainingMilliseconds())
            _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            guard ready == 1, error == 0 else {
                Glibc.close(descriptor)
                throw GatewaydFixtureError("connect to \(host):\(port): \(ready == 1 ? String(cString: strerror(error)) : "timed out")")
            }
        }
    }

    /// Takes over a connected descriptor (an accepted one).
    init(adopting descriptor: Int32) {
        self.descriptor = descriptor
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    deinit { close() }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    func write(_ bytes: [UInt8], timeout: Duration = .seconds(10)) throws {
        let deadline = Deadline(timeout)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + written, bytes.count - written, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                written += count
                continue
            }
            guard count < 0, errno == EAGAIN || errno == EINTR else { throw failure("send") }
            var pfd = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            guard poll(&pfd, 1, deadline.remainingMilliseconds()) > 0 else {
                throw GatewaydFixtureError("send: \(written) of \(bytes.count) bytes written within \(timeout)")
            }
        }
    }

    /// Exactly `count` bytes; throws at EOF or the deadline.
    func read(exactly count: Int, timeout: Duration = .seconds(10)) throws -> [UInt8] {
        let deadline = Deadline(timeout)
        while buffered.count < count {
            guard try fill(deadline) else { throw GatewaydFixtureError("connection closed after \(buffered.count) of \(count) bytes") }
        }
        defer { buffered.removeFirst(count) }
        return Array(buffered.prefix(count))
    }

    /// Bytes up to (without) the next `\n`.
    func readLine(timeout: Duration = .seconds(10)) throws -> [UInt8] {
        let deadline = Deadline(timeout)
        while true {
            if let newline = buffered.firstIndex(of: 10) {
                defer { buffered.removeFirst(newline + 1) }
                return Array(buffered[..<newline])
            }
            guard try fill(deadline) else { throw GatewaydFixtureError("connection closed before a line ended") }
        }
    }

    /// Everything until the peer closes.
    func readToEnd(timeout: Duration = .seconds(10)) throws -> [UInt8] {
        let deadline = Deadline(timeout)
        while try fill(deadline) {}
        defer { buffered = [] }
        return buffered
    }

    /// True when the peer closed the connection (EOF or reset) before the deadline.
    func isClosedByPeer(within timeout: Duration) -> Bool {
        let deadline = Deadline(timeout)
        while true {
            do {
                guard try fill(deadline) else { return true }
            } catch {
                return !deadline.hasPassed
            }
        }
    }

    /// Reads what is there; false at EOF.
    private func fill(_ deadline: Deadline) throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffered += chunk[0..<count]
                return true
            }
            if count == 0 || errno == ECONNRESET { return false }
            guard errno == EAGAIN || errno == EINTR else { throw failure("recv") }
            var pfd = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, deadline.remainingMilliseconds()) > 0 else { throw GatewaydFixtureError("nothing received before the deadline") }
        }
    }

    private func failure(_ what: String) -> GatewaydFixtureError {
        GatewaydFixtureError("\(what): \(String(cString: strerror(errno)))")
    }

    /// A port nothing listens on: bound to the loopback address, then released.
    static func unusedPort() throws -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(probe, pointer, length) == 0 else { return -1 }
                return getsockname(probe, pointer, &length)
            }
        }
        guard bound == 0 else { throw GatewaydFixtureError("bind: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A listening socket on 127.0.0.1 for tests that play a server by hand (a PHP gateway's inner
/// port). Not thread-safe.
final class TCPTestListener {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw GatewaydFixtureError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw GatewaydFixtureError("bind/listen: \(reason)")
        }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { Glibc.close(descriptor) }

    /// The next connection, or a throw at the deadline.
    func accept(timeout: Duration = .seconds(10)) throws -> TCPTestSocket {
        let deadline = Deadline(timeout)
        var pfd = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, deadline.remainingMilliseconds()) > 0 else { throw GatewaydFixtureError("no connection before the deadline") }
        let connection = Glibc.accept(descriptor, nil, nil)
        guard connection >= 0 else { throw GatewaydFixtureError("accept: \(String(cString: strerror(errno)))") }
        return TCPTestSocket(adopting: connection)
    }
}
