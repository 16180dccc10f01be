#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The decoder's byte arena: decoded strings and raw JSON, each NUL-terminated. Grows with
/// `realloc` (so offsets stay valid; pointers are made from offsets once a message is done).
struct EventArena {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    /// Bytes in use.
    var used = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        self.base = Self.allocate(self.capacity)
    }

    /// Forgets every byte and makes room for `needed`. Reallocates only when the arena is too
    /// small (to `needed`, rounded up to 64 KiB), or when an earlier message left it larger
    /// than `retained` and this one fits in `retained` (back to `steady`, or what `needed`
    /// takes). Content is not kept, so this is free and malloc, not realloc.
    mutating func reset(needed: Int, steady: Int, retained: Int) {
        self.used = 0
        let target: Int
        if self.capacity < needed {
            target = (needed + 0xFFFF) & ~0xFFFF
        } else if self.capacity > retained, needed <= retained {
            target = needed <= steady ? steady : (needed + 0xFFFF) & ~0xFFFF
        } else {
            return
        }
        free(self.base)
        self.capacity = target
        self.base = Self.allocate(target)
    }

    /// Makes room for `extra` more bytes after `used`, keeping the contents.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if self.capacity - self.used < extra { self.grow(extra) }
    }

    private mutating func grow(_ extra: Int) {
        let target = max(self.used + extra, 2 * self.capacity)
        guard let grown = realloc(self.base, target) else { fatalError("EventDecoder: out of memory (\(target) bytes)") }
        self.base = grown.assumingMemoryBound(to: UInt8.self)
        self.capacity = target
    }

    /// Appends `count` bytes (room reserved by the caller).
    @inline(__always)
    mutating func append(_ bytes: UnsafePointer<UInt8>, _ count: Int) {
        (self.base + self.used).update(from: bytes, count: count)
        self.used += count
    }

    /// Appends one byte (room reserved by the caller).
    @inline(__always)
    mutating func append(_ byte: UInt8) {
        self.base[self.used] = byte
        self.used += 1
    }

    func deallocate() {
        free(self.base)
    }

    private static func allocate(_ capacity: Int) -> UnsafeMutablePointer<UInt8> {
        guard let memory = malloc(capacity) else { fatalError("EventDecoder: out of memory (\(capacity) bytes)") }
        return memory.assumingMemoryBound(to: UInt8.self)
    }
}

/// Numbers as strtod reads them in the C locale, whatever locale a plugin set.
enum EventNumberParsing {
    nonisolated(unsafe) private static let cLocale = newlocale(LC_NUMERIC_MASK, "C", nil)

    /// `text` is a NUL-terminated JSON number.
    static func strtodC(_ text: UnsafePointer<CChar>) -> Double {
        let previous = uselocale(Self.cLocale)
        let value = strtod(text, nil)
        _ = uselocale(previous)
        return value
    }

    /// 10^`exponent` for 0 ... 22, the powers of ten a double holds exactly. A tuple, not a
    /// global array: no lazy initialisation or reference count on the per-number path.
    @inline(__always)
    static func exactPowerOfTen(_ exponent: Int) -> Double {
        withUnsafeBytes(of: Self.exactPowersOfTen) { $0.load(fromByteOffset: exponent * 8, as: Double.self) }
    }

    private static let exactPowersOfTen:
        (Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double,
         Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double) = (
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
            1e20, 1e21, 1e22
        )
}
