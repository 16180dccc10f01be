/// One message of the register protocol: a JSON object per `"\n"`-terminated line.
///
/// Decoding is as lenient as the PHP register (whitespace, member order, extra members, a
/// missing `secret_key`), while `encodedLine()` reproduces the exact bytes PHP peers send,
/// including the two hand-built lines. A plain value; safe on any thread.
public enum RegisterMessage: Hashable, Sendable {
    /// A gateway announcing its inner address `"lanIp:port"`.
    case gatewayConnect(address: String, secretKey: String)
    /// A BusinessWorker (or a GatewayClient looking up addresses).
    case workerConnect(secretKey: String)
    /// Keep-alive; never answered.
    case ping
    /// The register's list of gateway inner addresses, pushed to workers.
    case broadcastAddresses([String])

    /// Parses one line (without "\n"). Missing secret_key reads as "".
    ///
    /// Checks follow PHP's `Register::onMessage` in order: JSON, then a non-empty `event`, then
    /// the event name, then (for `gateway_connect`) a non-empty `address`. A repeated member
    /// counts with its last value, as in `json_decode`. Non-string `secret_key`/`address`
    /// values are read as their JSON text. `broadcast_addresses` also accepts the object form
    /// PHP emits when the list has a key gap.
    public static func parse(_ line: some Collection<UInt8>) throws(RegisterMessageError) -> RegisterMessage {
        let json: JSONValue
        do {
            json = try JSONValue.parse(line)
        } catch {
            throw .notJSON
        }
        guard let event = json.phpMember("event"), !event.isPHPEmpty else {
            throw .missingEvent
        }
        guard case .string(let name) = event else {
            throw .unknownEvent(event.fieldText)
        }
        let secretKey = json.phpMember("secret_key").flatMap { $0.isNull ? nil : $0.fieldText } ?? ""
        switch name {
        case "gateway_connect":
            guard let address = json.phpMember("address"), !address.isPHPEmpty else {
                throw .missingAddress
            }
            return .gatewayConnect(address: address.fieldText, secretKey: secretKey)
        case "worker_connect":
            return .workerConnect(secretKey: secretKey)
        case "ping":
            return .ping
        case "broadcast_addresses":
            let addresses = json.phpMember("addresses")?.phpArrayValues ?? []
            return .broadcastAddresses(addresses.map(\.fieldText))
        default:
            throw .unknownEvent(name)
        }
    }

    /// The exact bytes PHP sends, including the trailing "\n": gateway_connect is hand-built with ", " between members and the secret pasted in unescaped; worker_connect is hand-built with no spaces; broadcast_addresses is json_encode output. Check against every R* vector.
    ///
    /// Because GatewayWorker pastes the address and secret in without escaping, so do we: a
    /// secret containing `"` or `\` yields the same (invalid) line a PHP peer would send.
    public func encodedLine() -> [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .gatewayConnect(let address, let secretKey):
            out.appendASCII("{\"event\":\"gateway_connect\", \"address\":\"")
            out.appendUTF8(address)
            out.appendASCII("\", \"secret_key\":\"")
            out.appendUTF8(secretKey)
            out.appendASCII("\"}")
        case .workerConnect(let secretKey):
            out.appendASCII("{\"event\":\"worker_connect\",\"secret_key\":\"")
            out.appendUTF8(secretKey)
            out.appendASCII("\"}")
        case .ping:
            out.appendASCII("{\"event\":\"ping\"}")
        case .broadcastAddresses(let addresses):
            let json: JSONValue = .object([
                JSONMember("event", .string("broadcast_addresses")),
                JSONMember("addresses", .array(addresses.map(JSONValue.string))),
            ])
            json.write(into: &out, escaping: .php)
        }
        out.appendByte(UInt8(ascii: "\n"))
        return out
    }

    /// The register's reply to a line that is not JSON / has no event: "Bad request for Register service. Request info(IP:<ip>, Request Buffer:<line>). See http://doc2.workerman.net/register-auth-timeout.html\n"
    ///
    /// The line is echoed byte for byte (PHP interpolates the raw buffer).
    public static func badRequestLine(remoteIP: String, line: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.appendASCII("Bad request for Register service. Request info(IP:")
        out.appendUTF8(remoteIP)
        out.appendASCII(", Request Buffer:")
        out.append(contentsOf: line)
        out.appendASCII("). See http://doc2.workerman.net/register-auth-timeout.html\n")
        return out
    }
}
