#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Typed events (docs/events.md): a client sends `["add", 1, 2]`,
/// `{"event": "add", "a": 1, "b": 2}` or `{"event": "add", "args": [1, 2], "ack": 7}`, and the
/// handler declared with `on(_:_:)` gets the arguments decoded:
///
/// ```swift
/// struct Add: Decodable { let a: Int; let b: Int }
///
/// func workerStarted(_ gateway: Gateway) throws {
///     try gateway.on("add") { (gateway, client, add: Add) in
///         try gateway.emit("sum", to: .client(client), add.a &+ add.b)  // never trap on input
///     }
/// }
/// ```
///
/// The SDK decodes events itself, in the plugin, and never calls the host's `event_on` (that
/// entry is for C plugins): it reads every text message before ``GatewayPlugin/message(_:client:message:)``
/// does. A message that names a declared event goes to that event's handler, or is answered
/// with an error frame; every other message — not an event, a binary message, an event name
/// that is not declared, text that is not JSON and names no declared event — reaches
/// `message(...)` unchanged. A plugin that declares no events is not touched at all.
///
/// Arguments, in the three forms:
/// - named, `{"event": "add", "a": 1, "b": 2}`: `Arguments` is decoded from the object's
///   members by their names; `"event"` and `"ack"` are not arguments, other members are
///   ignored unless a field names them.
/// - positional, `["add", 1, 2]` and `{"event": "add", "args": [1, 2]}`: a struct (any keyed
///   `Decodable`) takes argument n as the n-th field its `init(from:)` asks for — for a
///   synthesized `Decodable`, the n-th stored property in declaration order. An array type
///   (`[Int]`) takes all the arguments as its elements; a single value (`String`, `Int`,
///   ``RawJSON``) takes the one argument. Those two have no field names, so they accept only
///   the positional forms. More positional arguments than the type asks for are refused
///   (`too_many_arguments`).
///
/// JSON to Swift: `String` takes a string, `Bool` true or false, an integer type an integer
/// written without fraction or exponent and within its range, `Double` and `Float` any number
/// within range, ``RawJSON`` any value as its text, `Optional` also `null` or an absent field,
/// and any other `Decodable` its usual JSON shape. A string or structured argument is at most
/// 64 KiB and 64 levels deep, as for C plugins.
///
/// A decoding failure is answered to the sender with the error frame of docs/events.md
/// (`bad_argument` with the argument's number, the kind it expected and a reason;
/// `missing_argument`; `too_many_arguments`; `bad_ack`; `bad_json` for broken JSON that names a
/// declared event), and the handler is not called. These frames come from the plugin, so the
/// worker's `event_errors` counter does not count them.
///
/// Acknowledgements: when the event carried `"ack": n`, the sender gets `{"ack":n,"status":0}`
/// once the handler returned — with `"result": …` when the handler returned an `Encodable`
/// value (left out when that is nil). A handler that throws answers the thrown
/// ``GatewayError``'s status, or `GWD_ERR_FAILED` (11) for any other error; without an ack
/// the error is logged instead, at warning level.
extension Gateway {
    /// Declares event `name` (1 to 64 bytes of UTF-8, as `event_on`): a client message naming
    /// it calls `handler` with its arguments decoded as `Arguments`.
    ///
    /// Declare events in ``GatewayPlugin/workerStarted(_:)`` (any callback works; they last
    /// until ``GatewayPlugin/workerStopping(_:)`` has returned). Throws
    /// ``GatewayError/Code/invalidArgument`` for an empty or too long name and
    /// ``GatewayError/Code/exists`` for a name declared before.
    public func on<Arguments: Decodable>(
        _ name: String, _ handler: @escaping (Gateway, ClientID, Arguments) throws -> Void
    ) throws(GatewayError) {
        try eventTable().declare(name) { gateway, client, decoder throws(EventArgumentFailure) in
            let arguments = try decoder.decodeAll(Arguments.self)
            return {
                try handler(gateway, client, arguments)
                return nil
            }
        }
    }

    /// Declares event `name` whose handler's result becomes the acknowledgement's `"result"`.
    /// Otherwise as the `on(_:_:)` above.
    public func on<Arguments: Decodable, Result: Encodable>(
        _ name: String, _ handler: @escaping (Gateway, ClientID, Arguments) throws -> Result
    ) throws(GatewayError) {
        try eventTable().declare(name) { gateway, client, decoder throws(EventArgumentFailure) in
            let arguments = try decoder.decodeAll(Arguments.self)
            return { try handler(gateway, client, arguments) }
        }
    }

    /// Declares event `name` without arguments (`["ping"]`, `{"event": "ping"}`); positional
    /// arguments are refused, other members of the object form ignored.
    public func on(_ name: String, _ handler: @escaping (Gateway, ClientID) throws -> Void) throws(GatewayError) {
        try on(name) { (gateway, client, _: NoArguments) in try handler(gateway, client) }
    }

