import GatewayCore
import GatewayWire
import NIOCore

/// Pushes to clients and queries a gatewayd (or PHP GatewayWorker) cluster from outside it,
/// as GatewayClient 3.1 does: the gateways come from the register, each call opens a
/// connection to the gateway(s) involved, authenticates with the secret key when one is set,
/// sends one command and reads its reply if it has one.
///
/// Blocking and thread-free: meant for command-line tools and scripts.
public struct BlockingGatewayClient: Sendable {
    public var registers: [HostPort]
    public var secretKey: String
    public var timeoutSeconds: Double

    public init(registers: [HostPort], secretKey: String = "", timeoutSeconds: Double = 5) {
        self.registers = registers
        self.secretKey = secretKey
        self.timeoutSeconds = timeoutSeconds
    }

    /// The gateways' inner addresses, from the first register that answers.
    public func gatewayAddresses() throws(GatewayClientError) -> [String] {
        var lastError = GatewayClientError.noRegister
        for register in registers {
            do throws(GatewayClientError) {
                let socket = try BlockingSocket(connectingTo: register, timeoutSeconds: timeoutSeconds)
                try socket.write(RegisterMessage.workerConnect(secretKey: secretKey).encodedLine())
                let line = try socket.readLine()
                guard case .broadcastAddresses(let addresses)? = try? RegisterMessage.parse(line) else {
                    throw GatewayClientError.protocolError("unexpected answer from the register \(register)")
                }
                return addresses
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    public func sendToClient(_ clientID: String, _ message: [UInt8], binary: Bool = false) throws(GatewayClientError) {
        let id = try parse(clientID)
        try send(frame(.sendToOne, connectionID: id.connectionID, body: message, binary: binary), to: id.gatewayAddress)
    }

    public func sendToAll(_ message: [UInt8], binary: Bool = false) throws(GatewayClientError) {
        try broadcast(frame(.sendToAll, body: message, binary: binary))
    }

    public func sendToUID(_ uid: String, _ message: [UInt8], binary: Bool = false) throws(GatewayClientError) {
        try broadcast(frame(.sendToUID, ext: UIDListExt.encode([uid]), body: message, binary: binary))
    }

    public func sendToGroup(_ group: String, _ message: [UInt8], binary: Bool = false) throws(GatewayClientError) {
        let ext = SendToGroupExt(groups: [group], exclude: nil).encodedExtData()
        try broadcast(frame(.sendToGroup, ext: ext, body: message, binary: binary))
    }

    public func closeClient(_ clientID: String) throws(GatewayClientError) {
        let id = try parse(clientID)
        try send(frame(.kick, connectionID: id.connectionID, body: Array("N;".utf8), flags: []), to: id.gatewayAddress)
    }

    public func isOnline(_ clientID: String) throws(GatewayClientError) -> Bool {
        let id = try parse(clientID)
        let reply = try query(frame(.isOnline, connectionID: id.connectionID), at: id.gatewayAddress)
        if case .int(let value) = reply { return value != 0 }
        return reply == .bool(true)
    }

    /// Clients connected to all gateways together.
    public func allClientCount() throws(GatewayClientError) -> Int {
        var total = 0
        for address in try gatewayAddresses() {
            if case .int(let count) = try query(frame(.getClientCountByGroup), at: address) { total += count }
        }
        return total
    }

    // MARK: - Plumbing

    private func parse(_ clientID: String) throws(GatewayClientError) -> ClientID {
        guard let id = ClientID(clientID) else { throw .invalidClientID(clientID) }
        return id
    }

    private func frame(
        _ command: GatewayCommand, connectionID: UInt32 = 0, ext: [UInt8] = [], body: [UInt8] = [],
        binary: Bool = false, flags: GatewayFrameFlags = .scalarBody
    ) -> [UInt8] {
        let flags = binary ? flags.union(.binary) : flags
        return Array(ByteBuffer.command(command, connectionID: connectionID, flags: flags, ext: ext, body: body).readableBytesView)
    }

    /// The authentication frame that prefixes every request when a secret is set.
    private var authentication: [UInt8] {
        secretKey.isEmpty ? [] : frame(.gatewayClientConnect, body: GatewayClientConnectBody(secretKey: secretKey).encoded())
    }

    private func connect(_ address: String) throws(GatewayClientError) -> BlockingSocket {
        guard let endpoint = try? HostPort(parsing: address) else { throw .invalidAddress(address) }
        return try BlockingSocket(connectingTo: endpoint, timeoutSeconds: timeoutSeconds)
    }

    private func send(_ request: [UInt8], to address: String) throws(GatewayClientError) {
        let socket = try connect(address)
        try socket.write(authentication + request)
    }

    private func broadcast(_ request: [UInt8]) throws(GatewayClientError) {
        for address in try gatewayAddresses() { try send(request, to: address) }
    }

    private func query(_ request: [UInt8], at address: String) throws(GatewayClientError) -> PHPValue {
        let socket = try connect(address)
        try socket.write(authentication + request)
        let header = try socket.read(exactly: 4)
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard length <= 64 << 20 else { throw .protocolError("reply of \(length) bytes from \(address) is too large") }
        let payload = try socket.read(exactly: length)
        do {
            return try PHPSerializer.unserialize(payload)
        } catch {
            throw .protocolError("unreadable reply from \(address): \(error)")
        }
    }
}
