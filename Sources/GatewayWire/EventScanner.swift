/// Why a message that started like an event is not JSON (RFC 8259, plus a nesting limit).
enum EventSyntaxError: Error {
    case unexpectedEnd
    case unexpectedByte
    case invalidUTF8
    case invalidEscape
    case controlCharacter
    case invalidNumber
    case tooDeep
    case trailingData

    var reason: String {
        switch self {
        case .unexpectedEnd: return "unexpected end of input"
        case .unexpectedByte: return "unexpected byte"
        case .invalidUTF8: return "invalid UTF-8 in string"
        case .invalidEscape: return "invalid escape in string"
        case .controlCharacter: return "control character in string"
        case .invalidNumber: return "invalid number"
        case .tooDeep: return "nesting deeper than \(EventScanner.maximumNesting)"
        case .trailingData: return "unexpected data after the JSON value"
        }
    }
}

/// A JSON string the scanner went through.
struct ScannedString {
    /// Decoded bytes (what the arena got, unless `truncated`).
    var length = 0
    var hasNUL = false
    /// A `\u` escape of a UTF-16 surrogate without its pair (decoded as U+FFFD).
    var loneSurrogate = false
    /// Longer than the limit: only the first `limit` bytes were copied.
    var truncated = false
}

/// A JSON number the scanner went through: its text is `bytes[start..<end]`.
struct ScannedNumber {
    var start: Int
    var end: Int
    /// No fraction and no exponent.
    var isInteger: Bool
}

/// A JSON value the scanner went through.
struct SkippedValue {
    /// Containers nested: 0 for a scalar, 1 for `[]`, 2 for `[[]]`.
    var depth: Int
    var loneSurrogate: Bool
}

/// A forward-only RFC 8259 scanner over one message, copying decoded strings into an arena.
/// Strict: UTF-8 is validated, numbers follow the grammar, whitespace is space, tab, CR, LF.
/// Nothing here allocates (the arena grows only if a caller's reservation was too small).
struct EventScanner {
    /// How deep containers may nest in any one value (each level costs a bit of `stack`).
    static let maximumNesting = 512

    let bytes: UnsafePointer<UInt8>
    let end: Int
    var position = 0
    var arena: EventArena
    /// `maximumNesting` bits: whether each open container is an object.
    let stack: UnsafeMutablePointer<UInt64>

    // MARK: Basics

    @inline(__always)
    mutating func skipWhitespace() {
        while self.position < self.end {
            switch self.bytes[self.position] {
            case 0x20, 0x0A, 0x0D, 0x09: self.position += 1
            default: return
            }
        }
    }

    /// The byte at `position` (after whitespace), or nil at the end.
    @inline(__always)
    mutating func peek() -> UInt8? {
        self.skipWhitespace()
        return self.position < self.end ? self.bytes[self.position] : nil
    }

    /// Consumes `byte` (after whitespace).
    @inline(__always)
    mutating func expect(_ byte: UInt8) throws(EventSyntaxError) {
        guard let next = self.peek() else { throw .unexpectedEnd }
        guard next == byte else { throw .unexpectedByte }
        self.position += 1
    }

    /// Consumes `true`, `false` or `null`; returns the first byte.
    mutating func scanLiteral() throws(EventSyntaxError) -> UInt8 {
        let first = self.bytes[self.position]
        let literal: StaticString
        switch first {
        case UInt8(ascii: "t"): literal = "true"
        case UInt8(ascii: "f"): literal = "false"
        default: literal = "null"
        }
        let length = literal.utf8CodeUnitCount
        guard self.end - self.position >= length else { throw .unexpectedEnd }
        let expected = literal.utf8Start
        for offset in 0..<length where self.bytes[self.position + offset] != expected[offset] { throw .unexpectedByte }
        self.position += length
        return first
    }

    // MARK: Strings

