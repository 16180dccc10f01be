import GatewayCore
import GatewayEventLoop
import GatewayWire
import NIOCore

/// The workers' commands: sends, kicks, sessions, uids and groups, and the queries' replies.
extension Hub {
    // MARK: - Commands

    /// Where a query's reply goes, and in which form.
    enum ReplyRoute {
        /// A bare length-prefixed payload on the connection the query came on.
        case bare(Transport.InnerSocket)
        /// A QUERY_REPLY frame on the main connection of a worker that announced capability 3.
        case framed(Transport.InnerSocket)
    }

    func execute(_ frame: GatewayFrame, replyTo route: ReplyRoute) {
        switch frame.command {
        case .sendToOne:
            if let client = directory[frame.connectionID] { send(frame.body, flags: frame.flags, to: client) }
        case .sendToAll:
            guard let scope = try? SendToAllScope(extData: frame.extData) else { return }
            let before = messagesOut
            defer { broadcastDeliveries &+= messagesOut &- before }
            var message = OutgoingMessage<Transport>(body: frame.body, flags: frame.flags)
            switch scope {
            case .everyone:
                for client in directory.connections.values { deliver(&message, to: client) }
            case .excluding(let excluded):
                let skip = Set(excluded)
                for (id, client) in directory.connections where !skip.contains(id) { deliver(&message, to: client) }
            case .only(let ids):
                for id in ids { if let client = directory[id] { deliver(&message, to: client) } }
            }
        case .kick:
            guard let client = directory[frame.connectionID] else { return }
            if frame.flags.contains(.scalarBody), frame.body.readableBytes > 0 { send(frame.body, flags: frame.flags, to: client) }
            closing(client, because: .kicked)
            transport.close(client.socket, flush: true)
        case .destroy:
            guard let client = directory[frame.connectionID] else { return }
            closing(client, because: .kicked)
            transport.close(client.socket, flush: false)
        case .updateSession:
            guard let client = directory[frame.connectionID] else { return }
            client.session = mergedSession(client.session, update: frame.extData)
        case .setSession:
            directory[frame.connectionID]?.session = Self.owned(frame.extData)
        case .getSessionByClientID:
            guard let client = directory[frame.connectionID] else { return reply(rawPayload: ByteBuffer(string: "N;"), to: route) }
            reply(rawPayload: client.session.readableBytes == 0 ? ByteBuffer(string: "a:0:{}") : client.session, to: route)
        case .isOnline:
            reply(.int(directory[frame.connectionID] == nil ? 0 : 1), to: route)
        case .bindUID:
            directory.bind(frame.connectionID, uid: String(buffer: frame.extData))
        case .unbindUID:
            directory.unbind(frame.connectionID, uid: String(buffer: frame.extData))
        case .sendToUID:
            guard let uids = try? UIDListExt.decode(frame.extData) else { return }
            let before = messagesOut
            defer { broadcastDeliveries &+= messagesOut &- before }
            var message = OutgoingMessage<Transport>(body: frame.body, flags: frame.flags)
            for uid in uids {
                for id in directory.clients(of: uid) { if let client = directory[id] { deliver(&message, to: client) } }
            }
        case .joinGroup:
            directory.join(frame.connectionID, group: String(buffer: frame.extData))
        case .leaveGroup:
            directory.leave(frame.connectionID, group: String(buffer: frame.extData))
        case .ungroup:
            directory.ungroup(String(buffer: frame.extData))
        case .sendToGroup:
            guard let target = try? SendToGroupExt(extData: frame.extData) else { return }
            let before = messagesOut
            defer { broadcastDeliveries &+= messagesOut &- before }
            var message = OutgoingMessage<Transport>(body: frame.body, flags: frame.flags)
            let skip = Set(target.exclude ?? [])
            var sent: Set<UInt32> = []
            for group in target.groups {
                for id in directory.members(of: group) where !skip.contains(id) && sent.insert(id).inserted {
                    if let client = directory[id] { deliver(&message, to: client) }
                }
            }
        case .getClientCountByGroup:
            reply(directory.clientCount(inGroup: String(buffer: frame.extData)), to: route)
        case .getAllClientSessions:
            reply(directory.allSessions(), to: route)
        case .getClientSessionsByGroup:
            reply(directory.sessions(inGroup: String(buffer: frame.extData)), to: route)
        case .getClientIDByUID:
            reply(directory.connectionIDs(ofUID: String(buffer: frame.extData)), to: route)
        case .batchGetClientIDByUID:
            // Unreadable ext_data answers an empty array, as a PHP gateway's json_decode would.
            reply(directory.connectionIDs(ofUIDs: (try? UIDListExt.decode(frame.extData)) ?? []), to: route)
        case .batchGetClientCountByGroup:
            reply(directory.clientCounts(inGroups: (try? UIDListExt.decode(frame.extData)) ?? []), to: route)
        case .getGroupIDList:
            reply(directory.groupNames(), to: route)
        case .select:
            guard let request = try? SelectExt(extData: frame.extData) else { return reply(.array(PHPArray()), to: route) }
            reply(directory.select(request), to: route)
        case .handshakeVerdict:
            guard let client = directory[frame.connectionID] else { return }
            let status = Int(String(buffer: frame.body)) ?? 0
            resolveVerdict(of: client, (400...599).contains(status) ? status : 0)
        default:
            // Pings, and commands this gateway does not know: ignored, the connection stays
            // open, as in GatewayWorker.
            break
        }
    }

