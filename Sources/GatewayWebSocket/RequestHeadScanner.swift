/// Checks a request head's syntax byte by byte as it arrives and finds its end (the empty line).
///
/// The engine offers a connection's unconsumed bytes again with the new ones behind them, so
/// the scanner keeps its place and reads each byte once: a client trickling its request a byte
/// at a time costs linear time, not quadratic. Like llhttp, it refuses a head at its first byte
/// that cannot belong there (a TLS hello at its first byte, a bad header name at its bad
/// character), instead of waiting for the rest of it.
///
/// Syntax (RFC 9112 as llhttp applies it in strict mode): any empty lines first, then
/// `method SP+ target SP+ HTTP/d.d CRLF` (or HTTP/0.9's `method SP+ target CRLF`, or LF), the method
/// a token, the target visible ASCII starting with `/`, `*` or a scheme letter; then `name ":" value CRLF` lines, names tokens and values
/// tabs, spaces, visible ASCII and obs-text; then CRLF. No other bare CR or LF, no obs-fold.
struct RequestHeadScanner {
    enum Outcome: Equatable {
        case incomplete
        case malformed
        /// The head spans `head` (request line through the empty line's LF); bytes before it
        /// were empty lines.
        case complete(head: Range<Int>)
    }

    private enum State {
        case beforeRequestLine
        case method
        case spacesBeforeTarget
        /// An absolute-form target's scheme (letters), then `matched` bytes of its "://".
        case scheme
        case schemeSeparator(matched: Int)
        case target
        case spacesBeforeVersion
        /// `matched` bytes of "HTTP/d.d" so far.
        case version(matched: Int)
        /// A line's content is over: CR, then LF.
        case lineEndCR
        case lineEndLF
        case lineStart
        case headerName
        case headerValue
        /// The empty line's CR came: its LF ends the head.
        case emptyLineLF
        case done
    }

    private var state = State.beforeRequestLine
    private var start = 0
    private var scanned = 0

    /// `bytes` must begin with the bytes of every earlier call.
    mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        while scanned < bytes.count {
            guard let next = Self.transition(from: state, on: bytes[scanned]) else { return .malformed }
            if case .beforeRequestLine = state, case .method = next { start = scanned }
            scanned += 1
            state = next
            if case .done = next { return .complete(head: start..<scanned) }
        }
        return .incomplete
    }

    /// The state after `byte`; nil when `byte` cannot come next.
    private static func transition(from state: State, on byte: UInt8) -> State? {
        let space = UInt8(ascii: " ")
        switch state {
        case .beforeRequestLine:
            if byte == HTTPSyntax.cr || byte == HTTPSyntax.lf { return .beforeRequestLine }
            return HTTPSyntax.isTokenByte(byte) ? .method : nil
        case .method:
            if byte == space { return .spacesBeforeTarget }
            return HTTPSyntax.isTokenByte(byte) ? .method : nil
        case .spacesBeforeTarget:
            if byte == space { return .spacesBeforeTarget }
            if HTTPSyntax.isLetter(byte) { return .scheme }
            return byte == UInt8(ascii: "/") || byte == UInt8(ascii: "*") ? .target : nil
        case .scheme:
            if byte == UInt8(ascii: ":") { return .schemeSeparator(matched: 1) }
            return HTTPSyntax.isLetter(byte) ? .scheme : nil
        case .schemeSeparator(let matched):
            guard byte == UInt8(ascii: "/") else { return nil }
            return matched == 2 ? .target : .schemeSeparator(matched: 2)
        case .target:
            if byte == space { return .spacesBeforeVersion }
            // No version: llhttp reads on as HTTP/0.9 (a bare LF ending the line too), and the
            // head is refused once it ends.
            if byte == HTTPSyntax.cr { return .lineEndLF }
            if byte == HTTPSyntax.lf { return .lineStart }
            return HTTPSyntax.isRequestTargetByte(byte) ? .target : nil
        case .spacesBeforeVersion:
            if byte == space { return .spacesBeforeVersion }
            return HTTPSyntax.isVersionByte(byte, at: 0) ? .version(matched: 1) : nil
        case .version(let matched):
            guard HTTPSyntax.isVersionByte(byte, at: matched) else { return nil }
            return matched + 1 == HTTPSyntax.versionLength ? .lineEndCR : .version(matched: matched + 1)
        case .lineEndCR:
            return byte == HTTPSyntax.cr ? .lineEndLF : nil
        case .lineEndLF:
            return byte == HTTPSyntax.lf ? .lineStart : nil
        case .lineStart:
            if byte == HTTPSyntax.cr { return .emptyLineLF }
            return HTTPSyntax.isTokenByte(byte) ? .headerName : nil
        case .headerName:
            if byte == UInt8(ascii: ":") { return .headerValue }
            return HTTPSyntax.isTokenByte(byte) ? .headerName : nil
        case .headerValue:
            if byte == HTTPSyntax.cr { return .lineEndLF }
            return HTTPSyntax.isFieldValueByte(byte) ? .headerValue : nil
        case .emptyLineLF:
            return byte == HTTPSyntax.lf ? .done : nil
        case .done:
            return nil
        }
    }
}
