import GatewayEventLoop
import GatewayTLS
import Glibc

/// The gateway's client sockets on a `GatewayEventLoop`: accept, read, and write at the end of
/// the tick, with a fixed record per connection and no object per connection (issue 14).
///
/// - Reads: one read per readiness into a buffer shared by every connection; the bytes go to
///   the delegate, and only what it leaves (a partial message) is copied into a buffer of the
///   connection's own until more arrives.
/// - Writes: `send` stages bytes for this tick; `flush()` (call it at the end of every loop
///   iteration) writes each connection's staged bytes with one writev. What the kernel does
///   not take goes to the connection's backlog, written when the socket is writable; staged
///   bytes queue behind a backlog, so order is kept.
/// - Ends: a connection that fails, is closed by its peer or by `close` is retired at the end
///   of the tick (descriptor closed, delegate told), so ids stay valid while a tick runs.
///
/// - TLS: connections accepted on a listener with a `TLSServerContext` have a session in a
///   table beside the records (allocated with the first such listener); OpenSSL reads and
///   writes their socket, and the engine feeds it the same buffers (a tick's output gathered
///   into one scratch buffer per connection, since every connection's bytes are encrypted
///   apart). The delegate sees plaintext either way.
///
/// Loop thread only, like the loop.
public final class ClientEngine: IOHandler {
    public struct Configuration: Sendable {
        /// Bytes read per read().
        public var readSize = 256 * 1024
        /// The largest message kept while it arrives; more closes the connection.
        public var maximumPendingBytes = 1024 * 1024 + 16
        /// Output waiting for the kernel per connection beyond which it is closed.
        public var maximumBacklogBytes = 64 * 1024 * 1024

        public init() {}
    }

    private static let listenerTag: UInt32 = 1 << 31
    /// A partial message up to this size is copied in front of the next read; a larger one
    /// gets a buffer of its own that reads fill directly, so a big message is not copied again
    /// at every read.
    static let frontSpace = 64 * 1024

    private let loop: EventLoop
    /// Held strongly (the owner sets it once and keeps both for the life of the gateway): a
    /// weak reference would cost an atomic load per event.
    public var delegate: (any ClientEngineDelegate)?
    private let configuration: Configuration
    /// Indexed by descriptor; `maximumDescriptors` long. Reserved, not touched: an idle table
    /// costs RSS only for the pages its connections use.
    private let records: UnsafeMutablePointer<ConnectionRecord>
    public let maximumDescriptors: Int
    /// Through a pointer, not a stored `var`: no exclusivity check per delivery.
    private let output: UnsafeMutablePointer<TickOutput>
    /// [room for a small partial message | readSize fresh bytes].
    private let readBuffer: UnsafeMutableRawPointer
    private let iovecs: UnsafeMutablePointer<iovec>
    private static let iovecCount = 64
    private var listeners: [(fd: Int32, registration: Registration, tls: TLSServerContext?)] = []
    /// TLS sessions by descriptor (nil: plain); reserved like `records`, once a TLS listener exists.
    private var tlsSessions: UnsafeMutablePointer<TLSSession?>?
    /// Where a TLS connection's output of the tick is gathered to be encrypted.
    private var tlsScratch: UnsafeMutableRawPointer?
    private static let tlsScratchSize = 64 * 1024
    private var dead: [(fd: Int32, reason: CloseReason)] = []
    private var closing: [Int32] = []
    public private(set) var openCount = 0
    /// Bytes read from and written to connections (for `/metrics`): one add per read or
    /// write call, not per message.
    public private(set) var bytesRead: UInt64 = 0
    public private(set) var bytesWritten: UInt64 = 0

    /// - Parameter maximumDescriptors: one more than the largest descriptor a connection can
    ///   have; the process's RLIMIT_NOFILE, capped at 2^20, when nil.
    public init(loop: EventLoop, configuration: Configuration = Configuration(), maximumDescriptors: Int? = nil) {
        self.loop = loop
        self.configuration = configuration
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        self.maximumDescriptors = maximumDescriptors ?? Int(min(limit.rlim_cur, 1 << 20))
        // calloc: zeroed pages on demand; a zeroed record is a valid `.unused` one.
        let table = calloc(self.maximumDescriptors, MemoryLayout<ConnectionRecord>.stride)!
        records = table.bindMemory(to: ConnectionRecord.self, capacity: self.maximumDescriptors)
        output = .allocate(capacity: 1)
        output.initialize(to: TickOutput())
        readBuffer = .allocate(byteCount: Self.frontSpace + configuration.readSize, alignment: 16)
        iovecs = .allocate(capacity: Self.iovecCount)
    }

