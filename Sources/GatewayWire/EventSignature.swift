/// The type of one event argument: a signature's type letter (include/gatewayd.h, "Typed
/// events"; docs/events.md). The raw value is the letter's ASCII code, as in `gwd_arg.type`.
public enum EventArgumentType: UInt8, Sendable, CaseIterable {
    /// `s`: a JSON string without `\u0000`, NUL-terminated (`const char *`).
    case string = 0x73
    /// `S`: a JSON string as (pointer, length); NULs allowed.
    case bytes = 0x53
    /// `i`: a JSON integer within int64 (no fraction, no exponent).
    case integer = 0x69
    /// `d`: any JSON number.
    case number = 0x64
    /// `b`: `true` or `false`.
    case boolean = 0x62
    /// `j`: any JSON value, at most 64 levels deep, as its text as sent.
    case json = 0x6A

    /// The `"expected"` member of an error frame: `string`, `integer`, `number`, `boolean` or
    /// `json` (`S` is a string on the wire too).
    public var expectedName: String {
        switch self {
        case .string, .bytes: return "string"
        case .integer: return "integer"
        case .number: return "number"
        case .boolean: return "boolean"
        case .json: return "json"
        }
    }

    /// The letter, as a signature writes it.
    public var letter: Character { Character(Unicode.Scalar(self.rawValue)) }
}

/// Limits shared by signatures, tables and the decoder (`GWD_EVENT_*` in include/gatewayd.h).
public enum EventLimits {
    /// Arguments per event (`GWD_EVENT_MAX_ARGS`).
    public static let maximumArguments = 16
    /// Bytes of one string or raw-JSON argument once decoded (`GWD_EVENT_MAX_ARG_BYTES`).
    public static let maximumArgumentBytes = 65536
    /// Nesting of a `j` argument: `[[…]]` 64 levels deep is accepted, 65 is "too deep".
    public static let maximumJSONDepth = 64
    /// Bytes of an event name (`event_on`: 1 to 64 bytes of UTF-8).
    public static let maximumNameBytes = 64
    /// Bytes of a field name in a signature.
    public static let maximumFieldNameBytes = 64
    /// Member names the object form gives a meaning of its own; no field may use them.
    public static let reservedFieldNames: Set<String> = ["event", "ack", "args"]
}

/// The arguments an event handler takes after `(ctx, client_id)`: one type letter each, and
/// optionally the field name the named object form uses (`"s:room s:text"`).
///
/// Text form: items separated by one or more spaces (leading and trailing spaces are
/// ignored, so `""` and `"  "` declare no argument). An item is one type letter, optionally
/// followed by `:` and a field name of 1 to 64 bytes of `[A-Za-z0-9_]`, not `event`, `ack` or
/// `args`, and not used twice. At most 16 items. An argument without a field name cannot be
/// given in the named object form (it is then a missing argument); the array form and
/// `"args"` give every argument by position.
public struct EventSignature: Sendable, Equatable, CustomStringConvertible {
    public let types: [EventArgumentType]
    public let names: [String?]

    /// Parses a signature as `api->event_on` takes it, e.g. `"s:room s:text"`, `"i i"`, `""`.
    public init(parsing text: String) throws(EventSignatureError) {
        var types: [EventArgumentType] = []
        var names: [String?] = []
        for item in text.split(separator: " ", omittingEmptySubsequences: true) {
            let number = types.count + 1
            guard number <= EventLimits.maximumArguments else {
                throw EventSignatureError(kind: .tooManyArguments, item: number, text: String(item))
            }
            let letter: Substring
            let name: Substring?
            if let colon = item.firstIndex(of: ":") {
                letter = item[..<colon]
                name = item[item.index(after: colon)...]
            } else {
                letter = item
                name = nil
            }
            guard !letter.isEmpty else {
                throw EventSignatureError(kind: .missingType, item: number, text: String(item))
            }
            guard letter.utf8.count == 1, let type = EventArgumentType(rawValue: letter.utf8.first!) else {
                throw EventSignatureError(kind: .unknownType, item: number, text: String(letter))
            }
            types.append(type)
            names.append(name.map(String.init))
        }
        try self.init(types: types, names: names)
    }

    /// A signature from its parts (`names` as long as `types`; nil for an argument the named
    /// object form cannot give). Checks the same rules as `init(parsing:)`.
    public init(types: [EventArgumentType], names: [String?]) throws(EventSignatureError) {
        precondition(types.count == names.count, "EventSignature: as many names as types")
        guard types.count <= EventLimits.maximumArguments else {
            throw EventSignatureError(kind: .tooManyArguments, item: EventLimits.maximumArguments + 1, text: "")
        }
        for (index, name) in names.enumerated() {
            guard let name else { continue }
            let utf8 = name.utf8
            let wellFormed = (1...EventLimits.maximumFieldNameBytes).contains(utf8.count) && utf8.allSatisfy(Self.isFieldNameByte)
            guard wellFormed else { throw EventSignatureError(kind: .malformedName, item: index + 1, text: name) }
            guard !EventLimits.reservedFieldNames.contains(name) else {
                throw EventSignatureError(kind: .reservedName, item: index + 1, text: name)
            }
            guard !names[..<index].contains(name) else {
                throw EventSignatureError(kind: .duplicateName, item: index + 1, text: name)
            }
        }
        self.types = types
        self.names = names
    }

    /// How many arguments.
    public var count: Int { self.types.count }

    /// The text form, e.g. `s:room s:text`.
    public var description: String {
        zip(self.types, self.names).map { type, name in
            name.map { "\(type.letter):\($0)" } ?? String(type.letter)
        }.joined(separator: " ")
    }


    private static func isFieldNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}

/// Why a signature was refused (`event_on` answers `GWD_ERR_INVALID_ARGUMENT` and logs the
/// description).
public struct EventSignatureError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The type part of an item is not one of `s S i d b j`.
        case unknownType
        /// An item starts with `:`.
        case missingType
        /// A field name is empty, longer than 64 bytes or has a byte outside `[A-Za-z0-9_]`.
        case malformedName
        /// A field name is `event`, `ack` or `args`.
        case reservedName
        /// A field name is used twice.
        case duplicateName
        /// More than 16 items.
        case tooManyArguments
    }

    public var kind: Kind
    /// The item (argument), 1-based.
    public var item: Int
    /// The offending text: the type part for `unknownType`, the name for name errors, the item
    /// otherwise.
    public var text: String

    public init(kind: Kind, item: Int, text: String) {
        self.kind = kind
        self.item = item
        self.text = text
    }

    public var description: String {
        switch self.kind {
        case .unknownType:
            return "argument \(self.item): unknown type letter \"\(self.text)\" (expected one of s S i d b j)"
        case .missingType:
            return "argument \(self.item): \"\(self.text)\" has no type letter before ':'"
        case .malformedName:
            return "argument \(self.item): malformed field name \"\(self.text)\" (1 to 64 bytes of A-Z a-z 0-9 _)"
        case .reservedName:
            return "argument \(self.item): field name \"\(self.text)\" is reserved (event, ack, args)"
        case .duplicateName:
            return "argument \(self.item): field name \"\(self.text)\" is used twice"
        case .tooManyArguments:
            return "more than \(EventLimits.maximumArguments) arguments"
        }
    }
}
