/// frame:// — u32 big-endian total length (4 header bytes included), then the body.
///
/// `LengthPrefixedFrameDecoder`'s rules over the raw bytes the engine holds: a length below 4 is
/// malformed, and a body over the limit is refused as soon as the header is in, before any of it
/// is held. Everything it needs is in the header, so it keeps no state between calls.
public struct LengthPrefixedScanner {
    public let maximumBodyLength: Int

    public init(maximumBodyLength: Int) {
        self.maximumBodyLength = maximumBodyLength
    }

    public mutating func scan(_ bytes: UnsafeRawBufferPointer) -> StreamScanResult {
        guard bytes.count >= 4 else { return .needMoreBytes(messageSize: 0) }
        // A u32 always fits the 64-bit Int the gateway runs with.
        let total = Int(UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self)))
        guard total >= 4 else { return .malformed }
        guard total - 4 <= maximumBodyLength else { return .tooLong }
        guard bytes.count >= total else { return .needMoreBytes(messageSize: total) }
        return .message(body: 4..<total, consumed: total)
    }
}
