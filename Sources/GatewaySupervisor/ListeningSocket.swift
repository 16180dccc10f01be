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
        guard let (address, length) = socketAddress(host: host, port: port) else {
            throw .startup("\(what): invalid address '\(host)'")
        }
        let family = Int32(address.ss_family)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .startup("\(what): socket(): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort {
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        // `[::]` means IPv6 only, whatever net.ipv6.bindv6only says, so it can sit beside a
        // `0.0.0.0` listener on the same port (list both for both).
        if family == AF_INET6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        let bound = withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        let shown = family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .startup("cannot listen on \(what) \(shown): \(reason)")
        }
        guard !listening || listen(fd, 1024) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .startup("cannot listen on \(what) \(shown): \(reason)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return Bound(descriptor: fd, port: localPort(of: fd) ?? port)
    }

    /// An IPv4 address, or an IPv6 one (client listeners, ``ListenAddress``), with the port.
    private static func socketAddress(host: String, port: Int) -> (sockaddr_storage, socklen_t)? {
        var storage = sockaddr_storage()
        if let ipv4 = IPv4Address(host) {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    $0.pointee.sin_family = sa_family_t(AF_INET)
                    $0.pointee.sin_port = in_port_t(UInt16(port).bigEndian)
                    $0.pointee.sin_addr = in_addr(s_addr: ipv4.value.bigEndian)
                }
            }
            return (storage, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
        var ipv6 = in6_addr()
        guard inet_pton(AF_INET6, host, &ipv6) == 1 else { return nil }
        withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                $0.pointee.sin6_family = sa_family_t(AF_INET6)
                $0.pointee.sin6_port = in_port_t(UInt16(port).bigEndian)
                $0.pointee.sin6_addr = ipv6
            }
        }
        return (storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
    }

    static func localPort(of fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        // sin_port and sin6_port sit at the same offset, right after the family.
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
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
