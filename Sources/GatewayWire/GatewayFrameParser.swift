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
    ///
    /// Inlinable so that it is built with its caller's settings: NIO's `ByteBuffer` calls built in
    /// this module carry dynamic exclusivity checks, which the message-path modules turn off
    /// (Package.swift); here they cost the gateway ≈ 80 instructions per frame (callgrind).
    /// Always inlined: a caller that calls it instead gets this module's checked copy.
    @inlinable @inline(__always)
    public mutating func parse(_ buffer: inout ByteBuffer) throws(GatewayFrameError) -> GatewayFrame? {
        // The length and, once all of it is there, the whole header are loaded in one pass over
        // the readable bytes (see GatewayFrameHeader).
        let (declared, header): (UInt32?, GatewayFrameHeader?) = buffer.withUnsafeReadableBytes { readable in
            guard readable.count >= 4 else { return (nil, nil) }
            let declared = UInt32(bigEndian: readable.loadUnaligned(as: UInt32.self))
            return (declared, readable.count >= GatewayFrame.headerLength ? GatewayFrameHeader(loadingFrom: readable.baseAddress!) : nil)
        }
        guard let declared else { return nil }
        let frameLength = Int(declared)
        guard frameLength >= GatewayFrame.headerLength else {
            throw .frameTooShort(declared: frameLength)
        }
        guard frameLength <= self.maximumFrameLength else {
            throw .frameTooLarge(declared: frameLength, limit: self.maximumFrameLength)
        }
        // frameLength ≥ headerLength bytes readable means the header was loaded.
        guard buffer.readableBytes >= frameLength, let header else {
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
