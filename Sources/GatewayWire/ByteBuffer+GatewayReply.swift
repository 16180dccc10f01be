import NIOCore

extension ByteBuffer {
    /// Writes one query reply: a u32 big-endian length, then `serialize(value)`.
    ///
    /// The value is serialized straight into the buffer and the length patched in afterwards, so
    /// a large reply is not built twice.
    public mutating func writeGatewayReply(_ value: PHPValue) {
        let lengthIndex = self.writerIndex
        self.writeInteger(UInt32(0))
        let start = self.writerIndex
        PHPSerializer.serialize(value, into: &self)
        let length = self.writerIndex - start
        precondition(length <= Int(UInt32.max), "reply of \(length) bytes does not fit its u32 length")
        self.setInteger(UInt32(length), at: lengthIndex)
    }

    /// Writes one query reply whose payload is already serialized (e.g. a stored session
    /// string for `CMD_GET_SESSION_BY_CLIENT_ID`, which PHP sends verbatim).
    public mutating func writeGatewayReply(serialized payload: UnsafeRawBufferPointer) {
        precondition(payload.count <= Int(UInt32.max), "reply of \(payload.count) bytes does not fit its u32 length")
        self.writeInteger(UInt32(payload.count))
        self.writeBytes(payload)
    }
}
