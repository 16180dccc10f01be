import GatewayCore
import NIOCore

/// What every role (register, gateway, worker) offers the child runtime. All methods are
/// called on the role's event loop.
public protocol RoleService: AnyObject, Sendable {
    /// Counters for `gatewayd status`.
    func counters() -> ProcessCounters
    /// Client connections for `gatewayd connections` (gateways; others return []).
    func connections() -> [ConnectionInfo]
    /// Stops serving; the future completes when the process may exit.
    func shutdown() -> EventLoopFuture<Void>
    /// Finishes the work already accepted without taking more (a reload's old workers), then
    /// stops; the future completes when the process may exit.
    func drain() -> EventLoopFuture<Void>
    /// Stops accepting new clients, keeps serving the ones it has (graceful stop).
    func quiesce()
    /// Reads the TLS certificate and key again for new handshakes (`gatewayd reload`).
    func reloadTLS()
}

extension RoleService {
    public func connections() -> [ConnectionInfo] { [] }
    /// Roles without work in flight simply stop.
    public func drain() -> EventLoopFuture<Void> { shutdown() }
    /// Roles that accept no clients have nothing to refuse.
    public func quiesce() {}
    /// Roles without TLS listeners have no certificate.
    public func reloadTLS() {}
}

/// How a role tells the master it is serving, or why it cannot.
public struct ChildReporter: Sendable {
    let link: ControlLink

    /// Reports readiness once; `info` shows up in `status` details.
    public func ready(_ info: [String: String] = [:]) {
        link.send(ControlMessage(kind: .ready, info: info))
    }

    /// Reports readiness; the future completes once the report is written (a canary then exits).
    public func readyAndFlush(_ info: [String: String]) -> EventLoopFuture<Void> {
        link.sendAndFlush(ControlMessage(kind: .ready, info: info))
    }

    /// Reports why this process cannot run, then exits with status 1. Blocks until the
    /// message is written, so never call it on an event loop thread.
    public func fail(_ reason: String) -> Never {
        _ = try? link.sendAndFlush(ControlMessage(kind: .fatal, reason: reason)).wait()
        _exit(1)
    }
}

#if canImport(Glibc)
import Glibc
#endif
