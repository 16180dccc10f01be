import Foundation
import XCTest

/// "A client written only from gateway-protocol.md": everything here is built from that
/// document alone — no gatewayd module, only sockets and bytes laid out by hand — and must be
/// able to find the gateways, authenticate, push and query.
///
/// The document says: ask the register with one JSON line `{"event":"worker_connect",
/// "secret_key":…}` and read `{"event":"broadcast_addresses","addresses":[…]}`; on a gateway's
/// inner port send frames with a 28-byte big-endian header (pack_len u32, cmd u8, local_ip
/// u32, local_port u16, client_ip u32, client_port u16, connection_id u32, flag u8,
/// gateway_port u16, ext_len u32), then ext_data, then the body; with a secret, first
/// GATEWAY_CLIENT_CONNECT (202, body JSON `{secret_key}`); queries are answered with a u32
/// length and a PHP-serialized value; a client_id is lanIp u32 + inner port u16 +
/// connection_id u32 in hex.
final class ProtocolDocClientTests: ConformanceSuite {
    override class var pluginKind: ConformancePlugin? { .c }
    override class var extraArguments: [String] { ["--secret-key", secret] }
    private static let secret = "doc-secret"

    // MARK: - The protocol, by hand

    private static let sendToOne: UInt8 = 5
    private static let sendToAll: UInt8 = 6
    private static let isOnline: UInt8 = 11
    private static let getClientCountByGroup: UInt8 = 24
    private static let gatewayClientConnect: UInt8 = 202

    private func frame(_ command: UInt8, connectionID: UInt32 = 0, ext: [UInt8] = [], body: [UInt8] = []) -> [UInt8] {
        func u32(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        let flag: UInt8 = 0x01  // the body is a plain string
        var bytes = u32(UInt32(28 + ext.count + body.count)) + [command]
        bytes += u32(0) + [0, 0] + u32(0) + [0, 0]  // local_ip, local_port, client_ip, client_port: unused towards a gateway
        bytes += u32(connectionID) + [flag] + [0, 0] + u32(UInt32(ext.count))
        return bytes + ext + body
    }

    private func authentication(_ secret: String) -> [UInt8] {
        frame(Self.gatewayClientConnect, body: Array("{\"secret_key\":\"\(secret)\"}".utf8))
    }

    /// The gateways' `ip:port` from the register.
    private func gatewayAddresses() throws -> [String] {
        let register = try TCPTestSocket(port: GatewaydProcess.port(of: cluster.registerAddress)!)
        try register.write(Array("{\"event\":\"worker_connect\",\"secret_key\":\"\(Self.secret)\"}\n".utf8))
        let line = try register.readLine()
        let message = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        XCTAssertEqual(message["event"] as? String, "broadcast_addresses")
        return try XCTUnwrap(message["addresses"] as? [String])
    }

    private func connect(toGateway address: String) throws -> TCPTestSocket {
        try TCPTestSocket(port: GatewaydProcess.port(of: address)!)
    }

    /// Reads one reply: u32 length, then that many bytes of PHP serialize.
    private func reply(from gateway: TCPTestSocket) throws -> String {
        let length = try gateway.read(exactly: 4).reduce(0) { $0 << 8 | Int($1) }
        return String(decoding: try gateway.read(exactly: length), as: UTF8.self)
    }

    /// `i:<n>;`, PHP's serialized integer.
    private func integer(_ serialized: String) throws -> Int {
        guard serialized.hasPrefix("i:"), serialized.hasSuffix(";"), let value = Int(serialized.dropFirst(2).dropLast()) else {
            throw GatewaydFixtureError("not a serialized integer: \(serialized)")
        }
        return value
    }

    /// A client_id's gateway (`ip:port`) and connection id.
    private func decode(_ clientID: String) -> (gateway: String, connectionID: UInt32) {
        let hex = Array(clientID)
        func number(_ range: Range<Int>) -> UInt32 { UInt32(String(hex[range]), radix: 16)! }
        let ip = number(0..<8)
        let address = [24, 16, 8, 0].map { String(ip >> $0 & 0xFF) }.joined(separator: ".")
        return ("\(address):\(number(8..<12))", number(12..<20))
    }

    // MARK: - Tests

    func testAClientBuiltFromTheDocumentPushesAndQueries() throws {
        let (a, b, rest) = splitAcrossGateways(try clientsOnBothGateways(minimum: 3))
        let addresses = try gatewayAddresses()
        XCTAssertEqual(Set(addresses), Set([a.id, b.id].map { decode($0).gateway }), "the register lists both gateways")

        // Count every gateway's clients: authenticate, then ask.
        var total = 0
        var gateways: [String: TCPTestSocket] = [:]
        for address in addresses {
            let gateway = try connect(toGateway: address)
            try gateway.write(authentication(Self.secret) + frame(Self.getClientCountByGroup))
            total += try integer(try reply(from: gateway))
            gateways[address] = gateway
        }
        XCTAssertEqual(total, 2 + rest.count)

        // Push to everyone, through every gateway, on the same authenticated connections.
        let message = unique("doc-all")
        for gateway in gateways.values { try gateway.write(frame(Self.sendToAll, body: Array(message.utf8))) }
        for entry in [a, b] + rest { try entry.client.expectText(message) }

        // Push to one client and ask whether it is online, at the gateway its id names.
        let (address, connection) = decode(b.id)
        let gateway = try XCTUnwrap(gateways[address])
        let direct = unique("doc-one")
        try gateway.write(frame(Self.sendToOne, connectionID: connection, body: Array(direct.utf8)))
        try b.client.expectText(direct)
        try expectNothingElse(a.client)
        try gateway.write(frame(Self.isOnline, connectionID: connection))
        XCTAssertEqual(try reply(from: gateway), "i:1;")
        try gateway.write(frame(Self.isOnline, connectionID: connection &+ 100_000))
        XCTAssertEqual(try reply(from: gateway), "i:0;")
    }

    func testAWrongSecretIsRefusedByTheRegisterAndTheGateways() throws {
        let clients = try clientsOnBothGateways(minimum: 2)
        let register = try TCPTestSocket(port: GatewaydProcess.port(of: cluster.registerAddress)!)
        try register.write(Array("{\"event\":\"worker_connect\",\"secret_key\":\"wrong\"}\n".utf8))
        XCTAssertTrue(register.isClosedByPeer(within: .seconds(5)), "the register closes without an answer")

        for address in try gatewayAddresses() {
            let gateway = try connect(toGateway: address)
            try gateway.write(authentication("wrong") + frame(Self.sendToAll, body: Array("must not arrive".utf8)))
            XCTAssertTrue(gateway.isClosedByPeer(within: .seconds(5)), "the gateway closes without executing anything")
            let unauthenticated = try connect(toGateway: address)
            try unauthenticated.write(frame(Self.sendToAll, body: Array("must not arrive either".utf8)))
            XCTAssertTrue(unauthenticated.isClosedByPeer(within: .seconds(5)))
        }
        for entry in clients { try expectNothingElse(entry.client) }
    }
}