    /// Declares event `name` without arguments, whose handler's result becomes the
    /// acknowledgement's `"result"`.
    public func on<Result: Encodable>(_ name: String, _ handler: @escaping (Gateway, ClientID) throws -> Result) throws(GatewayError) {
        try on(name) { (gateway, client, _: NoArguments) in try handler(gateway, client) }
    }

    /// Removes the declaration of event `name`: its messages reach
    /// ``GatewayPlugin/message(_:client:message:)`` again. False when it was not declared.
    @discardableResult
    public func off(_ name: String) -> Bool {
        (try? eventTable().remove(name)) ?? false
    }

    /// The names of the declared events, sorted.
    public var declaredEvents: [String] {
        (try? eventTable().names) ?? []
    }

    private func eventTable() throws(GatewayError) -> EventTable {
        guard let registration = pluginRegistration else {
            throw GatewayError(code: .internal, message: "no plugin is registered")
        }
        return registration.events
    }
}

/// Where ``Gateway/emit(_:to:_:)`` sends an event.
public enum EmitTarget: Hashable, Sendable {
    /// One client, wherever it is (`send_to_client`).
    case client(ClientID)
    /// Every member of a group (`send_to_group`).
    case group(String)
    /// Every client bound to a uid (`send_to_uid`).
    case uid(String)
    /// Every client of every gateway (`send_to_all`).
    case everyone
}

extension Gateway {
    /// Sends the event `["name", arguments…]` to `target`, as a text frame.
    ///
    /// Each argument is encoded with Foundation's `JSONEncoder` (so any `Encodable` works: a
    /// number, a string, a struct, an array; object keys come sorted); a ``RawJSON`` is put in
    /// as its text. The frame
    /// goes through the ordinary sends (`send_to_client`, `send_to_group`, `send_to_uid`,
    /// `send_to_all`), not the host's `event_emit`: that entry takes only C's scalar argument
    /// types, and a 1.0 or 1.1 host has none, while the sends work on every host. Throws
    /// ``GatewayError/Code/invalidArgument`` when an argument cannot be encoded (a `Double`
    /// that is not finite, an encoder error of the value's own), else what the send throws.
    public func emit(_ name: String, to target: EmitTarget, _ arguments: any Encodable...) throws(GatewayError) {
        try emit(name, to: target, arguments: arguments)
    }

    /// ``emit(_:to:_:)`` with the arguments in an array.
    public func emit(_ name: String, to target: EmitTarget, arguments: [any Encodable]) throws(GatewayError) {
        let message = Message.text(try eventText(name, arguments))
        switch target {
        case .client(let client): try send(message, to: client)
        case .group(let group): try sendToGroup(group, message)
        case .uid(let uid): try sendToUID(uid, message)
        case .everyone: try sendToAll(message)
        }
    }

    /// The text of the event `["name", arguments…]`.
    func eventText(_ name: String, _ arguments: [any Encodable]) throws(GatewayError) -> String {
        var text = "["
        appendJSONString(name, to: &text)
        let encoder = eventEncoder()
        for (index, argument) in arguments.enumerated() {
            text += ","
            do {
                text += try encodeJSONValue(argument, encoder)
            } catch {
                throw GatewayError(code: .invalidArgument,
                                   message: "emit \(name): argument \(index + 1) cannot be encoded as JSON: \(error)")
            }
        }
        return text + "]"
    }
}

/// The arguments of an event declared without any.
private struct NoArguments: Decodable {}

/// The encoder of emitted arguments and ack results: compact, keys sorted (so that one value
/// always gives the same text), "/" not escaped.
func eventEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}

