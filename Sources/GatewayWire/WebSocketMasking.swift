import NIOCore

extension ByteBuffer {
    /// Appends `masked` XOR-ed with the client's 4-byte masking key (RFC 6455 §5.3); returns
    /// the bytes written. `keyOffset` is how many payload bytes came before `masked` (the key
    /// repeats every 4 bytes from the start of the frame's payload).
    ///
    /// Unmasking while copying spares the gateway a copy-on-write of NIO's read buffer, and
    /// goes 8 bytes at a time instead of one.
    @discardableResult
    public mutating func writeUnmaskedWebSocketPayload(
        _ masked: UnsafeRawBufferPointer, maskingKey key: (UInt8, UInt8, UInt8, UInt8), keyOffset: Int = 0
    ) -> Int {
        let count = masked.count
        guard count > 0 else { return 0 }
        return self.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { output in
            WebSocketMasking.unmask(masked, into: output, key: key, keyOffset: keyOffset)
            return count
        }
    }
}

public enum WebSocketMasking {
    /// Writes `input` XOR the masking key (rotated by `keyOffset`) to the start of `output`,
    /// which must hold at least `input.count` bytes.
    public static func unmask(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
        key: (UInt8, UInt8, UInt8, UInt8), keyOffset: Int = 0
    ) {
        precondition(output.count >= input.count, "unmask output too small")
        guard let source = input.baseAddress, let target = output.baseAddress else { return }
        withUnsafeBytes(of: key) { keyBytes in
            // The key repeated over 8 bytes in memory order: XOR-ing whole words is then
            // byte-exact whatever the machine's endianness.
            var wide: UInt64 = 0
            withUnsafeMutableBytes(of: &wide) { word in
                for index in 0..<8 { word[index] = keyBytes[(index + keyOffset) & 3] }
            }
            let count = input.count
            var index = 0
            while index + 8 <= count {
                let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                target.storeBytes(of: word ^ wide, toByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < count {
                let byte = source.load(fromByteOffset: index, as: UInt8.self)
                target.storeBytes(of: byte ^ keyBytes[(index + keyOffset) & 3], toByteOffset: index, as: UInt8.self)
                index += 1
            }
        }
    }
}
