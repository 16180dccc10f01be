import CGatewayABI
import GatewayEventLoop

/// Work a plugin's own threads hand to the plugin thread (gatewayd.h `get_poster` / `post`).
///
/// The `gwd_poster *` a plugin holds points at this object, which lives as long as the process
/// (it is never released), so a post that comes after the worker stopped is answered with
/// GWD_ERR_STOPPING instead of touching freed memory.
final class PluginPoster: Sendable {
    /// One posted callback: C function pointers and the plugin's pointer, opaque to us.
    struct Task: @unchecked Sendable {
        var callback: gwd_task_fn
        var userData: UnsafeMutableRawPointer?
    }

    /// How many tasks may wait; past it post answers GWD_ERR_QUEUE_FULL (gatewayd.h).
    static let capacity = 16384

    let mailbox: Mailbox<Task>

    init(waker: LoopWaker) {
        mailbox = Mailbox(capacity: Self.capacity, waker: waker)
        _ = Unmanaged.passRetained(self)  // never released: see above
    }

    /// The handle given to the plugin; valid for the life of the process.
    var handle: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ handle: OpaquePointer) -> PluginPoster {
        Unmanaged<PluginPoster>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    /// `post` (any thread).
    func post(_ callback: gwd_task_fn, _ userData: UnsafeMutableRawPointer?) -> gwd_status {
        switch mailbox.offer(Task(callback: callback, userData: userData)) {
        case .accepted: return GWD_OK
        case .full: return GWD_ERR_QUEUE_FULL
        case .closed: return GWD_ERR_STOPPING
        }
    }
}
