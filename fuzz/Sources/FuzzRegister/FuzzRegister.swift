// The register protocol and Workerman's text:// protocol: "\n"-terminated lines split by
// LineFrameDecoder (input in 1-3 reads), each line then read by RegisterMessage.parse.
//
// Checks: every line is at most the limit, holds no "\n" and ends in no "\r"; the lines
// plus the bytes left over account for every input byte up to the last "\n"; and a message
// that parses re-encodes (encodedLine) to a line that parses to the same message, unless it
// carries a secret or address with `"` or `\` (PHP pastes those in unescaped, so do we).
import FuzzSupport
import GatewayWire
import NIOCore

@main enum Main {
    static func main() { runLibFuzzer(fuzzRegister) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegister(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    // Mostly the register's 64 KiB limit; sometimes a tiny one so the too-long path is hit.
    let limits = [64 * 1024, 16, 1, 0]
    let limit = limits[Int(input.byte() % 4)]
    var decoder = LineFrameDecoder(maximumLineLength: limit)
    var stream = ByteBuffer()
    var failed = false
    for var read in input.reads() where !failed {
        stream.writeBuffer(&read)
        do {
            while let line = try decoder.decode(buffer: &stream) {
                check(line, limit: limit)
            }
        } catch {
            failed = true  // LineTooLongError: the connection would be closed here
        }
    }
    if !failed {
        while let line = try? decoder.decodeLast(buffer: &stream, seenEOF: true) { check(line, limit: limit) }
        precondition(stream.readableBytes == 0, "decodeLast at EOF left bytes behind")
    }
    return 0
}

private func check(_ line: ByteBuffer, limit: Int) {
    let bytes = line.readableBytesView
    precondition(bytes.count <= limit, "line longer than the limit")
    precondition(!bytes.contains(UInt8(ascii: "\n")), "line holds a newline")
    precondition(bytes.last != UInt8(ascii: "\r"), "line ends in a carriage return")

    guard let message = try? RegisterMessage.parse(bytes) else { return }
    let encoded = message.encodedLine()
    precondition(encoded.last == UInt8(ascii: "\n"), "encoded line has no newline")
    switch message {
    case .gatewayConnect(let a, let s) where needsEscaping(a) || needsEscaping(s): return
    case .workerConnect(let s) where needsEscaping(s): return
    default: break
    }
    let again = try? RegisterMessage.parse(encoded.dropLast())
    precondition(again == message, "register message changed in a round trip: \(message) -> \(String(describing: again))")
}

/// Whether pasting `text` into a JSON string literal unescaped would change or break it.
private func needsEscaping(_ text: String) -> Bool {
    text.utf8.contains { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }
}
