/// What `EventDecoder.decode` made of one client text message (docs/events.md, "Which
/// messages are events, exactly").
public enum EventDecodeResult: Equatable, Sendable {
    /// Not an event: the message goes to `on_message`.
    case notAnEvent
    /// An event name the table does not have (`on_message` when the plugin has one, else the
    /// error frame `unknown_event`: `EventDecodeError(kind: .unknownEvent, …).frame()`).
    /// `ack` is the message's acknowledgement when it carried a valid one.
    case unknownEvent(name: String, ack: Int64?)
    /// Declared event `index`, its arguments checked and bound in `EventDecoder.arguments`.
    case event(index: Int, ack: Int64?)
    /// A declared event whose message cannot be called (or a broken one that started like an
    /// event): answer with `error.frame()`.
    case failure(EventDecodeError)

    /// The error of `.failure`, else nil.
    public var error: EventDecodeError? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// An event message that cannot be called, and the error frame that answers it.
public struct EventDecodeError: Error, Equatable, Sendable {
    /// The frame's `"error"`.
    public enum Kind: String, Equatable, Sendable {
        /// Not produced by the decoder (it returns `.unknownEvent`); for the host's frame.
        case unknownEvent = "unknown_event"
        case badArgument = "bad_argument"
        case missingArgument = "missing_argument"
        case tooManyArguments = "too_many_arguments"
        case badAck = "bad_ack"
        case badJSON = "bad_json"
    }

    public var kind: Kind
    /// The event's name, when it was read.
    public var event: String?
    /// The argument, 1-based (for `tooManyArguments` the first extra one).
    public var argument: Int?
    /// The argument's type (`badArgument`, `missingArgument`).
    public var expected: EventArgumentType?
    /// Why: for `badArgument` one of "not a string", "not an integer", "not a number",
    /// "not a boolean", "out of range", "contains NUL", "too large", "too deep",
    /// "invalid unicode" (it is in the frame); for `badJSON` what is wrong with the text, for
    /// logs (not in the frame).
    public var reason: String?
    /// The message's acknowledgement, when it carried a valid one.
    public var ack: Int64?

    public init(
        kind: Kind, event: String? = nil, argument: Int? = nil, expected: EventArgumentType? = nil, reason: String? = nil,
        ack: Int64? = nil
    ) {
        self.kind = kind
        self.event = event
        self.argument = argument
        self.expected = expected
        self.reason = reason
        self.ack = ack
    }

    /// The error frame of docs/events.md, compact JSON, members in this order, each only when
    /// the table there lists it for this kind and it is known, e.g.
    /// `{"error":"bad_argument","event":"add","argument":2,"expected":"integer","reason":"out of range","ack":7}`.
    public func frame() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + (self.event?.utf8.count ?? 0))
        out.appendASCII("{\"error\":\"")
        out.appendUTF8(self.kind.rawValue)
        out.appendByte(UInt8(ascii: "\""))
        if let event = self.event {
            out.appendASCII(",\"event\":")
            JSONValue.writeString(event, into: &out, escaping: .minimal)
        }
        let hasArgument = self.kind == .badArgument || self.kind == .missingArgument || self.kind == .tooManyArguments
        if hasArgument, let argument = self.argument {
            out.appendASCII(",\"argument\":")
            out.appendDecimal(argument)
        }
        if self.kind == .badArgument || self.kind == .missingArgument, let expected = self.expected {
            out.appendASCII(",\"expected\":\"")
            out.appendUTF8(expected.expectedName)
            out.appendByte(UInt8(ascii: "\""))
        }
        if self.kind == .badArgument, let reason = self.reason {
            out.appendASCII(",\"reason\":")
            JSONValue.writeString(reason, into: &out, escaping: .minimal)
        }
        if let ack = self.ack {
            out.appendASCII(",\"ack\":")
            out.appendDecimal(Int(ack))
        }
        out.appendByte(UInt8(ascii: "}"))
        return out
    }
}

/// One bound argument of the last decoded event (`EventDecoder.arguments`): plain stored
/// fields the host reads to build libffi argument values.
///
/// - `s`: `text` (NUL-terminated, no NUL inside) and `length` (bytes before the NUL).
/// - `S`: `text` and `length` (NULs allowed; a NUL follows anyway).
/// - `i`: `integer`. `d`: `number`. `b`: `boolean`.
/// - `j`: `text` (the value's text as sent, NUL-terminated) and `length`.
///
/// Fields a type does not use are zero / nil. `text` points into the decoder's arena and is
/// valid until its next `decode`.
public struct EventArgument {
    public var type: EventArgumentType
    public var boolean: Bool
    public var integer: Int64
    public var number: Double
    public var text: UnsafePointer<CChar>?
    public var length: Int

    public init(type: EventArgumentType) {
        self.type = type
        self.boolean = false
        self.integer = 0
        self.number = 0
        self.text = nil
        self.length = 0
    }

    /// The text's bytes (`s`, `S`, `j`), without the NUL; empty for the other types.
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: self.text, count: self.text == nil ? 0 : self.length)
    }
}

/// The acknowledgement of docs/events.md: `{"ack":N,"status":S}`, or with `,"result":…` when
/// the handler set one.
public enum EventAcknowledgement {
    /// Replaces `frame`'s contents with the acknowledgement; reusing one array allocates
    /// nothing once it has grown. `result` is JSON the host already checked.
    public static func write(ack: Int64, status: Int32, result: [UInt8]?, into frame: inout [UInt8]) {
        frame.removeAll(keepingCapacity: true)
        frame.appendASCII("{\"ack\":")
        frame.appendDecimal(Int(ack))
        frame.appendASCII(",\"status\":")
        frame.appendDecimal(Int(status))
        if let result {
            frame.appendASCII(",\"result\":")
            frame.appendBytes(result)
        }
        frame.appendByte(UInt8(ascii: "}"))
    }
}
