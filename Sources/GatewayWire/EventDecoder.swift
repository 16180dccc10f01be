/// Decodes client text messages into typed events (docs/events.md) without allocating.
///
/// One decoder serves every message of a worker: `decode` checks a message against the
/// declared events and, for a declared event, binds its arguments into `arguments`, whose
/// strings and raw JSON live in the decoder's arena until the next `decode`. The arena starts
/// at `steadyCapacity` bytes, grows to the largest message seen when one does not fit, and
/// goes back to `steadyCapacity` on the next message that fits in it; a steady stream of
/// messages that fit costs no heap allocation at all (only `.unknownEvent` and `.failure`
/// build Strings).
///
/// Choices where docs/events.md leaves room:
/// - A message *starts like an event* once it is `[` followed by a string (the name), or an
///   object in which a member `"event"` with a string value was read; from then on text that
///   is not JSON is `bad_json` (with the name when it was read) rather than `on_message`.
/// - Object members: the last of several members with the same name wins (`"event"`,
///   `"ack"`, a field), as in JavaScript and PHP. An `"args"` member whose value is an array
///   selects the positional form and every named field is ignored; an `"args"` member of any
///   other type is ignored like any unknown member. An argument without a field name in the
///   signature cannot be given by name (`missing_argument`).
/// - Precedence: `bad_json`; then not an event; then `unknown_event` (an invalid `"ack"` is
///   then just not reported); then `bad_ack`; then the first argument, in signature order,
///   that is wrong or missing; then `too_many_arguments`.
/// - Strings: every JSON escape is decoded, surrogate pairs to one 4-byte UTF-8 sequence; a
///   lone surrogate escape is `bad_argument` "invalid unicode" in an `s`, `S` or `j`
///   argument (and makes an event name match nothing); raw bytes must be valid UTF-8
///   (`bad_json` otherwise).
/// - `d`: a number beyond the double range (`1e400`) is "out of range"; `-0` stays -0.0.
///   `i`: `-0` is 0.
/// - `j`: its text as sent (inner whitespace kept, none around it); numbers in it are only
///   checked against the grammar. Any other value may nest up to 512 levels (deeper is
///   `bad_json`).
public struct EventDecoder: ~Copyable {
    private var arena: EventArena
    private let steadyCapacity: Int
    private let slots: UnsafeMutablePointer<EventArgument>
    /// Where each text argument starts in the arena, until the message is done.
    private let offsets: UnsafeMutablePointer<Int>
    private let states: UnsafeMutablePointer<UInt8>
    private let stack: UnsafeMutablePointer<UInt64>
    private var boundCount = 0

    /// `steadyCapacity`: the arena's size between unusually large messages.
    public init(steadyCapacity: Int = 16 * 1024) {
        self.steadyCapacity = max(steadyCapacity, 64)
        self.arena = EventArena(capacity: self.steadyCapacity)
        let maximum = EventLimits.maximumArguments
        self.slots = .allocate(capacity: maximum)
        self.slots.initialize(repeating: EventArgument(type: .integer), count: maximum)
        self.offsets = .allocate(capacity: maximum)
        self.offsets.initialize(repeating: 0, count: maximum)
        self.states = .allocate(capacity: maximum)
        self.states.initialize(repeating: 0, count: maximum)
        self.stack = .allocate(capacity: EventScanner.maximumNesting / 64)
        self.stack.initialize(repeating: 0, count: EventScanner.maximumNesting / 64)
    }

    deinit {
        self.arena.deallocate()
        self.slots.deallocate()
        self.offsets.deallocate()
        self.states.deallocate()
        self.stack.deallocate()
    }

    /// The arguments of the last `.event`, in signature order; empty after any other result.
    /// Valid until the next `decode`.
    public var arguments: UnsafeBufferPointer<EventArgument> {
        UnsafeBufferPointer(start: self.slots, count: self.boundCount)
    }

    /// The arena's current size in bytes (for tests and statistics).
    public var arenaCapacity: Int { self.arena.capacity }

