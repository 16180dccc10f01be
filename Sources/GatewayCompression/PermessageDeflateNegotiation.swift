import GatewayWebSocket

/// The server's side of permessage-deflate's negotiation (RFC 7692 §5, §7.1): which of the
/// client's offers in `Sec-WebSocket-Extensions` it takes, and the answer that goes in the 101.
///
/// The gateway always answers `server_no_context_takeover; client_no_context_takeover`: every
/// message is compressed and inflated on its own, so neither side keeps an LZ77 window per
/// connection (zlib's is 256 KiB for deflate, 44 KiB for inflate). That is what bounds the
/// memory of a compressed connection to nothing beyond an uncompressed one, and what lets a
/// broadcast be compressed once for every receiver. RFC 7692 §7.1.1.2 lets a server ask for
/// `client_no_context_takeover` whether or not the client offered it.
public enum PermessageDeflateNegotiation {
    public static let extensionName = "permessage-deflate"

    /// The first acceptable permessage-deflate offer among a request's extension offers (in
    /// order, `WebSocketUpgradeRequest.extensionOffers`); nil when there is none, and the
    /// connection goes on uncompressed. An offer is declined (and the next one tried) when a
    /// parameter is unknown, repeated or has a value outside the RFC's.
    public static func agree(offers: [WebSocketExtensionOffer]) -> PermessageDeflateAgreement? {
        for offer in offers where offer.name.lowercased() == extensionName {
            if let agreement = accept(offer) { return agreement }
        }
        return nil
    }

    static func accept(_ offer: WebSocketExtensionOffer) -> PermessageDeflateAgreement? {
        var seen = Set<String>()
        var requestedServerWindowBits: UInt8?
        for parameter in offer.parameters {
            let (name, value) = (parameter.name.lowercased(), parameter.value)
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover", "client_no_context_takeover":
                guard value == nil else { return nil }
            case "server_max_window_bits":
                guard let value, let bits = windowBits(value) else { return nil }
                requestedServerWindowBits = bits
            case "client_max_window_bits":
                // A hint that the client could use a smaller window; the gateway inflates
                // with the largest, so any is fine.
                if let value, windowBits(value) == nil { return nil }
            default:
                return nil
            }
        }
        return PermessageDeflateAgreement(requestedServerWindowBits: requestedServerWindowBits)
    }

    /// 8...15 written as decimal digits without a leading zero (RFC 7692 §7.1.2).
    private static func windowBits(_ text: String) -> UInt8? {
        guard (1...2).contains(text.utf8.count), text.utf8.first != UInt8(ascii: "0"),
            text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let bits = UInt8(text), (8...15).contains(bits)
        else { return nil }
        return bits
    }
}

/// What was agreed with one client: 2 bytes, kept in the gateway's slot for the connection.
public struct PermessageDeflateAgreement: Hashable, Sendable {
    /// The client's `server_max_window_bits`, when it asked for one: the answer must repeat it
    /// (or a smaller value) and the gateway's LZ77 distances must fit it.
    public let requestedServerWindowBits: UInt8?

    public init(requestedServerWindowBits: UInt8? = nil) {
        self.requestedServerWindowBits = requestedServerWindowBits
    }

    /// zlib's largest window, what a client that asks for no smaller one gets.
    public static let defaultWindowBits: UInt8 = 15

    /// The window the gateway compresses for this client with: 8...15.
    public var serverWindowBits: UInt8 { requestedServerWindowBits ?? Self.defaultWindowBits }

    /// The `Sec-WebSocket-Extensions` value of the 101.
    public var responseHeaderValue: String {
        var value = "\(PermessageDeflateNegotiation.extensionName); server_no_context_takeover; client_no_context_takeover"
        if let requestedServerWindowBits { value += "; server_max_window_bits=\(requestedServerWindowBits)" }
        return value
    }
}
