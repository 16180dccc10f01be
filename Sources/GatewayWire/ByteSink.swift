import NIOCore

/// Where the encoders in this module append bytes.
///
/// Why: the same PHP-serialize and JSON encoders write either into a `[UInt8]` (for callers that
/// store the bytes, e.g. a session) or straight into a `ByteBuffer` (for the wire, without an
/// intermediate copy). Internal on purpose; the public API takes and returns concrete types.
protocol ByteSink {
    mutating func appendByte(_ byte: UInt8)
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer)
}

extension ByteSink {
    @inlinable
    mutating func appendBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.appendBytes($0) }
    }

    mutating func appendASCII(_ text: StaticString) {
        text.withUTF8Buffer { self.appendBytes(UnsafeRawBufferPointer($0)) }
    }

    mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { self.appendBytes(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `value` in decimal, without allocating.
    mutating func appendDecimal(_ value: Int) {
        // 19 digits for |Int.min| plus a sign.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
            var magnitude = value.magnitude
            var start = 20
            repeat {
                start -= 1
                scratch[start] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
                magnitude /= 10
            } while magnitude != 0
            if value < 0 {
                start -= 1
                scratch[start] = UInt8(ascii: "-")
            }
            self.appendBytes(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: scratch[start..<20])))
        }
    }
}

extension Array: ByteSink where Element == UInt8 {
    mutating func appendByte(_ byte: UInt8) {
        self.append(byte)
    }

    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        self.append(contentsOf: bytes)
    }
}

// `appendBytes(_:)` is ByteBuffer+Appending.swift's.
extension ByteBuffer: ByteSink {
    mutating func appendByte(_ byte: UInt8) {
        self.writeInteger(byte)
    }
}
