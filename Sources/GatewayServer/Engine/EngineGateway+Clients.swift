import GatewayCompression
import GatewayCore
import GatewayEventLoop
import GatewayHub
import GatewayIOEngine
import GatewayWebSocket
import GatewayWire
import NIOCore

/// Client sockets: the engine's events, decoded with the client's protocol and fed to the hub.
extension EngineGateway: ClientEngineDelegate {
    public func connectionOpened(_ id: ConnectionID, listener: Int, peer: PeerAddress) {
        let (scheme, port) = listeners[listener]
        let client = hub.clientAccepted(id, remoteIP: peer.ipv4, remotePort: peer.port, listenPort: port, transport: scheme, now: now)
        let phase: ClientSlot.Phase
        switch scheme {
        case .websocket: phase = .handshake
        case .text: phase = .text
        case .frame: phase = .frame
        }
        let limit = configuration.maxMessageBytes
        slots.open(
            id.fd,
            ClientSlot(
                client: client, phase: client == nil ? .finished : phase, webSocket: WebSocketFrameDecoder(maximumMessageBytes: limit),
                text: TextLineScanner(maximumLineLength: limit), frame: LengthPrefixedScanner(maximumBodyLength: limit)))
        guard let client else { return engine.close(id, flush: false) }  // over max_connections (counted)
        if scheme == .websocket {
            handshakes[id.fd] = WebSocketHandshakeParser()
            scheduleTimer(notLaterThan: client.connectedAt + configuration.handshakeDeadline.nanoseconds)
        }
    }

    public func connectionClosed(_ id: ConnectionID, reason: CloseReason) {
        let client = slots.slot(id.fd).pointee.client
        slots.close(id.fd)
        handshakes[id.fd] = nil
        verdictKeys[id.fd] = nil
        guard let client else { return }
        switch reason {
        case .pendingOverflow: hub.closing(client, because: .sizeLimit)
        case .backlogOverflow: hub.closing(client, because: .slowConsumer)
        default: break
        }
        hub.clientClosed(client, now: now)
    }

    public func bytesReceived(_ id: ConnectionID, _ bytes: UnsafeMutableRawBufferPointer) -> ReceiveOutcome {
        let slot = slots.slot(id.fd)
        guard let client = slot.pointee.client else { return ReceiveOutcome(consumed: bytes.count) }
        hub.clientHeardFrom(client)  // any bytes, pongs included
        receivingDescriptor = id.fd
        defer { receivingDescriptor = -1 }
        switch slot.pointee.phase {
        case .handshake:
            return handshake(id, client, bytes)
        case .awaitingVerdict:
            return ReceiveOutcome(consumed: 0)  // kept until the verdict
        case .webSocket:
            return webSocketFrames(id, client, bytes)
        case .text, .frame:
            return streamMessages(id, client, bytes)
        case .finished:
            return ReceiveOutcome(consumed: bytes.count)
        }
    }

    // MARK: - WebSocket

    private func handshake(_ id: ConnectionID, _ client: Client, _ bytes: UnsafeMutableRawBufferPointer) -> ReceiveOutcome {
        guard var parser = handshakes[id.fd] else { return ReceiveOutcome(consumed: bytes.count) }
        let result = parser.parse(UnsafeRawBufferPointer(bytes))
        switch result {
        case .needMoreBytes:
            handshakes[id.fd] = parser
            return ReceiveOutcome(consumed: 0)
        case .refused(let refusal):
            handshakes[id.fd] = nil
            if refusal.isMalformedHTTP { hub.count(.malformedHandshake) }
            hub.closing(client, because: .protocolError)
            finish(id, sending: refusal.response)
            return ReceiveOutcome(consumed: bytes.count)
        case .upgrade(let request, let consumed):
            handshakes[id.fd] = nil
            verdictKeys[id.fd] = request.key
            slots.slot(id.fd).pointee.phase = .awaitingVerdict
            if inflater != nil {
                slots.slot(id.fd).pointee.deflate = PermessageDeflateNegotiation.agree(offers: request.extensionOffers)
            }
            let info = WebSocketConnectInfo(method: request.method, uri: request.uri, httpVersion: request.httpVersion, headers: request.headers)
            let requested = now
            hub.handshakeRequested(client, info: info, now: requested)
            // A worker that gives no verdict (PHP) was answered for at once: go on with the
            // frames the client sent behind its request.
            switch slots.slot(id.fd).pointee.phase {
            case .webSocket:
                let rest = webSocketFrames(id, client, UnsafeMutableRawBufferPointer(rebasing: bytes[consumed...]))
                return ReceiveOutcome(consumed: consumed + rest.consumed, messageSize: rest.messageSize)
            case .awaitingVerdict:
                scheduleTimer(notLaterThan: requested + configuration.verdictTimeout.nanoseconds)
                engine.setReading(id, false)  // anything more waits in the kernel until the verdict
                return ReceiveOutcome(consumed: consumed)
            default:
                return ReceiveOutcome(consumed: bytes.count)
            }
        }
    }

    /// The worker's verdict (`HubTransport.handshakeDecided`).
    func verdict(_ id: ConnectionID, status: Int) {
        let slot = slots.slot(id.fd)
        guard engine.isOpen(id), slot.pointee.phase == .awaitingVerdict, let key = verdictKeys.removeValue(forKey: id.fd) else { return }
        guard status == 0 else {
            return finish(id, sending: WebSocketHandshakeResponse.refusal(status: status))
        }
        let deflate = slot.pointee.deflate
        WebSocketHandshakeResponse.switchingProtocols(key: key, extensions: deflate?.responseHeaderValue).withUnsafeBytes {
            engine.send(id, bytes: $0)
        }
        slot.pointee.phase = .webSocket
        slot.pointee.webSocket.acceptsCompressedMessages = deflate != nil
        guard let client = slot.pointee.client else { return }
        hub.clientUpgraded(client, deflateWindowBits: deflate?.serverWindowBits ?? 0)
        engine.setReading(id, !client.readingPaused)
        // Frames the client pipelined behind its request; offered by `handshake` itself when the
        // verdict came while it ran.
        if receivingDescriptor != id.fd { engine.offerPendingBytes(id) }
    }

