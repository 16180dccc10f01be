import GatewayCore
#if canImport(Glibc)
import Glibc
#endif
import GatewayWire
import NIOCore

/// A worker that acknowledges events (capability 4) dies: the events it was sent and had not
/// finished go to other workers, in order per client, ahead of the client's later events; the
/// one it crashed in is lost, counted and logged with its client id.
extension Hub {
    /// EVENTS_DONE: the finished events are forgotten, with the closed clients whose ON_CLOSE
    /// was among them.
    func acknowledge(_ done: EventsDone, from link: Worker) -> Bool {
        guard link.unfinished.acknowledge(done) else { return false }
        if let first = link.closingClients.first, first.index < done.finished {
            link.closingClients.removeAll { $0.index < done.finished }
        }
        return true
    }

    func settleUnfinishedEvents(of link: Worker) {
        defer { link.closingClients.removeAll() }
        guard link.acknowledgesEvents, !link.unfinished.isEmpty else { return }
        // Per client, in the order sent; the clients themselves in the order first seen.
        var resent: [(client: Client, events: [HeldEvent])] = []
        var position: [UInt32: Int] = [:]
        var resentCount = 0
        for settled in link.unfinished.settle() {
            let frame = settled.frame
            guard let client = unfinishedEventClient(frame.connectionID, of: link) else {
                continue  // the gateway forgot it: nothing could run it
            }
            if case .lost(let reason) = settled.fate {
                lost(frame, of: client, worker: link, reason: reason)
                continue
            }
            count(.resentEvent)
            resentCount += 1
            var flags = frame.flags
            flags.remove(.awaitsVerdict)  // set again by `send` while a verdict is awaited
            let event = HeldEvent(command: frame.command, flags: flags, body: frame.body, replayed: true)
            if let index = position[client.id] {
                resent[index].events.append(event)
            } else {
                position[client.id] = resent.count
                resent.append((client, [event]))
            }
        }
        // Not to a worker on the dead one's host, where one is left elsewhere: workers on a host
        // that went down (a cut cable, a killed master) leave one by one, and events resent to
        // the next one to go would die twice.
        let host = link.host
        for (client, events) in resent {
            _ = router.worker(for: client, avoiding: { $0.host == host })
            heldBytes += events.reduce(0) { $0 + $1.heldBytes }
            client.heldEvents.insert(contentsOf: events, at: 0)
            heldClients[ObjectIdentifier(client)] = client
        }
        if resentCount > 0 {
            logger.info(
                "resending the events a worker had not finished to other workers",
                metadata: ["gw.worker": "\(link.key)", "gw.events": "\(resentCount)"])
        }
    }

    /// The client an unfinished event was for: connected, closed with its ON_CLOSE unfinished,
    /// or closed with its ON_CLOSE still held.
    private func unfinishedEventClient(_ id: UInt32, of link: Worker) -> Client? {
        if let client = directory[id] { return client }
        if let closing = link.closingClients.first(where: { $0.client.id == id }) { return closing.client }
        return heldClients.values.first { $0.id == id }
    }

    private func lost(_ frame: GatewayFrame, of client: Client, worker link: Worker, reason: UnfinishedEvents.LossReason) {
        count(.lostEvent)
        let why: String
        switch reason {
        case .crashedIn(let signal): why = "the worker crashed (\(String(cString: strsignal(signal)))) handling it"
        case .partlyHandled: why = "the worker died after sending some of its commands; running it again would repeat them"
        case .diedTwice: why = "a second worker died without finishing it"
        }
        logger.warning(
            "an event is lost: \(why)",
            metadata: [
                "gw.client_id": "\(clientID(of: client))", "gw.event": "\(frame.command.phpName ?? "\(frame.command.rawValue)")", "gw.worker": "\(link.key)",
            ])
        // A handshake nobody will decide any more.
        if frame.command == .onWebSocketConnect { resolveVerdict(of: client, 503) }
    }
}
