/// What `WebSocketFrameDecoder.decode` found: how many bytes it consumed (the engine keeps the
/// rest and offers them again with the next read) and the event that stopped it.
public struct WebSocketDecodeResult {
    public var consumed: Int
    public var event: WebSocketFrameEvent
    /// With `.needMoreBytes`: the size of the frame the unconsumed bytes begin (header and
    /// payload), once its header is in; 0 before. `ClientEngine` takes it as
    /// `ReceiveOutcome.messageSize` and offers the frame again once it is whole.
    public var pendingFrameSize = 0
}

/// One thing a client said. Payloads are unmasked; they point into the bytes given to `decode`
/// (or, for a message sent in fragments, into the decoder's reassembly buffer) and are valid
/// until the next `decode` call or until those bytes are reused, whichever comes first.
public enum WebSocketFrameEvent {
    /// The bytes end inside a frame; everything before it was consumed.
    case needMoreBytes
    /// A whole text (valid UTF-8) or binary message, within the size limit.
    case message(WebSocketMessage)
    /// Answer with a pong carrying the same payload.
    case ping(UnsafeRawBufferPointer)
    case pong(UnsafeRawBufferPointer)
    /// The client closes: send `WebSocketCloseFrame.writeReply(to:)`'s bytes after what is
    /// queued for it, then close. The decoder is finished.
    case close(WebSocketCloseFrame)
    /// The client broke the protocol: send a close frame with `failure.closeCode`, then close.
    /// The decoder is finished and consumed every byte.
    case failure(WebSocketProtocolFailure)
    /// The decoder reported a close or failure before; the bytes were consumed and ignored.
    case finished
}

public enum WebSocketMessageKind: Sendable {
    case text
    case binary
}

public struct WebSocketMessage {
    public var kind: WebSocketMessageKind
    public var payload: UnsafeRawBufferPointer
    /// permessage-deflate: `payload` is the compressed message, to be inflated (and, for
    /// text, checked for UTF-8) by the receiver. Only with `acceptsCompressedMessages`.
    public var compressed = false
}

/// A valid close frame from the client.
public struct WebSocketCloseFrame {
    /// Nil for a close frame without a payload.
    public var code: UInt16?
    /// UTF-8, possibly empty.
    public var reason: UnsafeRawBufferPointer

    public init(code: UInt16?, reason: UnsafeRawBufferPointer) {
        self.code = code
        self.reason = reason
    }

    /// The reply the SwiftNIO handler sent: the client's code echoed without a reason, or an
    /// empty close frame for one without a code. At most 4 bytes; returns how many were written.
    public func writeReply(to target: UnsafeMutableRawPointer) -> Int {
        guard let code else {
            return WebSocketServerFrameWriter.writeHeader(
                opcode: WebSocketServerFrameWriter.closeOpcode, payloadLength: 0, to: target)
        }
        return WebSocketServerFrameWriter.writeCloseFrame(code: code, to: target)
    }

    /// Close codes a client may send (RFC 6455 §7.4): those defined for use on the wire, and
    /// the registered and private ranges. The SwiftNIO handler accepted exactly these.
    public static func isValidCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: return true
        default: return false
        }
    }
}

/// How a client broke RFC 6455 or the gateway's limit, and the close code that answers it.
public enum WebSocketProtocolFailure: Hashable, Sendable {
    case unmaskedFrame
    case reservedBitsSet
    case unknownOpcode
    /// A ping, pong or close announcing more than 125 bytes.
    case controlFrameTooLong
    case fragmentedControlFrame
    /// A continuation frame with no fragmented message open.
    case unexpectedContinuation
    /// A new text or binary frame while a fragmented message is still open.
    case interruptedFragmentedMessage
    case oneByteClosePayload
    case invalidCloseCode
    case invalidCloseReason
    /// The message (one frame, or its fragments so far) exceeds `maximumMessageBytes`: the
    /// gateway counts these as `oversized_messages`.
    case messageTooLarge
    case invalidUTF8
    /// A permessage-deflate message that does not inflate (RFC 7692 §8.1: "data ... not
    /// consistent with the type of the message", 1007).
    case invalidCompressedData

    /// 1009 for the size limit, 1007 for text that is not UTF-8 and for a broken deflate
    /// stream, 1002 for the rest.
    public var closeCode: UInt16 {
        switch self {
        case .messageTooLarge: return 1009
        case .invalidUTF8, .invalidCompressedData: return 1007
        default: return 1002
        }
    }
}
