/// A whole message, as a client sends it and as the plugin sends one: a text frame or a
/// binary frame. (On the text and frame protocols, which have no frame kinds, messages arrive
/// as text.)
public enum Message: Hashable, Sendable {
    /// A text frame: valid UTF-8 (the gateway refuses invalid text frames).
    case text(String)
    /// A binary frame: any bytes.
    case binary([UInt8])

    /// The text of a text message; nil for a binary one.
    public var text: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The message's bytes: the payload of a binary message, the UTF-8 of a text message.
    public var bytes: [UInt8] {
        switch self {
        case .text(let text): Array(text.utf8)
        case .binary(let bytes): bytes
        }
    }

    /// The message's bytes read as UTF-8 (invalid sequences become U+FFFD), whatever its kind.
    public var string: String {
        switch self {
        case .text(let text): text
        case .binary(let bytes): String(decoding: bytes, as: UTF8.self)
        }
    }

    public var isText: Bool {
        if case .text = self { return true }
        return false
    }

    public var isBinary: Bool { !isText }
}

extension Message: ExpressibleByStringLiteral {
    /// A text message, so `closeCurrentClient(lastMessage: "bye")` reads naturally.
    public init(stringLiteral value: String) {
        self = .text(value)
    }
}
