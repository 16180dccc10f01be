import GatewayHub

/// For fuzzers and tests that drive an `EngineGateway` without `start()` (through
/// `@testable import`): they hand it sockets themselves (`engine.adopt(fd:listener:peer:)`,
/// `innerConnectionAccepted(_:ip:port:)`), turn its loop on their own thread, and build a fresh
/// gateway per case, so each must go away with everything it holds.
extension EngineGateway {
    /// Ends a gateway that was never started: every client socket and inner link is closed at
    /// once (no close frame, nothing flushed), the loop is closed (its epoll descriptor and
    /// eventfd with it), and the engine's strong reference to its delegate (this gateway, for
    /// the life of a running one) is dropped, so the gateway, its engine and its loop are freed
    /// with the caller's last reference. Loop thread only, and not from inside an iteration;
    /// nothing may be called on the gateway afterwards.
    func tearDownForTesting() {
        for client in hub.directory.connections.values { engine.close(client.socket, flush: false) }
        engine.flush()  // retires them: descriptors closed, slots released, the hub told
        for link in Array(innerLinks.values) { closeInner(link, flush: false) }
        engine.delegate = nil
        loop.onWake = nil
        loop.afterIteration = nil
        loop.close()
    }
}