    private func webSocketFrames(_ id: ConnectionID, _ client: Client, _ bytes: UnsafeMutableRawBufferPointer) -> ReceiveOutcome {
        let slot = slots.slot(id.fd)
        let hub = self.hub!  // once per read, not once per message (a retain each)
        var offset = 0
        while true {
            let result = slot.pointee.webSocket.decode(UnsafeMutableRawBufferPointer(rebasing: bytes[offset...]))
            offset += result.consumed
            switch result.event {
            case .needMoreBytes:
                return ReceiveOutcome(consumed: offset, messageSize: result.pendingFrameSize)
            case .message(let message) where message.compressed:
                if let failure = forwardCompressed(message, from: client, to: hub) {
                    closeFailed(id, client, failure, hub: hub)
                    return ReceiveOutcome(consumed: bytes.count)
                }
            case .message(let message):
                forward(message.payload, binary: message.kind == .binary, from: client, to: hub)  // UTF-8 checked by the decoder
            case .ping(let payload):
                let pong = engine.stage(capacity: WebSocketServerFrameWriter.maximumHeaderLength + payload.count) { target in
                    WebSocketServerFrameWriter.writeFrame(opcode: WebSocketServerFrameWriter.pongOpcode, payload: payload, to: target)
                }
                engine.send(id, staged: pong)
            case .pong:
                break
            case .close(let frame):
                // Echoed after what was queued for the client, then closed.
                let reply = engine.stage(capacity: 4) { frame.writeReply(to: $0) }
                engine.send(id, staged: reply)
                slot.pointee.phase = .finished
                engine.close(id, flush: true)
                return ReceiveOutcome(consumed: bytes.count)
            case .failure(let failure):
                closeFailed(id, client, failure, hub: hub)
                return ReceiveOutcome(consumed: bytes.count)
            case .finished:
                return ReceiveOutcome(consumed: bytes.count)
            }
        }
    }

    /// Answers a client's protocol failure with its close code, then closes.
    private func closeFailed(_ id: ConnectionID, _ client: Client, _ failure: WebSocketProtocolFailure, hub: Hub<EngineGateway>) {
        if failure == .messageTooLarge { hub.count(.oversizedMessage) }
        hub.closing(client, because: failure == .messageTooLarge ? .sizeLimit : .protocolError)
        finish(id, sending: WebSocketServerFrameWriter.closeFrame(code: failure.closeCode))
    }

    /// A permessage-deflate message, inflated (never past `max_message_bytes`: 1009), checked
    /// (a broken deflate stream or text that is not UTF-8: 1007) and forwarded; the failure
    /// otherwise.
    private func forwardCompressed(_ message: WebSocketMessage, from client: Client, to hub: Hub<EngineGateway>) -> WebSocketProtocolFailure? {
        switch inflater!.inflate(message.payload) {
        case .inflated(let payload):
            guard message.kind == .binary || UTF8Validation.isValid(payload) else { return .invalidUTF8 }
            forward(payload, binary: message.kind == .binary, from: client, to: hub)
            return nil
        case .tooLarge:
            return .messageTooLarge
        case .invalid:
            return .invalidCompressedData
        }
    }

    // MARK: - text:// and frame://

    /// Lines (text messages) or length-prefixed frames (binary ones). A message over the limit
    /// closes the connection and is counted; these protocols have no close code to send.
    private func streamMessages(_ id: ConnectionID, _ client: Client, _ bytes: UnsafeMutableRawBufferPointer) -> ReceiveOutcome {
        let slot = slots.slot(id.fd)
        let hub = self.hub!
        let binary = slot.pointee.phase == .frame
        var offset = 0
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            let result = binary ? slot.pointee.frame.scan(rest) : slot.pointee.text.scan(rest)
            switch result {
            case .message(let body, let consumed):
                forward(UnsafeRawBufferPointer(rebasing: rest[body]), binary: binary, from: client, to: hub)
                offset += consumed
            case .needMoreBytes(let messageSize):
                return ReceiveOutcome(consumed: offset, messageSize: messageSize)
            case .tooLong, .malformed:
                hub.count(result == .tooLong ? .oversizedMessage : .malformedFrame)
                hub.closing(client, because: result == .tooLong ? .sizeLimit : .protocolError)
                slot.pointee.phase = .finished
                engine.close(id, flush: true)
                return ReceiveOutcome(consumed: bytes.count)
            }
        }
    }

    // MARK: - Helpers

    /// A whole client message to the hub, copied into its worker frame as it is written.
    private func forward(_ message: UnsafeRawBufferPointer, binary: Bool, from client: Client, to hub: Hub<EngineGateway>) {
        _ = hub.clientMessage(client, length: message.count, binary: binary, now: now) { buffer in
            buffer.appendBytes(message)
            return true
        }
    }

    /// Sends `bytes` (a refusal, a close frame) after what was queued, then closes; whatever
    /// the client sends meanwhile is dropped.
    private func finish(_ id: ConnectionID, sending bytes: [UInt8]) {
        slots.slot(id.fd).pointee.phase = .finished
        bytes.withUnsafeBytes { engine.send(id, bytes: $0) }
        engine.close(id, flush: true)
    }
}
