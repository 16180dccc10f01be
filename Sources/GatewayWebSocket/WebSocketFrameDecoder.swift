/// Decodes the frames a WebSocket client sends, in place, from the bytes the engine hands over,
/// with the rules the SwiftNIO connection handler enforced: frames masked, reserved bits clear,
/// known opcodes, control frames final and at most 125 bytes, continuations only inside a
/// fragmented message and no new message inside one, messages at most `maximumMessageBytes`
/// (1009), text valid UTF-8 once the message is whole (1007), close codes and reasons valid.
///
/// Each call reports the first event in the bytes and how many bytes it consumed; call again
/// with the rest until `.needMoreBytes`. A whole frame is unmasked where it lies and consumed;
/// a frame cut off by the end of the bytes is left untouched for the next call. Fragments are
/// absorbed into a buffer of the decoder's own, allocated at a fragmented message's first byte
/// and freed after it is delivered. One frame, one message: no allocation.
///
/// A frame is judged as soon as its header is in: a frame that breaks a rule fails the
/// connection without waiting for its payload (the SwiftNIO handler waited for the whole frame;
/// the close code is the same, and the rules are checked in the same order).
public struct WebSocketFrameDecoder: ~Copyable {
    // 24 bytes in all, in this order: the gateway keeps one per connection.
    public let maximumMessageBytes: Int
    private var fragments = FragmentBuffer()
    private var phase = Phase.betweenMessages
    /// A reassembled message was delivered from `fragments`: the buffer goes at the next call.
    private var releaseFragmentsOnNextCall = false
    /// permessage-deflate was agreed: a message's first frame may carry RSV1, which marks the
    /// message compressed (RFC 7692 §6). Without it, RSV1 is a protocol error like RSV2/3.
    public var acceptsCompressedMessages = false
    /// The fragmented message being reassembled began with RSV1.
    private var fragmentsCompressed = false

    private enum Phase: UInt8 {
        case betweenMessages
        case textFragments
        case binaryFragments
        /// A close or a failure was reported; the rest of the connection's bytes are ignored.
        case finished
    }

    public init(maximumMessageBytes: Int) {
        precondition(maximumMessageBytes >= 0, "negative WebSocket message limit")
        self.maximumMessageBytes = maximumMessageBytes
    }

    deinit {
        fragments.deallocate()
    }

    /// Whether a close or a failure was reported.
    public var isFinished: Bool { phase == .finished }

    public mutating func decode(_ bytes: UnsafeMutableRawBufferPointer) -> WebSocketDecodeResult {
        if releaseFragmentsOnNextCall {
            fragments.release()
            releaseFragmentsOnNextCall = false
        }
        guard phase != .finished else { return WebSocketDecodeResult(consumed: bytes.count, event: .finished) }
        var offset = 0
        while true {
            let rest = UnsafeMutableRawBufferPointer(rebasing: bytes[offset...])
            guard let header = ClientFrameHeader(UnsafeRawBufferPointer(rest)) else {
                return WebSocketDecodeResult(consumed: offset, event: .needMoreBytes)
            }
            if let failure = lengthFailure(header) ?? (rest.count >= header.length ? ruleFailure(header) : nil) {
                return fail(failure, consumingAllOf: bytes)
            }
            guard rest.count >= header.length, UInt64(rest.count - header.length) >= header.payloadLength else {
                // Within the limits just checked, so the size fits an Int.
                let frameSize = header.length + Int(header.payloadLength)
                return WebSocketDecodeResult(consumed: offset, event: .needMoreBytes, pendingFrameSize: frameSize)
            }
            let frameStart = rest.baseAddress!
            let payload = UnsafeMutableRawBufferPointer(start: frameStart + header.length, count: Int(header.payloadLength))
            offset += header.length + payload.count
            // ruleFailure made sure the frame is masked.
            let wideKey = PayloadMasking.wideKey(frameStart + header.length - 4)
            guard let event = handle(header, payload: payload, wideKey: wideKey) else { continue }  // a fragment, absorbed
            switch event {
            case .failure(let failure):
                return fail(failure, consumingAllOf: bytes)
            case .close:
                // A fragmented message left open will never be delivered.
                phase = .finished
                fragments.release()
            default:
                break
            }
            return WebSocketDecodeResult(consumed: offset, event: event)
        }
    }

    /// The limits known from the length alone, which `WebSocketFrameParser` applied before
    /// anything else (so an oversized unmasked frame is 1009, not 1002).
    private func lengthFailure(_ header: ClientFrameHeader) -> WebSocketProtocolFailure? {
        if header.isControl {
            return header.payloadLength > 125 ? .controlFrameTooLong : nil
        }
        return header.payloadLength > UInt64(maximumMessageBytes) ? .messageTooLarge : nil
    }

