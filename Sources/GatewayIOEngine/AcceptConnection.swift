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
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = gwd_sys_accept4(listenFD, &address, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
        if fd < 0 {
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
        let peer =
            Int32(address.sin_family) == AF_INET
            ? PeerAddress(ipv4: UInt32(bigEndian: address.sin_addr.s_addr), port: UInt16(bigEndian: address.sin_port))
            : PeerAddress(ipv4: 0, port: 0)
        return (fd, peer)
    }
}