    /// Scans the string whose opening quote is at `position`. With `copy`, its decoded bytes
    /// (at most `limit`) and a NUL go to the arena at `arena.used`, which moves past them.
    mutating func scanString(copy: Bool, limit: Int = Int.max) throws(EventSyntaxError) -> ScannedString {
        self.position += 1  // the opening quote
        var result = ScannedString()
        if copy { self.arena.reserve(min(limit, self.end - self.position) + 1) }
        var written = 0
        while true {
            // A run of plain ASCII: 8 bytes at a time while none is special, then byte by byte.
            let runStart = self.position
            while self.end - self.position >= 8 {
                let word = UnsafeRawPointer(self.bytes + self.position).loadUnaligned(as: UInt64.self)
                if Self.hasSpecialByte(word) { break }
                self.position += 8
            }
            while self.position < self.end {
                let byte = self.bytes[self.position]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { break }
                self.position += 1
            }
            let run = self.position - runStart
            if run > 0 {
                result.length += run
                if copy { self.copy(self.bytes + runStart, run, written: &written, limit: limit) }
            }
            guard self.position < self.end else { throw .unexpectedEnd }

            let byte = self.bytes[self.position]
            if byte == UInt8(ascii: "\"") {
                self.position += 1
                break
            } else if byte == UInt8(ascii: "\\") {
                var decoded: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
                let count = try self.scanEscape(into: &decoded, result: &result)
                result.length += count
                if copy {
                    withUnsafeBytes(of: &decoded) {
                        self.copy($0.baseAddress!.assumingMemoryBound(to: UInt8.self), count, written: &written, limit: limit)
                    }
                }
            } else if byte < 0x20 {
                throw .controlCharacter
            } else {
                let count = try self.validateUTF8Sequence()
                result.length += count
                if copy { self.copy(self.bytes + self.position, count, written: &written, limit: limit) }
                self.position += count
            }
        }
        if copy {
            result.truncated = result.length > limit
            self.arena.append(0)
        }
        return result
    }

    @inline(__always)
    private mutating func copy(_ source: UnsafePointer<UInt8>, _ count: Int, written: inout Int, limit: Int) {
        let take = min(count, limit - written)
        guard take > 0 else { return }
        self.arena.reserve(take + 1)
        if take <= 16 {
            // Most strings are short: a loop beats a call to memmove.
            for offset in 0..<take { self.arena.append(source[offset]) }
        } else {
            self.arena.append(source, take)
        }
        written += take
    }

