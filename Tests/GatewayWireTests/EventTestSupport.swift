#if canImport(Glibc)
import Glibc
#endif
import GatewayWire
import XCTest

/// A decoded argument as a comparable value (doubles compared bit for bit).
enum EventValue: Equatable, CustomStringConvertible {
    case string(String)
    case bytes([UInt8])
    case integer(Int64)
    case number(UInt64)
    case boolean(Bool)
    case json(String)

    static func double(_ value: Double) -> EventValue { .number(value.bitPattern) }

    var description: String {
        switch self {
        case .string(let text): return "s\(text.debugDescription)"
        case .bytes(let bytes): return "S\(bytes)"
        case .integer(let value): return "i\(value)"
        case .number(let bits): return "d\(Double(bitPattern: bits))"
        case .boolean(let flag): return "b\(flag)"
        case .json(let text): return "j\(text)"
        }
    }
}

/// The events most tests decode against.
func makeEventTable() -> EventTable {
    var table = EventTable()
    let declarations = [
        ("say", "s:room s:text"), ("add", "i:a i:b"), ("ping", ""), ("all", "s:s S:bytes i:int d:num b:flag j:json"),
        ("blob", "S:data"), ("raw", "j:value"), ("num", "d:x"), ("mixed", "i s:named"), ("flag", "b:on"),
    ]
    for (name, signature) in declarations {
        XCTAssertNoThrow(try table.declare(name: name, signature: EventSignature(parsing: signature)))
    }
    return table
}

extension EventDecoder {
    /// Decodes `text` (UTF-8).
    mutating func decode(_ text: String, table: EventTable) -> EventDecodeResult {
        self.decode(Array(text.utf8), table: table)
    }

    /// The bound arguments as values, checking the invariants of each type on the way: text
    /// is NUL-terminated, `s` has no NUL inside.
    func values(file: StaticString = #filePath, line: UInt = #line) -> [EventValue] {
        self.arguments.map { argument in
            switch argument.type {
            case .string, .bytes, .json:
                guard let text = argument.text else {
                    XCTFail("a text argument without text", file: file, line: line)
                    return .string("")
                }
                let bytes = Array(argument.bytes)
                XCTAssertEqual(UnsafeRawPointer(text).load(fromByteOffset: argument.length, as: UInt8.self), 0, "not NUL-terminated",
                    file: file, line: line)
                if argument.type == .string {
                    XCTAssertEqual(strlen(text), argument.length, "an s argument with a NUL inside", file: file, line: line)
                    return .string(String(decoding: bytes, as: UTF8.self))
                }
                if argument.type == .json { return .json(String(decoding: bytes, as: UTF8.self)) }
                return .bytes(bytes)
            case .integer: return .integer(argument.integer)
            case .number: return .number(argument.number.bitPattern)
            case .boolean: return .boolean(argument.boolean)
            }
        }
    }
}

extension EventDecodeResult {
    /// The error frame as text.
    var frameText: String? {
        self.error.map { String(decoding: $0.frame(), as: UTF8.self) }
    }
}