    deinit {
        output.pointee.deallocate()
        output.deallocate()
        readBuffer.deallocate()
        iovecs.deallocate()
        free(records)
        free(tlsSessions)
        tlsScratch?.deallocate()
    }

    // MARK: Listening

    /// Accepts connections on `fd`, a bound, listening, non-blocking socket the caller owns,
    /// speaking TLS over them with `tls`. Returns the listener's index (reported with each
    /// connection).
    public func listen(fd: Int32, tls: TLSServerContext? = nil) throws -> Int {
        let index = listeners.count
        let registration = try loop.register(fd: fd, interest: .readable, handler: self, tag: Self.listenerTag | UInt32(index))
        listeners.append((fd, registration, tls))
        if tls != nil && tlsSessions == nil {
            tlsSessions = calloc(maximumDescriptors, MemoryLayout<TLSSession?>.stride)!
                .bindMemory(to: TLSSession?.self, capacity: maximumDescriptors)
            tlsScratch = .allocate(byteCount: Self.tlsScratchSize, alignment: 16)
        }
        return index
    }

    /// New handshakes on TLS listener `index` use `context` (a certificate renewed at
    /// `gatewayd reload`); connections already open keep theirs.
    public func replaceTLSContext(_ context: TLSServerContext, forListener index: Int) {
        guard index < listeners.count, listeners[index].tls != nil else { return }
        listeners[index].tls = context
    }

    /// Stops accepting on every listener (the descriptors stay the caller's).
    public func stopListening() {
        for listener in listeners { loop.unregister(listener.registration) }
        listeners.removeAll()
    }

    private func acceptConnections(listener: Int) {
        guard listener < listeners.count else { return }
        let listenFD = listeners[listener].fd
        while let (fd, peer) = acceptConnection(on: listenFD) {
            var on: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            _ = adopt(fd: fd, listener: listener, peer: peer)
        }
    }

    /// Serves `fd`, a connected non-blocking stream socket, as if it had been accepted on
    /// `listener` from `peer` (the delegate is told so); from now on the engine owns it. For
    /// sockets accepted elsewhere, and for tests and fuzzers that hand in one end of a
    /// socketpair. Nil (and `fd` closed) when it cannot be served.
    public func adopt(fd: Int32, listener: Int, peer: PeerAddress) -> ConnectionID? {
        guard fd >= 0, Int(fd) < maximumDescriptors else {
            Glibc.close(fd)
            return nil
        }
        let record = records + Int(fd)
        let generation = record.pointee.generation
        record.pointee = ConnectionRecord()
        record.pointee.generation = generation
        record.pointee.state = ConnectionRecord.State.open
        do {
            record.pointee.registration = try loop.register(fd: fd, interest: .readable, handler: self, tag: UInt32(fd))
        } catch {
            record.pointee.state = ConnectionRecord.State.unused
            Glibc.close(fd)
            return nil
        }
        if listener < listeners.count, let context = listeners[listener].tls {
            guard let session = TLSSession(serving: fd, with: context) else {
                loop.unregister(record.pointee.registration!)
                record.pointee.state = ConnectionRecord.State.unused
                Glibc.close(fd)
                return nil
            }
            tlsSessions![Int(fd)] = session
        }
        openCount += 1
        let id = ConnectionID(fd: fd, generation: generation)
        delegate?.connectionOpened(id, listener: listener, peer: peer)
        return id
    }

    // MARK: Readiness

    public func readable(tag: UInt32) {
        if tag & Self.listenerTag != 0 {
            acceptConnections(listener: Int(tag & ~Self.listenerTag))
        } else {
            readConnection(Int32(tag))
        }
    }

    public func writable(tag: UInt32) {
        guard tag & Self.listenerTag == 0 else { return }
        let fd = Int32(tag)
        let record = records + Int(fd)
        if record.pointee.tlsWantsWritable {
            // A handshake or read that had to send first goes on.
            record.pointee.tlsWantsWritable = false
            updateInterest(fd)
            readConnection(fd)
        }
        writeBacklog(fd)
    }

