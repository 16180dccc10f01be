import GatewayWebSocket
import XCTest

/// RSV1 under permessage-deflate (RFC 7692 §6): allowed on a data message's first frame once
/// compression was agreed, and reported as a compressed message; a protocol error (1002)
/// anywhere else.
final class CompressedFrameDecoderTests: XCTestCase {
    private static let rsv1: UInt8 = 0x4

    private func decode(_ frames: [ClientFrame], negotiated: Bool, cuts: [Int] = []) -> [DecodedEvent] {
        var decoder = WebSocketFrameDecoder(maximumMessageBytes: 1 << 16)
        decoder.acceptsCompressedMessages = negotiated
        return EngineFeed.decode(frames.flatMap(\.bytes), cuts: cuts, with: &decoder)
    }

    func testRSV1WithoutNegotiationIsAProtocolError() {
        let frame = ClientFrame(reservedBits: Self.rsv1, opcode: 0x1, payload: [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        XCTAssertEqual(decode([frame], negotiated: false), [.failure(.reservedBitsSet)])
        XCTAssertEqual(WebSocketProtocolFailure.reservedBitsSet.closeCode, 1002)
    }

    func testRSV1OnAFirstFrameMarksTheMessageCompressed() {
        // Not valid UTF-8 as it stands: compressed text is checked once inflated, not here.
        let payload: [UInt8] = [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]
        let events = decode(
            [ClientFrame(reservedBits: Self.rsv1, opcode: 0x1, payload: payload), .text("plain"), ClientFrame(reservedBits: Self.rsv1, opcode: 0x2, payload: [1, 2])],
            negotiated: true, cuts: [3, 9])
        XCTAssertEqual(events, [.compressedMessage(.text, payload), .text("plain"), .compressedMessage(.binary, [1, 2])])
    }

    func testAFragmentedCompressedMessageIsReassembledCompressed() {
        let frames = [
            ClientFrame(fin: false, reservedBits: Self.rsv1, opcode: 0x1, payload: [0xF2, 0x48]),
            .ping([7]),
            .continuation([0xCD, 0xC9], fin: false),
            .continuation([0xC9, 0x07, 0x00], fin: true),
        ]
        XCTAssertEqual(decode(frames, negotiated: true), [.ping([7]), .compressedMessage(.text, [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])])
    }

    func testRSV1OnAContinuationOrAControlFrameIsAProtocolError() {
        let continuation = [
            ClientFrame(fin: false, reservedBits: Self.rsv1, opcode: 0x1, payload: [1]),
            ClientFrame(fin: true, reservedBits: Self.rsv1, opcode: 0x0, payload: [2]),
        ]
        XCTAssertEqual(decode(continuation, negotiated: true), [.failure(.reservedBitsSet)])
        XCTAssertEqual(decode([ClientFrame(reservedBits: Self.rsv1, opcode: 0x9, payload: [])], negotiated: true), [.failure(.reservedBitsSet)])
        XCTAssertEqual(decode([ClientFrame(reservedBits: 0x2, opcode: 0x1, payload: [])], negotiated: true), [.failure(.reservedBitsSet)])
    }

    func testAnUncompressedTextMessageIsStillCheckedForUTF8() {
        XCTAssertEqual(decode([ClientFrame(opcode: 0x1, payload: [0xFF])], negotiated: true), [.failure(.invalidUTF8)])
    }

    func testTheServerWriterSetsRSV1ForCompressedFrames() {
        var frame = [UInt8](repeating: 0, count: 16)
        let payload: [UInt8] = [1, 2, 3]
        let length = frame.withUnsafeMutableBytes { target in
            payload.withUnsafeBytes {
                WebSocketServerFrameWriter.writeFrame(compressed: true, opcode: WebSocketServerFrameWriter.textOpcode, payload: $0, to: target.baseAddress!)
            }
        }
        XCTAssertEqual(Array(frame[..<length]), [0xC1, 3, 1, 2, 3])
    }

    func testThe101CarriesTheAgreedExtension() {
        let response = String(decoding: WebSocketHandshakeResponse.switchingProtocols(key: "dGhlIHNhbXBsZSBub25jZQ==", extensions: "permessage-deflate; server_no_context_takeover"), as: UTF8.self)
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        XCTAssertTrue(response.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        XCTAssertTrue(response.hasSuffix("\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n"))
    }
}
