import GatewayCore
import GatewayEventLoop
import GatewayHub
import GatewayIOEngine
import GatewayRuntime
import GatewayWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// One connection on the engine gateway's inner port: a BusinessWorker, a GatewayClient or a
/// query connection. Few per gateway, so each is an object with buffers of its own (a
/// `StreamConnection`), unlike client sockets. Confined to the gateway's loop.
public final class InnerLink {
    var connection: StreamConnection!
    var parser = GatewayFrameParser(maximumFrameLength: 64 << 20)
    var peer = InnerPeer<EngineGateway>.unauthenticated
    /// Refused or closed: frames already read are ignored.
    var isClosed = false
    let remoteIP: UInt32
    let remotePort: UInt16
    /// Heartbeat (`InnerHeartbeat`): pings once the peer is a worker; silence closes the link
    /// once armed (only a peer known to ping back is armed).
    var heartbeatTimer: TimerID?
    var heartbeatArmed = false
    var lastHeard: Instant

    init(remoteIP: UInt32, remotePort: UInt16, now: Instant) {
        self.remoteIP = remoteIP
        self.remotePort = remotePort
        self.lastHeard = now
    }

    var remoteAddress: String { "\(IPv4Address(value: remoteIP)):\(remotePort)" }
}

/// Accepts connections on the inner port and hands each to `accepted`.
final class InnerListener: IOHandler {
    private let loop: GatewayEventLoop.EventLoop
    private let fd: Int32
    private var registration: Registration?
    private let accepted: (TCPSocket, _ ipv4: UInt32, _ port: UInt16) -> Void

    init(loop: GatewayEventLoop.EventLoop, fd: Int32, accepted: @escaping (TCPSocket, UInt32, UInt16) -> Void) throws {
        self.loop = loop
        self.fd = fd
        self.accepted = accepted
        registration = try loop.register(fd: fd, interest: .readable, handler: self)
    }

    func readable() {
        while registration != nil, let (connection, peer) = acceptConnection(on: fd) {
            accepted(TCPSocket(fd: connection), peer.ipv4, peer.port)
        }
    }

    /// Stops accepting and closes the listening socket.
    func close() {
        guard let registration else { return }
        loop.unregister(registration)
        self.registration = nil
        Glibc.close(fd)
    }
}
