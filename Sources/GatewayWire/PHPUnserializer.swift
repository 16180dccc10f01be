/// The recursive-descent decoder behind `PHPSerializer.unserialize`.
///
/// Works on a raw buffer so it never copies the input and can be fuzzed through the public
/// entry points. Grammar follows PHP's `var_unserializer.re` for the accepted types:
/// `N;`, `b:[01];`, `i:[+-]?[0-9]+;`, `d:<float|NAN|INF|-INF>;`, `s:<len>:"<bytes>";`,
/// `a:<count>:{(<int|string key><value>)*}`. String keys that look like canonical integers are
/// turned into integer keys and duplicate keys overwrite, both as in PHP.
struct PHPUnserializer {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    private let maximumDepth: Int

    /// The smallest encoding of one array element (`i:0;N;`); used to reject element counts
    /// the remaining input cannot possibly hold, before reserving anything.
    private static let minimumElementLength = 6

    private init(bytes: UnsafeRawBufferPointer, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, maximumDepth: Int) -> Result<PHPValue, PHPSerializeError> {
        var decoder = PHPUnserializer(bytes: bytes, maximumDepth: maximumDepth)
        do throws(PHPSerializeError) {
            let value = try decoder.parseValue(depth: 0)
            guard decoder.position == bytes.count else {
                throw .trailingBytes(offset: decoder.position)
            }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    // MARK: Values

    private mutating func parseValue(depth: Int) throws(PHPSerializeError) -> PHPValue {
        let start = self.position
        let tag = try self.peek()
        switch tag {
        case UInt8(ascii: "N"):
            self.position += 1
            try self.expect(UInt8(ascii: ";"))
            return .null
        case UInt8(ascii: "b"):
            self.position += 1
            try self.expect(UInt8(ascii: ":"))
            let digitOffset = self.position
            let digit = try self.next()
            guard digit == UInt8(ascii: "0") || digit == UInt8(ascii: "1") else {
                throw .unexpectedByte(offset: digitOffset)
            }
            try self.expect(UInt8(ascii: ";"))
            return .bool(digit == UInt8(ascii: "1"))
        case UInt8(ascii: "i"):
            self.position += 1
            try self.expect(UInt8(ascii: ":"))
            let value = try self.parseInteger()
            try self.expect(UInt8(ascii: ";"))
            return .int(value)
        case UInt8(ascii: "d"):
            self.position += 1
            try self.expect(UInt8(ascii: ":"))
            let value = try self.parseDouble()
            try self.expect(UInt8(ascii: ";"))
            return .double(value)
        case UInt8(ascii: "s"):
            return .string(try self.parseString())
        case UInt8(ascii: "a"):
            return .array(try self.parseArray(depth: depth + 1))
        case UInt8(ascii: "O"), UInt8(ascii: "C"), UInt8(ascii: "E"):
            throw .objectNotAllowed(offset: start)
        case UInt8(ascii: "r"), UInt8(ascii: "R"):
            throw .referenceNotAllowed(offset: start)
        default:
            throw .unexpectedByte(offset: start)
        }
    }

    /// `s:<len>:"<bytes>";`
    private mutating func parseString() throws(PHPSerializeError) -> [UInt8] {
        self.position += 1  // "s"
        try self.expect(UInt8(ascii: ":"))
        let lengthOffset = self.position
        let length = try self.parseLength()
        try self.expect(UInt8(ascii: ":"))
        try self.expect(UInt8(ascii: "\""))
        guard length <= self.bytes.count - self.position else {
            throw .lengthTooLarge(offset: lengthOffset)
        }
        let string = Array(self.bytes[self.position..<(self.position + length)])
        self.position += length
        try self.expect(UInt8(ascii: "\""))
        try self.expect(UInt8(ascii: ";"))
        return string
    }

    /// `a:<count>:{...}`
    private mutating func parseArray(depth: Int) throws(PHPSerializeError) -> PHPArray {
        guard depth <= self.maximumDepth else {
            throw .tooDeep(limit: self.maximumDepth)
        }
        self.position += 1  // "a"
        try self.expect(UInt8(ascii: ":"))
        let countOffset = self.position
        let count = try self.parseLength()
        try self.expect(UInt8(ascii: ":"))
        try self.expect(UInt8(ascii: "{"))
        guard count <= (self.bytes.count - self.position) / PHPUnserializer.minimumElementLength else {
            throw .lengthTooLarge(offset: countOffset)
        }
        var array = PHPArray()
        array.reserveCapacity(count)
        for _ in 0..<count {
            let keyOffset = self.position
            let key: PHPArrayKey
            switch try self.peek() {
            case UInt8(ascii: "i"):
                self.position += 1
                try self.expect(UInt8(ascii: ":"))
                key = .int(try self.parseInteger())
                try self.expect(UInt8(ascii: ";"))
            case UInt8(ascii: "s"):
                key = PHPArrayKey(coercing: try self.parseString())
            default:
                throw .unexpectedByte(offset: keyOffset)
            }
            array[key] = try self.parseValue(depth: depth)
        }
        try self.expect(UInt8(ascii: "}"))
        return array
    }

    // MARK: Numbers

    /// An unsigned length or count (`[0-9]+`).
    private mutating func parseLength() throws(PHPSerializeError) -> Int {
        let start = self.position
        var value = 0
        while self.position < self.bytes.count, let digit = PHPUnserializer.digit(self.bytes[self.position]) {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { throw .lengthTooLarge(offset: start) }
            value = sum
            self.position += 1
        }
        guard self.position > start else {
            throw self.position < self.bytes.count ? .unexpectedByte(offset: start) : .unexpectedEnd(offset: start)
        }
        return value
    }

    /// `[+-]?[0-9]+` within `Int` (PHP refuses out-of-range `i:` values).
    private mutating func parseInteger() throws(PHPSerializeError) -> Int {
        let start = self.position
        var negative = false
        if self.position < self.bytes.count,
            self.bytes[self.position] == UInt8(ascii: "-") || self.bytes[self.position] == UInt8(ascii: "+")
        {
            negative = self.bytes[self.position] == UInt8(ascii: "-")
            self.position += 1
        }
        let digitsStart = self.position
        var magnitude: UInt64 = 0
        var overflow = false
        while self.position < self.bytes.count, let digit = PHPUnserializer.digit(self.bytes[self.position]) {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            overflow = overflow || overflow1 || overflow2
            magnitude = sum
            self.position += 1
        }
        guard self.position > digitsStart else {
            throw self.position < self.bytes.count ? .invalidNumber(offset: start) : .unexpectedEnd(offset: self.position)
        }
        let limit = negative ? UInt64(Int.max) + 1 : UInt64(Int.max)
        guard !overflow, magnitude <= limit else { throw .invalidNumber(offset: start) }
        if negative {
            return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
        }
        return Int(magnitude)
    }

    /// PHP's float grammar: `[+-]?` then digits with an optional `.` (at least one digit),
    /// then an optional `[eE][+-]?[0-9]+`; or `NAN`, `INF`, `-INF`.
    private mutating func parseDouble() throws(PHPSerializeError) -> Double {
        let start = self.position
        if self.matches("NAN") { return .nan }
        if self.matches("INF") { return .infinity }
        if self.matches("-INF") { return -.infinity }

        var index = self.position
        if index < self.bytes.count, self.bytes[index] == UInt8(ascii: "-") || self.bytes[index] == UInt8(ascii: "+") {
            index += 1
        }
        var mantissaDigits = 0
        while index < self.bytes.count, PHPUnserializer.digit(self.bytes[index]) != nil {
            index += 1
            mantissaDigits += 1
        }
        if index < self.bytes.count, self.bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < self.bytes.count, PHPUnserializer.digit(self.bytes[index]) != nil {
                index += 1
                mantissaDigits += 1
            }
        }
        guard mantissaDigits > 0 else {
            throw index < self.bytes.count ? .invalidNumber(offset: start) : .unexpectedEnd(offset: index)
        }
        if index < self.bytes.count, self.bytes[index] == UInt8(ascii: "e") || self.bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < self.bytes.count, self.bytes[index] == UInt8(ascii: "-") || self.bytes[index] == UInt8(ascii: "+") {
                index += 1
            }
            var exponentDigits = 0
            while index < self.bytes.count, PHPUnserializer.digit(self.bytes[index]) != nil {
                index += 1
                exponentDigits += 1
            }
            guard exponentDigits > 0 else {
                throw index < self.bytes.count ? .invalidNumber(offset: start) : .unexpectedEnd(offset: index)
            }
        }
        let text = String(decoding: self.bytes[start..<index], as: UTF8.self)
        guard let value = Double(text) else { throw .invalidNumber(offset: start) }
        self.position = index
        return value
    }

    // MARK: Bytes

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private func peek() throws(PHPSerializeError) -> UInt8 {
        guard self.position < self.bytes.count else { throw .unexpectedEnd(offset: self.position) }
        return self.bytes[self.position]
    }

    private mutating func next() throws(PHPSerializeError) -> UInt8 {
        let byte = try self.peek()
        self.position += 1
        return byte
    }

    private mutating func expect(_ byte: UInt8) throws(PHPSerializeError) {
        let actual = try self.peek()
        guard actual == byte else { throw .unexpectedByte(offset: self.position) }
        self.position += 1
    }

    /// Consumes `literal` if the input continues with it followed by `;`.
    private mutating func matches(_ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard self.bytes.count - self.position > length else { return false }
        let matched = literal.withUTF8Buffer { expected in
            for offset in 0..<length where self.bytes[self.position + offset] != expected[offset] {
                return false
            }
            return self.bytes[self.position + length] == UInt8(ascii: ";")
        }
        if matched { self.position += length }
        return matched
    }
}
