import NIOCore

extension ByteBuffer {
    /// Appends `bytes` (nothing for none). NIO's own `writeBytes` and `writeImmutableBuffer` run
    /// in NIOCore, which is built with dynamic exclusivity checks, and do the work even for zero
    /// bytes: ≈ 160 and 340 instructions per call on the gateway's message path (callgrind). These
    /// are inlined into the caller and built with its settings (the message path's are unchecked,
    /// Package.swift).
    @inlinable @inline(__always)
    public mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        writeWithUnsafeMutableBytes(minimumWritableBytes: bytes.count) { target in
            target.baseAddress!.copyMemory(from: source, byteCount: bytes.count)
            return bytes.count
        }
    }

    /// Appends `other`'s readable bytes; see `appendBytes(_:)`.
    @inlinable @inline(__always)
    public mutating func appendBytes(of other: ByteBuffer) {
        guard other.readableBytes > 0 else { return }
        other.withUnsafeReadableBytes { appendBytes($0) }
    }
}
