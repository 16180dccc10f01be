import NIOCore

/// One GatewayWorker inner-protocol ("GatewayProtocol") frame.
///
/// Layout (28-byte header, `pack("NCNnNnNCnN")`, big-endian): pack_len u32 (whole frame),
/// cmd u8, local_ip u32, local_port u16, client_ip u32, client_port u16, connection_id u32,
/// flag u8, gateway_port u16, ext_len u32; then `ext_len` bytes of ext_data, then the body.
///
/// Frames sent *to* a gateway (by workers and GatewayClient) leave the address fields zero;
/// frames a gateway sends fill them all in. `extData` and `body` are usually slices of the
/// received buffer (no copy). A plain value; safe on any thread.
public struct GatewayFrame: Hashable, Sendable {
    /// The fixed header size; `pack_len` is never smaller.
    public static let headerLength = 28

    public var command: GatewayCommand
    /// The gateway's lanIp (big-endian), on frames the gateway sends.
    public var localIP: UInt32
    /// The gateway's inner port, on frames the gateway sends.
    public var localPort: UInt16
    /// The client's remote address, on frames the gateway sends.
    public var clientIP: UInt32
    public var clientPort: UInt16
    /// The connection the command is about (0 when it is about none).
    public var connectionID: UInt32
    public var flags: GatewayFrameFlags
    /// The gateway's public (client-facing) listen port, on frames the gateway sends.
    public var gatewayPort: UInt16
    /// Session string, uid, group name or JSON, depending on the command.
    public var extData: ByteBuffer
    public var body: ByteBuffer

    /// - Parameters:
    ///   - flags: defaults to `.scalarBody` because every frame GatewayWorker sends has it except
    ///     `CMD_ON_WEBSOCKET_CONNECT` and a message-less `CMD_KICK`.
    ///   - localIP, localPort, clientIP, clientPort, gatewayPort: default to 0, which is what
    ///     workers and GatewayClient send; only a gateway fills them in.
    public init(
        command: GatewayCommand,
        connectionID: UInt32 = 0,
        flags: GatewayFrameFlags = .scalarBody,
        extData: ByteBuffer = ByteBuffer(),
        body: ByteBuffer = ByteBuffer(),
        localIP: UInt32 = 0,
        localPort: UInt16 = 0,
        clientIP: UInt32 = 0,
        clientPort: UInt16 = 0,
        gatewayPort: UInt16 = 0
    ) {
        self.command = command
        self.localIP = localIP
        self.localPort = localPort
        self.clientIP = clientIP
        self.clientPort = clientPort
        self.connectionID = connectionID
        self.flags = flags
        self.gatewayPort = gatewayPort
        self.extData = extData
        self.body = body
    }

    /// The `client_id` this frame names: the gateway address in the header plus the connection.
    /// Only meaningful on frames a gateway sent.
    public var clientID: ClientID {
        ClientID(ipv4: self.localIP, port: self.localPort, connectionID: self.connectionID)
    }

    /// The value `pack_len` has on the wire.
    public var encodedLength: Int {
        GatewayFrame.headerLength + self.extData.readableBytes + self.body.readableBytes
    }
}
