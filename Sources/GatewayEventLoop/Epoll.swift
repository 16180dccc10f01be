import Glibc

/// epoll and eventfd for a module that imports only Glibc.
///
/// Swift's Glibc module map leaves out <sys/epoll.h> and <sys/eventfd.h>, and this module has
/// no C target to include them. So the four functions are looked up once with `dlsym` and
/// called through `@convention(c)` pointers (the C calling convention, which
/// `@_silgen_name` would not guarantee), and `struct epoll_event` is read and written as
/// bytes at the kernel ABI's offsets. The flag values are the Linux ABI's; the two `O_`
/// flags come from Glibc, since they differ between architectures.
struct Epoll: Sendable {
    typealias Create1 = @convention(c) (Int32) -> Int32
    typealias Control = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias Wait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32
    typealias EventFD = @convention(c) (UInt32, Int32) -> Int32

    let create1: Create1
    let control: Control
    let wait: Wait
    let eventFD: EventFD

    // <sys/epoll.h>
    static let readable: UInt32 = 0x001  // EPOLLIN
    static let writable: UInt32 = 0x004  // EPOLLOUT
    static let error: UInt32 = 0x008  // EPOLLERR
    static let hangUp: UInt32 = 0x010  // EPOLLHUP
    static let edgeTriggered: UInt32 = 1 << 31  // EPOLLET
    static let add: Int32 = 1  // EPOLL_CTL_ADD
    static let delete: Int32 = 2  // EPOLL_CTL_DEL
    static let modify: Int32 = 3  // EPOLL_CTL_MOD
    static let closeOnExec: Int32 = O_CLOEXEC  // EPOLL_CLOEXEC and EFD_CLOEXEC
    static let nonBlocking: Int32 = O_NONBLOCK  // EFD_NONBLOCK

    // struct epoll_event { uint32_t events; epoll_data_t data; } is packed on x86_64 only.
    #if arch(x86_64) || arch(i386)
    static let eventStride = 12
    static let dataOffset = 4
    #else
    static let eventStride = 16
    static let dataOffset = 8
    #endif

    /// The functions, looked up on first use; nil when this libc lacks one of them.
    static let functions: Epoll? = {
        // dlsym(RTLD_DEFAULT, …): RTLD_DEFAULT is a null handle, a macro Swift does not import.
        guard let create1 = dlsym(nil, "epoll_create1"),
            let control = dlsym(nil, "epoll_ctl"),
            let wait = dlsym(nil, "epoll_wait"),
            let eventFD = dlsym(nil, "eventfd")
        else { return nil }
        return Epoll(
            create1: unsafeBitCast(create1, to: Create1.self),
            control: unsafeBitCast(control, to: Control.self),
            wait: unsafeBitCast(wait, to: Wait.self),
            eventFD: unsafeBitCast(eventFD, to: EventFD.self))
    }()

    /// epoll_ctl with one event built on the stack; returns 0 or the errno.
    func control(_ epollFD: Int32, _ operation: Int32, _ fd: Int32, events: UInt32, token: UInt64) -> Int32 {
        var event: (UInt64, UInt64) = (0, 0)  // 16 bytes, room for either layout
        let result = withUnsafeMutableBytes(of: &event) { bytes in
            bytes.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
            bytes.storeBytes(of: token, toByteOffset: Epoll.dataOffset, as: UInt64.self)
            return control(epollFD, operation, fd, bytes.baseAddress)
        }
        return result == 0 ? 0 : errno
    }

    /// Reads event `index` of an epoll_wait buffer.
    static func event(_ buffer: UnsafeMutableRawPointer, at index: Int) -> (events: UInt32, token: UInt64) {
        let base = index * eventStride
        return (
            buffer.loadUnaligned(fromByteOffset: base, as: UInt32.self),
            buffer.loadUnaligned(fromByteOffset: base + dataOffset, as: UInt64.self)
        )
    }
}