    private func readConnection(_ fd: Int32) {
        let record = records + Int(fd)
        guard record.pointee.state == .open || record.pointee.state == .closing else { return }
        if record.pointee.pendingCapacity > 0 {
            readIntoOwnBuffer(fd)
            return
        }
        let fresh = readBuffer + Self.frontSpace
        let count = receive(fd, into: fresh, count: configuration.readSize)
        guard readSucceeded(fd, count) else { return }
        // A closing connection's input is read and dropped, so that its peer's close is seen.
        guard record.pointee.state == .open else { return }
        var start = fresh
        var total = count
        if let pending = record.pointee.pending {
            // A small partial message: glued in front of the new bytes.
            let pendingCount = Int(record.pointee.pendingCount)
            start = fresh - pendingCount
            start.copyMemory(from: pending, byteCount: pendingCount)
            total += pendingCount
            free(pending)
            record.pointee.detachPending()
            record.pointee.releaseIdleBuffers()
        }
        deliver(fd, UnsafeMutableRawBufferPointer(start: start, count: total))
    }

    /// A large partial message has a buffer of its own: reads go straight to its end (no more
    /// than the message still needs, when its size is known), and it is offered whole — not
    /// copied again at every read.
    private func readIntoOwnBuffer(_ fd: Int32) {
        let record = records + Int(fd)
        let pending = record.pointee.pending!
        let count = Int(record.pointee.pendingCount)
        let wanted = Int(record.pointee.pendingWanted)
        let room = (wanted > 0 ? wanted : Int(record.pointee.pendingCapacity)) - count
        let read = receive(fd, into: pending + count, count: room)
        guard readSucceeded(fd, read), record.pointee.state == .open else { return }
        let total = count + read
        record.pointee.pendingCount = UInt32(total)
        if wanted > 0 && total < wanted { return }  // not whole yet
        let id = ConnectionID(fd: fd, generation: record.pointee.generation)
        let outcome = delegate?.bytesReceived(id, UnsafeMutableRawBufferPointer(start: pending, count: total)) ?? ReceiveOutcome(consumed: total)
        guard record.pointee.state == .open else { return }
        if outcome.consumed == 0 {
            // Still one partial message: keep the buffer, sized for what is now known.
            let size = max(outcome.messageSize, total)
            guard size <= configuration.maximumPendingBytes else { return markDead(fd, .pendingOverflow) }
            if outcome.messageSize > total {
                record.pointee.pendingWanted = UInt32(size)
                if size > Int(record.pointee.pendingCapacity) { resizeOwnBuffer(fd, to: size) }
            } else if total == Int(record.pointee.pendingCapacity) {
                guard total < configuration.maximumPendingBytes else { return markDead(fd, .pendingOverflow) }
                resizeOwnBuffer(fd, to: min(2 * total, configuration.maximumPendingBytes))
            }
            return
        }
        // Messages done; what follows them is kept afresh (small, or in a buffer of its own).
        record.pointee.detachPending()
        keep(fd, UnsafeMutableRawBufferPointer(start: pending, count: total), after: outcome)
        free(pending)
        record.pointee.releaseIdleBuffers()
    }

    /// read(2) for a plain connection; for a TLS one the same contract over its session
    /// (bytes, 0 at the end, -1 with EAGAIN while it waits, EPROTO when TLS failed), the
    /// handshake first while it is not done.
    private func receive(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) -> Int {
        guard let tlsSessions, let session = tlsSessions[Int(fd)] else { return Glibc.read(fd, buffer, count) }
        if !session.isHandshakeDone {
            let outcome = session.handshake()
            guard case .done = outcome else { return readResult(fd, outcome) }
        }
        return readResult(fd, session.read(into: buffer, count: count))
    }

    private func readResult(_ fd: Int32, _ outcome: TLSSession.Outcome) -> Int {
        switch outcome {
        case .done(let count) where count > 0:
            return count
        case .done, .wantsReadable:  // nothing read yet: wait for the socket
            errno = EAGAIN
            return -1
        case .wantsWritable:
            records[Int(fd)].tlsWantsWritable = true
            updateInterest(fd)
            errno = EAGAIN
            return -1
        case .closed:
            return 0
        case .failed:
            errno = EPROTO
            return -1
        }
    }