    /// Decodes one client text message against `table`.
    public mutating func decode(_ message: UnsafeRawBufferPointer, table: EventTable) -> EventDecodeResult {
        self.boundCount = 0
        guard let base = message.baseAddress, message.count > 0 else { return .notAnEvent }
        // Decoded text is never longer than the text it came from, plus its NUL: a message's
        // arguments fit in its own size, plus a little.
        self.arena.reset(needed: message.count + 64, steady: self.steadyCapacity)
        var parser = EventParser(
            scanner: EventScanner(
                bytes: base.assumingMemoryBound(to: UInt8.self), end: message.count, arena: self.arena, stack: self.stack),
            slots: self.slots, offsets: self.offsets, states: self.states)
        let result = parser.run(table: table)
        self.arena = parser.scanner.arena
        if case .event(let index, _) = result {
            let signature = table.signature(at: index)
            self.boundCount = signature.count
            for slot in 0..<signature.count {
                switch signature.types[slot] {
                case .string, .bytes, .json:
                    self.slots[slot].text = UnsafeRawPointer(self.arena.base + self.offsets[slot]).assumingMemoryBound(to: CChar.self)
                default:
                    break
                }
            }
        }
        return result
    }

    /// `decode` on the bytes of `message`.
    public mutating func decode(_ message: [UInt8], table: EventTable) -> EventDecodeResult {
        message.withUnsafeBytes { self.decode($0, table: table) }
    }
}

/// What is wrong with one argument; stored in `EventParser.states` (0 missing, 1 bound).
private enum ArgumentProblem: UInt8 {
    case wrongType = 2
    case outOfRange
    case containsNUL
    case tooLarge
    case tooDeep
    case invalidUnicode

    func reason(for type: EventArgumentType) -> String {
        switch self {
        case .wrongType:
            switch type {
            case .string, .bytes: return "not a string"
            case .integer: return "not an integer"
            case .number: return "not a number"
            case .boolean: return "not a boolean"
            case .json: return "not JSON"
            }
        case .outOfRange: return "out of range"
        case .containsNUL: return "contains NUL"
        case .tooLarge: return "too large"
        case .tooDeep: return "too deep"
        case .invalidUnicode: return "invalid unicode"
        }
    }
}

private let missingState: UInt8 = 0
private let boundState: UInt8 = 1

/// The state of one decode: the scanner, and where arguments are bound.
private struct EventParser {
    var scanner: EventScanner
    let slots: UnsafeMutablePointer<EventArgument>
    let offsets: UnsafeMutablePointer<Int>
    let states: UnsafeMutablePointer<UInt8>
    /// The first positional argument beyond the signature, 0-based.
    var extra: Int?

    mutating func run(table: EventTable) -> EventDecodeResult {
        switch self.scanner.peek() {
        case UInt8(ascii: "["): return self.decodeArray(table: table)
        case UInt8(ascii: "{"): return self.decodeObject(table: table)
        default: return .notAnEvent
        }
    }

    // MARK: The two forms

    /// `["name", arg1, …]`.
    private mutating func decodeArray(table: EventTable) -> EventDecodeResult {
        self.scanner.position += 1
        guard self.scanner.peek() == UInt8(ascii: "\"") else { return .notAnEvent }
        let namePosition = self.scanner.position
        var eventIndex: Int?
        var nameRead = false
        do throws(EventSyntaxError) {
            eventIndex = try self.scanEventName(table: table)
            nameRead = true
            self.resetArguments()
            try self.bindElements(eventIndex.map { table.signature(at: $0) }, afterName: true)
            try self.expectEnd()
        } catch {
            let event = nameRead ? self.eventName(at: namePosition, index: eventIndex, table: table) : nil
            return .failure(EventDecodeError(kind: .badJSON, event: event, reason: error.reason))
        }
        guard let index = eventIndex else {
            return .unknownEvent(name: self.eventName(at: namePosition, index: nil, table: table), ack: nil)
        }
        return self.finish(index: index, table: table, ack: nil)
    }

