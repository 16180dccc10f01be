import GatewayWire
import XCTest

final class EventSignatureTests: XCTestCase {
    private func error(_ text: String) -> EventSignatureError? {
        do {
            _ = try EventSignature(parsing: text)
            return nil
        } catch {
            return error
        }
    }

    func testParses() throws {
        let say = try EventSignature(parsing: "s:room s:text")
        XCTAssertEqual(say.types, [.string, .string])
        XCTAssertEqual(say.names, ["room", "text"])
        XCTAssertEqual(say.description, "s:room s:text")

        let add = try EventSignature(parsing: "i i")
        XCTAssertEqual(add.types, [.integer, .integer])
        XCTAssertEqual(add.names, [nil, nil])

        XCTAssertEqual(try EventSignature(parsing: "").count, 0)
        XCTAssertEqual(try EventSignature(parsing: "   ").count, 0)
        let spaced = try EventSignature(parsing: "  s   S:Raw_2 i:_ d b:B j:json_value_0  ")
        XCTAssertEqual(spaced.types, [.string, .bytes, .integer, .number, .boolean, .json])
        XCTAssertEqual(spaced.names, [nil, "Raw_2", "_", nil, "B", "json_value_0"])
        XCTAssertEqual(spaced.description, "s S:Raw_2 i:_ d b:B j:json_value_0")
        XCTAssertEqual(try EventSignature(parsing: spaced.description), spaced)
        XCTAssertEqual(try EventSignature(parsing: String(repeating: "j ", count: 16)).count, 16)
        XCTAssertEqual(try EventSignature(parsing: "s:" + String(repeating: "n", count: 64)).names, [String(repeating: "n", count: 64)])
        XCTAssertEqual(
            try EventSignature(types: [.integer, .json], names: ["a", nil]), try EventSignature(parsing: "i:a j"))
    }

    func testErrors() {
        XCTAssertEqual(self.error("s x"), EventSignatureError(kind: .unknownType, item: 2, text: "x"))
        XCTAssertEqual(self.error("s:a si:b"), EventSignatureError(kind: .unknownType, item: 2, text: "si"))
        XCTAssertEqual(self.error("I"), EventSignatureError(kind: .unknownType, item: 1, text: "I"))
        XCTAssertEqual(self.error("s\ti"), EventSignatureError(kind: .unknownType, item: 1, text: "s\ti"))
        XCTAssertEqual(self.error("é"), EventSignatureError(kind: .unknownType, item: 1, text: "é"))
        XCTAssertEqual(self.error("s :room"), EventSignatureError(kind: .missingType, item: 2, text: ":room"))
        XCTAssertEqual(self.error("s:"), EventSignatureError(kind: .malformedName, item: 1, text: ""))
        XCTAssertEqual(self.error("s:a-b"), EventSignatureError(kind: .malformedName, item: 1, text: "a-b"))
        XCTAssertEqual(self.error("s:a:b"), EventSignatureError(kind: .malformedName, item: 1, text: "a:b"))
        XCTAssertEqual(self.error("i s:é"), EventSignatureError(kind: .malformedName, item: 2, text: "é"))
        let long = String(repeating: "n", count: 65)
        XCTAssertEqual(self.error("s:\(long)"), EventSignatureError(kind: .malformedName, item: 1, text: long))
        for reserved in ["event", "ack", "args"] {
            XCTAssertEqual(self.error("i s:\(reserved)"), EventSignatureError(kind: .reservedName, item: 2, text: reserved))
        }
        XCTAssertEqual(self.error("s:room i s:room"), EventSignatureError(kind: .duplicateName, item: 3, text: "room"))
        XCTAssertEqual(self.error(String(repeating: "i ", count: 17)), EventSignatureError(kind: .tooManyArguments, item: 17, text: "i"))

        XCTAssertEqual(self.error("s x")?.description, "argument 2: unknown type letter \"x\" (expected one of s S i d b j)")
        XCTAssertEqual(self.error("s:a-b")?.description, "argument 1: malformed field name \"a-b\" (1 to 64 bytes of A-Z a-z 0-9 _)")
        XCTAssertEqual(self.error("s:ack")?.description, "argument 1: field name \"ack\" is reserved (event, ack, args)")
        XCTAssertEqual(self.error("s:a i:a")?.description, "argument 2: field name \"a\" is used twice")
        XCTAssertEqual(self.error(String(repeating: "i ", count: 17))?.description, "more than 16 arguments")
        XCTAssertEqual(self.error(":a")?.description, "argument 1: \":a\" has no type letter before ':'")
    }
}

final class EventTableTests: XCTestCase {
    func testDeclareAndFind() throws {
        var table = EventTable()
        XCTAssertEqual(table.count, 0)
        XCTAssertNil(table.index(ofName: "say"))
        let say = try EventSignature(parsing: "s:room s:text")
        XCTAssertEqual(try table.declare(name: "say", signature: say), 0)
        XCTAssertEqual(try table.declare(name: "ping", signature: EventSignature(parsing: "")), 1)
        XCTAssertEqual(table.count, 2)
        XCTAssertEqual(table[0].name, "say")
        XCTAssertEqual(table[0].signature, say)
        XCTAssertEqual(table.index(ofName: "say"), 0)
        XCTAssertEqual(table.index(ofName: "ping"), 1)
        XCTAssertNil(table.index(ofName: "sa"))
        XCTAssertNil(table.index(ofName: "says"))
        XCTAssertNil(table.index(ofName: ""))
        XCTAssertNil(table.index(ofName: "Say"))
        let bytes: [UInt8] = Array("xxpingxx".utf8)
        bytes.withUnsafeBytes { buffer in
            XCTAssertEqual(table.index(ofName: UnsafeRawBufferPointer(rebasing: buffer[2..<6])), 1)
            XCTAssertNil(table.index(ofName: UnsafeRawBufferPointer(rebasing: buffer[2..<5])))
        }
    }

    func testErrors() throws {
        var table = EventTable()
        let none = try EventSignature(parsing: "")
        XCTAssertThrowsError(try table.declare(name: "", signature: none)) { XCTAssertEqual($0 as? EventTableError, .emptyName) }
        let long = String(repeating: "é", count: 33)
        XCTAssertThrowsError(try table.declare(name: long, signature: none)) {
            XCTAssertEqual($0 as? EventTableError, .nameTooLong(long))
        }
        XCTAssertEqual(try table.declare(name: String(repeating: "é", count: 32), signature: none), 0)
        XCTAssertEqual(try table.declare(name: "say", signature: none), 1)
        XCTAssertThrowsError(try table.declare(name: "say", signature: try EventSignature(parsing: "i"))) {
            XCTAssertEqual($0 as? EventTableError, .exists("say"))
            XCTAssertEqual("\($0)", "an event named \"say\" is already declared")
        }
        XCTAssertEqual(table.count, 2)
        XCTAssertEqual(table[1].signature.count, 0)
    }

    func testManyEvents() throws {
        var table = EventTable()
        let signature = try EventSignature(parsing: "i")
        for index in 0..<1000 {
            XCTAssertEqual(try table.declare(name: "event\(index)", signature: signature), index)
        }
        for index in 0..<1000 {
            XCTAssertEqual(table.index(ofName: "event\(index)"), index)
        }
        XCTAssertNil(table.index(ofName: "event1000"))
        XCTAssertNil(table.index(ofName: "event-1"))
    }
}
