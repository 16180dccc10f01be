#if canImport(Glibc)
import Glibc
#endif

/// Bytes staged for sending during one tick of the loop, written at its end with one writev per
/// connection. A message for many connections (a broadcast) is staged once and linked to each:
/// a delivery costs one 12-byte segment, not a copy.
struct TickOutput {
    struct Segment {
        var offset: UInt32
        var length: UInt32
        var next: Int32
    }

    private(set) var bytes: UnsafeMutableRawPointer
    private var capacity: Int
    private(set) var used = 0
    private(set) var segments: UnsafeMutablePointer<Segment>
    private var segmentCapacity: Int
    private(set) var segmentCount = 0
    /// Connections with segments this tick, in the order they got their first.
    private(set) var dirty: UnsafeMutablePointer<Int32>
    private var dirtyCapacity: Int
    private(set) var dirtyCount = 0

    init() {
        capacity = 256 * 1024
        bytes = .allocate(byteCount: capacity, alignment: 16)
        segmentCapacity = 4096
        segments = .allocate(capacity: segmentCapacity)
        dirtyCapacity = 1024
        dirty = .allocate(capacity: dirtyCapacity)
    }

    func deallocate() {
        bytes.deallocate()
        segments.deallocate()
        dirty.deallocate()
    }

    /// Copies `source` in; returns where it is.
    mutating func stage(_ source: UnsafeRawBufferPointer) -> (offset: UInt32, length: UInt32) {
        if capacity - used < source.count { grow(source.count) }
        if let base = source.baseAddress { (bytes + used).copyMemory(from: base, byteCount: source.count) }
        let offset = UInt32(used)
        used += source.count
        return (offset, UInt32(source.count))
    }

    /// Room for `count` bytes at the end of the staged bytes, written by the caller, then
    /// `commit`ed: to encode a message in place.
    mutating func reserve(_ count: Int) -> UnsafeMutableRawPointer {
        if capacity - used < count { grow(count) }
        return bytes + used
    }

    mutating func commit(_ count: Int) -> (offset: UInt32, length: UInt32) {
        let offset = UInt32(used)
        used += count
        return (offset, UInt32(count))
    }

    private mutating func grow(_ count: Int) {
        var grown = capacity * 2
        while grown - used < count { grown *= 2 }
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        bigger.copyMemory(from: bytes, byteCount: used)
        bytes.deallocate()
        bytes = bigger
        capacity = grown
    }

    /// Appends a segment; returns its index.
    mutating func addSegment(offset: UInt32, length: UInt32) -> Int32 {
        if segmentCount == segmentCapacity {
            let grown = UnsafeMutablePointer<Segment>.allocate(capacity: segmentCapacity * 2)
            grown.moveInitialize(from: segments, count: segmentCount)
            segments.deallocate()
            segments = grown
            segmentCapacity *= 2
        }
        segments[segmentCount] = Segment(offset: offset, length: length, next: -1)
        segmentCount += 1
        return Int32(segmentCount - 1)
    }

    mutating func markDirty(_ fd: Int32) {
        if dirtyCount == dirtyCapacity {
            let grown = UnsafeMutablePointer<Int32>.allocate(capacity: dirtyCapacity * 2)
            grown.moveInitialize(from: dirty, count: dirtyCount)
            dirty.deallocate()
            dirty = grown
            dirtyCapacity *= 2
        }
        dirty[dirtyCount] = fd
        dirtyCount += 1
    }

    /// Forgets the tick's output. Memory beyond the first sizes is given back once a tick
    /// staged little, so one burst does not pin megabytes.
    mutating func reset() {
        if capacity > 4 * 1024 * 1024 && used < 256 * 1024 {
            bytes.deallocate()
            capacity = 256 * 1024
            bytes = .allocate(byteCount: capacity, alignment: 16)
        }
        used = 0
        segmentCount = 0
        dirtyCount = 0
    }
}
