#if canImport(Glibc)
import Glibc
#endif
import GatewayCore
import GatewayEventLoop
import GatewayIOEngine
import GatewayWire
import NIOCore
import NIOEmbedded

@testable import GatewayServer

/// A fresh `EngineGateway` (the `client_io: engine` transport) per fuzz input, never started:
/// no gateway thread, no register. Its peers are socketpairs whose other ends the harness
/// holds: a worker attached through `innerConnectionAccepted` (it sends WORKER_CONNECT like a
/// real one), clients adopted by the gateway's `ClientEngine` as if accepted on one of its
/// listeners, and inner-port peers. The gateway's loop runs on the calling thread with a
/// manual clock: every call that sends bytes turns it until an iteration moves nothing, so
/// what a fuzz input does is deterministic and done when the call returns.
///
/// Everything the gateway sends its worker must be well-formed frames; `workerFrames()`
/// traps otherwise.
public final class EngineGatewayHarness {
    /// One of the harness's socketpair ends: a client, an inner peer or the worker.
    public struct Peer: Hashable {
        fileprivate let index: Int
    }

    private struct Socket {
        /// The harness's end.
        let fd: Int32
        /// The gateway's end: the gateway owns and closes it.
        let gatewayFD: Int32
        /// What the gateway sent on it and nobody took yet.
        var received = ByteBuffer()
        /// The gateway closed its end (end of stream or reset seen on ours).
        var closedByGateway = false
        /// The harness ended its side of the stream (`shutdown(SHUT_WR)`).
        var shutDown = false
        /// The harness sent bytes the gateway may not have read yet.
        var mayHoldUnread = false
    }

    /// The engine's listener table: which client protocol each listener index serves.
    private static let listeners: [(scheme: ListenAddress.Scheme, port: UInt16)] = [
        (.websocket, 8282), (.text, 8283), (.frame, 8284),
    ]
    /// Iterations one turn may take before the harness calls the loop stuck.
    private static let maximumIterations = 10_000

    public let maxMessageBytes: Int
    private let clock = ManualClock()
    private let controlLoop = EmbeddedEventLoop()
    /// Nil once torn down.
    private(set) var gateway: EngineGateway!
    private var sockets: [Socket] = []
    private var pollSet: [pollfd] = []
    private var pollSockets: [Int] = []
    private var worker = Peer(index: 0)
    private var workerReader = WorkerFrameReader()
    private var finished = false

    // The turn in progress.
    private var iterations = 0
    private var quietIterations = 0
    private var movedThisTurn = false
    private var unreadByGateway = 0

    /// - Parameter gatewaydWorker: a gatewayd worker gives handshake verdicts (the gateway
    ///   waits for one); a PHP worker does not (the gateway accepts at once).
    ///   `innerHeartbeat` pings inner peers that turn out to be workers (the harness's own
    ///   included) and closes silent ones. `compression` turns permessage-deflate on (clients
    ///   that offer it get it).
    public init(maxMessageBytes: Int, secretKey: String = "", gatewaydWorker: Bool, innerHeartbeat: Bool = false, compression: Bool = false) {
        _ = ignoreSIGPIPE
        self.maxMessageBytes = maxMessageBytes
        gateway = try! EngineGateway(
            configuration: harnessConfiguration(
                maxMessageBytes: maxMessageBytes, secretKey: secretKey, innerHeartbeat: innerHeartbeat, compression: compression),
            eventLoop: controlLoop, logger: harnessLogger, reporter: sharedReporter, clock: clock)
        // What `start` fills from the configured listeners, which are not bound here.
        gateway.listeners = Self.listeners
        let endOfGatewayIteration = gateway.loop.afterIteration
        gateway.loop.afterIteration = { [unowned self] in
            endOfGatewayIteration?()
            afterGatewayIteration()
        }

        let (mine, theirs) = Self.socketPair()
        worker = add(mine, theirs)
        gateway.innerConnectionAccepted(TCPSocket(fd: theirs), ip: 0x7F00_0001, port: 40000)
        workerSends(workerConnectFrame(secretKey: secretKey, gatewaydWorker: gatewaydWorker))
        guard gateway.hub.router.count == 1 else { fatalError("the harness's worker was not accepted") }
    }

    deinit {
        if !finished { tearDown() }
    }

    // MARK: - Peers