    /// Read errors and end of stream end the connection; false when there is nothing to offer.
    private func readSucceeded(_ fd: Int32, _ count: Int) -> Bool {
        if count > 0 {
            bytesRead &+= UInt64(truncatingIfNeeded: count)
            return true
        }
        if count == 0 {
            markDead(fd, .peerClosed)
        } else if errno != EAGAIN && errno != EINTR {
            markDead(fd, .failed(errno))
        }
        return false
    }

    /// Offers `bytes` to the delegate and keeps what it leaves.
    private func deliver(_ fd: Int32, _ bytes: UnsafeMutableRawBufferPointer) {
        let record = records + Int(fd)
        let id = ConnectionID(fd: fd, generation: record.pointee.generation)
        let outcome = delegate?.bytesReceived(id, bytes) ?? ReceiveOutcome(consumed: bytes.count)
        guard record.pointee.state == .open else { return }
        keep(fd, bytes, after: outcome)
    }

    /// Keeps what the delegate left of `bytes`: in front of the next read when small, else in a
    /// buffer of its own — the whole message's size when the delegate knew it.
    private func keep(_ fd: Int32, _ bytes: UnsafeMutableRawBufferPointer, after outcome: ReceiveOutcome) {
        let left = bytes.count - outcome.consumed
        guard left > 0 else { return }
        let record = records + Int(fd)
        let known = outcome.messageSize > left
        let size = known ? outcome.messageSize : left
        guard size <= configuration.maximumPendingBytes else { return markDead(fd, .pendingOverflow) }
        let leftStart = bytes.baseAddress! + outcome.consumed
        if size <= Self.frontSpace {
            let kept = malloc(left)!
            kept.copyMemory(from: leftStart, byteCount: left)
            record.pointee.pending = kept
            record.pointee.pendingCount = UInt32(left)
            return
        }
        let capacity = known ? size : min(2 * left, configuration.maximumPendingBytes)
        guard capacity > left || known else { return markDead(fd, .pendingOverflow) }
        let kept = malloc(capacity)!
        kept.copyMemory(from: leftStart, byteCount: left)
        record.pointee.pending = kept
        record.pointee.pendingCount = UInt32(left)
        record.pointee.pendingCapacity = UInt32(capacity)
        record.pointee.pendingWanted = known ? UInt32(size) : 0
    }

    private func resizeOwnBuffer(_ fd: Int32, to capacity: Int) {
        let record = records + Int(fd)
        record.pointee.pending = realloc(record.pointee.pending, capacity)!
        record.pointee.pendingCapacity = UInt32(capacity)
    }

    // MARK: Sending

    /// Bytes staged once for any number of `send(_:staged:)` this tick.
    public struct Staged: Sendable {
        let offset: UInt32
        let length: UInt32
    }

    /// Copies `bytes` into this tick's output, to be sent to one connection or many.
    public func stage(_ bytes: UnsafeRawBufferPointer) -> Staged {
        let (offset, length) = output.pointee.stage(bytes)
        return Staged(offset: offset, length: length)
    }

    /// Encodes a message straight into this tick's output: `body` writes at most `capacity`
    /// bytes at the pointer and returns how many it wrote.
    public func stage(capacity: Int, _ body: (UnsafeMutableRawPointer) -> Int) -> Staged {
        let start = output.pointee.reserve(capacity)
        let written = body(start)
        precondition(written >= 0 && written <= capacity, "ClientEngine.stage wrote \(written) of \(capacity) bytes")
        let (offset, length) = output.pointee.commit(written)
        return Staged(offset: offset, length: length)
    }

    /// Sends staged bytes to `id` at the end of this tick; ignored for a connection that ended
    /// or is closing.
    public func send(_ id: ConnectionID, staged: Staged) {
        guard let record = liveRecord(id), record.pointee.state == .open, staged.length > 0 else { return }
        let segment = output.pointee.addSegment(offset: staged.offset, length: staged.length)
        if record.pointee.firstSegment < 0 {
            record.pointee.firstSegment = segment
            output.pointee.markDirty(id.fd)
        } else {
            output.pointee.segments[Int(record.pointee.lastSegment)].next = segment
        }
        record.pointee.lastSegment = segment
        record.pointee.stagedBytes &+= staged.length
    }

