import GatewayWire
import GatewayTestSupport
import XCTest

/// The decoder's steady state allocates nothing: 100 000 decodes of every form and type,
/// counted in a child process (`AllocationCountingChild`).
final class EventDecoderAllocationTests: XCTestCase {
    private static let decodes = 100_000

    /// Messages of every form and argument type, with escapes, an acknowledgement, a slow-path
    /// double and a raw JSON value.
    static let messages = [
        #"["add", 2, 3]"#,
        #"["say", "room1", "hello \"world\" \u00e9\ud83d\ude00"]"#,
        #"{"event": "say", "room": "room1", "text": "hi", "ack": 7}"#,
        #"{"text": "hi", "room": "r", "event": "say"}"#,
        #"{"event": "add", "args": [2, 3], "ack": -1}"#,
        #"["all", "s", "S\u0000", -9223372036854775808, 0.30000000000000004, true, {"k": [1, 2.5, null]}]"#,
        #"{"event":"all","json":[],"flag":false,"num":1e-7,"int":42,"bytes":"","s":"x","ignored":{"a":[1,2]}}"#,
        #"["num", 1.5]"#,
        #"["ping"]"#,
    ]

    func testSteadyStateDecodingDoesNotAllocate() throws {
        let text = try AllocationCountingChild.report(of: "GatewayWireTests.EventDecoderAllocationTests/testChildDecodesWithoutAllocating")
        XCTAssertEqual(text, "decodes=\(Self.decodes) allocations=0", text)
    }

    /// Run by `testSteadyStateDecodingDoesNotAllocate` in a child process; does nothing
    /// otherwise.
    func testChildDecodesWithoutAllocating() throws {
        guard let child = try AllocationCountingChild.attach() else { return }
        let table = makeEventTable()
        let messages = Self.messages.map { Array($0.utf8) }
        let expected = messages.map { message -> EventDecodeResult in
            var decoder = EventDecoder()
            return decoder.decode(message, table: table)
        }
        for result in expected {
            guard case .event = result else { return XCTFail("not an event: \(result)") }
        }

        var decoder = EventDecoder()
        var failures = 0
        var checksum: Int64 = 0
        let allocations = try messages.withUnsafeBufferPointer { messages in
            try child.fewestAllocations {
                for round in 0..<Self.decodes {
                    let message = messages[round % messages.count]
                    let result = message.withUnsafeBytes { decoder.decode($0, table: table) }
                    guard case .event(let index, _) = result else {
                        failures += 1
                        continue
                    }
                    checksum &+= Int64(index) &+ Int64(decoder.arguments.count)
                    for argument in decoder.arguments { checksum &+= argument.integer &+ Int64(argument.length) }
                }
            }
        }
        XCTAssertEqual(failures, 0)
        XCTAssertNotEqual(checksum, 0)
        try child.finish(reporting: "decodes=\(Self.decodes) allocations=\(allocations)")
    }
}
