/// RFC 6455 §5.3 masking, a machine word at a time.
enum PayloadMasking {
    /// The 4-byte masking key repeated over 8 bytes in memory order: XOR-ing whole words with
    /// it is then byte-exact whatever the machine's endianness.
    static func wideKey(_ keyBytes: UnsafeRawPointer) -> UInt64 {
        var wide: UInt64 = 0
        withUnsafeMutableBytes(of: &wide) { word in
            word.copyMemory(from: UnsafeRawBufferPointer(start: keyBytes, count: 4))
            (word.baseAddress! + 4).copyMemory(from: keyBytes, byteCount: 4)
        }
        return wide
    }

    /// Writes `count` bytes of `source` XOR the key to `target`. `target` may be `source`
    /// (unmasking in place); otherwise the two must not overlap. The payload starts at key byte 0.
    static func unmask(_ source: UnsafeRawPointer, into target: UnsafeMutableRawPointer, count: Int, wideKey: UInt64) {
        var index = 0
        while index + 8 <= count {
            let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            target.storeBytes(of: word ^ wideKey, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        guard index < count else { return }
        withUnsafeBytes(of: wideKey) { key in
            while index < count {
                let byte = source.load(fromByteOffset: index, as: UInt8.self)
                target.storeBytes(of: byte ^ key[index & 3], toByteOffset: index, as: UInt8.self)
                index += 1
            }
        }
    }
}