    /// Stages `bytes` and sends them to `id`.
    public func send(_ id: ConnectionID, bytes: UnsafeRawBufferPointer) {
        guard liveRecord(id)?.pointee.state == .open else { return }
        send(id, staged: stage(bytes))
    }

    /// Closes `id` once what was sent to it is written (`flush: true`) or at the end of this
    /// tick, dropping it. Ignored for a connection that ended.
    public func close(_ id: ConnectionID, flush: Bool = true) {
        guard let record = liveRecord(id) else { return }
        switch record.pointee.state {
        case .open where flush:
            record.pointee.state = .closing
            closing.append(id.fd)
            updateInterest(id.fd)
        case .open, .closing:
            markDead(id.fd, .closedLocally)
        case .dead, .unused:
            break
        }
    }

    /// Stops or resumes reading from `id` (back-pressure towards a client).
    public func setReading(_ id: ConnectionID, _ reading: Bool) {
        guard let record = liveRecord(id), record.pointee.state == .open, record.pointee.reading != reading else { return }
        record.pointee.reading = reading
        updateInterest(id.fd)
    }

    /// Bytes waiting for the kernel on `id` (0 for an ended connection).
    public func backlogBytes(of id: ConnectionID) -> Int {
        liveRecord(id)?.pointee.backlogCount ?? 0
    }

    /// Bytes sent to `id` and not yet taken by the kernel: this tick's and the backlog (0 for an
    /// ended connection). What the gateway's slow-consumer rule measures.
    public func queuedBytes(of id: ConnectionID) -> Int {
        guard let record = liveRecord(id) else { return 0 }
        return record.pointee.backlogCount + Int(record.pointee.stagedBytes)
    }

    /// Offers `id`'s unconsumed bytes to the delegate again now, without waiting for a read:
    /// for bytes the delegate left while it could not take them yet (frames a client pipelined
    /// behind its handshake, before the verdict). A large message still arriving is not offered
    /// before it is whole. Must not be called from the delegate's `bytesReceived` for `id`.
    public func offerPendingBytes(_ id: ConnectionID) {
        guard let record = liveRecord(id), record.pointee.state == .open, let pending = record.pointee.pending else { return }
        let count = Int(record.pointee.pendingCount)
        let wanted = Int(record.pointee.pendingWanted)
        if wanted > 0 && count < wanted { return }
        record.pointee.detachPending()
        deliver(id.fd, UnsafeMutableRawBufferPointer(start: pending, count: count))
        free(pending)
        record.pointee.releaseIdleBuffers()
    }

    /// Whether `id` is a connection that has not ended.
    public func isOpen(_ id: ConnectionID) -> Bool {
        guard let record = liveRecord(id) else { return false }
        return record.pointee.state == .open || record.pointee.state == .closing
    }

    // MARK: The end of a tick

    /// Writes what this tick staged, one writev per connection; closes connections whose close
    /// was asked and whose output is written; retires ended ones. Call at the end of every loop
    /// iteration.
    public func flush() {
        let tick = output
        for index in 0..<tick.pointee.dirtyCount {
            let fd = tick.pointee.dirty[index]
            let record = records + Int(fd)
            let first = record.pointee.firstSegment
            record.pointee.firstSegment = -1
            record.pointee.lastSegment = -1
            record.pointee.stagedBytes = 0
            guard record.pointee.state == .open || record.pointee.state == .closing else { continue }
            writeSegments(fd, from: first)
        }
        tick.pointee.reset()
        if !closing.isEmpty {
            var index = 0
            while index < closing.count {
                let fd = closing[index]
                let record = records + Int(fd)
                if record.pointee.state != .closing {
                    closing.swapAt(index, closing.count - 1)
                    closing.removeLast()
                } else if record.pointee.backlogCount == 0 {
                    markDead(fd, .closedLocally)
                    closing.swapAt(index, closing.count - 1)
                    closing.removeLast()
                } else {
                    index += 1
                }
            }
        }
        retireDead()
        // What the delegate sent while connections were retired goes out next iteration.
        if output.pointee.dirtyCount > 0 || !dead.isEmpty { loop.requestImmediateIteration() }
    }