/// `value` as JSON text: a ``RawJSON`` as it is, anything else through `encoder`.
func encodeJSONValue(_ value: any Encodable, _ encoder: JSONEncoder) throws -> String {
    if let raw = value as? RawJSON { return raw.text }
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

// MARK: - Dispatch

/// The events a plugin declared, and how its text messages reach them. One per registration;
/// used only on the plugin thread, like the rest of the registration.
final class EventTable {
    /// Phase one decodes the arguments (a failure is an error frame); the closure it returns is
    /// the handler's call (a failure is a status).
    typealias Entry = (Gateway, ClientID, EventArgumentsDecoder) throws(EventArgumentFailure) -> () throws -> (any Encodable)?

    private var entries: [String: Entry] = [:]

    var isEmpty: Bool { entries.isEmpty }
    var names: [String] { entries.keys.sorted() }

    func declare(_ name: String, _ entry: @escaping Entry) throws(GatewayError) {
        guard EventLimits.nameBytes.contains(name.utf8.count) else {
            throw GatewayError(code: .invalidArgument, message: "an event name is 1 to 64 bytes of UTF-8")
        }
        guard entries[name] == nil else {
            throw GatewayError(code: .exists, message: "event \(name) is already declared")
        }
        entries[name] = entry
    }

    func remove(_ name: String) -> Bool {
        entries.removeValue(forKey: name) != nil
    }

    func removeAll() {
        entries = [:]
    }

    /// Handles a text message if it is one of the declared events (called, or answered with an
    /// error frame) and returns true; false for every message that goes to `message(...)`.
    func dispatch(_ gateway: Gateway, _ client: ClientID, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !entries.isEmpty, let first = JSONParser.firstSignificantByte(bytes),
              first == UInt8(ascii: "[") || first == UInt8(ascii: "{")
        else { return false }
        let document = JSONDocument(bytes: Array(bytes))
        guard let root = JSONParser.parse(document.bytes) else {
            guard let (name, ack) = JSONParser.eventName(inBroken: document.bytes), entries[name] != nil else { return false }
            answer(gateway, name, EventFrame.error("bad_json", event: name, ack: ack))
            return true
        }

        let name: String
        let arguments: EventArgumentsDecoder.Arguments
        var ackNode: JSONNode?
        switch root.value {
        case .array(let elements):
            guard let first = elements.first?.string else { return false }
            name = first
            arguments = .positional(Array(elements.dropFirst()))
        case .object(let members):
            guard let event = root.member("event")?.string else { return false }
            name = event
            ackNode = root.member("ack")
            if let args = root.member("args"), case .array(let elements) = args.value {
                arguments = .positional(elements)
            } else {
                var named: [String: JSONNode] = [:]
                for member in members where member.key != "event" && member.key != "ack" { named[member.key] = member.value }
                arguments = .named(named)
            }
        default:
            return false
        }
        guard let entry = entries[name] else { return false }

        var ack: Int64?
        if let ackNode {
            guard let value = document.integer(ackNode) else {
                answer(gateway, name, EventFrame.error("bad_ack", event: name))
                return true
            }
            ack = value
        }

        let call: () throws -> (any Encodable)?
        do {
            call = try entry(gateway, client, EventArgumentsDecoder(arguments, document: document))
        } catch {
            answer(gateway, name, EventFrame.error(error, event: name, ack: ack))
            return true
        }
        do {
            let result = try call()
            if let ack { answer(gateway, name, acknowledgement(gateway, name, ack, result)) }
        } catch {
            let status = (error as? GatewayError)?.code.rawValue ?? Int32(bitPattern: GWD_ERR_FAILED.rawValue)
            if let ack {
                answer(gateway, name, EventFrame.ack(ack, status: status, result: nil))
            } else {
                gateway.log("event \(name) failed: \(error)", level: .warning)
            }
        }
        return true
    }

    private func acknowledgement(_ gateway: Gateway, _ name: String, _ ack: Int64, _ result: (any Encodable)?) -> String {
        guard let result else { return EventFrame.ack(ack, status: 0, result: nil) }
        do {
            let text = try encodeJSONValue(result, eventEncoder())
            return EventFrame.ack(ack, status: 0, result: text == "null" ? nil : text)
        } catch {
            gateway.log("event \(name): its result cannot be encoded as JSON: \(error)", level: .warning)
            return EventFrame.ack(ack, status: Int32(bitPattern: GWD_ERR_FAILED.rawValue), result: nil)
        }
    }

    /// Sends a frame to the sender (the current client).
    private func answer(_ gateway: Gateway, _ name: String, _ frame: String) {
        do {
            try gateway.reply(.text(frame))
        } catch {
            gateway.log("event \(name): could not answer: \(error)", level: .warning)
        }
    }
}

/// The SDK's answers to the sender: acknowledgements and error frames (docs/events.md).
enum EventFrame {
    static func ack(_ ack: Int64, status: Int32, result: String?) -> String {
        var text = "{\"ack\":\(ack),\"status\":\(status)"
        if let result { text += ",\"result\":" + result }
        return text + "}"
    }

    static func error(_ error: String, event: String, ack: Int64? = nil) -> String {
        var text = "{\"error\":\"\(error)\",\"event\":"
        appendJSONString(event, to: &text)
        if let ack { text += ",\"ack\":\(ack)" }
        return text + "}"
    }

    static func error(_ failure: EventArgumentFailure, event: String, ack: Int64?) -> String {
        var text = "{\"error\":\"\(failure.kind.rawValue)\",\"event\":"
        appendJSONString(event, to: &text)
        text += ",\"argument\":\(failure.argument)"
        if let expected = failure.expected {
            text += ",\"expected\":"
            appendJSONString(expected, to: &text)
        }
        if let reason = failure.reason {
            text += ",\"reason\":"
            appendJSONString(reason, to: &text)
        }
        if let ack { text += ",\"ack\":\(ack)" }
        return text + "}"
    }
}

@available(*, unavailable)
extension EventTable: Sendable {}
