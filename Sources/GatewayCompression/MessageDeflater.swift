import CZlib

#if canImport(Glibc)
import Glibc
#endif

/// Compresses whole messages for permessage-deflate without context takeover: zlib streams
/// shared by the whole process (reset before each message), not one per connection, and the
/// output in one scratch buffer reused by every call.
///
/// Two streams per window size: resetting a stream clears its hash table, 64 KiB at zlib's
/// default memLevel 8, which cost more than deflating a short message did (echo of 64 B: 2× the
/// gateway's CPU per message with compression, bench/compression). Messages up to
/// `smallMessageBytes` go through a stream with memLevel 2 (a 1 KiB table; the same output for
/// such messages), longer ones through memLevel 8, whose larger buffers compress them better.
///
/// Loop thread only.
public final class MessageDeflater {
    public let level: Int32
    public static let smallMessageBytes = 4096
    /// Streams by window bits (index 0 is 8, 7 is 15), small ones first, created on first use.
    private var streams: [UnsafeMutablePointer<z_stream>?] = Array(repeating: nil, count: 16)
    private var output: UnsafeMutableRawPointer
    private var outputCapacity: Int

    /// - Parameter level: zlib's 1 (fastest) ... 9 (smallest).
    public init(level: Int) {
        precondition((1...9).contains(level), "deflate level \(level) is not 1...9")
        self.level = Int32(level)
        outputCapacity = 64 * 1024
        output = .allocate(byteCount: outputCapacity, alignment: 16)
    }

    deinit {
        for case let stream? in streams {
            deflateEnd(stream)
            stream.deallocate()
        }
        output.deallocate()
    }

    /// `payload` compressed as one permessage-deflate message for a peer that agreed to
    /// `windowBits` (8...15): a raw deflate stream ending in a sync flush whose final
    /// 00 00 FF FF is removed (RFC 7692 §7.2.1). Valid until the next call.
    public func compress(_ payload: UnsafeRawBufferPointer, windowBits: UInt8) -> UnsafeRawBufferPointer {
        let stream = self.stream(windowBits: windowBits, small: payload.count <= Self.smallMessageBytes)
        deflateReset(stream)
        // deflateBound covers the data; a sync flush adds at most an empty stored block (5
        // bytes) and the bits that complete a byte.
        let bound = Int(deflateBound(stream, UInt(payload.count))) + 16
        if bound > outputCapacity {
            output.deallocate()
            outputCapacity = max(bound, outputCapacity * 2)
            output = .allocate(byteCount: outputCapacity, alignment: 16)
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: payload.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(payload.count)
        stream.pointee.next_out = output.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(outputCapacity)
        let status = deflate(stream, Z_SYNC_FLUSH)
        precondition(status == Z_OK && stream.pointee.avail_in == 0, "deflate failed (\(status)) within its bound")
        var produced = outputCapacity - Int(stream.pointee.avail_out)
        // The sync flush ends with an empty stored block, 00 00 FF FF once aligned.
        if produced >= 4, output.loadUnaligned(fromByteOffset: produced - 4, as: UInt32.self) == UInt32(bigEndian: 0x0000_FFFF) {
            produced -= 4
        }
        stream.pointee.next_in = nil
        return UnsafeRawBufferPointer(start: output, count: produced)
    }

    private func stream(windowBits: UInt8, small: Bool) -> UnsafeMutablePointer<z_stream> {
        precondition((8...15).contains(windowBits), "window bits \(windowBits) outside 8...15")
        let index = Int(windowBits) - 8 + (small ? 0 : 8)
        if let stream = streams[index] { return stream }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let memoryLevel: Int32 = small ? 2 : 8
        // zlib's raw deflate has no 256-byte window (8 is refused). For a peer that asked for
        // one, Z_RLE only ever refers one byte back, which fits any window.
        let status =
            windowBits == 8
            ? gwd_deflate_init_raw(stream, level, 9, memoryLevel, Z_RLE)
            : gwd_deflate_init_raw(stream, level, Int32(windowBits), memoryLevel, Z_DEFAULT_STRATEGY)
        precondition(status == Z_OK, "deflateInit2 failed (\(status))")
        streams[index] = stream
        return stream
    }
}
