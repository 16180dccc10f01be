import Glibc

/// A non-blocking IPv4 TCP socket: the few calls a loop-driven connection needs, with errno
/// turned into values. The caller owns the descriptor (close it after `unregister`).
public struct TCPSocket: Sendable {
    public let fd: Int32

    /// Wraps a descriptor the caller made non-blocking (e.g. one from accept4 with SOCK_NONBLOCK).
    public init(fd: Int32) {
        self.fd = fd
    }

    /// The outcome of one read or write.
    public enum IOResult: Equatable, Sendable {
        /// Bytes moved (a read of 0 bytes into an empty buffer also lands here).
        case bytes(Int)
        /// EAGAIN: wait for the next readiness.
        case wouldBlock
        /// The peer closed its side: read returned 0.
        case closed
        /// Any other error (its errno), e.g. ECONNRESET or EPIPE.
        case failed(Int32)
    }

    /// Starts connecting to `ipv4:port`.
    /// - Parameters:
    ///   - ipv4: the address in host byte order (127.0.0.1 is 0x7F00_0001).
    /// - Returns: the socket, and whether the connection is still in progress: then watch for
    ///   writable and check `connectResult()`.
    public static func connect(ipv4: UInt32, port: UInt16) throws -> (socket: TCPSocket, inProgress: Bool) {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw EventLoopError(syscall: "socket", errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = ipv4.bigEndian
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if status == 0 { return (TCPSocket(fd: fd), false) }
        let error = errno
        // EINTR: the connect goes on in the background, as with EINPROGRESS (retrying it
        // would answer EALREADY).
        if error == EINPROGRESS || error == EINTR { return (TCPSocket(fd: fd), true) }
        Glibc.close(fd)
        throw EventLoopError(syscall: "connect", errno: error)
    }

    /// SO_ERROR: 0 once an in-progress connect succeeded, else its errno.
    public func connectResult() -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return errno }
        return error
    }

    /// Sends small writes at once (no Nagle delay): gateway frames are small and latency-bound.
    public func setNoDelay() {
        var on: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Fails the connection when sent data stays unacknowledged this long (TCP_USER_TIMEOUT),
    /// so a vanished peer surfaces as an error instead of after the kernel's ~15 minutes.
    public func setUserTimeout(milliseconds: UInt32) {
        var value = milliseconds
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &value, socklen_t(MemoryLayout<UInt32>.size))
    }

    /// Probes an idle connection (SO_KEEPALIVE): after `idleSeconds` without traffic, every
    /// `intervalSeconds`, failing it after `probes` unanswered — how a link finds a vanished
    /// peer that has nothing to send and is not sent anything (with TCP_USER_TIMEOUT, whichever
    /// comes first).
    public func setKeepAlive(idleSeconds: Int32, intervalSeconds: Int32, probes: Int32) {
        var on: Int32 = 1
        var idle = max(idleSeconds, 1)
        var interval = max(intervalSeconds, 1)
        var count = max(probes, 1)
        let size = socklen_t(MemoryLayout<Int32>.size)
        _ = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, size)
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, size)
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, size)
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &count, size)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 || (count == 0 && buffer.isEmpty) { return .bytes(count) }
            if count == 0 { return .closed }
            let error = errno
            if error == EINTR { continue }
            return Self.failure(error)
        }
    }

    /// Writes with MSG_NOSIGNAL: a closed peer answers EPIPE instead of killing the process.
    public func write(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        while true {
            let count = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .bytes(count) }
            let error = errno
            if error == EINTR { continue }
            return Self.failure(error)
        }
    }

    /// Closes the descriptor (not retried on EINTR: Linux has closed it either way).
    public func close() {
        _ = Glibc.close(fd)
    }

    private static func failure(_ error: Int32) -> IOResult {
        error == EAGAIN || error == EWOULDBLOCK ? .wouldBlock : .failed(error)
    }
}
