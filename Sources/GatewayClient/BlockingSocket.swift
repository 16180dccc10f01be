import Foundation
import GatewayCore

/// A connected TCP socket with deadline-bound blocking reads and writes.
struct BlockingSocket: ~Copyable {
    let descriptor: Int32
    let deadline: Date

    init(connectingTo endpoint: HostPort, timeoutSeconds: Double) throws(GatewayClientError) {
        guard let address = IPv4Address(endpoint.host) else { throw .invalidAddress(endpoint.description) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .io("socket(): \(String(cString: strerror(errno)))") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(endpoint.port).bigEndian)
        addr.sin_addr = in_addr(s_addr: address.value.bigEndian)
        var tv = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - Double(Int(timeoutSeconds))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .unreachable(endpoint.description, reason)
        }
        descriptor = fd
        deadline = Date().addingTimeInterval(timeoutSeconds)
    }

    deinit { close(descriptor) }

    func write(_ bytes: [UInt8]) throws(GatewayClientError) {
        guard FileDescriptorIO.writeAll(descriptor, bytes) else { throw .io("write failed: \(String(cString: strerror(errno)))") }
    }

    /// Reads exactly `count` bytes.
    func read(exactly count: Int) throws(GatewayClientError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            if Date() > deadline { throw .timeout }
            let got = result.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + offset, count - offset) }
            if got < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { throw .timeout }
                throw .io("read failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { throw .closedByPeer }
            offset += got
        }
        return result
    }

    func readLine() throws(GatewayClientError) -> [UInt8] {
        guard let line = FileDescriptorIO.readLine(descriptor, timeoutSeconds: max(0.001, deadline.timeIntervalSinceNow)) else {
            throw .closedByPeer
        }
        return line
    }
}
