import GatewayWire
import XCTest

@testable import GatewayWebSocket

/// Word-wise unmasking, in place and while copying, against `GatewayWire.WebSocketMasking`.
final class PayloadMaskingTests: XCTestCase {
    func testEveryLengthAndAlignment() {
        let key: [UInt8] = [0xA1, 0x02, 0xFF, 0x7C]
        for length in 0..<40 {
            for alignment in 0..<8 {
                let masked = (0..<(alignment + length)).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ 11) }
                var expected = [UInt8](repeating: 0, count: length)
                masked.withUnsafeBytes { source in
                    expected.withUnsafeMutableBytes { target in
                        WebSocketMasking.unmask(UnsafeRawBufferPointer(rebasing: source[alignment...]), into: target, key: (key[0], key[1], key[2], key[3]))
                    }
                }
                let wide = key.withUnsafeBytes { PayloadMasking.wideKey($0.baseAddress!) }

                var inPlace = masked
                inPlace.withUnsafeMutableBytes { bytes in
                    PayloadMasking.unmask(bytes.baseAddress! + alignment, into: bytes.baseAddress! + alignment, count: length, wideKey: wide)
                }
                XCTAssertEqual(Array(inPlace[alignment...]), expected, "in place, length \(length), alignment \(alignment)")
                XCTAssertEqual(Array(inPlace[..<alignment]), Array(masked[..<alignment]), "bytes before the payload untouched")

                var copied = [UInt8](repeating: 0xEE, count: length + 3)
                masked.withUnsafeBytes { source in
                    copied.withUnsafeMutableBytes { target in
                        PayloadMasking.unmask(source.baseAddress! + alignment, into: target.baseAddress! + 3, count: length, wideKey: wide)
                    }
                }
                XCTAssertEqual(Array(copied[3...]), expected, "copied, length \(length), alignment \(alignment)")
            }
        }
    }
}
