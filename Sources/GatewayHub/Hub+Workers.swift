import GatewayCore
import GatewayEventLoop
import GatewayWire
import NIOCore

/// Inner connections: workers attaching, draining and leaving, and back-pressure towards them.
extension Hub {
    // MARK: - Inner connections

    /// One frame from an inner connection; returns the peer's new state, or nil when the
    /// transport must close the connection (refused; logged and counted).
    /// `remoteIP` is asked for only when a frame needs it (a WORKER_CONNECT, a refusal): making
    /// the address's text costs an allocation, which the per-frame path must not.
    public func innerFrame(
        _ frame: GatewayFrame, from peer: InnerPeer<Transport>, socket: Transport.InnerSocket, remoteIP: () -> String
    ) -> InnerPeer<Transport>? {
        if case .worker(let link) = peer { return workerFrame(frame, from: link, remoteIP: remoteIP) ? peer : nil }
        switch frame.command {
        case .workerConnect:
            guard case .unauthenticated = peer else { return peer }
            guard let body = try? WorkerConnectBody(body: frame.body) else { return refuseInner(remoteIP(), "malformed WORKER_CONNECT") }
            guard body.secretKey == configuration.secretKey else {
                return refuseInner(remoteIP(), "WORKER_CONNECT with a wrong secret key")
            }
            let speaksGatewayd = body.extra.contains { $0.key == GatewaydCapability.key }
            let key = "\(remoteIP()):\(body.workerKey)"
            if let existing = router.workers[key], existing.speaksGatewayd != speaksGatewayd {
                return refuseConflicting(key, existing: existing, newcomerSpeaksGatewayd: speaksGatewayd)
            }
            let link = Worker(key: key, socket: socket, speaksGatewayd: speaksGatewayd)
            link.sendsHeartbeats = GatewaydHeartbeat.workerPings(body)
            link.framedReplies = GatewaydCapability.wantsFramedReplies(body)
            link.acknowledgesEvents = (GatewaydCapability.announcedVersion(body) ?? 0) >= GatewaydCapability.acknowledgedEventsVersion
            if link.framedReplies {
                // Its first frame, ahead of any event (held ones are released below): this
                // gateway answers queries on this connection.
                transport.write(transport.payload(GatewaydCapability.helloFrame()), to: socket)
            }
            if let replaced = router.add(link) {
                logger.info("worker reconnected; closing its previous connection", metadata: ["gw.worker": "\(link.key)"])
                transport.close(replaced.socket)
            }
            logger.info("worker attached", metadata: ["gw.worker": "\(link.key)", "gw.workers": "\(router.count)"])
            releaseHeldEvents()
            return .worker(link)
        case .gatewayClientConnect:
            guard clientConnectAuthenticates(frame, remoteIP: remoteIP) else { return nil }
            if case .unauthenticated = peer { return .client }
            return peer
        case .drainRequest, .drainDone, .eventsDone, .workerCrashed:
            return peer  // a worker's own commands; from anyone else ignored
        default:
            if case .unauthenticated = peer, !configuration.secretKey.isEmpty {
                return refuseInner(remoteIP(), "command \(frame.command) before authentication")
            }
            execute(frame, replyTo: .bare(socket))
            return peer
        }
    }

    /// One frame from an attached worker (the per-message path: the transport keeps the peer as
    /// it is, where `innerFrame` hands back a copy to store); false when the transport must close
    /// the connection.
    public func workerFrame(_ frame: GatewayFrame, from link: Worker, remoteIP: () -> String) -> Bool {
        switch frame.command {
        case .workerConnect:
            return true  // already attached
        case .gatewayClientConnect:
            return clientConnectAuthenticates(frame, remoteIP: remoteIP)
        case .drainRequest:
            startDrain(of: link)
        case .drainDone:
            finishDrain(of: link)
        case .eventsDone:
            guard link.acknowledgesEvents else { return true }
            guard let done = EventsDone(body: frame.body), acknowledge(done, from: link) else {
                return refusedInner(remoteIP(), "EVENTS_DONE with counts the worker cannot have")
            }
        case .workerCrashed:
            guard link.acknowledgesEvents else { return true }
            if let report = WorkerCrashed(body: frame.body), link.unfinished.crashed(report) { return true }
            return refusedInner(remoteIP(), "WORKER_CRASHED naming an event the worker was not sent")
        default:
            execute(frame, replyTo: link.framedReplies ? .framed(link.socket) : .bare(link.socket))
        }
        return true
    }

