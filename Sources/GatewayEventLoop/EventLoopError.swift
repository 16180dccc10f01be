import Glibc

/// A system call of the loop or of `TCPSocket` failed: which one, and its errno.
public struct EventLoopError: Error, CustomStringConvertible, Sendable {
    /// The failed call, e.g. "epoll_create1".
    public let syscall: String
    public let errno: Int32

    public init(syscall: String, errno: Int32) {
        self.syscall = syscall
        self.errno = errno
    }

    /// "epoll_create1: Too many open files".
    public var description: String {
        "\(syscall): \(String(cString: strerror(self.errno)))"
    }
}
