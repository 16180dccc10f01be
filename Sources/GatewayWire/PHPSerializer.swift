import NIOCore

/// PHP 8 `serialize()` / `unserialize()` for the values in `PHPValue`.
///
/// Output matches PHP byte for byte (`d:0.1;`, `d:1.0E+25;`, `d:-0;`, `d:INF;`, `d:NAN;`),
/// which matters because PHP peers compare session strings (the BusinessWorker keeps a crc32
/// of the last session it saw). Input is treated as hostile: objects and references are
/// refused, nesting is capped, and declared lengths are checked against the remaining input
/// before anything is allocated. Stateless; callable from any thread.
public enum PHPSerializer {
    /// Nesting limit for `unserialize` unless told otherwise: far deeper than any session, yet
    /// shallow enough that the recursive decoder cannot exhaust a thread's stack.
    public static let defaultMaximumDepth = 128

    public static func serialize(_ value: PHPValue) -> [UInt8] {
        var out: [UInt8] = []
        self.write(value, into: &out)
        return out
    }

    public static func serialize(_ value: PHPValue, into buffer: inout ByteBuffer) {
        self.write(value, into: &buffer)
    }

    /// Decodes one value; the whole input must be consumed.
    public static func unserialize(
        _ bytes: some Collection<UInt8>,
        maximumDepth: Int = PHPSerializer.defaultMaximumDepth
    ) throws(PHPSerializeError) -> PHPValue {
        let result: Result<PHPValue, PHPSerializeError>? = bytes.withContiguousStorageIfAvailable { buffer in
            PHPUnserializer.decode(UnsafeRawBufferPointer(buffer), maximumDepth: maximumDepth)
        }
        if let result {
            return try result.get()
        }
        let copy = Array(bytes)
        return try copy.withUnsafeBytes { PHPUnserializer.decode($0, maximumDepth: maximumDepth) }.get()
    }

    /// Decodes the readable bytes of `buffer`; all of them must be consumed.
    public static func unserialize(
        _ buffer: ByteBuffer,
        maximumDepth: Int = PHPSerializer.defaultMaximumDepth
    ) throws(PHPSerializeError) -> PHPValue {
        try buffer.withUnsafeReadableBytes { PHPUnserializer.decode($0, maximumDepth: maximumDepth) }.get()
    }

    // MARK: Encoding

    static func write<Sink: ByteSink>(_ value: PHPValue, into out: inout Sink) {
        switch value {
        case .null:
            out.appendASCII("N;")
        case .bool(let flag):
            out.appendASCII(flag ? "b:1;" : "b:0;")
        case .int(let number):
            out.appendASCII("i:")
            out.appendDecimal(number)
            out.appendByte(UInt8(ascii: ";"))
        case .double(let number):
            out.appendASCII("d:")
            out.appendBytes(PHPDoubleFormatter.format(number, exponent: UInt8(ascii: "E")))
            out.appendByte(UInt8(ascii: ";"))
        case .string(let bytes):
            self.writeString(bytes, into: &out)
        case .array(let array):
            out.appendASCII("a:")
            out.appendDecimal(array.count)
            out.appendASCII(":{")
            for (key, element) in array {
                switch key {
                case .int(let index):
                    out.appendASCII("i:")
                    out.appendDecimal(index)
                    out.appendByte(UInt8(ascii: ";"))
                case .string(let bytes):
                    self.writeString(bytes, into: &out)
                }
                self.write(element, into: &out)
            }
            out.appendByte(UInt8(ascii: "}"))
        }
    }

    private static func writeString<Sink: ByteSink>(_ bytes: [UInt8], into out: inout Sink) {
        out.appendASCII("s:")
        out.appendDecimal(bytes.count)
        out.appendASCII(":\"")
        out.appendBytes(bytes)
        out.appendASCII("\";")
    }
}
