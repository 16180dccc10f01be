import GatewayEventLoop
import GatewayWire
import NIOCore

/// One TCP connection on a `GatewayEventLoop`: an outgoing one (a non-blocking connect under a
/// deadline; the worker's links to gateways) or an accepted one (a gateway's inner port),
/// reads handed to the owner as they arrive, and a write buffer flushed on demand.
///
/// Bytes stay in `ByteBuffer`s so the project's frame parsers and encoders work on them
/// unchanged. In the steady state nothing is allocated: the read buffer is reused once the
/// owner's slices of it are released (they are, by the next read: events run at the end of
/// the loop iteration that read them), and the write buffer is reused once written out.
/// Confined to the loop's thread.
public final class StreamConnection: IOHandler {
    public enum State: Equatable {
        case connecting
        case connected
        case closed
    }

    public struct Callbacks {
        /// The connect finished.
        public var connected: () -> Void
        /// New bytes in `buffer` (the owner consumes what it can; the rest stays for later).
        public var received: (_ buffer: inout ByteBuffer) -> Void
        /// The connection is gone: refused, timed out, reset, or closed by the peer. Not
        /// called after `close()`.
        public var closed: (_ reason: String) -> Void

        public init(
            connected: @escaping () -> Void = {}, received: @escaping (_ buffer: inout ByteBuffer) -> Void,
            closed: @escaping (_ reason: String) -> Void
        ) {
            self.connected = connected
            self.received = received
            self.closed = closed
        }
    }

    /// How much one readiness may read before other connections get their turn.
    private static let readChunk = 64 << 10
    private static let readsPerWakeup = 4

    private let loop: GatewayEventLoop.EventLoop
    private let socket: TCPSocket
    private var registration: Registration?
    private var callbacks: Callbacks
    public private(set) var state = State.connecting
    private var readBuffer: ByteBuffer
    private var writeBuffer: ByteBuffer
    private var connectTimer: TimerID?
    private var readingPaused = false
    /// Bytes written and not yet handed to the kernel.
    public var pendingWriteBytes: Int { writeBuffer.readableBytes }
    /// The last write left part of the buffer unwritten: what the kernel has may end inside
    /// one of the caller's frames, so nothing may be written to the socket past this object.
    public private(set) var writeInterrupted = false
    /// The socket, for a crash handler's last frame (written only while `writeInterrupted` is
    /// false).
    public var descriptor: Int32 { socket.fd }

    /// Starts connecting to `ipv4:port`; `callbacks` says what happened.
    public init(loop: GatewayEventLoop.EventLoop, ipv4: UInt32, port: UInt16, connectTimeout: Int64, callbacks: Callbacks) throws {
        self.loop = loop
        self.callbacks = callbacks
        let allocator = ByteBufferAllocator()
        readBuffer = allocator.buffer(capacity: Self.readChunk)
        writeBuffer = allocator.buffer(capacity: 4096)
        let (socket, inProgress) = try TCPSocket.connect(ipv4: ipv4, port: port)
        self.socket = socket
        do {
            registration = try loop.register(fd: socket.fd, interest: .writable, handler: self)
        } catch {
            socket.close()
            throw error
        }
        if inProgress {
            // Unowned, not weak: a weak reference gives the connection a side table, and then
            // every retain and release of it (several per message) takes the slow path. The
            // timer never outlives the connection: `close()` and `deinit` cancel it.
            connectTimer = loop.schedule(after: connectTimeout) { [unowned self] in
                fail("no answer within \(connectTimeout / 1_000_000) ms")
            }
        } else {
            loop.requestImmediateIteration()
        }
    }

    /// Serves a connection accepted on a listening socket (non-blocking, owned from now on):
    /// connected at once, read from as soon as the loop runs. `connected` is not called.
    public init(loop: GatewayEventLoop.EventLoop, accepted socket: TCPSocket, callbacks: Callbacks) throws {
        self.loop = loop
        self.callbacks = callbacks
        let allocator = ByteBufferAllocator()
        readBuffer = allocator.buffer(capacity: Self.readChunk)
        writeBuffer = allocator.buffer(capacity: 4096)
        self.socket = socket
        state = .connected
        socket.setNoDelay()
        do {
            registration = try loop.register(fd: socket.fd, interest: .readable, handler: self)
        } catch {
            socket.close()
            throw error
        }
    }

