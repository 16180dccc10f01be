import NIOCore

/// The bytes libFuzzer hands a target, read front to back: first a few control bytes that
/// choose options (limits, which decoder, where to split), then the payload.
///
/// Reading past the end yields zero control bytes, so every input is valid and the seeds
/// can be written by hand: `[controls...] + payload`.
public struct FuzzInput {
    private var rest: UnsafeRawBufferPointer

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        rest = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    }

    /// The next control byte, or 0 once the input is used up.
    public mutating func byte() -> UInt8 {
        guard let first = rest.first else { return 0 }
        rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst())
        return first
    }

    /// Everything not yet read.
    public var remaining: UnsafeRawBufferPointer { rest }

    /// Reads two control bytes, then returns the rest as 1–3 reads, the way a socket could
    /// deliver it: the first control byte says how many, the second where they split.
    public mutating func reads() -> [ByteBuffer] {
        let count = Int(byte() % 3) + 1
        let split = Int(byte())
        let payload = rest
        rest = UnsafeRawBufferPointer(start: nil, count: 0)
        return Self.split(payload, into: count, at: split).map { ByteBuffer(bytes: $0) }
    }

    /// `bytes` cut into `count` contiguous pieces (some may be empty); `split` places the cuts.
    public static func split(_ bytes: UnsafeRawBufferPointer, into count: Int, at split: Int) -> [UnsafeRawBufferPointer] {
        guard count > 1, bytes.count > 1 else { return [bytes] }
        var cuts = [bytes.count * (split & 0x0F) / 16, bytes.count * (split >> 4) / 16].prefix(count - 1).sorted()
        cuts.append(bytes.count)
        var pieces: [UnsafeRawBufferPointer] = []
        var start = 0
        for end in cuts {
            pieces.append(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            start = end
        }
        return pieces
    }
}
