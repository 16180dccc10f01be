import GatewayCompression
import NIOCore
import NIOPosix
import NIOWebSocket

/// `--deflate`: gwload offers permessage-deflate, sends its messages compressed (as browsers
/// do) and inflates what arrives compressed, with gatewayd's own zlib wrappers, one deflater and
/// one inflater per event loop (the server agreed to no context takeover, so any message
/// stands alone).
enum PermessageDeflateClient {
    static let offer = "permessage-deflate; client_max_window_bits"

    // Each thread only ever sees its own value: nothing is shared across threads.
    nonisolated(unsafe) private static let deflaters = ThreadSpecificVariable<MessageDeflater>()
    nonisolated(unsafe) private static let inflaters = ThreadSpecificVariable<MessageInflater>()

    /// `payload` compressed, for a frame with RSV1 (on the calling event loop's deflater).
    static func compress(_ payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let deflater = deflaters.currentValue ?? {
            let created = MessageDeflater(level: 1)
            deflaters.currentValue = created
            return created
        }()
        return payload.withUnsafeReadableBytes { bytes in
            let compressed = deflater.compress(bytes, windowBits: 15)
            var buffer = allocator.buffer(capacity: compressed.count)
            buffer.writeBytes(compressed)
            return buffer
        }
    }

    /// The message a frame carries: inflated when it has RSV1, nil when that fails.
    static func message(of frame: WebSocketFrame, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard frame.rsv1 else { return frame.data }
        let inflater = inflaters.currentValue ?? {
            let created = MessageInflater(maximumMessageBytes: 16 << 20)
            inflaters.currentValue = created
            return created
        }()
        return frame.data.withUnsafeReadableBytes { bytes -> ByteBuffer? in
            guard case .inflated(let message) = inflater.inflate(bytes) else { return nil }
            var buffer = allocator.buffer(capacity: message.count)
            buffer.writeBytes(message)
            return buffer
        }
    }

    /// Bytes of `frame` on the wire as the server sent it (unmasked): header and payload.
    static func wireBytes(of frame: WebSocketFrame) -> Int {
        let length = frame.data.readableBytes
        return length + (length < 126 ? 2 : length <= 0xFFFF ? 4 : 10)
    }
}