    /// `{"event": "name", …}`: named fields or `"args": […]`.
    private mutating func decodeObject(table: EventTable) -> EventDecodeResult {
        let objectStart = self.scanner.position
        var scan = ObjectScan()
        do throws(EventSyntaxError) {
            try self.scanMembers(table: table, scan: &scan, fixedEvent: nil)
            try self.expectEnd()
        } catch {
            guard scan.eventStarted else { return .notAnEvent }
            let event = scan.eventPosition.map { self.eventName(at: $0, index: scan.eventIndex, table: table) }
            return .failure(EventDecodeError(kind: .badJSON, event: event, reason: error.reason, ack: scan.ack.value))
        }
        guard let namePosition = scan.eventPosition else { return .notAnEvent }
        guard let index = scan.eventIndex else {
            return .unknownEvent(name: self.eventName(at: namePosition, index: nil, table: table), ack: scan.ack.value)
        }
        if case .invalid = scan.ack {
            return .failure(EventDecodeError(kind: .badAck, event: table[index].name))
        }
        if scan.needsRescan {
            // Fields or "args" came before the (last) "event" member: bind them now.
            self.scanner.position = objectStart
            self.scanner.arena.used = 0
            self.resetArguments()
            do throws(EventSyntaxError) {
                try self.scanMembers(table: table, scan: &scan, fixedEvent: index)
            } catch {
                return .failure(EventDecodeError(kind: .badJSON, event: table[index].name, reason: error.reason))
            }
        }
        return self.finish(index: index, table: table, ack: scan.ack.value)
    }

    private struct ObjectScan {
        /// A member `"event"` with a string value was met: the message started like an event.
        var eventStarted = false
        /// The opening quote of the last string `"event"` member's value, once read whole.
        var eventPosition: Int?
        var eventIndex: Int?
        var ack = Ack.absent
        /// A field or `"args"` member came before the last `"event"` member.
        var needsRescan = false
    }

    private enum Ack {
        case absent
        case valid(Int64)
        case invalid

        var value: Int64? {
            if case .valid(let value) = self { return value }
            return nil
        }
    }

    private enum MemberKind {
        case event
        case ack
        case args
        /// A signature field (its argument), or any other member (nil).
        case field(Int?)
    }

