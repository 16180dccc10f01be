import GatewayWire
import NIOCore

/// The events a gateway sent one worker and the worker has not reported finished
/// (EVENTS_DONE), as the frames that carried them, so that when the worker dies they can go
/// to another worker instead of being lost. Only for workers that acknowledge events
/// (capability 4); a PHP worker's events are gone with it, as in GatewayWorker.
///
/// Copying each event's frame here is a `memcpy` into a buffer reused for the worker's life:
/// no allocation per event. It stays small: the worker acknowledges at the end of each loop
/// iteration, so it holds about one batch.
struct UnfinishedEvents {
    /// One byte of `EntryFlags`, then the frame, for each event from `finished` to `sent`.
    private var entries = ByteBuffer()
    /// Events recorded since the worker attached.
    private(set) var sent: UInt64 = 0
    /// Index of the first event in `entries`: every event before it is finished.
    private(set) var finished: UInt64 = 0
    /// Events before this one were started and may have sent commands: never sent again.
    private var started: UInt64 = 0
    /// The event the worker crashed in (its WORKER_CRASHED), and the signal.
    private var crash: WorkerCrashed?

    struct EntryFlags: OptionSet {
        let rawValue: UInt8
        /// Sent to a worker before, which died without finishing it. When a second worker dies
        /// with it unfinished and no crash report names another event, it is not sent a third
        /// time: an event that kills every worker it reaches is lost, not replayed for ever.
        static let replayed = EntryFlags(rawValue: 1)
    }

    var isEmpty: Bool { sent == finished }
    var count: Int { Int(sent - finished) }

    /// An event's frame, as written to the worker.
    mutating func record(_ frame: UnsafeRawBufferPointer, replayed: Bool) {
        entries.writeInteger(replayed ? EntryFlags.replayed.rawValue : 0)
        entries.writeBytes(frame)
        sent += 1
    }

    /// EVENTS_DONE: drops the finished events. False for counts the worker cannot have (more
    /// than were sent, or fewer than before): the caller treats the link as broken.
    mutating func acknowledge(_ done: EventsDone) -> Bool {
        guard done.finished >= finished, done.started <= sent else { return false }
        while finished < done.finished {
            let length = entries.getInteger(at: entries.readerIndex + 1, as: UInt32.self).map(Int.init) ?? 0
            entries.moveReaderIndex(forwardBy: 1 + length)
            finished += 1
        }
        started = max(started, done.started)
        if entries.readableBytes == 0 {
            entries.clear()  // keeps the capacity
        } else if entries.readerIndex > 1 << 16 && entries.readerIndex > entries.readableBytes {
            entries.discardReadBytes()
        }
        return true
    }

    /// WORKER_CRASHED: the event the worker died in. False when no such event was sent.
    mutating func crashed(_ report: WorkerCrashed) -> Bool {
        guard report.event >= finished, report.event < sent else { return false }
        crash = report
        return true
    }

    /// What became of each unfinished event once the worker is gone, in the order they were
    /// sent; empties the record.
    mutating func settle() -> [Settled] {
        var settled: [Settled] = []
        settled.reserveCapacity(count)
        var index = finished
        var parser = GatewayFrameParser(maximumFrameLength: Int(UInt32.max))
        while let flags = entries.readInteger(as: UInt8.self) {
            // The frames were written by this gateway: they parse.
            guard let frame = try? parser.parse(&entries) else { break }
            let fate: Settled.Fate
            if let crash, crash.event == index {
                fate = .lost(.crashedIn(signal: crash.signal))
            } else if index < started {
                fate = .lost(.partlyHandled)
            } else if crash == nil && EntryFlags(rawValue: flags).contains(.replayed) {
                fate = .lost(.diedTwice)
            } else {
                fate = .resend
            }
            settled.append(Settled(index: index, frame: frame, fate: fate))
            index += 1
        }
        entries.clear()
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
