#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The unmasked bytes of a fragmented message so far, in one block allocated at its first
/// byte and freed once the message is delivered: an idle connection holds one nil pointer.
/// The block starts with its byte count and capacity, so the decoder stays small.
///
/// Not an owner: `WebSocketFrameDecoder` (non-copyable) frees it.
struct FragmentBuffer {
    private var block: UnsafeMutableRawPointer?
    private static let headerSize = 2 * MemoryLayout<Int>.stride
    /// The first block's size, so that short fragments do not reallocate at every one.
    private static let minimumCapacity = 4096

    var count: Int { block?.load(as: Int.self) ?? 0 }
    private var capacity: Int { block?.load(fromByteOffset: MemoryLayout<Int>.stride, as: Int.self) ?? 0 }

    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: block.map { $0 + Self.headerSize }, count: count)
    }

    /// Appends `count` masked bytes from `source`, unmasked on the way. The caller has checked
    /// that the message stays within `limit`, which also caps the block's growth.
    mutating func appendUnmasking(_ source: UnsafeRawPointer, count added: Int, wideKey: UInt64, limit: Int) {
        guard added > 0 else { return }
        let total = count + added
        if total > capacity { grow(toHold: total, limit: limit) }
        let block = block!
        PayloadMasking.unmask(source, into: block + Self.headerSize + count, count: added, wideKey: wideKey)
        block.storeBytes(of: total, as: Int.self)
    }

    private mutating func grow(toHold needed: Int, limit: Int) {
        let newCapacity = max(needed, min(max(capacity * 2, Self.minimumCapacity), limit))
        guard let grown = realloc(block, Self.headerSize + newCapacity) else {
            fatalError("out of memory reassembling a \(needed)-byte WebSocket message")
        }
        if block == nil { grown.storeBytes(of: 0, as: Int.self) }
        grown.storeBytes(of: newCapacity, toByteOffset: MemoryLayout<Int>.stride, as: Int.self)
        block = grown
    }

    mutating func release() {
        deallocate()
        block = nil
    }

    /// Frees the block, leaving this value dangling: for the owner's deinit only.
    func deallocate() {
        free(block)
    }
}