    /// A client socket adopted by the gateway's `ClientEngine` as if accepted on the listener
    /// of `transport` (WebSocket: the handshake comes first; text:// and frame://: open at once).
    public func connectClient(_ transport: ListenAddress.Scheme) -> Peer {
        let (mine, theirs) = Self.socketPair()
        let peer = add(mine, theirs)
        let listener = Self.listeners.firstIndex { $0.scheme == transport }!
        let address = PeerAddress(ipv4: 0xC000_0207, port: UInt16(50000 + peer.index))  // 192.0.2.7
        guard gateway.engine.adopt(fd: theirs, listener: listener, peer: address) != nil else {
            fatalError("the engine did not adopt a client socket")
        }
        turn()
        return peer
    }

    /// A WebSocket client whose handshake is done: it sent an upgrade request, the worker
    /// accepted it (a gatewayd worker with a verdict), and the 101 was read. The worker's
    /// frames about it are taken (not returned by the next `workerFrames()`).
    public func connectUpgradedClient() -> (client: Peer, connectionID: UInt32) {
        let client = connectClient(.websocket)
        deliver(ByteBuffer(string: Self.upgradeRequest), to: client)
        var connectionID: UInt32?
        for frame in workerFrames() where frame.command == .onWebSocketConnect {
            connectionID = frame.connectionID
            if frame.flags.contains(.awaitsVerdict) {
                workerSends(GatewayFrame(command: .handshakeVerdict, connectionID: frame.connectionID, body: ByteBuffer(string: "0")))
            }
        }
        guard let connectionID, outbound(of: client).readableBytesView.starts(with: "HTTP/1.1 101 ".utf8) else {
            fatalError("the harness's WebSocket client was not upgraded")
        }
        return (client, connectionID)
    }

    private static let upgradeRequest =
        "GET /fuzz HTTP/1.1\r\nHost: gateway\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    /// A connection to the inner port (`innerConnectionAccepted`), not yet authenticated.
    public func connectInnerPeer() -> Peer {
        let (mine, theirs) = Self.socketPair()
        let peer = add(mine, theirs)
        gateway.innerConnectionAccepted(TCPSocket(fd: theirs), ip: 0xC000_0207, port: UInt16(50000 + peer.index))
        turn()
        return peer
    }

    private func add(_ mine: Int32, _ theirs: Int32) -> Peer {
        sockets.append(Socket(fd: mine, gatewayFD: theirs))
        return Peer(index: sockets.count - 1)
    }

