import GatewayIOEngine
import NIOCore

/// The engine gateway's `HubTransport.Payload`s: bytes the hub encoded (or handed over) during
/// one loop iteration, forgotten at its end.
///
/// The hub encodes into a `ByteBuffer` (its frame writers are ByteBuffer code shared with the
/// SwiftNIO path); the bytes land in one buffer kept across iterations, so encoding allocates
/// nothing once it has grown. The first write of a payload to a client copies it into the
/// engine's output; every later client of the same payload (a broadcast) gets a link to that
/// copy, not another one. Writes to worker links copy into the link's write buffer.
public struct TickPayloads {
    public struct Payload {
        fileprivate let index: Int
    }

    private struct Entry {
        var offset: Int
        var length: Int
        /// Bytes the hub already had (a raw message, a reply): not copied into `bytes`.
        var external: ByteBuffer?
        /// Where the engine keeps its copy, once one client was sent it.
        var staged: ClientEngine.Staged?
    }

    private var bytes: ByteBuffer
    private var entries: [Entry] = []
    /// Past this capacity a quiet iteration gives the buffer back, so one 16 MiB broadcast does
    /// not pin 16 MiB for the life of the process.
    private static let retainedCapacity = 4 << 20

    init() {
        bytes = ByteBufferAllocator().buffer(capacity: 256 << 10)
        entries.reserveCapacity(1024)
    }

    /// Encodes at most `size` bytes; nil (and nothing kept) when `encode` refuses.
    mutating func encode(size: Int, _ encode: (inout ByteBuffer) -> Bool) -> Payload? {
        let start = bytes.writerIndex
        bytes.reserveCapacity(minimumWritableBytes: size)
        guard encode(&bytes) else {
            bytes.moveWriterIndex(to: start)
            return nil
        }
        entries.append(Entry(offset: start, length: bytes.writerIndex - start))
        return Payload(index: entries.count - 1)
    }

    mutating func add(_ external: ByteBuffer) -> Payload {
        entries.append(Entry(offset: external.readerIndex, length: external.readableBytes, external: external))
        return Payload(index: entries.count - 1)
    }

    /// Calls `body` with the payload's bytes.
    func withBytes<Result>(_ payload: Payload, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let entry = entries[payload.index]
        let source = entry.external ?? bytes
        return source.withUnsafeReadableBytes { readable in
            let start = entry.offset - source.readerIndex
            return body(UnsafeRawBufferPointer(rebasing: readable[start..<start + entry.length]))
        }
    }

    /// The engine's copy of the payload, made by the first call of the iteration.
    mutating func staged(_ payload: Payload, in engine: ClientEngine) -> ClientEngine.Staged {
        if let staged = entries[payload.index].staged { return staged }
        let staged = withBytes(payload) { engine.stage($0) }
        entries[payload.index].staged = staged
        return staged
    }

    func detached(_ payload: Payload) -> ByteBuffer {
        withBytes(payload) { ByteBuffer(bytes: $0) }
    }

    /// Forgets this iteration's payloads; called once their bytes were copied where they go.
    mutating func reset() {
        entries.removeAll(keepingCapacity: true)
        if bytes.capacity > Self.retainedCapacity && bytes.writerIndex < Self.retainedCapacity / 16 {
            bytes = ByteBufferAllocator().buffer(capacity: 256 << 10)
        } else {
            bytes.clear()
        }
    }
}
