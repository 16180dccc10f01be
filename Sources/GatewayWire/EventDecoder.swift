/// Decodes client text messages into typed events (docs/events.md) without allocating.
///
/// One decoder serves every message of a worker: `decode` checks a message against the
/// declared events and, for a declared event, binds its arguments into `arguments`, whose
/// strings and raw JSON live in the decoder's arena until the next `decode`. The arena starts
/// at `steadyCapacity` bytes and grows when a message does not fit (it needs the message's
/// size plus 64 bytes); it keeps what it grew to up to `retainedCapacity`, and past that goes
/// back to `steadyCapacity` on the next message that fits. A steady stream of messages that
/// fit costs no heap allocation at all (only `.unknownEvent` and `.failure` build Strings).
///
/// Where docs/events.md leaves room, its section "Details the decoder settles" says what this
/// decoder does: when a message starts like an event, repeated members (the last wins),
/// `"args"` over named fields, which error comes first, and the `reason` strings.
///
/// Not copyable: the decoder owns its arena and argument slots and frees them in `deinit`.
public struct EventDecoder: ~Copyable {
    private var arena: EventArena
    private let steadyCapacity: Int
    private let retainedCapacity: Int
    private let slots: UnsafeMutablePointer<EventArgument>
    /// Where each text argument starts in the arena, until the message is done.
    private let offsets: UnsafeMutablePointer<Int>
    private let states: UnsafeMutablePointer<UInt8>
    private let stack: UnsafeMutablePointer<UInt64>
    private var boundCount = 0

    /// - Parameters:
    ///   - steadyCapacity: the arena's first size, and its size after an unusually large message.
    ///   - retainedCapacity: the largest arena kept from one message to the next (the default
    ///     covers the gateway's default 1 MiB message limit).
    public init(steadyCapacity: Int = 16 * 1024, retainedCapacity: Int = (1 << 20) + (64 << 10)) {
        self.steadyCapacity = max(steadyCapacity, 64)
        self.retainedCapacity = max(retainedCapacity, self.steadyCapacity)
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
        self.arena.reset(needed: message.count + 64, steady: self.steadyCapacity, retained: self.retainedCapacity)
        var parser = EventParser(
            scanner: EventScanner(
                bytes: base.assumingMemoryBound(to: UInt8.self), end: message.count, arena: self.arena, stack: self.stack),
            slots: self.slots, offsets: self.offsets, states: self.states)
        let result = parser.run(table: table)
        self.arena = parser.scanner.arena
        if case .event(let index, _) = result {
            self.boundCount = table.argumentCount(of: index)
            for slot in 0..<self.boundCount {
                switch table.argumentType(of: index, at: slot) {
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
            try self.bindElements(of: eventIndex, table: table, afterName: true)
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
        var event = fixedEvent
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
            let kind = try self.scanMemberName(event: event, table: table)
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
                    event = scan.eventIndex
                    scan.needsRescan = bindableSeen
                    positional = false
                    self.resetArguments()
                } else {
                    _ = try self.scanner.skipValue()
                    scan.eventPosition = nil
                    scan.eventIndex = nil
                    event = nil
                }
            case .ack where fixedEvent == nil:
                scan.ack = try self.scanAck(valueFirst)
            case .args:
                bindableSeen = true
                if valueFirst == UInt8(ascii: "["), event != nil {
                    positional = true
                    self.resetArguments()
                    self.scanner.position += 1
                    try self.bindElements(of: event, table: table, afterName: false)
                } else {
                    _ = try self.scanner.skipValue()
                }
            case .field(let argument):
                bindableSeen = true
                if !positional, let argument, let event {
                    try self.bind(table.argumentType(of: event, at: argument), slot: argument)
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
    private mutating func scanMemberName(event: Int?, table: EventTable) throws(EventSyntaxError) -> MemberKind {
        let mark = self.scanner.arena.used
        defer { self.scanner.arena.used = mark }
        let name = try self.scanner.scanString(copy: true, limit: EventLimits.maximumFieldNameBytes)
        guard !name.truncated, !name.loneSurrogate else { return .field(nil) }
        let start = UnsafePointer(self.scanner.arena.base + mark)
        switch name.length {
        case 5 where EventTable.sameBytes(start, Self.eventKey.utf8Start, 5): return .event
        case 3 where EventTable.sameBytes(start, Self.ackKey.utf8Start, 3): return .ack
        case 4 where EventTable.sameBytes(start, Self.argsKey.utf8Start, 4): return .args
        default: return .field(event.flatMap { table.argument(of: $0, fieldName: start, count: name.length) })
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

    /// The event name whose string (already read once, so valid) starts at `position`, as a
    /// String: for `.unknownEvent` and error frames only.
    private mutating func eventName(at position: Int, index: Int?, table: EventTable) -> String {
        if let index { return table[index].name }
        let saved = self.scanner.position
        let mark = self.scanner.arena.used
        defer {
            self.scanner.position = saved
            self.scanner.arena.used = mark
        }
        self.scanner.position = position
        let length = (try? self.scanner.scanString(copy: true))?.length ?? 0
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
    /// follows a comma) or right after the `[` of `"args"`. Without an event (an unknown
    /// event) it only checks them. Consumes the closing `]`.
    private mutating func bindElements(of event: Int?, table: EventTable, afterName: Bool) throws(EventSyntaxError) {
        var index = 0
        if !afterName {
            guard let next = self.scanner.peek() else { throw .unexpectedEnd }
            if next == UInt8(ascii: "]") {
                self.scanner.position += 1
                return
            }
            try self.bindElement(of: event, table: table, index)
            index = 1
        }
        while true {
            guard let next = self.scanner.peek() else { throw .unexpectedEnd }
            self.scanner.position += 1
            if next == UInt8(ascii: "]") { return }
            guard next == UInt8(ascii: ",") else { throw .unexpectedByte }
            try self.bindElement(of: event, table: table, index)
            index += 1
        }
    }

    private mutating func bindElement(of event: Int?, table: EventTable, _ index: Int) throws(EventSyntaxError) {
        if let event, index < table.argumentCount(of: event) {
            try self.bind(table.argumentType(of: event, at: index), slot: index)
        } else {
            if event != nil, self.extra == nil { self.extra = index }
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
        for slot in 0..<table.argumentCount(of: index) {
            let state = self.states[slot]
            if state == boundState { continue }
            let type = table.argumentType(of: index, at: slot)
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