    /// Writes the segment chain starting at `first`: behind the backlog if there is one, else
    /// with writev, keeping what the kernel did not take.
    private func writeSegments(_ fd: Int32, from first: Int32) {
        let record = records + Int(fd)
        let tick = output
        var segment = first
        if let tlsSessions, let session = tlsSessions[Int(fd)] {
            segment = writeSegmentsTLS(fd, session, from: first)
        } else if record.pointee.backlogCount == 0 {
            while segment >= 0 {
                var count = 0
                var total = 0
                var cursor = segment
                while cursor >= 0 && count < Self.iovecCount {
                    let piece = tick.pointee.segments[Int(cursor)]
                    iovecs[count] = iovec(iov_base: tick.pointee.bytes + Int(piece.offset), iov_len: Int(piece.length))
                    total += Int(piece.length)
                    count += 1
                    cursor = piece.next
                }
                // One piece (a broadcast's usual case): write(), which costs the kernel less
                // than writev's iovec import.
                var written =
                    count == 1
                    ? Glibc.write(fd, iovecs[0].iov_base, iovecs[0].iov_len) : Glibc.writev(fd, iovecs, Int32(count))
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno != EAGAIN {
                        markDead(fd, .failed(errno))
                        return
                    }
                    written = 0
                }
                bytesWritten &+= UInt64(truncatingIfNeeded: written)
                if written == total {
                    segment = cursor
                    continue
                }
                // The kernel took part: skip what it took, keep the rest in the backlog.
                segment = skipSegments(from: segment, bytes: written)
                break
            }
        }
        while segment >= 0 {
            let piece = tick.pointee.segments[Int(segment)]
            guard appendToBacklog(fd, UnsafeRawBufferPointer(start: tick.pointee.bytes + Int(piece.offset), count: Int(piece.length)))
            else { return }
            segment = piece.next
        }
        if record.pointee.backlogCount > 0 && !record.pointee.watchingWritable { updateInterest(fd) }
    }

    /// A TLS connection's segments, gathered into chunks of the scratch buffer and encrypted
    /// (one record per chunk, up to 16 KiB each); returns the first segment not taken, whose
    /// `offset` and `length` were moved past what was (the caller backlogs from there).
    private func writeSegmentsTLS(_ fd: Int32, _ session: TLSSession, from first: Int32) -> Int32 {
        let record = records + Int(fd)
        let tick = output
        guard record.pointee.backlogCount == 0, session.isHandshakeDone, let scratch = tlsScratch else { return first }
        var segment = first
        while segment >= 0 {
            // Gather: whole segments while they fit, and a part of one that does not.
            var gathered = 0
            var cursor = segment
            while cursor >= 0 && gathered < Self.tlsScratchSize {
                let piece = tick.pointee.segments[Int(cursor)]
                let take = min(Int(piece.length), Self.tlsScratchSize - gathered)
                (scratch + gathered).copyMemory(from: tick.pointee.bytes + Int(piece.offset), byteCount: take)
                gathered += take
                if take < Int(piece.length) { break }
                cursor = piece.next
            }
            var sent = 0
            while sent < gathered {
                guard case .done(let written) = session.write(scratch + sent, count: gathered - sent) else { break }
                sent += written
            }
            bytesWritten &+= UInt64(truncatingIfNeeded: sent)
            // Skip what was sent; the rest (from the segment it ends in) goes to the backlog.
            segment = skipSegments(from: segment, bytes: sent)
            if sent < gathered { return segment }
        }
        return segment
    }

    /// The segment `bytes` into the chain from `segment` falls in, moved past them (or -1 when
    /// they cover the chain).
    private func skipSegments(from segment: Int32, bytes: Int) -> Int32 {
        let tick = output
        var segment = segment
        var skip = bytes
        while skip > 0 {
            let piece = tick.pointee.segments[Int(segment)]
            if skip < Int(piece.length) {
                tick.pointee.segments[Int(segment)].offset += UInt32(skip)
                tick.pointee.segments[Int(segment)].length -= UInt32(skip)
                break
            }
            skip -= Int(piece.length)
            segment = piece.next
        }
        return segment
    }

    private func appendToBacklog(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let record = records + Int(fd)
        let waiting = record.pointee.backlogCount
        guard waiting + bytes.count <= configuration.maximumBacklogBytes else {
            markDead(fd, .backlogOverflow)
            return false
        }
        if Int(record.pointee.backlogEnd) + bytes.count > Int(record.pointee.backlogCapacity) {
            if let backlog = record.pointee.backlog, record.pointee.backlogStart > 0 {
                backlog.copyMemory(from: backlog + Int(record.pointee.backlogStart), byteCount: waiting)
                record.pointee.backlogStart = 0
                record.pointee.backlogEnd = UInt32(waiting)
            }
            if Int(record.pointee.backlogEnd) + bytes.count > Int(record.pointee.backlogCapacity) {
                var capacity = max(Int(record.pointee.backlogCapacity), 16 * 1024)
                while capacity < waiting + bytes.count { capacity *= 2 }
                record.pointee.backlog = realloc(record.pointee.backlog, capacity)!
                record.pointee.backlogCapacity = UInt32(capacity)
            }
        }
        (record.pointee.backlog! + Int(record.pointee.backlogEnd)).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        record.pointee.backlogEnd += UInt32(bytes.count)
        return true
    }

    private func writeBacklog(_ fd: Int32) {
        let record = records + Int(fd)
        guard record.pointee.state == .open || record.pointee.state == .closing, let backlog = record.pointee.backlog,
            record.pointee.backlogCount > 0
        else { return }
        let written: Int
        if let tlsSessions, let session = tlsSessions[Int(fd)] {
            guard session.isHandshakeDone else { return }
            switch session.write(backlog + Int(record.pointee.backlogStart), count: record.pointee.backlogCount) {
            case .done(let count): written = count
            case .wantsWritable, .wantsReadable: return
            case .closed, .failed: return markDead(fd, .failed(EPROTO))
            }
        } else {
            written = Glibc.write(fd, backlog + Int(record.pointee.backlogStart), record.pointee.backlogCount)
        }
        if written < 0 {
            if errno != EAGAIN && errno != EINTR { markDead(fd, .failed(errno)) }
            return
        }
        bytesWritten &+= UInt64(truncatingIfNeeded: written)
        record.pointee.backlogStart += UInt32(written)
        if record.pointee.backlogCount == 0 {
            free(backlog)
            record.pointee.backlog = nil
            record.pointee.backlogStart = 0
            record.pointee.backlogEnd = 0
            record.pointee.backlogCapacity = 0
            record.pointee.releaseIdleBuffers()
            updateInterest(fd)
        }
    }

    // MARK: Interest and ends

    /// Read interest while reading (a closing connection keeps reading, to see its peer's
    /// close), write interest while a backlog waits.
    private func updateInterest(_ fd: Int32) {
        let record = records + Int(fd)
        guard let registration = record.pointee.registration else { return }
        let writable = record.pointee.backlogCount > 0 || record.pointee.tlsWantsWritable
        record.pointee.watchingWritable = writable
        var interest: IOInterest = writable ? .writable : []
        if record.pointee.reading || record.pointee.state == .closing { interest.insert(.readable) }
        loop.setInterest(registration, interest)
    }

    private func markDead(_ fd: Int32, _ reason: CloseReason) {
        let record = records + Int(fd)
        guard record.pointee.state == .open || record.pointee.state == .closing else { return }
        record.pointee.state = .dead
        dead.append((fd, reason))
    }

    private func retireDead() {
        while let (fd, reason) = dead.popLast() {
            let record = records + Int(fd)
            if let registration = record.pointee.registration { loop.unregister(registration) }
            if let tlsSessions, let session = tlsSessions[Int(fd)] {
                // close_notify when the gateway ends it (best effort: the socket may be full).
                if reason == .closedLocally { session.shutdown() }
                session.free()
                tlsSessions[Int(fd)] = nil
            }
            record.pointee.freeBuffers()
            let generation = record.pointee.generation
            record.pointee = ConnectionRecord()
            record.pointee.generation = generation &+ 1
            Glibc.close(fd)
            openCount -= 1
            delegate?.connectionClosed(ConnectionID(fd: fd, generation: generation), reason: reason)
        }
    }

    private func liveRecord(_ id: ConnectionID) -> UnsafeMutablePointer<ConnectionRecord>? {
        guard id.fd >= 0, Int(id.fd) < maximumDescriptors else { return nil }
        let record = records + Int(id.fd)
        guard record.pointee.generation == id.generation, record.pointee.state != .unused else { return nil }
        return record
    }
}
