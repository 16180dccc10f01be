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
            guard let body = try? GatewayClientConnectBody(body: frame.body), body.secretKey == configuration.secretKey else {
                return refuseInner(remoteIP(), "GATEWAY_CLIENT_CONNECT with a wrong secret key")
            }
            if case .unauthenticated = peer { return .client }
            return peer
        case .drainRequest:
            guard case .worker(let link) = peer else { return peer }
            startDrain(of: link)
            return peer
        case .drainDone:
            guard case .worker(let link) = peer else { return peer }
            finishDrain(of: link)
            return peer
        case .eventsDone:
            guard case .worker(let link) = peer, link.acknowledgesEvents else { return peer }
            guard let done = EventsDone(body: frame.body), acknowledge(done, from: link) else {
                return refuseInner(remoteIP(), "EVENTS_DONE with counts the worker cannot have")
            }
            return peer
        case .workerCrashed:
            guard case .worker(let link) = peer, link.acknowledgesEvents else { return peer }
            if let report = WorkerCrashed(body: frame.body), link.unfinished.crashed(report) { return peer }
            return refuseInner(remoteIP(), "WORKER_CRASHED naming an event the worker was not sent")
        default:
            if case .unauthenticated = peer, !configuration.secretKey.isEmpty {
                return refuseInner(remoteIP(), "command \(frame.command) before authentication")
            }
            let route: ReplyRoute
            if case .worker(let link) = peer, link.framedReplies { route = .framed(link.socket) } else { route = .bare(socket) }
            execute(frame, replyTo: route)
            return peer
        }
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
        count(.authenticationFailure)
        logger.warning("closing inner connection: \(reason)", metadata: ["gw.remote": "\(remote)"])
        return nil
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
