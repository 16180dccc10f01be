// text:// and frame:// over raw bytes, as the engine-based gateway will read them:
// TextLineScanner and LengthPrefixedScanner, each read appended to the bytes not consumed and
// offered again, against the SwiftNIO decoders they replace (LineFrameDecoder and
// LengthPrefixedFrameDecoder) fed the same reads by NIOSingleStepByteToMessageProcessor.
//
// Control byte 0: bit 0 frame:// rather than text://; bits 1-7 how the stream is cut into reads:
// 0 one read, 1 one byte per read, else reads of pseudo-random lengths (1 to 2 + seed % 32 bytes)
// drawn from that seed. Control byte 1: the limit, 0-249 itself, 250-255 1 KiB, 64 KiB, 1 MiB,
// 1 GiB, Int.max - 1, Int.max.
//
// Checks, beyond no crash: the same messages, the same first failure (too long or malformed),
// the same bytes left over and, for frame://, the pending size the header gives. On the way:
// a message lies within the bytes offered, a text body fits the limit, holds no "\n" and is
// followed by "\r"s and the "\n" only, a frame body is what its header says and fits the limit,
// a pending size is more than what is there.
import FuzzSupport
import GatewayWire
import NIOCore

@main enum Main {
    static func main() { runLibFuzzer(fuzzStreamScanners) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStreamScanners(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let options = input.byte()
    let limitByte = input.byte()
    let frame = options & 1 != 0
    let limit = limitByte < 250 ? Int(limitByte) : [1 << 10, 1 << 16, 1 << 20, 1 << 30, .max - 1, .max][Int(limitByte) - 250]
    let stream = Array(input.remaining)
    let reads = cut(stream, seed: options >> 1)

    let scanned = scanLikeTheEngine(reads, frame: frame, limit: limit)
    var decoded = frame
        ? decodeWithSwiftNIO(reads, LengthPrefixedFrameDecoder(maximumBodyLength: limit))
        : decodeWithSwiftNIO(reads, LineFrameDecoder(maximumLineLength: limit))
    // SwiftNIO does not say; it is the length in the header of the bytes left, if they hold one.
    let left = stream.suffix(decoded.leftover)
    if frame, left.count >= 4 {
        decoded.pendingSize = left.prefix(4).reduce(0) { $0 << 8 | Int($1) }
    }
    precondition(scanned == decoded, "scanner and SwiftNIO differ:\n\(scanned)\n\(decoded)")
    return 0
}

/// What a stream came to.
private struct Outcome: Equatable {
    var messages: [[UInt8]] = []
    var failure: StreamScanResult?
    var leftover = 0
    var pendingSize = 0
}

private func cut(_ stream: [UInt8], seed: UInt8) -> [ArraySlice<UInt8>] {
    switch seed {
    case 0: return [stream[...]]
    case 1: return stream.indices.map { stream[$0...$0] }
    default:
        var state = UInt32(seed) << 8 | 1  // xorshift32 needs a nonzero state
        let longest = 2 + UInt32(seed % 32)
        var reads: [ArraySlice<UInt8>] = []
        var start = 0
        while start < stream.count {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            let end = min(stream.count, start + 1 + Int(state % longest))
            reads.append(stream[start..<end])
            start = end
        }
        return reads
    }
}

private func scanLikeTheEngine(_ reads: [ArraySlice<UInt8>], frame: Bool, limit: Int) -> Outcome {
    var lines = TextLineScanner(maximumLineLength: limit)
    var frames = LengthPrefixedScanner(maximumBodyLength: limit)
    var outcome = Outcome()
    var held: [UInt8] = []
    for read in reads {
        held += read
        // How much of `held` the scanner consumed before it asked for more; nil once it failed.
        let consumedInAll: Int? = held.withUnsafeBytes { all in
            var start = 0
            while true {
                let bytes = UnsafeRawBufferPointer(rebasing: all[start...])
                let result = frame ? frames.scan(bytes) : lines.scan(bytes)
                switch result {
                case .message(let body, let consumed):
                    precondition(body.lowerBound >= 0 && body.upperBound <= consumed && consumed <= bytes.count, "\(result) outside \(bytes.count) bytes")
                    if frame {
                        checkFrame(bytes, body: body, consumed: consumed, limit: limit)
                    } else {
                        checkLine(bytes, body: body, consumed: consumed, limit: limit)
                    }
                    outcome.messages.append(Array(bytes[body]))
                    start += consumed
                case .needMoreBytes(let size):
                    precondition(size == 0 || size > bytes.count, "a pending size of \(size) with \(bytes.count) bytes there")
                    precondition(frame || size == 0, "a text line with a pending size")
                    outcome.pendingSize = size
                    return start
                case .tooLong, .malformed:
                    precondition(frame || result == .tooLong, "a text stream malformed")
                    outcome.failure = result
                    outcome.pendingSize = 0
                    return nil
                }
            }
        }
        guard let consumedInAll else { return outcome }
        held.removeFirst(consumedInAll)
    }
    outcome.leftover = held.count
    return outcome
}

private func checkLine(_ bytes: UnsafeRawBufferPointer, body: Range<Int>, consumed: Int, limit: Int) {
    precondition(body.lowerBound == 0 && body.count <= limit, "line \(body) over the limit \(limit)")
    precondition(!bytes[body].contains(UInt8(ascii: "\n")) && bytes[body].last != UInt8(ascii: "\r"), "line holds a newline or ends in CR")
    precondition(bytes[consumed - 1] == UInt8(ascii: "\n"), "line consumed past its newline")
    precondition(bytes[body.upperBound..<(consumed - 1)].allSatisfy { $0 == UInt8(ascii: "\r") }, "line cut before its end")
}

private func checkFrame(_ bytes: UnsafeRawBufferPointer, body: Range<Int>, consumed: Int, limit: Int) {
    let total = Int(UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self)))
    precondition(body == 4..<total && consumed == total && body.count <= limit, "frame \(body) of length \(total)")
}

/// The stream through SwiftNIO's own driver for single-step decoders.
private func decodeWithSwiftNIO<Decoder: NIOSingleStepByteToMessageDecoder>(
    _ reads: [ArraySlice<UInt8>], _ decoder: Decoder
) -> Outcome where Decoder.InboundOut == ByteBuffer {
    let processor = NIOSingleStepByteToMessageProcessor(decoder)
    var outcome = Outcome()
    do {
        for read in reads {
            try processor.process(buffer: ByteBuffer(bytes: read)) { outcome.messages.append(Array($0.readableBytesView)) }
        }
    } catch is LineTooLongError {
        outcome.failure = .tooLong
    } catch LengthPrefixedFrameError.tooLong {
        outcome.failure = .tooLong
    } catch LengthPrefixedFrameError.lengthBelowHeader {
        outcome.failure = .malformed
    } catch {
        preconditionFailure("unexpected \(error)")
    }
    if outcome.failure == nil { outcome.leftover = processor.unprocessedBytes }
    return outcome
}
