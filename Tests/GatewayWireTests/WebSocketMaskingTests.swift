import GatewayWire
import NIOCore
import XCTest

final class WebSocketMaskingTests: XCTestCase {
    private let key: (UInt8, UInt8, UInt8, UInt8) = (0x12, 0x34, 0x56, 0x78)

    /// RFC 6455 §5.3, byte by byte: octet i XOR key octet (i mod 4).
    private func reference(_ bytes: [UInt8], keyOffset: Int = 0) -> [UInt8] {
        let keyBytes = [key.0, key.1, key.2, key.3]
        return bytes.enumerated().map { $0.element ^ keyBytes[($0.offset + keyOffset) % 4] }
    }

    func testEveryLengthAroundTheWordSizeMatchesTheByteWiseRule() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...67 {
            for keyOffset in 0..<4 {
                let masked = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                var buffer = ByteBuffer(string: "prefix")
                let written = masked.withUnsafeBytes {
                    buffer.writeUnmaskedWebSocketPayload($0, maskingKey: key, keyOffset: keyOffset)
                }
                XCTAssertEqual(written, length)
                XCTAssertEqual(buffer.getString(at: 0, length: 6), "prefix", "bytes before are untouched")
                XCTAssertEqual(
                    buffer.getBytes(at: 6, length: length), reference(masked, keyOffset: keyOffset),
                    "length \(length), key offset \(keyOffset)")
            }
        }
    }

    func testTheRFCExample() {
        // RFC 6455 §5.7: a masked "Hello" with key 37 fa 21 3d.
        let masked: [UInt8] = [0x7f, 0x9f, 0x4d, 0x51, 0x58]
        var buffer = ByteBuffer()
        _ = masked.withUnsafeBytes { buffer.writeUnmaskedWebSocketPayload($0, maskingKey: (0x37, 0xfa, 0x21, 0x3d)) }
        XCTAssertEqual(String(buffer: buffer), "Hello")
    }
}
