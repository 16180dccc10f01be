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
        // The header is loaded in one pass over the readable bytes (see GatewayFrameHeader).
        let header: GatewayFrameHeader? = buffer.withUnsafeReadableBytes { readable in
            readable.count >= GatewayFrame.headerLength ? GatewayFrameHeader(loadingFrom: readable.baseAddress!) : nil
        }
        guard let header else {
            guard buffer.readableBytes >= 4, let declared = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else {
                return nil
            }
            // A declared length out of bounds is refused as soon as it can be read.
            if Int(declared) < GatewayFrame.headerLength { throw .frameTooShort(declared: Int(declared)) }
            if Int(declared) > self.maximumFrameLength {
                throw .frameTooLarge(declared: Int(declared), limit: self.maximumFrameLength)
            }
            return nil
        }
        let frameLength = Int(header.frameLength)
        guard frameLength >= GatewayFrame.headerLength else {
            throw .frameTooShort(declared: frameLength)
        }
        guard frameLength <= self.maximumFrameLength else {
            throw .frameTooLarge(declared: frameLength, limit: self.maximumFrameLength)
        }
        guard buffer.readableBytes >= frameLength else {
            return nil
        }
        let extLength = Int(header.extLength)
        guard extLength <= frameLength - GatewayFrame.headerLength else {
            throw .extDataOverflow(extLength: extLength, frameLength: frameLength)
        }
        buffer.moveReaderIndex(forwardBy: GatewayFrame.headerLength)
        guard
            let extData = buffer.readSlice(length: extLength),
            let body = buffer.readSlice(length: frameLength - GatewayFrame.headerLength - extLength)
        else {
            return nil  // unreachable: lengths were checked above
        }
        return GatewayFrame(
            command: header.command,
            connectionID: header.connectionID,
            flags: header.flags,
            extData: extData,
            body: body,
            localIP: header.localIP,
            localPort: header.localPort,
            clientIP: header.clientIP,
            clientPort: header.clientPort,
            gatewayPort: header.gatewayPort
        )
    }
}
