// The SDK's own small JSON reader and writer for typed events. Incoming events are read here
// rather than with Foundation's JSONDecoder because the error frames of docs/events.md need
// what JSONDecoder does not tell: which argument failed and what it expected, whether a number
// was written as an integer, and the text of a raw-JSON argument as the client sent it.

/// A message's bytes and the JSON values parsed from them.
struct JSONDocument {
    let bytes: [UInt8]

    /// The text of `range`, as sent.
    func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    /// `node` as a JSON integer within Int64 (no fraction, no exponent: the "ack" rule), or nil.
    func integer(_ node: JSONNode) -> Int64? {
        guard case .number = node.value else { return nil }
        let digits = bytes[node.range]
        guard !digits.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") })
        else { return nil }
        return Int64(String(decoding: digits, as: UTF8.self))
    }
}

/// One parsed JSON value and where its text is in the document.
struct JSONNode {
    enum Value {
        case null
        case bool(Bool)
        /// A number: its text (the node's range) is JSON number syntax.
        case number
        case string(String)
        case array([JSONNode])
        case object([JSONMember])
    }

    var value: Value
    var range: Range<Int>

    /// Levels of arrays and objects: 0 for a scalar, 1 for `[1]`, 2 for `[[1]]`.
    var depth: Int {
        switch value {
        case .array(let elements): 1 + (elements.map(\.depth).max() ?? 0)
        case .object(let members): 1 + (members.map(\.value.depth).max() ?? 0)
        default: 0
        }
    }

    var string: String? {
        if case .string(let string) = value { return string }
        return nil
    }

    /// The value of the last member named `key` (JSON.parse keeps the last of duplicates).
    func member(_ key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        return members.last { $0.key == key }?.value
    }
}

struct JSONMember {
    let key: String
    let value: JSONNode
}

/// A strict RFC 8259 parser over UTF-8 bytes. Recursive, so nesting is bounded.
struct JSONParser {
    /// Deeper nesting is refused as invalid: it bounds the parser's (and the decoders') stack
    /// use. Event arguments are held to 64 levels separately (docs/events.md).
    static let maximumDepth = 256

    struct SyntaxError: Error {}

    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The one JSON value that `bytes` holds, with JSON whitespace around it; nil when the text
    /// is not exactly one JSON value.
    static func parse(_ bytes: [UInt8]) -> JSONNode? {
        var parser = JSONParser(bytes)
        do throws(SyntaxError) {
            parser.skipWhitespace()
            let node = try parser.value()
            parser.skipWhitespace()
            return parser.position == bytes.count ? node : nil
        } catch {
            return nil
        }
    }

    /// For text that is not valid JSON: the event name, if the text began like an event far
    /// enough to name one — an array whose first element is a complete string, or an object in
    /// which a string member "event" was read before the error — and the object's "ack", if a
    /// valid one was read too.
    static func eventName(inBroken bytes: [UInt8]) -> (name: String, ack: Int64?)? {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        guard parser.position < bytes.count else { return nil }
        switch bytes[parser.position] {
        case UInt8(ascii: "["):
            parser.position += 1
            parser.skipWhitespace()
            return (try? parser.string()).map { ($0, nil) }
        case UInt8(ascii: "{"):
            parser.position += 1
            var name: String?
            var ack: Int64?
            do throws(SyntaxError) {
                while true {
                    parser.skipWhitespace()
                    let key = try parser.string()
                    parser.skipWhitespace()
                    try parser.expect(UInt8(ascii: ":"))
                    parser.skipWhitespace()
                    let value = try parser.value()
                    if key == "event", let string = value.string { name = string }
                    if key == "ack" { ack = JSONDocument(bytes: bytes).integer(value) }
                    parser.skipWhitespace()
                    try parser.expect(UInt8(ascii: ","))
                }
            } catch {
                return name.map { ($0, ack) }
            }
        default:
            return nil
        }
    }

    /// The first byte that is not JSON whitespace, or nil.
    static func firstSignificantByte(_ bytes: UnsafeRawBufferPointer) -> UInt8? {
        bytes.first { !isWhitespace($0) }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, JSONParser.isWhitespace(bytes[position]) { position += 1 }
    }

    private var next: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func expect(_ byte: UInt8) throws(SyntaxError) {
        guard next == byte else { throw SyntaxError() }
        position += 1
    }

    private mutating func value() throws(SyntaxError) -> JSONNode {
        let start = position
        guard let byte = next else { throw SyntaxError() }
        switch byte {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return JSONNode(value: .string(try string()), range: start..<position)
        case UInt8(ascii: "t"): try literal("true"); return JSONNode(value: .bool(true), range: start..<position)
        case UInt8(ascii: "f"): try literal("false"); return JSONNode(value: .bool(false), range: start..<position)
        case UInt8(ascii: "n"): try literal("null"); return JSONNode(value: .null, range: start..<position)
        default:
            try number()
            return JSONNode(value: .number, range: start..<position)
        }
    }

