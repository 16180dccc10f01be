/// A client's id: 20 lowercase hexadecimal characters, unique across the gateways of a cluster
/// (GatewayWorker's `client_id`).
///
/// The host hands every client id over in this form; ``init(_:)`` checks it for ids that come
/// from elsewhere (a message, a session), so a ``Gateway`` call never passes a malformed id.
public struct ClientID: Hashable, Sendable, RawRepresentable, LosslessStringConvertible {
    /// The number of characters in a client id.
    public static let length = 20

    /// The id's 20 characters.
    public let rawValue: String

    /// Wraps `string` if it is 20 lowercase hexadecimal characters, or returns nil.
    public init?(_ string: String) {
        guard ClientID.isValid(string.utf8) else { return nil }
        rawValue = string
    }

    public init?(rawValue: String) {
        self.init(rawValue)
    }

    /// Reads the NUL-terminated id the host passes to a callback. Nil when it is malformed.
    init?(cString: UnsafePointer<CChar>) {
        self.init(String(cString: cString))
    }

    public var description: String { rawValue }

    static func isValid(_ utf8: some Collection<UInt8>) -> Bool {
        utf8.count == length && utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// A client id in JSON is its 20 characters, as a string: an event argument can name a client
/// (`struct Whisper: Decodable { let to: ClientID; let text: String }`), and `emit` can send one.
/// Decoding refuses a string that is not a client id.
extension ClientID: Codable {}
