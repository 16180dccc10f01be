/// One element of a `Sec-WebSocket-Extensions` list: `name; param; param=value`.
public struct WebSocketExtensionOffer: Equatable, Sendable {
    public struct Parameter: Equatable, Sendable {
        public var name: String
        /// Nil for a parameter without `=`; a quoted value comes unquoted.
        public var value: String?

        public init(_ name: String, _ value: String? = nil) {
            self.name = name
            self.value = value
        }
    }

    public var name: String
    public var parameters: [Parameter]

    public init(name: String, parameters: [Parameter] = []) {
        self.name = name
        self.parameters = parameters
    }
}

/// RFC 6455 §9.1's grammar for `Sec-WebSocket-Extensions`: a comma-separated list of
/// extensions, each a token followed by `;`-separated parameters whose values are tokens or
/// quoted strings (whose content must again be a token). Hand-written: the header is a few
/// dozen bytes of untrusted input and no package in reach parses it; fuzzed with the handshake
/// (`FuzzWebSocket`).
public enum WebSocketExtensionList {
    /// The extensions of one header value, or none when it breaks the grammar anywhere.
    public static func parse(_ value: String) -> [WebSocketExtensionOffer] {
        var scanner = Scanner(bytes: Array(value.utf8))
        var offers: [WebSocketExtensionOffer] = []
        repeat {
            scanner.skipWhitespace()
            guard let name = scanner.token() else { return [] }
            var offer = WebSocketExtensionOffer(name: name)
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
                offer.parameters.append(.init(parameter, parameterValue))
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
            while index < bytes.count, HTTPSyntax.isWhitespace(bytes[index]) { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func token() -> String? {
            let start = index
            while index < bytes.count, HTTPSyntax.isTokenByte(bytes[index]) { index += 1 }
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
                    return !content.isEmpty && content.allSatisfy(HTTPSyntax.isTokenByte) ? String(decoding: content, as: UTF8.self) : nil
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
    }
}
