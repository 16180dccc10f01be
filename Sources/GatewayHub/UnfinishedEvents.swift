#if canImport(Glibc)
import Glibc
#endif
import GatewayWire
import NIOCore

/// The events a gateway sent one worker and the worker has not reported finished
/// (EVENTS_DONE), as the frames that carried them, so that when the worker dies they can go
/// to another worker instead of being lost. Only for workers that acknowledge events
/// (capability 4); a PHP worker's events are gone with it, as in GatewayWorker.
///
/// Each event's frame is copied into one buffer reused for the worker's life: a `memcpy`, no
/// allocation per event. The buffer is managed by hand, not a `ByteBuffer`: recording through
/// `ByteBuffer` (a flag byte and the frame, each with its capacity and exclusivity checks)
/// cost 7 % of the gateway's user time per echoed message (perf, echo × 8). It stays small:
/// the worker acknowledges at the end of each loop iteration, so it holds about one batch.
final class UnfinishedEvents {
    /// One byte of `EntryFlags`, then the frame, for each event from `finished` to `sent`,
    /// between `head` and `tail`.
    private var storage: UnsafeMutableRawPointer?
    private var capacity = 0
    private var head = 0
    private var tail = 0
    /// Events recorded since the worker attached.
    private(set) var sent: UInt64 = 0
    /// Index of the first event still kept: every event before it is finished.
    private(set) var finished: UInt64 = 0
    /// Events before this one were started and may have sent commands: never sent again.
    private var started: UInt64 = 0
    /// The event the worker crashed in (its WORKER_CRASHED), and the signal.
    private var crash: WorkerCrashed?

    /// A buffer larger than this (a worker that fell far behind) is freed once emptied.
    private static let keptCapacity = 1 << 20

    struct EntryFlags: OptionSet {
        let rawValue: UInt8
        /// Sent to a worker before, which died without finishing it. When a second worker dies
        /// with it unfinished and no crash report names another event, it is not sent a third
        /// time: an event that kills every worker it reaches is lost, not replayed for ever.
        static let replayed = EntryFlags(rawValue: 1)
    }

    init() {}

    deinit { storage?.deallocate() }

    var isEmpty: Bool { sent == finished }
    var count: Int { Int(sent - finished) }

    /// An event's frame, as written to the worker.
    func record(_ frame: UnsafeRawBufferPointer, replayed: Bool) {
        let size = 1 + frame.count
        if capacity - tail < size { makeRoom(for: size) }
        let entry = storage! + tail
        entry.storeBytes(of: replayed ? EntryFlags.replayed.rawValue : 0, as: UInt8.self)
        if let bytes = frame.baseAddress { (entry + 1).copyMemory(from: bytes, byteCount: frame.count) }
        tail += size
        sent += 1
    }

    private func makeRoom(for size: Int) {
        let live = tail - head
        if let storage, capacity - live >= size, head > 0 {
            memmove(storage, storage + head, live)
        } else {
            let grown = max(4096, (live + size) * 2)
            let replacement = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 8)
            if let storage, live > 0 { replacement.copyMemory(from: storage + head, byteCount: live) }
            storage?.deallocate()
            storage = replacement
            capacity = grown
        }
        head = 0
        tail = live
    }

    /// The length of the frame of the entry at `offset` (its pack_len, big-endian).
    private func frameLength(at offset: Int) -> Int {
        Int(UInt32(bigEndian: (storage! + offset + 1).loadUnaligned(as: UInt32.self)))
    }

    /// EVENTS_DONE: drops the finished events. False for counts the worker cannot have (more
    /// than were sent, or fewer than before): the caller treats the link as broken.
    func acknowledge(_ done: EventsDone) -> Bool {
        guard done.finished >= finished, done.started <= sent else { return false }
        while finished < done.finished {
            head += 1 + frameLength(at: head)
            finished += 1
        }
        started = max(started, done.started)
        if head == tail {
            head = 0
            tail = 0
            if capacity > Self.keptCapacity {
                storage?.deallocate()
                storage = nil
                capacity = 0
            }
        }
        return true
    }

    /// WORKER_CRASHED: the event the worker died in. False when no such event was sent.
    func crashed(_ report: WorkerCrashed) -> Bool {
        guard report.event >= finished, report.event < sent else { return false }
        crash = report
        return true
    }

    /// What became of each unfinished event once the worker is gone, in the order they were
    /// sent; empties the record.
    func settle() -> [Settled] {
        var settled: [Settled] = []
        settled.reserveCapacity(count)
        var parser = GatewayFrameParser(maximumFrameLength: Int(UInt32.max))
        var index = finished
        while head < tail {
            let flags = EntryFlags(rawValue: storage!.load(fromByteOffset: head, as: UInt8.self))
            let length = frameLength(at: head)
            var bytes = ByteBuffer(bytes: UnsafeRawBufferPointer(start: storage! + head + 1, count: length))
            head += 1 + length
            // The frames were written by this gateway: they parse.
            guard let frame = try? parser.parse(&bytes) else { break }
            let fate: Settled.Fate
            if let crash, crash.event == index {
                fate = .lost(.crashedIn(signal: crash.signal))
            } else if index < started {
                fate = .lost(.partlyHandled)
            } else if crash == nil && flags.contains(.replayed) {
                fate = .lost(.diedTwice)
            } else {
                fate = .resend
            }
            settled.append(Settled(index: index, frame: frame, fate: fate))
            index += 1
        }
        head = 0
        tail = 0
        finished = sent
        started = sent
        crash = nil
        return settled
    }

    struct Settled {
        var index: UInt64
        var frame: GatewayFrame
        var fate: Fate

        enum Fate: Equatable {
            /// Never started, or started without a visible effect: another worker runs it.
            case resend
            case lost(LossReason)
        }
    }

    enum LossReason: Equatable {
        /// The worker crashed while running it (its crash handler said so).
        case crashedIn(signal: Int32)
        /// Started, and some of its commands went out (a query flushed them): running it
        /// again would repeat those.
        case partlyHandled
        /// A second worker died without finishing it.
        case diedTwice
    }
}
