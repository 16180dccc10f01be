import GatewayEventLoop

/// What the engine keeps per connection: a fixed record in a table indexed by descriptor, no
/// object. Buffers exist only while needed: `pending` while a partial message waits, `backlog`
/// while the kernel pushes back.
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
    /// Writable interest is set (the backlog is not empty).
    var watchingWritable = false
    var registration: Registration?
    var pending: UnsafeMutableRawPointer?
    var pendingCount: UInt32 = 0
    /// A large partial message's own buffer size (0: a small one, glued in front of reads).
    var pendingCapacity: UInt32 = 0
    /// The whole message's size when the delegate knew it (0: unknown).
    var pendingWanted: UInt32 = 0
    var backlog: UnsafeMutableRawPointer?
    var backlogStart: UInt32 = 0
    var backlogEnd: UInt32 = 0
    var backlogCapacity: UInt32 = 0
    /// This tick's output: a chain in `TickOutput.segments`, -1 when none.
    var firstSegment: Int32 = -1
    var lastSegment: Int32 = -1
    /// Bytes of this tick's output (the slow-consumer check counts them with the backlog).
    var stagedBytes: UInt32 = 0

    var backlogCount: Int { Int(backlogEnd - backlogStart) }
}
