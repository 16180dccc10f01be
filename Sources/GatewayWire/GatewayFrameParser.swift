import NIOCore

/// Splits the inner-protocol byte stream into `GatewayFrame`s.
///
/// Pure and I/O-free so it can be fuzzed directly; `GatewayFrameDecoder` wraps it for NIO.
/// Lengths are validated from the header before any payload is awaited, so a peer cannot make
/// us buffer more than `maximumFrameLength`. Runs on whichever event loop owns the connection.
public struct GatewayFrameParser: Sendable {
    /// The largest `pack_len` accepted.
    public var maximumFrameLength: Int

    /// - Parameter maximumFrameLength: 16 MiB by default: far above any real message (Workerman's
    ///   own default `maxPackageSize` is 10 MB) while bounding what one peer can make us buffer.
    public init(maximumFrameLength: Int = 16 * 1024 * 1024) {
        self.maximumFrameLength = maximumFrameLength
    }

    /// Returns nil when more bytes are needed; consumes exactly one frame otherwise.
    ///
    /// On error nothing is consumed; the connection should be closed.
    public mutating func parse(_ buffer: inout ByteBuffer) throws(GatewayFrameError) -> GatewayFrame? {
        guard let declared = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else {
            return nil
        }
        let frameLength = Int(declared)
        guard frameLength >= GatewayFrame.headerLength else {
            throw .frameTooShort(declared: frameLength)
        }
        guard frameLength <= self.maximumFrameLength else {
            throw .frameTooLarge(declared: frameLength, limit: self.maximumFrameLength)
        }
        guard buffer.readableBytes >= frameLength else {
            return nil
        }
        guard
            let extLength32 = buffer.getInteger(
                at: buffer.readerIndex + GatewayFrame.headerLength - 4,
                as: UInt32.self
            )
        else {
            return nil  // unreachable: frameLength >= headerLength bytes are readable
        }
        let extLength = Int(extLength32)
        guard extLength <= frameLength - GatewayFrame.headerLength else {
            throw .extDataOverflow(extLength: extLength, frameLength: frameLength)
        }

        guard
            let (_, command, localIP, localPort, clientIP, clientPort, connectionID, flag, gatewayPort, _) =
                buffer.readMultipleIntegers(
                    as: (UInt32, UInt8, UInt32, UInt16, UInt32, UInt16, UInt32, UInt8, UInt16, UInt32).self
                ),
            let extData = buffer.readSlice(length: extLength),
            let body = buffer.readSlice(length: frameLength - GatewayFrame.headerLength - extLength)
        else {
            return nil  // unreachable: lengths were checked above
        }
        return GatewayFrame(
            command: GatewayCommand(rawValue: command),
            connectionID: connectionID,
            flags: GatewayFrameFlags(rawValue: flag),
            extData: extData,
            body: body,
            localIP: localIP,
            localPort: localPort,
            clientIP: clientIP,
            clientPort: clientPort,
            gatewayPort: gatewayPort
        )
    }
}
