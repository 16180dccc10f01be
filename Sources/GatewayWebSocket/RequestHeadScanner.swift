/// Finds the end of a request head (the empty line) in bytes that arrive a piece at a time.
///
/// The engine offers a connection's unconsumed bytes again with the new ones behind them, so
/// the scanner remembers how far it looked and reads each byte once: a client trickling its
/// request a byte at a time costs linear time, not quadratic. Line-end and control-byte errors
/// are reported as soon as the offending byte arrives.
struct RequestHeadScanner {
    enum Outcome: Equatable {
        case incomplete
        case malformed
        /// The head spans `head` (request line through the empty line's LF); bytes before it
        /// were empty lines, which llhttp skips too.
        case complete(head: Range<Int>)
    }

    /// The request line's first byte, once a byte other than CR or LF arrived.
    private var start: Int?
    private var scanned = 0

    /// `bytes` must begin with the bytes of every earlier call.
    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        var index = scanned
        defer { scanned = index }
        while index < bytes.count {
            let byte = bytes[index]
            guard let start else {
                if byte != HTTPSyntax.cr && byte != HTTPSyntax.lf { self.start = index; continue }
                index += 1
                continue
            }
            if HTTPSyntax.isForbiddenInHead(byte) { return .malformed }
            let afterCR = index > start && bytes[index - 1] == HTTPSyntax.cr
            if byte == HTTPSyntax.lf {
                guard afterCR else { return .malformed }
                // CR LF CR LF: the LF before this line's CR ends the previous line.
                if index - 3 >= start && bytes[index - 2] == HTTPSyntax.lf {
                    index += 1
                    return .complete(head: start..<index)
                }
            } else if afterCR {
                return .malformed
            }
            index += 1
        }
        return .incomplete
    }
}
