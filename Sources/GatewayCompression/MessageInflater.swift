import CZlib

#if canImport(Glibc)
import Glibc
#endif

/// Inflates whole permessage-deflate messages sent without context takeover (the gateway
/// always asks for `client_no_context_takeover`): one zlib stream for the whole process, reset
/// before each message, and one output buffer that grows up to the message limit and no
/// further, so a message that would inflate past the limit is refused once the limit is
/// reached, whatever its compressed size promises (a "zip bomb" costs at most the limit).
///
/// Loop thread only.
public final class MessageInflater {
    public enum Result {
        /// The message, valid until the next call.
        case inflated(UnsafeRawBufferPointer)
        /// More than `maximumMessageBytes` (close with 1009).
        case tooLarge
        /// Not a deflate stream (close with 1007).
        case invalid
    }

    public let maximumMessageBytes: Int
    private let stream: UnsafeMutablePointer<z_stream>
    private var output: UnsafeMutableRawPointer?
    private var outputCapacity = 0
    private static let initialCapacity = 16 * 1024
    /// RFC 7692 §7.2.2: the sender removed it; the receiver puts it back.
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    public init(maximumMessageBytes: Int) {
        precondition(maximumMessageBytes >= 0, "negative message limit")
        self.maximumMessageBytes = maximumMessageBytes
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15: the largest window inflates any smaller one's stream.
        let status = gwd_inflate_init_raw(stream, 15)
        precondition(status == Z_OK, "inflateInit2 failed (\(status))")
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        free(output)
    }

    public func inflate(_ compressed: UnsafeRawBufferPointer) -> Result {
        inflateReset(stream)
        defer { stream.pointee.next_in = nil }
        // One byte past the limit: producing it proves the message is too large.
        let limit = maximumMessageBytes + 1
        var produced = 0
        var fedTail = false
        stream.pointee.next_in = UnsafeMutablePointer(mutating: compressed.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(compressed.count)
        return Self.tail.withUnsafeBufferPointer { tail in
            while true {
                if produced == outputCapacity {
                    guard outputCapacity < limit else { return .tooLarge }
                    grow(toAtMost: limit)
                }
                stream.pointee.next_out = (output! + produced).assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(outputCapacity - produced)
                let status = CZlib.inflate(stream, Z_SYNC_FLUSH)
                produced = outputCapacity - Int(stream.pointee.avail_out)
                switch status {
                case Z_STREAM_END:
                    // A final block (allowed); whatever follows it is ignored.
                    return produced > maximumMessageBytes ? .tooLarge : .inflated(UnsafeRawBufferPointer(start: output, count: produced))
                case Z_OK, Z_BUF_ERROR:
                    if produced > maximumMessageBytes { return .tooLarge }
                    if stream.pointee.avail_out == 0 { continue }  // more room, then go on
                    guard stream.pointee.avail_in == 0 else { return .invalid }  // stuck with input and room
                    guard fedTail else {
                        fedTail = true
                        stream.pointee.next_in = UnsafeMutablePointer(mutating: tail.baseAddress!)
                        stream.pointee.avail_in = uInt(tail.count)
                        continue
                    }
                    return .inflated(UnsafeRawBufferPointer(start: output, count: produced))
                default:
                    return .invalid  // Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR
                }
            }
        }
    }

    /// The output buffer's size (tests: it never passes the limit).
    var outputCapacityForTesting: Int { outputCapacity }

    private func grow(toAtMost limit: Int) {
        let capacity = min(max(outputCapacity * 2, Self.initialCapacity), limit)
        guard let grown = realloc(output, capacity) else { fatalError("out of memory inflating a \(capacity)-byte message") }
        output = grown
        outputCapacity = capacity
    }
}