    func send(_ body: ByteBuffer, flags: GatewayFrameFlags, to client: Client) {
        guard client.isOpen, !client.isClosed else {
            var message = OutgoingMessage<Transport>(body: body, flags: flags)
            return deliver(&message, to: client)
        }
        // One receiver: framed straight into its output, without a payload of the tick.
        let written = body.withUnsafeReadableBytes { payload in
            if let compressor, compressor.compresses(payload.count, flags: flags, windowBits: client.deflateWindowBits) {
                let compressed = compressor.deflater.compress(payload, windowBits: client.deflateWindowBits)
                return transport.write(to: client.socket, size: compressed.count + ClientFraming.maximumOverhead) { target in
                    ClientFraming.writeCompressed(compressed, flags: flags, to: target)
                }
            }
            return transport.write(to: client.socket, size: payload.count + ClientFraming.maximumOverhead) { target in
                ClientFraming.write(payload, flags: flags, for: client.transport, to: target)
            }
        }
        guard written else { return slowConsumer(client) }
        messagesOut += 1
        client.messagesOut += 1
    }

    func deliver(_ message: inout OutgoingMessage<Transport>, to client: Client) {
        guard !client.isClosed else { return }
        let bytes = message.bytes(for: client.transport, deflateWindowBits: client.deflateWindowBits, compressor: compressor, in: transport)
        guard client.isOpen else {
            // Sent before the handshake completed (e.g. from on_connect): delivered after the 101.
            if client.pendingSends.count < Self.maximumPendingSends {
                client.pendingSends.append(transport.detached(bytes))
            } else {
                count(.slowClientDrop)
            }
            return
        }
        write(bytes, to: client)
    }

    func write(_ bytes: Transport.Payload, to client: Client) {
        // Past the send buffer the client is not reading: its memory stays bounded either way.
        guard transport.write(bytes, to: client.socket) else { return slowConsumer(client) }
        messagesOut += 1
        client.messagesOut += 1
    }

    func slowConsumer(_ client: Client) {
        switch configuration.slowClientPolicy {
        case .drop:
            count(.slowClientDrop)
        case .close:
            guard !client.isClosed else { return }
            count(.slowClientClosed)
            closing(client, because: .slowConsumer)
            logger.info("closing a client that stopped reading (send buffer full)", metadata: ["gw.client_id": "\(clientID(of: client))"])
            transport.close(client.socket, flush: false)
        }
    }

    func reply(_ value: PHPValue, to route: ReplyRoute) {
        switch route {
        case .bare(let socket):
            queriesAnswered += 1
            var buffer = ByteBuffer()
            buffer.writeGatewayReply(value)
            transport.write(transport.payload(buffer), to: socket)
        case .framed:
            var payload = ByteBuffer()
            PHPSerializer.serialize(value, into: &payload)
            reply(rawPayload: payload, to: route)
        }
    }

    func reply(rawPayload: ByteBuffer, to route: ReplyRoute) {
        queriesAnswered += 1
        var buffer = ByteBuffer()
        switch route {
        case .bare(let socket):
            buffer.writeInteger(UInt32(rawPayload.readableBytes))
            buffer.appendBytes(of: rawPayload)
            transport.write(transport.payload(buffer), to: socket)
        case .framed(let socket):
            // Queued for the link itself: behind every event and mark queued for it before.
            buffer.writeQueryReply(payload: rawPayload)
            transport.write(transport.payload(buffer), to: socket)
        }
    }

    /// A copy of `slice` in memory of its own: a session kept as a slice of a read buffer
    /// would pin that whole buffer for as long as the client stays connected.
    static func owned(_ slice: ByteBuffer) -> ByteBuffer {
        ByteBufferAllocator().buffer(buffer: slice)
    }

    /// UPDATE_SESSION: array_replace_recursive(old, new) on the gateway. With no old session the
    /// update is stored as it is, as GatewayWorker does.
    func mergedSession(_ old: ByteBuffer, update: ByteBuffer) -> ByteBuffer {
        guard old.readableBytes > 0 else { return Self.owned(update) }
        guard let current = try? PHPSerializer.unserialize(old), let change = try? PHPSerializer.unserialize(update) else {
            logger.warning("UPDATE_SESSION with an unreadable session; keeping the old one")
            return old
        }
        return ByteBuffer(bytes: PHPSerializer.serialize(current.replacingRecursive(with: change)))
    }
}
