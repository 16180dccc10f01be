import GatewayCore
import GatewayEventLoop
import GatewayHub
import GatewayIOEngine
import GatewayRuntime
import GatewayWire
import NIOCore

/// What the hub asks of the sockets, carried out on the engine and the inner links.
extension EngineGateway: HubTransport {
    public typealias ClientSocket = ConnectionID
    public typealias InnerSocket = InnerLink
    public typealias Payload = TickPayloads.Payload

    public func encode(size: Int, _ encode: (inout ByteBuffer) -> Bool) -> Payload? {
        payloads.encode(size: size, encode)
    }

    public func detached(_ payload: Payload) -> ByteBuffer {
        payloads.detached(payload)
    }

    public func payload(_ bytes: ByteBuffer) -> Payload {
        payloads.add(bytes)
    }

    public func write(_ payload: Payload, to client: ConnectionID) -> Bool {
        guard takesOutput(client) else { return false }
        engine.send(client, staged: payloads.staged(payload, in: engine))
        return true
    }

    public func write(to client: ConnectionID, size: Int, _ encode: (UnsafeMutableRawPointer) -> Int) -> Bool {
        guard takesOutput(client) else { return false }
        engine.send(client, staged: engine.stage(capacity: size, encode))
        return true
    }

    /// Past the send buffer the client is not reading: a slow consumer, sent nothing more.
    private func takesOutput(_ client: ConnectionID) -> Bool {
        engine.queuedBytes(of: client) <= configuration.sendBufferBytes
    }

    public func close(_ client: ConnectionID, flush: Bool) {
        engine.close(client, flush: flush)
    }

    public func setReading(_ client: ConnectionID, _ reading: Bool) {
        // A client awaiting its verdict stays paused; the verdict resumes it as the hub wants.
        guard engine.isOpen(client), slots.slot(client.fd).pointee.phase != .awaitingVerdict || !reading else { return }
        engine.setReading(client, reading)
    }

    public func handshakeDecided(_ client: ConnectionID, status: Int) {
        verdict(client, status: status)
    }

    public func write(_ payload: Payload, to inner: InnerLink) {
        guard !inner.isClosed else { return }
        payloads.withBytes(payload) { bytes in inner.connection.write { $0.appendBytes(bytes) } }
    }

    public func write(to inner: InnerLink, size: Int, _ encode: (inout ByteBuffer) -> Bool) -> Bool {
        guard !inner.isClosed else { return payloads.encode(size: size, encode) != nil }  // dropped, as a write would be
        var accepted = true
        inner.connection.write { buffer in
            let start = buffer.writerIndex
            buffer.reserveCapacity(minimumWritableBytes: size)
            if !encode(&buffer) {
                buffer.moveWriterIndex(to: start)
                accepted = false
            }
        }
        return accepted
    }

    public func isCongested(_ inner: InnerLink) -> Bool {
        guard !inner.isClosed else { return false }
        return inner.connection.pendingWriteBytes > configuration.workerBufferBytes
    }

    public func close(_ inner: InnerLink) {
        closeInner(inner, flush: true)
    }
}

/// The inner port: workers, GatewayClients and query connections.
extension EngineGateway {
    func innerConnectionAccepted(_ socket: TCPSocket, ip: UInt32, port: UInt16) {
        let link = InnerLink(remoteIP: ip, remotePort: port, now: now)
        do {
            link.connection = try StreamConnection(
                loop: loop, accepted: socket,
                callbacks: .init(
                    received: { [unowned self, unowned link] buffer in innerBytes(&buffer, from: link) },
                    closed: { [unowned self, unowned link] reason in innerLinkLost(link, reason: reason) }))
        } catch {
            logger.warning("cannot serve an inner connection: \(error)", metadata: ["gw.remote": "\(link.remoteAddress)"])
            return
        }
        innerLinks[ObjectIdentifier(link)] = link
    }

    private func innerBytes(_ buffer: inout ByteBuffer, from link: InnerLink) {
        let hub = self.hub!  // once per read, not once per frame (a retain each)
        link.lastHeard = now
        while !link.isClosed {
            let frame: GatewayFrame?
            do {
                frame = try link.parser.parse(&buffer)
            } catch {
                logger.warning("inner connection error: \(error)", metadata: ["gw.remote": "\(link.remoteAddress)"])
                return closeInner(link, flush: false)
            }
            guard let frame else { return }
            if case .worker(let worker) = link.peer {  // the per-message path: the peer stays as it is
                guard hub.workerFrame(frame, from: worker, remoteIP: { IPv4Address(value: link.remoteIP).description })
                else { return closeInner(link, flush: true) }
                continue
            }
            guard let next = hub.innerFrame(frame, from: link.peer, socket: link, remoteIP: { IPv4Address(value: link.remoteIP).description })
            else { return closeInner(link, flush: true) }
            if case .unauthenticated = link.peer, case .worker(let worker) = next {
                link.peer = next
                // Workers get pings (never a GatewayClient: they would corrupt its replies); only
                // a worker that pings back is ever closed for silence.
                startHeartbeat(link, armed: worker.sendsHeartbeats)
                reportReadyIfServing()
            }
            link.peer = next
        }
    }

    private func innerLinkLost(_ link: InnerLink, reason: String) {
        guard !link.isClosed else { return }
        link.isClosed = true
        forget(link)
    }

    /// Closes a link (the hub refused it, replaced it, or it fell silent).
    func closeInner(_ link: InnerLink, flush: Bool) {
        guard !link.isClosed else { return }
        link.isClosed = true
        if flush { link.connection.flush() }
        link.connection.close()
        forget(link)
    }

    private func forget(_ link: InnerLink) {
        if let timer = link.heartbeatTimer { loop.cancel(timer) }
        link.heartbeatTimer = nil
        innerLinks[ObjectIdentifier(link)] = nil
        if case .worker(let worker) = link.peer { hub.workerLeft(worker) }
        link.peer = .unauthenticated  // the worker holds its link (`socket`): no cycle left to leak
        // Clients may still hold the link's worker until they are routed again; its buffers
        // go at the end of this iteration (not from inside one of the connection's callbacks).
        retiredLinks.append(link)
    }

    // MARK: - Heartbeat

    /// Pings now (so a gatewayd worker arms its own timeout right after its hello) and every
    /// interval; when armed, a link silent for longer than the timeout is closed.
    private func startHeartbeat(_ link: InnerLink, armed: Bool) {
        guard let heartbeat = configuration.innerHeartbeat else { return }
        link.heartbeatArmed = armed
        link.lastHeard = now
        link.connection.write { $0.writeImmutableBuffer(GatewaydHeartbeat.pingFrame()) }
        scheduleHeartbeat(link, interval: heartbeat.interval.nanoseconds, timeout: heartbeat.timeout.nanoseconds)
    }

    private func scheduleHeartbeat(_ link: InnerLink, interval: Int64, timeout: Int64) {
        link.heartbeatTimer = loop.schedule(after: interval) { [unowned self, unowned link] in
            link.heartbeatTimer = nil
            guard !link.isClosed else { return }
            if link.heartbeatArmed, now - link.lastHeard > timeout {
                hub.count(.innerHeartbeatTimeout)
                logger.warning(
                    "worker silent for more than \(timeout / 1_000_000) ms; closing its link", metadata: ["gw.remote": "\(link.remoteAddress)"])
                return closeInner(link, flush: false)
            }
            link.connection.write { $0.writeImmutableBuffer(GatewaydHeartbeat.pingFrame()) }
            scheduleHeartbeat(link, interval: interval, timeout: timeout)
        }
    }
}
