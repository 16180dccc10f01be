import GatewayWire
import NIOCore

/// GatewayWorker's fire-and-forget API calls as inner-protocol frames, with GatewayWorker 4.x's
/// semantics (argument forms, which gateways a call reaches). Nothing is acknowledged.
///
/// Used by everything that pushes from outside the cluster (GatewayClient, the HTTP API); a
/// worker builds the same frames straight from the plugin's memory (see `PluginHost`).
public enum GatewayCommands {
    /// Send flags as GatewayWorker has them: `raw` skips the client protocol's framing.
    public struct SendOptions: Sendable, Hashable {
        public var binary: Bool
        public var raw: Bool
        public init(binary: Bool = false, raw: Bool = false) {
            self.binary = binary
            self.raw = raw
        }

        /// The inner-protocol frame flags for a message sent with these options.
        public var flags: GatewayFrameFlags {
            var flags: GatewayFrameFlags = .scalarBody
            if binary { flags.insert(.binary) }
            if raw { flags.insert(.raw) }
            return flags
        }
    }

    /// sendToAll($message, $client_id_array = null, $exclude_client_id = null, $raw = false).
    ///
    /// With `clientIDs` (even empty, which sends nothing) only those clients get the message,
    /// each gateway receiving its own connection ids; otherwise everyone but `excluding`.
    public static func sendToAll(
        _ message: [UInt8], clientIDs: [ClientID]? = nil, excluding: [ClientID] = [], options: SendOptions = .init()
    ) -> [GatewayDispatch] {
        let flags = options.flags
        if let clientIDs {
            let skip = Set(excluding)
            return connectionIDsByGateway(clientIDs.filter { !skip.contains($0) }).sorted { $0.key < $1.key }.map {
                .gateway($0.key, .command(.sendToAll, flags: flags, ext: SendToAllScope.only($0.value).encodedExtData(), body: message))
            }
        }
        guard !excluding.isEmpty else { return [.everyGateway(.command(.sendToAll, flags: flags, body: message))] }
        let excluded = connectionIDsByGateway(excluding)
        return [
            .perGateway { address in
                let ext = excluded[address].map { SendToAllScope.excluding($0).encodedExtData() } ?? []
                return .command(.sendToAll, flags: flags, ext: ext, body: message)
            }
        ]
    }

    /// sendToClient($client_id, $message) — only the client's own gateway.
    public static func sendToClient(_ clientID: ClientID, _ message: [UInt8], options: SendOptions = .init()) -> GatewayDispatch {
        .gateway(clientID.gateway, .command(.sendToOne, connectionID: clientID.connectionID, flags: options.flags, body: message))
    }

    /// sendToUid($uid_or_uids, $message) — every gateway, all uids in one frame.
    public static func sendToUID(_ uids: [String], _ message: [UInt8], options: SendOptions = .init()) -> [GatewayDispatch] {
        guard !uids.isEmpty else { return [] }
        return [.everyGateway(.command(.sendToUID, flags: options.flags, ext: UIDListExt.encode(uids), body: message))]
    }

    /// sendToGroup($group_or_groups, $message, $exclude_client_id = null) — every gateway; a
    /// client in several of the groups gets the message once.
    public static func sendToGroup(
        _ groups: [String], _ message: [UInt8], excluding: [ClientID] = [], options: SendOptions = .init()
    ) -> [GatewayDispatch] {
        guard !groups.isEmpty else { return [] }
        let flags = options.flags
        guard !excluding.isEmpty else {
            let ext = SendToGroupExt(groups: groups, exclude: nil).encodedExtData()
            return [.everyGateway(.command(.sendToGroup, flags: flags, ext: ext, body: message))]
        }
        let excluded = connectionIDsByGateway(excluding)
        return [
            .perGateway { address in
                let ext = SendToGroupExt(groups: groups, exclude: excluded[address]).encodedExtData()
                return .command(.sendToGroup, flags: flags, ext: ext, body: message)
            }
        ]
    }

    /// closeClient($client_id, $message = null): the message (if any) is sent, then the
    /// connection closed. Without a message KICK carries a serialized null, as in PHP.
    public static func closeClient(_ clientID: ClientID, message: [UInt8]? = nil, options: SendOptions = .init()) -> GatewayDispatch {
        let frame: ByteBuffer
        if let message {
            frame = .command(.kick, connectionID: clientID.connectionID, flags: options.flags, body: message)
        } else {
            frame = .command(.kick, connectionID: clientID.connectionID, flags: [], body: Array("N;".utf8))
        }
        return .gateway(clientID.gateway, frame)
    }

    /// destroyClient($client_id): closes at once, nothing more is written.
    public static func destroyClient(_ clientID: ClientID) -> GatewayDispatch {
        .gateway(clientID.gateway, .command(.destroy, connectionID: clientID.connectionID))
    }

    /// bindUid / unbindUid / joinGroup / leaveGroup: a name for the client's gateway.
    public static func membership(_ command: Membership, _ clientID: ClientID, _ name: String) -> GatewayDispatch {
        .gateway(clientID.gateway, .command(command.command, connectionID: clientID.connectionID, ext: Array(name.utf8)))
    }

    public enum Membership: Sendable {
        case bindUID, unbindUID, joinGroup, leaveGroup

        var command: GatewayCommand {
            switch self {
            case .bindUID: return .bindUID
            case .unbindUID: return .unbindUID
            case .joinGroup: return .joinGroup
            case .leaveGroup: return .leaveGroup
            }
        }
    }

    /// ungroup($group): every gateway.
    public static func ungroup(_ group: String) -> GatewayDispatch {
        .everyGateway(.command(.ungroup, ext: Array(group.utf8)))
    }

    /// setSession (replace) or updateSession (array_replace_recursive on the gateway).
    public static func session(_ clientID: ClientID, _ session: PHPValue, merge: Bool) -> GatewayDispatch {
        .gateway(
            clientID.gateway,
            .command(merge ? .updateSession : .setSession, connectionID: clientID.connectionID, ext: PHPSerializer.serialize(session)))
    }
}
