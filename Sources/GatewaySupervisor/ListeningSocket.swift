import CGatewaySystem
import Foundation
import GatewayCore

/// Binds listening TCP sockets in the master, before anything is forked.
///
/// Binding up front turns "port in use" into a clean start-up error with nothing running, and
/// lets port 0 resolve to one real port that every gateway process then shares: each gateway
/// gets its own SO_REUSEPORT socket on that port (NIO asserts if several processes accept on
/// one shared socket), and a restarted gateway takes over the same socket.
enum ListeningSocket {
    struct Bound {
        var descriptor: Int32
        var port: Int
    }

    /// Binds and listens. With `reusePort`, the port is first claimed by a plain bind: Linux
    /// lets any SO_REUSEPORT socket of the same user join a port, so without the probe a second
    /// gatewayd on the same port would silently share its traffic instead of failing, and two
    /// deployments asking for port 0 could be handed the same one.
    static func bind(host: String, port: Int, reusePort: Bool, what: String) throws(SupervisorError) -> Bound {
        guard reusePort else { return try bindOne(host: host, port: port, reusePort: false, listening: true, what: what) }
        let probe = try bindOne(host: host, port: port, reusePort: false, listening: false, what: what)
        close(probe.descriptor)
        return try bindOne(host: host, port: probe.port, reusePort: true, listening: true, what: what)
    }

    /// Joins a port already claimed by `bind(…reusePort: true…)` (the other gateways' sockets).
    static func join(host: String, port: Int, what: String) throws(SupervisorError) -> Bound {
        try bindOne(host: host, port: port, reusePort: true, listening: true, what: what)
    }

    private static func bindOne(
        host: String, port: Int, reusePort: Bool, listening: Bool, what: String
    ) throws(SupervisorError) -> Bound {
        guard let address = IPv4Address(host) else { throw .startup("\(what): invalid IPv4 address '\(host)'") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .startup("\(what): socket(): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort {
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr = in_addr(s_addr: address.value.bigEndian)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .startup("cannot listen on \(what) \(host):\(port): \(reason)")
        }
        guard !listening || listen(fd, 1024) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .startup("cannot listen on \(what) \(host):\(port): \(reason)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return Bound(descriptor: fd, port: localPort(of: fd) ?? port)
    }

    static func localPort(of fd: Int32) -> Int? {
        var addr = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return result == 0 ? Int(UInt16(bigEndian: addr.sin_port)) : nil
    }

    /// A Unix stream socket for control commands; a stale socket file of a dead master is replaced.
    static func bindUnix(path: String) throws(SupervisorError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .startup("control socket: socket(): \(String(cString: strerror(errno)))") }
        unlink(path)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd)
            throw .startup("control socket path too long (\(bytes.count) bytes): \(path); use a shorter --run-dir")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .startup("cannot create control socket \(path): \(reason)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }
}

/// Why the master could not start or went wrong; the description is the one-line message.
public enum SupervisorError: Error, CustomStringConvertible {
    case startup(String)

    public var description: String {
        switch self {
        case .startup(let message): return message
        }
    }
}
