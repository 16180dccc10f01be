import NIOCore

/// Carries the start of an incomplete frame from one read to the next, for handlers that parse
/// frames out of the byte stream themselves.
///
/// A frame that ends inside a read is copied into a buffer of its own rather than kept as a
/// slice: a slice would pin NIO's whole receive buffer until the rest arrives.
public struct FrameReassembly {
    public init() {}

    private var partial: ByteBuffer?

    /// Calls `consume` with this read's bytes behind any carried-over ones; `consume` takes
    /// whole frames and leaves the rest. Keeps the rest for the next read unless `consume`
    /// returned false (the connection is being closed: whatever is left is dropped).
    public mutating func read(_ input: ByteBuffer, allocator: ByteBufferAllocator, _ consume: (inout ByteBuffer) -> Bool) {
        var input = input
        if var carried = partial {
            partial = nil  // `carried` is then the only reference: appending does not copy it
            carried.writeBuffer(&input)
            guard consume(&carried), carried.readableBytes > 0 else { return }
            carried.discardReadBytes()
            partial = carried
        } else {
            guard consume(&input), input.readableBytes > 0 else { return }
            partial = allocator.buffer(buffer: input)
        }
    }
}
