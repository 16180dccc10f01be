import NIOCore

extension ByteBuffer {
    /// Writes a whole frame; returns bytes written.
    @discardableResult
    public mutating func writeGatewayFrame(_ frame: GatewayFrame) -> Int {
        frame.extData.withUnsafeReadableBytes { extData in
            frame.body.withUnsafeReadableBytes { body in
                self.writeGatewayFrame(
                    command: frame.command,
                    connectionID: frame.connectionID,
                    flags: frame.flags,
                    extData: extData,
                    body: body,
                    localIP: frame.localIP,
                    localPort: frame.localPort,
                    clientIP: frame.clientIP,
                    clientPort: frame.clientPort,
                    gatewayPort: frame.gatewayPort
                )
            }
        }
    }

    /// Same without building a GatewayFrame (hot path): ext and body as raw bytes.
    ///
    /// The frame must fit `pack_len` (u32); larger payloads are a programming error (the peer's
    /// own limit is far lower) and trap. Inlinable for the reason given at `writeGatewayFrameHeader`.
    @inlinable @discardableResult
    public mutating func writeGatewayFrame(
        command: GatewayCommand,
        connectionID: UInt32,
        flags: GatewayFrameFlags,
        extData: UnsafeRawBufferPointer,
        body: UnsafeRawBufferPointer,
        localIP: UInt32 = 0,
        localPort: UInt16 = 0,
        clientIP: UInt32 = 0,
        clientPort: UInt16 = 0,
        gatewayPort: UInt16 = 0
    ) -> Int {
        let header = GatewayFrameHeader.checked(
            command: command, connectionID: connectionID, flags: flags, extLength: extData.count, bodyLength: body.count,
            localIP: localIP, localPort: localPort, clientIP: clientIP, clientPort: clientPort, gatewayPort: gatewayPort)
        let total = Int(header.frameLength)
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { space in
            let target = space.baseAddress!
            header.store(to: target)
            if let ext = extData.baseAddress { (target + GatewayFrame.headerLength).copyMemory(from: ext, byteCount: extData.count) }
            if let bytes = body.baseAddress {
                (target + GatewayFrame.headerLength + extData.count).copyMemory(from: bytes, byteCount: body.count)
            }
            return total
        }
        return total
    }

    /// The fixed header of a frame whose ext data and body the caller writes next (ext first),
    /// e.g. a body unmasked straight from a client's read buffer. Reserves room for the whole
    /// frame; returns its total length.
    ///
    /// Inlinable so that it is built with its caller's settings: NIO's `ByteBuffer` calls built in
    /// this module carry dynamic exclusivity checks, which the message-path modules turn off
    /// (Package.swift); here they cost ≈ 80 instructions per frame (callgrind).
    @inlinable @discardableResult
    public mutating func writeGatewayFrameHeader(
        command: GatewayCommand,
        connectionID: UInt32,
        flags: GatewayFrameFlags,
        extLength: Int,
        bodyLength: Int,
        localIP: UInt32 = 0,
        localPort: UInt16 = 0,
        clientIP: UInt32 = 0,
        clientPort: UInt16 = 0,
        gatewayPort: UInt16 = 0
    ) -> Int {
        let header = GatewayFrameHeader.checked(
            command: command, connectionID: connectionID, flags: flags, extLength: extLength, bodyLength: bodyLength,
            localIP: localIP, localPort: localPort, clientIP: clientIP, clientPort: clientPort, gatewayPort: gatewayPort)
        let total = Int(header.frameLength)
        self.reserveCapacity(minimumWritableBytes: total)
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: GatewayFrame.headerLength) { space in
            header.store(to: space.baseAddress!)
            return GatewayFrame.headerLength
        }
        return total
    }
}

extension GatewayFrameHeader {
    /// The header of a frame with `extLength` + `bodyLength` bytes after it. The frame must fit
    /// `pack_len` (u32); larger payloads are a programming error (the peer's own limit is far
    /// lower) and trap.
    @usableFromInline
    static func checked(
        command: GatewayCommand, connectionID: UInt32, flags: GatewayFrameFlags, extLength: Int, bodyLength: Int,
        localIP: UInt32, localPort: UInt16, clientIP: UInt32, clientPort: UInt16, gatewayPort: UInt16
    ) -> GatewayFrameHeader {
        let total = GatewayFrame.headerLength + extLength + bodyLength
        precondition(total <= Int(UInt32.max), "GatewayFrame of \(total) bytes does not fit pack_len")
        return GatewayFrameHeader(
            frameLength: UInt32(total), command: command, localIP: localIP, localPort: localPort, clientIP: clientIP,
            clientPort: clientPort, connectionID: connectionID, flags: flags, gatewayPort: gatewayPort, extLength: UInt32(extLength))
    }
}
