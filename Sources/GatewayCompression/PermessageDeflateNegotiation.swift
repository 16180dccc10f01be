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

    /// The first acceptable permessage-deflate offer among the values of every
    /// `Sec-WebSocket-Extensions` header (in order); nil when there is none, and the
    /// connection goes on uncompressed. An offer is declined (and the next one tried) when a
    /// parameter is unknown, repeated or has a value outside the RFC's.
    public static func agree(extensionHeaderValues: [String]) -> PermessageDeflateAgreement? {
        for value in extensionHeaderValues {
            for offer in ExtensionListParser.parse(value) where offer.name.lowercased() == extensionName {
                if let agreement = accept(offer) { return agreement }
            }
            // An unparsable list has no offer to take.
        }
        return nil
    }

    static func accept(_ offer: ExtensionOffer) -> PermessageDeflateAgreement? {
        var seen = Set<String>()
        var requestedServerWindowBits: UInt8?
        for (name, value) in offer.parameters {
            let name = name.lowercased()
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

    /// The window the gateway compresses for this client with: 8...15.
    public var serverWindowBits: UInt8 { requestedServerWindowBits ?? 15 }

    /// The `Sec-WebSocket-Extensions` value of the 101.
    public var responseHeaderValue: String {
        var value = "\(PermessageDeflateNegotiation.extensionName); server_no_context_takeover; client_no_context_takeover"
        if let requestedServerWindowBits { value += "; server_max_window_bits=\(requestedServerWindowBits)" }
        return value
    }
}

/// One element of an extension list: `name; param; param=value`.
struct ExtensionOffer: Equatable {
    var name: String
    var parameters: [(name: String, value: String?)]

    static func == (lhs: ExtensionOffer, rhs: ExtensionOffer) -> Bool {
        lhs.name == rhs.name && lhs.parameters.elementsEqual(rhs.parameters) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// RFC 6455 §9.1's grammar for `Sec-WebSocket-Extensions`: a comma-separated list of
/// extensions, each a token followed by `;`-separated parameters whose values are tokens or
/// quoted strings (whose content must again be a token). Hand-written: the header is a few
/// dozen bytes of untrusted input and no package in reach parses it; fuzzed with the handshake
/// (`scripts/fuzz.sh`).
enum ExtensionListParser {
    /// The extensions of one header value, or none when it breaks the grammar anywhere.
    static func parse(_ value: String) -> [ExtensionOffer] {
        var scanner = Scanner(bytes: Array(value.utf8))
        var offers: [ExtensionOffer] = []
        repeat {
            scanner.skipWhitespace()
            guard let name = scanner.token() else { return [] }
            var offer = ExtensionOffer(name: name, parameters: [])
            scanner.skipWhitespace()
            while scanner.take(UInt8(ascii: ";")) {
                scanner.skipWhitespace()
                guard let parameter = scanner.token() else { return [] }
                scanner.skipWhitespace()
                var parameterValue: String?
                if scanner.take(UInt8(ascii: "=")) {
                    scanner.skipWhitespace()
                    guard let value = scanner.token() ?? scanner.quotedToken() else { return [] }
                    parameterValue = value
                    scanner.skipWhitespace()
                }
                offer.parameters.append((parameter, parameterValue))
            }
            offers.append(offer)
        } while scanner.take(UInt8(ascii: ","))
        scanner.skipWhitespace()
        return scanner.atEnd ? offers : []
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func token() -> String? {
            let start = index
            while index < bytes.count, Self.isTokenByte(bytes[index]) { index += 1 }
            return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
        }

        /// A quoted string whose unescaped content is a token (RFC 6455 §9.1).
        mutating func quotedToken() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            var content: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return !content.isEmpty && content.allSatisfy(Self.isTokenByte) ? String(decoding: content, as: UTF8.self) : nil
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    content.append(bytes[index])
                    index += 1
                default:
                    content.append(byte)
                }
            }
            return nil
        }

        /// RFC 7230's tchar.
        static func isTokenByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            // ! # $ % & ' * + - . ^ _ ` | ~
            case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E...0x60, 0x7C, 0x7E:
                return true
            default:
                return false
            }
        }
    }
}
