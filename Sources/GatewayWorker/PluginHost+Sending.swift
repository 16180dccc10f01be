import CGatewayABI
import GatewayAPI
import GatewayWire
import NIOCore

/// The fire-and-forget host functions (plugin thread): each writes its frames into the
/// connection buffers of the gateways concerned, flushed once per loop iteration.
///
/// The frames are GatewayAPI's (`GatewayCommands`), so a worker, GatewayClient and the HTTP API
/// send the same bytes. The two hot paths, a send to one client and a broadcast to everyone,
/// are encoded straight from the plugin's memory instead, saving a copy per message.
extension PluginHost {
    /// The largest message a plugin may send.
    static let maximumMessageBytes = 64 << 20

    func sendToClient(clientID: ClientID, _ data: UnsafeRawBufferPointer, flags: UInt32) throws {
        let options = try sendOptions(data, flags)
        output(to: clientID.gateway) {
            $0.writeCommand(.sendToOne, connectionID: clientID.connectionID, flags: options.flags, body: data)
        }
    }

    func sendToAll(_ data: UnsafeRawBufferPointer, flags: UInt32, excluding: [ClientID]) throws {
        let options = try sendOptions(data, flags)
        guard !excluding.isEmpty else {
            outputToAll { $0.writeCommand(.sendToAll, flags: options.flags, body: data) }
            return
        }
        queue(GatewayCommands.sendToAll(Array(data), excluding: excluding, options: options))
    }

    func sendToClients(_ clientIDs: [ClientID], _ data: UnsafeRawBufferPointer, flags: UInt32) throws {
        let options = try sendOptions(data, flags)
        queue(GatewayCommands.sendToAll(Array(data), clientIDs: clientIDs, options: options))
    }

    func sendToGroups(_ groups: [String], _ data: UnsafeRawBufferPointer, flags: UInt32, excluding: [ClientID]) throws {
        let options = try sendOptions(data, flags)
        queue(GatewayCommands.sendToGroup(groups, Array(data), excluding: excluding, options: options))
    }

    func sendToUIDs(_ uids: [String], _ data: UnsafeRawBufferPointer, flags: UInt32) throws {
        let options = try sendOptions(data, flags)
        queue(GatewayCommands.sendToUID(uids, Array(data), options: options))
    }

    func closeClient(_ clientID: ClientID, message: UnsafeRawBufferPointer?, flags: UInt32) throws {
        let options = try sendOptions(message ?? UnsafeRawBufferPointer(start: nil, count: 0), flags)
        output(GatewayCommands.closeClient(clientID, message: message.map { Array($0) }, options: options))
    }

    func destroyClient(_ clientID: ClientID) {
        output(GatewayCommands.destroyClient(clientID))
    }

    /// join/leave group and bind/unbind uid: a name for the client's gateway.
    func membership(_ change: GatewayCommands.Membership, _ clientID: ClientID, name: String) {
        output(GatewayCommands.membership(change, clientID, name))
    }

    func ungroup(_ group: String) {
        output(GatewayCommands.ungroup(group))
    }

    func changeSession(of clientID: ClientID, to value: PHPValue, merge: Bool) {
        output(GatewayCommands.session(clientID, value, merge: merge))
        if invocation.clientID == clientID {
            invocation.replaceSession(merge ? invocation.session.replacingRecursive(with: value) : value)
        }
    }

    private func queue(_ dispatches: [GatewayDispatch]) {
        for dispatch in dispatches { output(dispatch) }
    }

    private func output(to address: GatewayAddress, _ encode: (inout ByteBuffer) -> Void) {
        commandCount += 1
        transport.append(to: address, encode)
    }

    private func outputToAll(_ encode: (inout ByteBuffer) -> Void) {
        commandCount += 1
        transport.appendToAll(encode)
    }

    private func output(_ dispatch: GatewayDispatch) {
        commandCount += 1
        transport.append(dispatch)
    }

    /// GatewayAPI's send options for `GWD_SEND_*` flags, once the size is checked.
    private func sendOptions(_ data: UnsafeRawBufferPointer, _ flags: UInt32) throws -> GatewayCommands.SendOptions {
        if data.count > Self.maximumMessageBytes { throw HostError.tooLarge }
        var binary = flags & GWD_SEND_BINARY != 0
        if flags & GWD_SEND_AS_RECEIVED != 0, case .message(binary: true)? = invocation.eventKind { binary = true }
        return GatewayCommands.SendOptions(binary: binary, raw: flags & GWD_SEND_RAW != 0)
    }
}