    private func clientConnectAuthenticates(_ frame: GatewayFrame, remoteIP: () -> String) -> Bool {
        guard let body = try? GatewayClientConnectBody(body: frame.body), body.secretKey == configuration.secretKey else {
            return refusedInner(remoteIP(), "GATEWAY_CLIENT_CONNECT with a wrong secret key")
        }
        return true
    }

    /// A PHP BusinessWorker and a gatewayd worker on one host with the same key (GatewayWorker's
    /// identity for a worker: host and `<name>:<index>`; both default to the name
    /// "BusinessWorker"). Replacing the attached one, as for a worker that reconnects, would
    /// make the two take turns for ever; the newcomer is refused, and the conflict logged once.
    private func refuseConflicting(_ key: String, existing: Worker, newcomerSpeaksGatewayd: Bool) -> InnerPeer<Transport>? {
        count(.workerKeyConflict)
        if !existing.conflictReported {
            existing.conflictReported = true
            let (attached, refused) = newcomerSpeaksGatewayd ? ("a PHP BusinessWorker", "a gatewayd worker") : ("a gatewayd worker", "a PHP BusinessWorker")
            logger.warning(
                "refusing \(refused): \(attached) on the same host already uses the worker key \(key); give one of them another name (gatewayd: worker_name; PHP: BusinessWorker->name)",
                metadata: ["gw.worker": "\(key)"])
        }
        return nil
    }

    func refuseInner(_ remote: String, _ reason: String) -> InnerPeer<Transport>? {
        _ = refusedInner(remote, reason)
        return nil
    }

    /// Counts and logs a refused inner connection; false: the transport closes it.
    private func refusedInner(_ remote: String, _ reason: String) -> Bool {
        count(.authenticationFailure)
        logger.warning("closing inner connection: \(reason)", metadata: ["gw.remote": "\(remote)"])
        return false
    }

    /// A worker's connection is gone.
    public func workerLeft(_ link: Worker) {
        guard router.contains(link) else { return }
        router.remove(link)
        logger.info("worker detached", metadata: ["gw.worker": "\(link.key)", "gw.workers": "\(router.count)"])
        resumeClients(of: link)
        // What it had not finished goes to other workers, ahead of what was held meanwhile.
        settleUnfinishedEvents(of: link)
        releaseHeldEvents()
    }

    /// DRAIN_REQUEST: no more events for this worker; its clients' events wait from now on.
    func startDrain(of link: Worker) {
        guard !link.draining else { return }
        link.draining = true
        transport.write(transport.payload(ByteBuffer.command(.drainMark)), to: link.socket)
        logger.info("worker draining", metadata: ["gw.worker": "\(link.key)", "gw.clients": "\(link.assignedClients)"])
    }

    /// DRAIN_DONE: everything sent before the mark is handled; the worker's clients move on,
    /// held events first, in order.
    func finishDrain(of link: Worker) {
        guard router.contains(link) else { return }
        router.remove(link)
        logger.info("worker drained", metadata: ["gw.worker": "\(link.key)", "gw.held_events": "\(heldEventCount)"])
        releaseHeldEvents()
    }

    // MARK: - Back-pressure towards workers

    /// Stops reading from a client whose worker has more than the worker buffer waiting: the
    /// client's TCP window closes instead of the gateway buffering without bound.
    func pauseIfWorkerCongested(_ client: Client, worker: Worker) {
        guard !client.readingPaused, !client.isClosed, transport.isCongested(worker.socket) else { return }
        client.readingPaused = true
        worker.pausedClients.append(client)
        transport.setReading(client.socket, false)
        if worker.pausedClients.count == 1 {
            count(.workerBackPressure)
            logger.warning("worker is not keeping up; pausing its clients", metadata: ["gw.worker": "\(worker.key)"])
        }
    }

    /// The worker caught up (or left): its paused clients are read again.
    public func resumeClients(of worker: Worker) {
        guard !transport.isCongested(worker.socket) || !router.contains(worker) else { return }
        let paused = worker.pausedClients
        worker.pausedClients.removeAll()
        for client in paused where !client.isClosed {
            client.readingPaused = false
            transport.setReading(client.socket, true)
        }
    }
}