    /// Goes through the members of the object at `position`. Without `fixedEvent` (the first
    /// pass) it finds `"event"` and `"ack"` and binds the members that follow the event member;
    /// with it (the second pass, when needed) it binds every field or `"args"`.
    private mutating func scanMembers(table: EventTable, scan: inout ObjectScan, fixedEvent: Int?) throws(EventSyntaxError) {
        self.scanner.position += 1  // "{"
        var signature = fixedEvent.map { table.signature(at: $0) }
        var positional = false
        var bindableSeen = false
        guard let first = self.scanner.peek() else { throw .unexpectedEnd }
        if first == UInt8(ascii: "}") {
            self.scanner.position += 1
            return
        }
        while true {
            guard let quote = self.scanner.peek() else { throw .unexpectedEnd }
            guard quote == UInt8(ascii: "\"") else { throw .unexpectedByte }
            let kind = try self.scanMemberName(signature: signature)
            try self.scanner.expect(UInt8(ascii: ":"))
            guard let valueFirst = self.scanner.peek() else { throw .unexpectedEnd }
            switch kind {
            case .event where fixedEvent == nil:
                if valueFirst == UInt8(ascii: "\"") {
                    scan.eventStarted = true
                    scan.eventPosition = nil
                    scan.eventIndex = nil
                    let position = self.scanner.position
                    scan.eventIndex = try self.scanEventName(table: table)
                    scan.eventPosition = position
                    signature = scan.eventIndex.map { table.signature(at: $0) }
                    scan.needsRescan = bindableSeen
                    positional = false
                    self.resetArguments()
                } else {
                    _ = try self.scanner.skipValue()
                    scan.eventPosition = nil
                    scan.eventIndex = nil
                    signature = nil
                }
            case .ack where fixedEvent == nil:
                scan.ack = try self.scanAck(valueFirst)
            case .args:
                bindableSeen = true
                if valueFirst == UInt8(ascii: "["), let signature {
                    positional = true
                    self.resetArguments()
                    self.scanner.position += 1
                    try self.bindElements(signature, afterName: false)
                } else {
                    _ = try self.scanner.skipValue()
                }
            case .field(let argument):
                bindableSeen = true
                if !positional, let argument, let signature {
                    try self.bind(signature.types[argument], slot: argument)
                } else {
                    _ = try self.scanner.skipValue()
                }
            default:
                _ = try self.scanner.skipValue()
            }
            guard let next = self.scanner.peek() else { throw .unexpectedEnd }
            self.scanner.position += 1
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw .unexpectedByte }
        }
    }

    /// Scans a member name and says what it is, comparing its decoded bytes in the arena
    /// (space that is given back at once).
    private mutating func scanMemberName(signature: EventSignature?) throws(EventSyntaxError) -> MemberKind {
        let mark = self.scanner.arena.used
        defer { self.scanner.arena.used = mark }
        let name = try self.scanner.scanString(copy: true, limit: EventLimits.maximumFieldNameBytes)
        guard !name.truncated, !name.loneSurrogate else { return .field(nil) }
        let start = UnsafePointer(self.scanner.arena.base + mark)
        switch name.length {
        case 5 where EventTable.sameBytes(start, Self.eventKey.utf8Start, 5): return .event
        case 3 where EventTable.sameBytes(start, Self.ackKey.utf8Start, 3): return .ack
        case 4 where EventTable.sameBytes(start, Self.argsKey.utf8Start, 4): return .args
        default: return .field(signature?.argumentIndex(ofFieldName: start, count: name.length))
        }
    }

    private static let eventKey: StaticString = "event"
    private static let ackKey: StaticString = "ack"
    private static let argsKey: StaticString = "args"

    /// The value of `"ack"`: an integer within int64, or invalid.
    private mutating func scanAck(_ first: UInt8) throws(EventSyntaxError) -> Ack {
        guard first == UInt8(ascii: "-") || first &- UInt8(ascii: "0") < 10 else {
            _ = try self.scanner.skipValue()
            return .invalid
        }
        let number = try self.scanner.scanNumber()
        guard number.isInteger, let value = self.scanner.integerValue(number) else { return .invalid }
        return .valid(value)
    }

    /// Scans the event name at `position` and looks it up; nil when it is not declared.
    private mutating func scanEventName(table: EventTable) throws(EventSyntaxError) -> Int? {
        let mark = self.scanner.arena.used
        defer { self.scanner.arena.used = mark }
        let name = try self.scanner.scanString(copy: true, limit: EventLimits.maximumNameBytes)
        guard !name.truncated, !name.loneSurrogate else { return nil }
        return table.index(ofName: UnsafeRawBufferPointer(start: self.scanner.arena.base + mark, count: name.length))
    }

    /// The event name whose string starts at `position`, as a String (error paths only).
    private mutating func eventName(at position: Int, index: Int?, table: EventTable) -> String {
        if let index { return table[index].name }
        let saved = self.scanner.position
        let mark = self.scanner.arena.used
        defer {
            self.scanner.position = saved
            self.scanner.arena.used = mark
        }
        self.scanner.position = position
        // A name cut short by the end of the message: what was read of it.
        let name = try? self.scanner.scanString(copy: true)
        let length = name?.length ?? (self.scanner.arena.used - mark)
        return String(decoding: UnsafeRawBufferPointer(start: self.scanner.arena.base + mark, count: length), as: UTF8.self)
    }

    /// Only whitespace may follow the message's value.
    private mutating func expectEnd() throws(EventSyntaxError) {
        guard self.scanner.peek() == nil else { throw .trailingData }
    }

    // MARK: Arguments

    /// Forgets every binding (a new `"event"` or `"args"` member, a second pass).
    private mutating func resetArguments() {
        self.states.update(repeating: missingState, count: EventLimits.maximumArguments)
        self.extra = nil
    }

    /// Binds array elements by position: after the event name (`afterName`: each element
    /// follows a comma) or right after the `[` of `"args"`. Without a signature (an unknown
    /// event) it only checks them. Consumes the closing `]`.
    private mutating func bindElements(_ signature: EventSignature?, afterName: Bool) throws(EventSyntaxError) {
        var index = 0
        if !afterName {
            guard let next = self.scanner.peek() else { throw .unexpectedEnd }
            if next == UInt8(ascii: "]") {
                self.scanner.position += 1
                return
            }
            try self.bindElement(signature, index)
            index = 1
        }
        while true {
            guard let next = self.scanner.peek() else { throw .unexpectedEnd }
            self.scanner.position += 1
            if next == UInt8(ascii: "]") { return }
            guard next == UInt8(ascii: ",") else { throw .unexpectedByte }
            try self.bindElement(signature, index)
            index += 1
        }
    }

    private mutating func bindElement(_ signature: EventSignature?, _ index: Int) throws(EventSyntaxError) {
        if let signature, index < signature.count {
            try self.bind(signature.types[index], slot: index)
        } else {
            if signature != nil, self.extra == nil { self.extra = index }
            _ = try self.scanner.skipValue()
        }
    }

    /// Binds the value at `position` (after whitespace) as argument `slot` of type `type`,
    /// or records what is wrong with it; throws only when the text is not JSON.
    private mutating func bind(_ type: EventArgumentType, slot: Int) throws(EventSyntaxError) {
        guard let first = self.scanner.peek() else { throw .unexpectedEnd }
        var argument = EventArgument(type: type)
        var problem: ArgumentProblem?
        switch type {
        case .string, .bytes:
            if first == UInt8(ascii: "\"") {
                let mark = self.scanner.arena.used
                let text = try self.scanner.scanString(copy: true, limit: EventLimits.maximumArgumentBytes)
                if text.truncated {
                    problem = .tooLarge
                } else if text.loneSurrogate {
                    problem = .invalidUnicode
                } else if type == .string, text.hasNUL {
                    problem = .containsNUL
                }
                if problem == nil {
                    self.offsets[slot] = mark
                    argument.length = text.length
                } else {
                    self.scanner.arena.used = mark
                }
            } else {
                _ = try self.scanner.skipValue()
                problem = .wrongType
            }
        case .integer, .number:
            if first == UInt8(ascii: "-") || first &- UInt8(ascii: "0") < 10 {
                let number = try self.scanner.scanNumber()
                if type == .number {
                    argument.number = self.scanner.doubleValue(number)
                    if !argument.number.isFinite { problem = .outOfRange }
                } else if !number.isInteger {
                    problem = .wrongType
                } else if let value = self.scanner.integerValue(number) {
                    argument.integer = value
                } else {
                    problem = .outOfRange
                }
            } else {
                _ = try self.scanner.skipValue()
                problem = .wrongType
            }
        case .boolean:
            if first == UInt8(ascii: "t") || first == UInt8(ascii: "f") {
                argument.boolean = try self.scanner.scanLiteral() == UInt8(ascii: "t")
            } else {
                _ = try self.scanner.skipValue()
                problem = .wrongType
            }
        case .json:
            let start = self.scanner.position
            let value = try self.scanner.skipValue()
            let length = self.scanner.position - start
            if value.depth > EventLimits.maximumJSONDepth {
                problem = .tooDeep
            } else if value.loneSurrogate {
                problem = .invalidUnicode
            } else if length > EventLimits.maximumArgumentBytes {
                problem = .tooLarge
            } else {
                self.scanner.arena.reserve(length + 1)
                self.offsets[slot] = self.scanner.arena.used
                self.scanner.arena.append(self.scanner.bytes + start, length)
                self.scanner.arena.append(0)
                argument.length = length
            }
        }
        self.slots[slot] = argument
        self.states[slot] = problem?.rawValue ?? boundState
    }

    /// The result once the message was read: the first argument that is wrong or missing, in
    /// signature order, then an extra one, else the event.
    private func finish(index: Int, table: EventTable, ack: Int64?) -> EventDecodeResult {
        let signature = table.signature(at: index)
        for slot in 0..<signature.count {
            let state = self.states[slot]
            if state == boundState { continue }
            let type = signature.types[slot]
            if state == missingState {
                return .failure(
                    EventDecodeError(kind: .missingArgument, event: table[index].name, argument: slot + 1, expected: type, ack: ack))
            }
            let reason = ArgumentProblem(rawValue: state)!.reason(for: type)
            return .failure(
                EventDecodeError(
                    kind: .badArgument, event: table[index].name, argument: slot + 1, expected: type, reason: reason, ack: ack))
        }
        if let extra = self.extra {
            return .failure(EventDecodeError(kind: .tooManyArguments, event: table[index].name, argument: extra + 1, ack: ack))
        }
        return .event(index: index, ack: ack)
    }
}
