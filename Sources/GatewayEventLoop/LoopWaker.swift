import Glibc

/// Wakes an `EventLoop` from any thread: its next iteration calls `onWake`.
///
/// Wakes coalesce: any number of them before the loop looks count as one. A wake after the
/// loop was closed does nothing (the descriptor is never written once closed, so a reused fd
/// number cannot receive it).
public struct LoopWaker: Sendable {
    let signal: WakeSignal

    public func wake() {
        signal.signal()
    }
}

/// The loop's eventfd as other threads see it: a mutex orders every write before the close.
final class WakeSignal: @unchecked Sendable {
    private let lock = Lock()
    private var fd: Int32

    init(fd: Int32) {
        self.fd = fd
    }

    func signal() {
        lock.withLock {
            guard fd >= 0 else { return }
            var one: UInt64 = 1
            // EAGAIN means the counter is at its maximum: already non-zero, so already a wake.
            while write(fd, &one, 8) < 0 && errno == EINTR {}
        }
    }

    func close() {
        lock.withLock {
            guard fd >= 0 else { return }
            _ = Glibc.close(fd)
            fd = -1
        }
    }
}