    private mutating func literal(_ word: StaticString) throws(SyntaxError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw SyntaxError() }
        for offset in 0..<count where bytes[position + offset] != word.utf8Start[offset] { throw SyntaxError() }
        position += count
    }

    private mutating func enter() throws(SyntaxError) {
        depth += 1
        if depth > JSONParser.maximumDepth { throw SyntaxError() }
        position += 1
    }

    private mutating func object() throws(SyntaxError) -> JSONNode {
        let start = position
        try enter()
        var members: [JSONMember] = []
        skipWhitespace()
        if next == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                skipWhitespace()
                let key = try string()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                members.append(JSONMember(key: key, value: try value()))
                skipWhitespace()
                if next == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "}"))
                break
            }
        }
        depth -= 1
        return JSONNode(value: .object(members), range: start..<position)
    }

    private mutating func array() throws(SyntaxError) -> JSONNode {
        let start = position
        try enter()
        var elements: [JSONNode] = []
        skipWhitespace()
        if next == UInt8(ascii: "]") {
            position += 1
        } else {
            while true {
                skipWhitespace()
                elements.append(try value())
                skipWhitespace()
                if next == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "]"))
                break
            }
        }
        depth -= 1
        return JSONNode(value: .array(elements), range: start..<position)
    }

    private mutating func digits() throws(SyntaxError) {
        let start = position
        while let byte = next, (0x30...0x39).contains(byte) { position += 1 }
        if position == start { throw SyntaxError() }
    }

    private mutating func number() throws(SyntaxError) {
        if next == UInt8(ascii: "-") { position += 1 }
        if next == UInt8(ascii: "0") {
            position += 1
        } else {
            try digits()
        }
        if next == UInt8(ascii: ".") {
            position += 1
            try digits()
        }
        if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            position += 1
            if next == UInt8(ascii: "+") || next == UInt8(ascii: "-") { position += 1 }
            try digits()
        }
    }

    private mutating func string() throws(SyntaxError) -> String {
        try expect(UInt8(ascii: "\""))
        let start = position
        // The common case: no escapes, one copy.
        while let byte = next, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            if byte < 0x20 { throw SyntaxError() }
            position += 1
        }
        guard let stop = next else { throw SyntaxError() }
        if stop == UInt8(ascii: "\"") {
            position += 1
            return String(decoding: bytes[start..<(position - 1)], as: UTF8.self)
        }
        var utf8 = Array(bytes[start..<position])
        while true {
            guard let byte = next else { throw SyntaxError() }
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try escape(into: &utf8)
            case ..<0x20:
                throw SyntaxError()
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func escape(into utf8: inout [UInt8]) throws(SyntaxError) {
        guard let byte = next else { throw SyntaxError() }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try hex4())
            if (0xD800..<0xDC00).contains(scalar), bytes.count - position >= 6,
               bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                let save = position
                position += 2
                let low = UInt32(try hex4())
                if (0xDC00..<0xE000).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    position = save  // a lone high surrogate; the next escape stands alone
                }
            }
            // A lone surrogate is not a Unicode scalar: it reads as U+FFFD.
            utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
        default:
            throw SyntaxError()
        }
    }

    private mutating func hex4() throws(SyntaxError) -> UInt16 {
        guard bytes.count - position >= 4 else { throw SyntaxError() }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw SyntaxError()
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }
}

// MARK: - Writing the SDK's own frames

/// Appends `string` as a JSON string: quotes, and escapes for `"`, `\` and control characters.
func appendJSONString(_ string: String, to output: inout String) {
    output.append("\"")
    var plainStart = string.utf8.startIndex
    var index = plainStart
    let utf8 = string.utf8
    while index != utf8.endIndex {
        let byte = utf8[index]
        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
            output.append(contentsOf: string[plainStart..<index])
            switch byte {
            case UInt8(ascii: "\""): output.append("\\\"")
            case UInt8(ascii: "\\"): output.append("\\\\")
            case 0x0A: output.append("\\n")
            case 0x0D: output.append("\\r")
            case 0x09: output.append("\\t")
            default:
                let hex = String(byte, radix: 16)
                output.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            }
            index = utf8.index(after: index)
            plainStart = index
        } else {
            index = utf8.index(after: index)
        }
    }
    output.append(contentsOf: string[plainStart..<utf8.endIndex])
    output.append("\"")
}

func jsonString(_ string: String) -> String {
    var output = ""
    appendJSONString(string, to: &output)
    return output
}
