import GatewayEventLoop

#if canImport(Glibc)
import Glibc
#endif

/// What the engine keeps per connection: a fixed record in a table indexed by descriptor, no
/// object. Buffers exist only while needed: `pending` while a partial message waits, `backlog`
/// while the kernel pushes back — and their bookkeeping lives beside the record, allocated
/// with the first of them, so an idle connection's record stays at 48 bytes.
struct ConnectionRecord {
    enum State: UInt8 {
        case unused
        case open
        /// `close` was asked: no more reading; closes once the backlog is written.
        case closing
        /// Ended; retired (descriptor closed, delegate told) at the end of the tick.
        case dead
    }

    var generation: UInt32 = 0
    var state = State.unused
    var reading = true
    /// Writable interest is set (the backlog is not empty, or TLS waits to write).
    var watchingWritable = false
    /// A TLS handshake or read stopped until the socket is writable (it had records to send).
    var tlsWantsWritable = false
    var registration: Registration?
    /// `pending` and `backlog` with their sizes; nil while the connection has neither.
    private var buffers: UnsafeMutablePointer<ConnectionBuffers>?
    /// This tick's output: a chain in `TickOutput.segments`, -1 when none.
    var firstSegment: Int32 = -1
    var lastSegment: Int32 = -1
    /// Bytes of this tick's output (the slow-consumer check counts them with the backlog).
    var stagedBytes: UInt32 = 0

    // The buffers' fields, read through the side allocation: zero and nil without one. A write
    // allocates it unless it writes zero or nil; `releaseIdleBuffers` frees it once all are.

    var pending: UnsafeMutableRawPointer? {
        get { buffers?.pointee.pending }
        set { if newValue != nil || buffers != nil { allocatedBuffers.pointee.pending = newValue } }
    }
    var pendingCount: UInt32 {
        get { buffers?.pointee.pendingCount ?? 0 }
        set { if newValue != 0 || buffers != nil { allocatedBuffers.pointee.pendingCount = newValue } }
    }
    /// A large partial message's own buffer size (0: a small one, glued in front of reads).
    var pendingCapacity: UInt32 {
        get { buffers?.pointee.pendingCapacity ?? 0 }
        set { if newValue != 0 || buffers != nil { allocatedBuffers.pointee.pendingCapacity = newValue } }
    }
    /// The whole message's size when the delegate knew it (0: unknown).
    var pendingWanted: UInt32 {
        get { buffers?.pointee.pendingWanted ?? 0 }
        set { if newValue != 0 || buffers != nil { allocatedBuffers.pointee.pendingWanted = newValue } }
    }
    var backlog: UnsafeMutableRawPointer? {
        get { buffers?.pointee.backlog }
        set { if newValue != nil || buffers != nil { allocatedBuffers.pointee.backlog = newValue } }
    }
    var backlogStart: UInt32 {
        get { buffers?.pointee.backlogStart ?? 0 }
        set { if newValue != 0 || buffers != nil { allocatedBuffers.pointee.backlogStart = newValue } }
    }
    var backlogEnd: UInt32 {
        get { buffers?.pointee.backlogEnd ?? 0 }
        set { if newValue != 0 || buffers != nil { allocatedBuffers.pointee.backlogEnd = newValue } }
    }
    var backlogCapacity: UInt32 {
        get { buffers?.pointee.backlogCapacity ?? 0 }
        set { if newValue != 0 || buffers != nil { allocatedBuffers.pointee.backlogCapacity = newValue } }
    }

    var backlogCount: Int {
        guard let buffers else { return 0 }
        return Int(buffers.pointee.backlogEnd - buffers.pointee.backlogStart)
    }

    private var allocatedBuffers: UnsafeMutablePointer<ConnectionBuffers> {
        mutating get {
            if let buffers { return buffers }
            let created = UnsafeMutablePointer<ConnectionBuffers>.allocate(capacity: 1)
            created.initialize(to: ConnectionBuffers())
            buffers = created
            return created
        }
    }

    /// Forgets the pending partial message; the caller owns (and frees) its buffer now.
    mutating func detachPending() {
        pending = nil
        pendingCount = 0
        pendingCapacity = 0
        pendingWanted = 0
    }

    /// Frees the side allocation once neither buffer is in use (the buffers themselves are
    /// the caller's to free first).
    mutating func releaseIdleBuffers() {
        guard let buffers, buffers.pointee.pending == nil, buffers.pointee.backlog == nil else { return }
        buffers.deallocate()
        self.buffers = nil
    }

    /// Frees both buffers and their bookkeeping (a connection's end).
    mutating func freeBuffers() {
        guard let buffers else { return }
        free(buffers.pointee.pending)
        free(buffers.pointee.backlog)
        buffers.deallocate()
        self.buffers = nil
    }
}

/// A connection's buffers while it has any (see `ConnectionRecord`).
struct ConnectionBuffers {
    var pending: UnsafeMutableRawPointer?
    var pendingCount: UInt32 = 0
    var pendingCapacity: UInt32 = 0
    var pendingWanted: UInt32 = 0
    var backlog: UnsafeMutableRawPointer?
    var backlogStart: UInt32 = 0
    var backlogEnd: UInt32 = 0
    var backlogCapacity: UInt32 = 0
}