    deinit {
        if let connectTimer { loop.cancel(connectTimer) }
    }

    // MARK: - Writing

    /// Appends to the write buffer; `flush()` hands it to the kernel.
    public func write(_ encode: (inout ByteBuffer) -> Void) {
        guard state != .closed else { return }
        encode(&writeBuffer)
    }

    /// Writes what is buffered; what the kernel does not take now goes when the socket is
    /// writable again.
    public func flush() {
        guard state == .connected, writeBuffer.readableBytes > 0 else { return }
        while writeBuffer.readableBytes > 0 {
            let result = writeBuffer.withUnsafeReadableBytes { socket.write($0) }
            switch result {
            case .bytes(let count):
                writeBuffer.moveReaderIndex(forwardBy: count)
            case .wouldBlock:
                writeInterrupted = true
                updateInterest()
                return
            case .closed:
                return fail("closed by the peer")
            case .failed(let error):
                return fail(errnoText(error))
            }
        }
        writeBuffer.clear()
        writeInterrupted = false
        updateInterest()
    }

    // MARK: - Reading

    /// Stops (or resumes) reading: the kernel's buffer, then the peer, holds what comes next.
    public func setReadingPaused(_ paused: Bool) {
        guard readingPaused != paused else { return }
        readingPaused = paused
        updateInterest()
    }

    public func readable() {
        guard state == .connected, !readingPaused else { return }
        for _ in 0..<Self.readsPerWakeup {
            if readBuffer.readableBytes == 0 {
                readBuffer.clear()
            } else if readBuffer.readerIndex > 0 && readBuffer.writableBytes < Self.readChunk {
                // A partial frame at the end: move it to the front rather than grow the buffer.
                readBuffer.discardReadBytes()
            }
            var outcome = TCPSocket.IOResult.wouldBlock
            readBuffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.readChunk) { space in
                outcome = socket.read(into: space)
                if case .bytes(let count) = outcome { return count }
                return 0
            }
            switch outcome {
            case .bytes(let count):
                callbacks.received(&readBuffer)
                guard state == .connected else { return }
                if count < Self.readChunk { return }  // the kernel had no more
            case .wouldBlock:
                return
            case .closed:
                return fail("closed by the peer")
            case .failed(let error):
                return fail(errnoText(error))
            }
        }
    }

    public func writable() {
        switch state {
        case .connecting:
            let error = socket.connectResult()
            guard error == 0 else { return fail(errnoText(error)) }
            if let connectTimer { loop.cancel(connectTimer) }
            connectTimer = nil
            socket.setNoDelay()
            state = .connected
            updateInterest()
            callbacks.connected()
            flush()
        case .connected:
            flush()
        case .closed:
            break
        }
    }

    // MARK: - Closing

    /// Sets TCP_USER_TIMEOUT: data the peer leaves unacknowledged this long aborts the link.
    public func setUserTimeout(milliseconds: UInt32) {
        socket.setUserTimeout(milliseconds: milliseconds)
    }

    /// Probes the connection while it is idle (`TCPSocket.setKeepAlive`).
    public func setKeepAlive(idleSeconds: Int32, intervalSeconds: Int32, probes: Int32) {
        socket.setKeepAlive(idleSeconds: idleSeconds, intervalSeconds: intervalSeconds, probes: probes)
    }

    /// Closes without calling `closed`.
    public func close() {
        guard state != .closed else { return }
        state = .closed
        if let connectTimer { loop.cancel(connectTimer) }
        connectTimer = nil
        if let registration { loop.unregister(registration) }
        registration = nil
        socket.close()
    }

    private func fail(_ reason: String) {
        guard state != .closed else { return }
        close()
        callbacks.closed(reason)
    }

    private func updateInterest() {
        guard let registration else { return }
        var interest: IOInterest = []
        if state == .connecting || writeBuffer.readableBytes > 0 { interest.insert(.writable) }
        if state == .connected && !readingPaused { interest.insert(.readable) }
        loop.setInterest(registration, interest)  // no system call when it is unchanged
    }
}

/// `strerror` text for an errno, for logs.
public func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

#if canImport(Glibc)
import Glibc
#endif