    /// The rest of the rules a header can break, in the SwiftNIO handler's order.
    private func ruleFailure(_ header: ClientFrameHeader) -> WebSocketProtocolFailure? {
        guard header.masked else { return .unmaskedFrame }
        if header.reservedBits != 0 {
            // RSV1 on a message's first frame only (never on a continuation or a control
            // frame), and only when compression was agreed.
            let isFirstFrame = header.opcode == WebSocketServerFrameWriter.textOpcode || header.opcode == WebSocketServerFrameWriter.binaryOpcode
            guard acceptsCompressedMessages, header.reservedBits == ClientFrameHeader.compressedBit, isFirstFrame else {
                return .reservedBitsSet
            }
        }
        switch header.opcode {
        case WebSocketServerFrameWriter.textOpcode, WebSocketServerFrameWriter.binaryOpcode:
            return phase == .betweenMessages ? nil : .interruptedFragmentedMessage
        case WebSocketServerFrameWriter.continuationOpcode:
            guard phase != .betweenMessages else { return .unexpectedContinuation }
            return UInt64(fragments.count) + header.payloadLength > UInt64(maximumMessageBytes) ? .messageTooLarge : nil
        case WebSocketServerFrameWriter.closeOpcode, WebSocketServerFrameWriter.pingOpcode, WebSocketServerFrameWriter.pongOpcode:
            guard header.fin else { return .fragmentedControlFrame }
            return header.opcode == WebSocketServerFrameWriter.closeOpcode && header.payloadLength == 1 ? .oneByteClosePayload : nil
        default:
            return .unknownOpcode
        }
    }

    /// A whole frame that broke no header rule; nil when it was a fragment to wait behind.
    private mutating func handle(
        _ header: ClientFrameHeader, payload: UnsafeMutableRawBufferPointer, wideKey: UInt64
    ) -> WebSocketFrameEvent? {
        switch header.opcode {
        case WebSocketServerFrameWriter.textOpcode, WebSocketServerFrameWriter.binaryOpcode:
            let kind: WebSocketMessageKind = header.opcode == WebSocketServerFrameWriter.textOpcode ? .text : .binary
            let compressed = header.reservedBits == ClientFrameHeader.compressedBit
            guard header.fin else {
                phase = kind == .text ? .textFragments : .binaryFragments
                fragmentsCompressed = compressed
                appendFragment(payload, wideKey: wideKey)
                return nil
            }
            return message(kind, unmaskedInPlace(payload, wideKey: wideKey), compressed: compressed)
        case WebSocketServerFrameWriter.continuationOpcode:
            appendFragment(payload, wideKey: wideKey)
            guard header.fin else { return nil }
            let kind: WebSocketMessageKind = phase == .textFragments ? .text : .binary
            phase = .betweenMessages
            releaseFragmentsOnNextCall = true
            return message(kind, fragments.bytes, compressed: fragmentsCompressed)
        case WebSocketServerFrameWriter.pingOpcode:
            return .ping(unmaskedInPlace(payload, wideKey: wideKey))
        case WebSocketServerFrameWriter.pongOpcode:
            return .pong(unmaskedInPlace(payload, wideKey: wideKey))
        default:
            return close(unmaskedInPlace(payload, wideKey: wideKey))
        }
    }

    /// A compressed message's text is checked once inflated, by whoever inflates it.
    private func message(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, compressed: Bool) -> WebSocketFrameEvent {
        guard kind == .binary || compressed || UTF8Validation.isValid(payload) else { return .failure(.invalidUTF8) }
        return .message(WebSocketMessage(kind: kind, payload: payload, compressed: compressed))
    }

    private func close(_ payload: UnsafeRawBufferPointer) -> WebSocketFrameEvent {
        guard payload.count >= 2 else { return .close(WebSocketCloseFrame(code: nil, reason: payload)) }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        let reason = UnsafeRawBufferPointer(rebasing: payload[2...])
        guard WebSocketCloseFrame.isValidCode(code) else { return .failure(.invalidCloseCode) }
        guard UTF8Validation.isValid(reason) else { return .failure(.invalidCloseReason) }
        return .close(WebSocketCloseFrame(code: code, reason: reason))
    }

    private mutating func appendFragment(_ payload: UnsafeMutableRawBufferPointer, wideKey: UInt64) {
        guard let source = payload.baseAddress else { return }
        fragments.appendUnmasking(source, count: payload.count, wideKey: wideKey, limit: maximumMessageBytes)
    }

    private func unmaskedInPlace(_ payload: UnsafeMutableRawBufferPointer, wideKey: UInt64) -> UnsafeRawBufferPointer {
        if let base = payload.baseAddress {
            PayloadMasking.unmask(base, into: base, count: payload.count, wideKey: wideKey)
        }
        return UnsafeRawBufferPointer(payload)
    }

    private mutating func fail(_ failure: WebSocketProtocolFailure, consumingAllOf bytes: UnsafeMutableRawBufferPointer) -> WebSocketDecodeResult {
        phase = .finished
        fragments.release()
        releaseFragmentsOnNextCall = false
        return WebSocketDecodeResult(consumed: bytes.count, event: .failure(failure))
    }
}
