import CGatewayABI
import GatewayEvents
import GatewayWire

/// Typed events (gatewayd.h `event_on` / `event_result` / `event_emit`, docs/events.md): a
/// client's text message is decoded once against the declared signatures and the handler is
/// called with the values; a message that is no event goes to on_message as before.
extension PluginHost {
    // MARK: - Declaring

    func declareEvent(name: String, signature: String, handler: gwd_event_fn?) throws(HostError) {
        guard let handler else {
            logger.warning("event_on(\"\(name)\") refused: no handler")
            throw .invalidArgument
        }
        do {
            try events.declare(name: name, signature: signature, function: handler)
        } catch {
            logger.warning("event_on(\"\(name)\", \"\(signature)\") refused: \(error.reason)", metadata: ["gw.event": "\(name)"])
            throw error.alreadyDeclared ? .exists : .invalidArgument
        }
    }

    // MARK: - Dispatching

    /// Runs a text message as an event when it is one; false when it is not (on_message takes it).
    func dispatchEvent(from client: ClientID, context: OpaquePointer, clientID: UnsafePointer<CChar>, hasOnMessage: Bool) -> Bool {
        let result = invocation.withEventBody { eventDecoder.decode($0, table: events.table) }
        switch result {
        case .notAnEvent:
            return false
        case .unknownEvent(let name, let ack):
            if hasOnMessage { return false }
            answerEvent(EventDecodeError(kind: .unknownEvent, event: name, ack: ack).frame(), to: client)
            counters.add(eventErrors: 1)
            return true
        case .failure(let error):
            answerEvent(error.frame(), to: client)
            counters.add(eventErrors: 1)
            return true
        case .event(let index, let ack):
            let status = events.call(index, context: context, clientID: clientID, arguments: eventDecoder.arguments)
            if status != GWD_OK.code { counters.add(pluginErrors: 1) }
            if let ack { acknowledge(ack, status: status, result: invocation.eventResult, to: client) }
            return true
        }
    }

    private func acknowledge(_ ack: Int64, status: Int32, result: [UInt8]?, to client: ClientID) {
        EventAcknowledgement.write(ack: ack, status: status, result: result, into: &eventFrame)
        answerEvent(eventFrame, to: client)
    }

    private func answerEvent(_ frame: [UInt8], to client: ClientID) {
        frame.withUnsafeBytes { try? sendToClient(clientID: client, $0, flags: 0) }
    }

    // MARK: - Emitting

    /// `event_emit`: the event `["name", args…]` as a text message to a client, a group, a uid
    /// or everyone.
    func emitEvent(
        kind: UInt32, target: UnsafeRawBufferPointer, name: String, arguments: UnsafeBufferPointer<gwd_arg>
    ) throws {
        var items: [JSONValue] = [.string(name)]
        for argument in arguments { items.append(try Self.jsonValue(of: argument)) }
        let message = JSONValue.array(items).serialized(escaping: .minimal)
        try message.withUnsafeBytes { bytes in
            switch kind {
            case GWD_EMIT_CLIENT:
                guard target.count == 20, let id = ClientID(bytes: target) else { throw HostError.invalidArgument }
                try sendToClient(clientID: id, bytes, flags: 0)
            case GWD_EMIT_GROUP:
                try sendToGroups([try Self.text(target)], bytes, flags: 0, excluding: [])
            case GWD_EMIT_UID:
                try sendToUIDs([try Self.text(target)], bytes, flags: 0)
            case GWD_EMIT_ALL:
                try sendToAll(bytes, flags: 0, excluding: [])
            default:
                throw HostError.invalidArgument
            }
        }
    }

    private static func text(_ bytes: UnsafeRawBufferPointer) throws(HostError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidArgument }
        return text
    }

    private static func jsonValue(of argument: gwd_arg) throws(HostError) -> JSONValue {
        switch UInt8(truncatingIfNeeded: argument.type) {
        case UInt8(ascii: "s"):
            guard let text = argument.text, let string = String(validatingCString: text) else { throw .invalidArgument }
            return .string(string)
        case UInt8(ascii: "S"):
            guard argument.len == 0 || argument.text != nil else { throw .invalidArgument }
            return .string(try text(UnsafeRawBufferPointer(start: argument.text, count: argument.len)))
        case UInt8(ascii: "i"):
            return .int(Int(argument.integer))
        case UInt8(ascii: "d"):
            guard argument.number.isFinite else { throw .invalidArgument }  // JSON has no NaN or infinity
            return .double(argument.number)
        case UInt8(ascii: "b"):
            return .bool(argument.flag != 0)
        case UInt8(ascii: "j"):
            guard let json = argument.text,
                let value = try? JSONValue.parse(UnsafeRawBufferPointer(start: json, count: argument.len))
            else { throw .invalidArgument }
            return value
        default:
            throw .invalidArgument
        }
    }
}
