import NIOCore
extension ByteBuffer {
    /// Appends a command frame as workers and GatewayClients send it: only command, connection id, flags, ext_data
    /// and body mean something there (GatewayWorker leaves the address fields zero). Inlinable
    /// for the reason given at `writeGatewayFrameHeader`: a worker writes one per reply.
    @inlinable @inline(__always)
    public mutating func writeCommand(
        _ command: GatewayCommand, connectionID: UInt32 = 0, flags: GatewayFrameFlags = .scalarBody, ext: [UInt8] = [],
        body: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) {
        ext.withUnsafeBytes {
            _ = writeGatewayFrame(command: command, connectionID: connectionID, flags: flags, extData: $0, body: body)
        }
    }

    /// A buffer holding one command frame.
    public static func command(
        _ command: GatewayCommand, connectionID: UInt32 = 0, flags: GatewayFrameFlags = .scalarBody, ext: [UInt8] = [],
        body: [UInt8] = []
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        body.withUnsafeBytes { buffer.writeCommand(command, connectionID: connectionID, flags: flags, ext: ext, body: $0) }
        return buffer
    }
}