    /// Whether any byte of `word` is `"`, `\`, below 0x20 or above 0x7F (exact as to "any").
    @inline(__always)
    private static func hasSpecialByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        let zeroInQuote = (quote &- ones) & ~quote
        let zeroInBackslash = (backslash &- ones) & ~backslash
        return ((control | zeroInQuote | zeroInBackslash) & highs) | (word & highs) != 0
    }

    /// The escape at `position` (a backslash), decoded into `out`; returns its byte count.
    private mutating func scanEscape(
        into out: inout (UInt8, UInt8, UInt8, UInt8), result: inout ScannedString
    ) throws(EventSyntaxError) -> Int {
        guard self.end - self.position >= 2 else { throw .unexpectedEnd }
        let escape = self.bytes[self.position + 1]
        self.position += 2
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.0 = escape
        case UInt8(ascii: "b"): out.0 = 0x08
        case UInt8(ascii: "f"): out.0 = 0x0C
        case UInt8(ascii: "n"): out.0 = 0x0A
        case UInt8(ascii: "r"): out.0 = 0x0D
        case UInt8(ascii: "t"): out.0 = 0x09
        case UInt8(ascii: "u"):
            var scalar = UInt32(try self.scanHex4())
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate: a low one must follow as another \u escape.
                if self.end - self.position >= 6, self.bytes[self.position] == UInt8(ascii: "\\"),
                    self.bytes[self.position + 1] == UInt8(ascii: "u")
                {
                    let saved = self.position
                    self.position += 2
                    let low = UInt32(try self.scanHex4())
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        self.position = saved  // that escape stands alone
                        scalar = 0xFFFD
                        result.loneSurrogate = true
                    }
                } else {
                    scalar = 0xFFFD
                    result.loneSurrogate = true
                }
            } else if (0xDC00...0xDFFF).contains(scalar) {
                scalar = 0xFFFD
                result.loneSurrogate = true
            }
            return Self.encodeUTF8(scalar, into: &out, result: &result)
        default:
            throw .invalidEscape
        }
        return 1
    }

    private mutating func scanHex4() throws(EventSyntaxError) -> UInt16 {
        guard self.end - self.position >= 4 else { throw .unexpectedEnd }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.position]
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte &- UInt8(ascii: "A") &+ 10
            default: throw .invalidEscape
            }
            value = value << 4 | UInt16(nibble)
            self.position += 1
        }
        return value
    }

    private static func encodeUTF8(
        _ scalar: UInt32, into out: inout (UInt8, UInt8, UInt8, UInt8), result: inout ScannedString
    ) -> Int {
        switch scalar {
        case 0..<0x80:
            out.0 = UInt8(scalar)
            if scalar == 0 { result.hasNUL = true }
            return 1
        case 0x80..<0x800:
            out.0 = 0xC0 | UInt8(scalar >> 6)
            out.1 = 0x80 | UInt8(scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            out.0 = 0xE0 | UInt8(scalar >> 12)
            out.1 = 0x80 | UInt8(scalar >> 6 & 0x3F)
            out.2 = 0x80 | UInt8(scalar & 0x3F)
            return 3
        default:
            out.0 = 0xF0 | UInt8(scalar >> 18)
            out.1 = 0x80 | UInt8(scalar >> 12 & 0x3F)
            out.2 = 0x80 | UInt8(scalar >> 6 & 0x3F)
            out.3 = 0x80 | UInt8(scalar & 0x3F)
            return 4
        }
    }

    /// The length of the well-formed UTF-8 sequence at `position` (whose first byte is
    /// 0x80 or above): no overlong forms, no surrogates, nothing above U+10FFFF.
    private func validateUTF8Sequence() throws(EventSyntaxError) -> Int {
        let first = self.bytes[self.position]
        let length: Int
        var secondLow: UInt8 = 0x80
        var secondHigh: UInt8 = 0xBF
        switch first {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondLow = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondHigh = 0x9F
        case 0xF0: length = 4; secondLow = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondHigh = 0x8F
        default: throw .invalidUTF8
        }
        guard self.end - self.position >= length else { throw .invalidUTF8 }
        let second = self.bytes[self.position + 1]
        guard second >= secondLow, second <= secondHigh else { throw .invalidUTF8 }
        for offset in 2..<length where self.bytes[self.position + offset] & 0xC0 != 0x80 { throw .invalidUTF8 }
        return length
    }

    // MARK: Numbers

    /// Scans the number at `position` (a `-` or a digit) by the JSON grammar.
    mutating func scanNumber() throws(EventSyntaxError) -> ScannedNumber {
        let start = self.position
        var isInteger = true
        if self.bytes[self.position] == UInt8(ascii: "-") { self.position += 1 }
        guard self.position < self.end else { throw .unexpectedEnd }
        if self.bytes[self.position] == UInt8(ascii: "0") {
            self.position += 1
        } else if self.skipDigits() == 0 {
            throw .invalidNumber
        }
        if self.position < self.end, self.bytes[self.position] == UInt8(ascii: ".") {
            isInteger = false
            self.position += 1
            guard self.skipDigits() > 0 else { throw .invalidNumber }
        }
        if self.position < self.end, self.bytes[self.position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            self.position += 1
            if self.position < self.end, self.bytes[self.position] == UInt8(ascii: "+") || self.bytes[self.position] == UInt8(ascii: "-") {
                self.position += 1
            }
            guard self.skipDigits() > 0 else { throw .invalidNumber }
        }
        return ScannedNumber(start: start, end: self.position, isInteger: isInteger)
    }

    private mutating func skipDigits() -> Int {
        let start = self.position
        while self.position < self.end, self.bytes[self.position] &- UInt8(ascii: "0") < 10 { self.position += 1 }
        return self.position - start
    }

    /// An integer number's value, or nil outside int64.
    func integerValue(_ number: ScannedNumber) -> Int64? {
        var index = number.start
        let negative = self.bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var magnitude: UInt64 = 0
        while index < number.end {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(self.bytes[index] &- UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return Int64(bitPattern: 0 &- magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// A number's value as a double, correctly rounded: exactly when the digits and the power
    /// of ten fit a double (Clinger's fast path), else strtod in the C locale on a copy in the
    /// arena. Infinite when it overflows.
    mutating func doubleValue(_ number: ScannedNumber) -> Double {
        var index = number.start
        let negative = self.bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var fastPath = true
        var inFraction = false
        while index < number.end {
            let byte = self.bytes[index]
            if byte == UInt8(ascii: ".") {
                inFraction = true
            } else if byte | 0x20 == UInt8(ascii: "e") {
                index += 1
                break
            } else {
                if mantissa != 0 || byte != UInt8(ascii: "0") { significantDigits += 1 }
                if significantDigits > 19 { fastPath = false }
                mantissa = mantissa &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
                if inFraction { exponent -= 1 }
            }
            index += 1
        }
        if index < number.end {
            var exponentNegative = false
            if self.bytes[index] == UInt8(ascii: "+") || self.bytes[index] == UInt8(ascii: "-") {
                exponentNegative = self.bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var explicit = 0
            while index < number.end {
                if explicit < 100_000 { explicit = explicit * 10 + Int(self.bytes[index] &- UInt8(ascii: "0")) }
                index += 1
            }
            exponent += exponentNegative ? -explicit : explicit
        }
        if fastPath, mantissa < 1 << 53, abs(exponent) <= 22 {
            let power = EventNumberParsing.exactPowerOfTen(abs(exponent))
            let magnitude = exponent < 0 ? Double(mantissa) / power : Double(mantissa) * power
            return negative ? -magnitude : magnitude
        }
        // Scratch space past the arena's contents, not kept.
        let length = number.end - number.start
        self.arena.reserve(length + 1)
        let scratch = self.arena.base + self.arena.used
        scratch.update(from: self.bytes + number.start, count: length)
        scratch[length] = 0
        return scratch.withMemoryRebound(to: CChar.self, capacity: length + 1) {
            EventNumberParsing.strtodC($0)
        }
    }

    // MARK: Any value

    /// Skips the value at `position` (after whitespace), checking it is valid JSON.
    mutating func skipValue() throws(EventSyntaxError) -> SkippedValue {
        var depth = 0
        var result = SkippedValue(depth: 0, loneSurrogate: false)
        nextValue: while true {
            guard let byte = self.peek() else { throw .unexpectedEnd }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard depth < Self.maximumNesting else { throw .tooDeep }
                let isObject = byte == UInt8(ascii: "{")
                self.setContainer(depth, isObject: isObject)
                depth += 1
                result.depth = max(result.depth, depth)
                self.position += 1
                guard let next = self.peek() else { throw .unexpectedEnd }
                if next == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    self.position += 1
                    depth -= 1
                } else {
                    if isObject { try self.skipMemberName(&result) }
                    continue nextValue
                }
            case UInt8(ascii: "\""):
                if try self.scanString(copy: false).loneSurrogate { result.loneSurrogate = true }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                _ = try self.scanNumber()
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                _ = try self.scanLiteral()
            default:
                throw .unexpectedByte
            }
            // After a value: close containers until one goes on with a comma.
            while depth > 0 {
                guard let next = self.peek() else { throw .unexpectedEnd }
                let isObject = self.isObject(depth - 1)
                if next == UInt8(ascii: ",") {
                    self.position += 1
                    if isObject { try self.skipMemberName(&result) }
                    continue nextValue
                }
                guard next == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else { throw .unexpectedByte }
                self.position += 1
                depth -= 1
            }
            return result
        }
    }

    /// `"name" :` inside an object being skipped.
    private mutating func skipMemberName(_ result: inout SkippedValue) throws(EventSyntaxError) {
        guard let next = self.peek() else { throw .unexpectedEnd }
        guard next == UInt8(ascii: "\"") else { throw .unexpectedByte }
        if try self.scanString(copy: false).loneSurrogate { result.loneSurrogate = true }
        try self.expect(UInt8(ascii: ":"))
    }

    @inline(__always)
    private func setContainer(_ level: Int, isObject: Bool) {
        let bit: UInt64 = 1 << UInt64(level & 63)
        if isObject { self.stack[level >> 6] |= bit } else { self.stack[level >> 6] &= ~bit }
    }

    @inline(__always)
    private func isObject(_ level: Int) -> Bool {
        self.stack[level >> 6] & (1 << UInt64(level & 63)) != 0
    }
}
