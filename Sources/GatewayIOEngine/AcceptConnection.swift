import CGatewaySystem

#if canImport(Glibc)
import Glibc
#endif

/// Accepts one connection on `listenFD`, non-blocking and close-on-exec; nil when there is none
/// left to take (EAGAIN) or the accept failed (EMFILE, ENFILE: a level-triggered listener is
/// ready again at the next iteration, which retries). Interrupted and aborted accepts are
/// retried here. For every listener on a `GatewayEventLoop`: the engine's and the gateway's
/// inner port.
public func acceptConnection(on listenFD: Int32) -> (fd: Int32, peer: PeerAddress)? {
    while true {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = gwd_sys_accept4(listenFD, &address, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
        if fd < 0 {
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
        return (fd, PeerAddress(address))
    }
}

extension PeerAddress {
    /// An IPv4 peer as it is; an IPv6 one as port only (ipv4 0), as GatewayWorker's inner
    /// protocol carries a client's address in 4 bytes, except an IPv4-mapped `::ffff:a.b.c.d`,
    /// which is that IPv4 address.
    init(_ storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            self = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    PeerAddress(ipv4: UInt32(bigEndian: $0.pointee.sin_addr.s_addr), port: UInt16(bigEndian: $0.pointee.sin_port))
                }
            }
        case AF_INET6:
            self = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    let port = UInt16(bigEndian: address.pointee.sin6_port)
                    let bytes = withUnsafeBytes(of: address.pointee.sin6_addr) { Array($0) }
                    let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
                    let ipv4 = mapped ? bytes[12...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } : 0
                    return PeerAddress(ipv4: ipv4, port: port)
                }
            }
        default:
            self = PeerAddress(ipv4: 0, port: 0)
        }
    }
}