    private static func socketPair() -> (mine: Int32, theirs: Int32) {
        var descriptors: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &descriptors) == 0 else { fatalError("socketpair failed: errno \(errno)") }
        return (descriptors[0], descriptors[1])
    }

    // MARK: - Bytes in and out

    /// Sends `read` on `peer`'s socket in one write, as a peer's one send, then turns the loop
    /// until it is quiet. Nothing is sent once the gateway closed the socket; what the gateway
    /// does not take (it stopped reading and the socket is full) is dropped.
    public func deliver(_ read: ByteBuffer, to peer: Peer) {
        let fd = sockets[peer.index].fd
        read.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count, !sockets[peer.index].closedByGateway, !sockets[peer.index].shutDown {
                let sent = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if sent > 0 {
                    offset += sent
                    sockets[peer.index].mayHoldUnread = true
                } else if sent < 0 && errno == EINTR {
                    continue
                } else if sent < 0 && errno == EAGAIN {
                    turn()
                    if !movedThisTurn { return }
                } else {
                    return  // EPIPE, ECONNRESET: the gateway closed its end
                }
            }
        }
        turn()
    }

    /// The worker sends the gateway `frame` (WORKER_CONNECT, a handshake verdict).
    public func workerSends(_ frame: GatewayFrame) {
        var bytes = ByteBuffer()
        bytes.writeGatewayFrame(frame)
        deliver(bytes, to: worker)
    }

    /// Frames the gateway sent the worker since the last call (`WorkerFrameReader`: traps on a
    /// malformed one, leaves the link's own out: its GATEWAYD_HELLO, and the marked pings of
    /// `innerHeartbeat`).
    public func workerFrames() -> [GatewayFrame] {
        workerReader.frames(from: &sockets[worker.index].received)
    }

    /// Everything the gateway sent on `peer`'s socket since the last call.
    public func outbound(of peer: Peer) -> ByteBuffer {
        let bytes = sockets[peer.index].received
        sockets[peer.index].received = ByteBuffer()
        return bytes
    }

    /// Whether the gateway has not closed `peer`'s socket.
    public func isOpen(_ peer: Peer) -> Bool {
        !sockets[peer.index].closedByGateway
    }

    /// Lets every timer fire (the clock jumps 60 s: handshake deadline, verdict timeout,
    /// heartbeats), ends the stream of every client and inner peer (they read end of stream,
    /// as from a peer that closed), then frees the gateway and every socket. What the worker
    /// was sent until then is still there for `workerFrames()`.
    public func finish() {
        clock.advance(by: 60_000_000_000)
        turn()
        for index in sockets.indices where index != worker.index && !sockets[index].closedByGateway {
            shutdown(sockets[index].fd, Int32(SHUT_WR))
            sockets[index].shutDown = true
        }
        turn()
        tearDown()
    }

    private func tearDown() {
        finished = true
        gateway.tearDownForTesting()
        weak var released = gateway
        gateway = nil
        precondition(released == nil, "the EngineGateway outlived its teardown: a reference cycle")
        for socket in sockets { close(socket.fd) }
        try? controlLoop.syncShutdownGracefully()
    }

    // MARK: - Turning the loop

    /// Runs the gateway's loop iterations on this thread until two in a row move no bytes: none
    /// read from the harness's ends (nor an end of stream seen there), none taken by the gateway
    /// from its ends. Each iteration polls (the clock is manual: a wait for a timer would block
    /// on real time for nothing).
    private func turn() {
        iterations = 0
        quietIterations = 0
        movedThisTurn = false
        unreadByGateway = unreadCount()
        gateway.loop.requestImmediateIteration()
        gateway.loop.run()
    }

    /// After the gateway's own end of iteration (its output flushed, ended connections retired).
    private func afterGatewayIteration() {
        var moved = drain()
        let unread = unreadCount()
        if unread != unreadByGateway {
            unreadByGateway = unread
            moved = true
        }
        iterations += 1
        precondition(iterations < Self.maximumIterations, "the gateway's loop never goes quiet")
        if moved {
            movedThisTurn = true
            quietIterations = 0
        } else {
            quietIterations += 1
        }
        if quietIterations >= 2 {
            gateway.loop.stop()
        } else {
            gateway.loop.requestImmediateIteration()
        }
    }

    /// Reads what the gateway sent on every open socket; whether anything came (or ended).
    private func drain() -> Bool {
        pollSet.removeAll(keepingCapacity: true)
        pollSockets.removeAll(keepingCapacity: true)
        for index in sockets.indices where !sockets[index].closedByGateway {
            pollSet.append(pollfd(fd: sockets[index].fd, events: Int16(POLLIN), revents: 0))
            pollSockets.append(index)
        }
        guard poll(&pollSet, nfds_t(pollSet.count), 0) > 0 else { return false }
        var moved = false
        for (entry, index) in zip(pollSet, pollSockets) where entry.revents != 0 {
            moved = true
            while true {
                let count = recv(sockets[index].fd, readScratch.baseAddress!, readScratch.count, Int32(MSG_DONTWAIT))
                if count > 0 {
                    sockets[index].received.writeBytes(UnsafeRawBufferPointer(rebasing: readScratch[..<count]))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    // 0: closed; EAGAIN: all read; else a reset (it closed with bytes unread).
                    if count == 0 || errno != EAGAIN { sockets[index].closedByGateway = true }
                    break
                }
            }
        }
        return moved
    }

    /// Bytes the harness sent that wait unread in the gateway's ends of its open sockets.
    private func unreadCount() -> Int {
        var total = 0
        for index in sockets.indices where sockets[index].mayHoldUnread && !sockets[index].closedByGateway {
            var count: Int32 = 0
            guard ioctl(sockets[index].gatewayFD, UInt(FIONREAD), &count) == 0 else { continue }
            total += Int(count)
            if count == 0 { sockets[index].mayHoldUnread = false }
        }
        return total
    }
}

/// Where `drain` reads (the fuzz targets run on one thread).
nonisolated(unsafe) private let readScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)

/// The gateway writes to sockets whose peers may be gone, as gatewayd does with SIGPIPE ignored.
private let ignoreSIGPIPE: Void = {
    signal(SIGPIPE, SIG_IGN)
}()
