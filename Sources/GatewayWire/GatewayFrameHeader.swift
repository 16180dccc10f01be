/// The 28-byte frame header read and written with plain loads and stores at a pointer.
///
/// Every frame a worker or gateway handles passes here. NIO's `writeMultipleIntegers` and
/// `readMultipleIntegers` check capacity, uniqueness and exclusivity on each call; with the
/// header stored in one go and the frame written through one `writeWithUnsafeMutableBytes`, a
/// frame costs one such check instead of three or four (docs/design/io-engine.md, "The echo
/// path": workers and gateway −20 % of their user time per echoed message).
public struct GatewayFrameHeader: Equatable, Sendable {
    /// `pack_len`: the whole frame, header included.
    public var frameLength: UInt32
    public var command: GatewayCommand
    public var localIP: UInt32
    public var localPort: UInt16
    public var clientIP: UInt32
    public var clientPort: UInt16
    public var connectionID: UInt32
    public var flags: GatewayFrameFlags
    public var gatewayPort: UInt16
    public var extLength: UInt32

    @inlinable
    public init(
        frameLength: UInt32, command: GatewayCommand, localIP: UInt32 = 0, localPort: UInt16 = 0, clientIP: UInt32 = 0,
        clientPort: UInt16 = 0, connectionID: UInt32, flags: GatewayFrameFlags, gatewayPort: UInt16 = 0, extLength: UInt32
    ) {
        self.frameLength = frameLength
        self.command = command
        self.localIP = localIP
        self.localPort = localPort
        self.clientIP = clientIP
        self.clientPort = clientPort
        self.connectionID = connectionID
        self.flags = flags
        self.gatewayPort = gatewayPort
        self.extLength = extLength
    }

    /// Reads a header from `bytes` (at least `GatewayFrame.headerLength` of them).
    @inlinable
    public init(loadingFrom bytes: UnsafeRawPointer) {
        frameLength = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        command = GatewayCommand(rawValue: bytes.load(fromByteOffset: 4, as: UInt8.self))
        localIP = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 5, as: UInt32.self))
        localPort = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 9, as: UInt16.self))
        clientIP = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 11, as: UInt32.self))
        clientPort = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 15, as: UInt16.self))
        connectionID = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 17, as: UInt32.self))
        flags = GatewayFrameFlags(rawValue: bytes.load(fromByteOffset: 21, as: UInt8.self))
        gatewayPort = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 22, as: UInt16.self))
        extLength = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
    }

    /// Writes the header's 28 bytes at `target`.
    @inlinable
    public func store(to target: UnsafeMutableRawPointer) {
        target.storeBytes(of: frameLength.bigEndian, toByteOffset: 0, as: UInt32.self)
        target.storeBytes(of: command.rawValue, toByteOffset: 4, as: UInt8.self)
        target.storeBytes(of: localIP.bigEndian, toByteOffset: 5, as: UInt32.self)
        target.storeBytes(of: localPort.bigEndian, toByteOffset: 9, as: UInt16.self)
        target.storeBytes(of: clientIP.bigEndian, toByteOffset: 11, as: UInt32.self)
        target.storeBytes(of: clientPort.bigEndian, toByteOffset: 15, as: UInt16.self)
        target.storeBytes(of: connectionID.bigEndian, toByteOffset: 17, as: UInt32.self)
        target.storeBytes(of: flags.rawValue, toByteOffset: 21, as: UInt8.self)
        target.storeBytes(of: gatewayPort.bigEndian, toByteOffset: 22, as: UInt16.self)
        target.storeBytes(of: extLength.bigEndian, toByteOffset: 24, as: UInt32.self)
    }
}
