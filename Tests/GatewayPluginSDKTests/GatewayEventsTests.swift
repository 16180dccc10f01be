import CGatewayABI
import Foundation
import GatewayPluginSDK
import XCTest

struct Add: Decodable, Equatable {
    let a: Int
    let b: Int
}

struct Sum: Encodable {
    let sum: Int
}

struct Say: Decodable, Equatable {
    let room: String
    let text: String
}

/// Every kind of argument, and two optional ones.
struct Everything: Decodable, Equatable {
    let s: String
    let i: Int64
    let d: Double
    let b: Bool
    let j: RawJSON
    let note: String?
    let small: UInt8?
}

struct Point: Codable, Equatable {
    let x: Int
    let y: Int
}

struct Shape: Decodable, Equatable {
    let name: String
    let points: [Point]
}

/// A type that checks its own argument.
struct Positive: Decodable {
    let n: Int

    enum CodingKeys: CodingKey { case n }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        n = try container.decode(Int.self, forKey: .n)
        guard n > 0 else { throw DecodingError.dataCorruptedError(forKey: .n, in: container, debugDescription: "must be positive") }
    }
}

struct Refusal: Error {}

/// A class whose superclass decodes from `superDecoder()`, as JSONDecoder lays it out.
class Base: Decodable {
    let id: Int
}

final class Derived: Base, @unchecked Sendable {
    let name: String

    enum CodingKeys: CodingKey { case name }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        try super.init(from: container.superDecoder())
    }
}

/// Typed events in the Swift SDK (`Gateway.on`, `Gateway.emit`, docs/events.md): the SDK reads
/// text messages before the plugin's `message(...)`, decodes the arguments, answers acks and
/// error frames through the ordinary sends, and never calls the host's event entries.
final class GatewayEventsTests: GatewayCallTestCase {
    /// What the handlers saw.
    nonisolated(unsafe) static var received: [String] = []

    override func setUp() {
        super.setUp()
        GatewayEventsTests.received = []
    }

    override func tearDown() {
        XCTAssertFalse(fakeHost.calls.contains { $0.function.hasPrefix("event_") }, "the SDK never calls event_on/result/emit")
        super.tearDown()
    }

    /// Registers ``ScriptedPlugin`` and starts it with `declare` run in workerStarted.
    func start(_ declare: @escaping (Gateway) throws -> Void) throws -> UnsafePointer<gwd_plugin> {
        let descriptor = try register(ScriptedPlugin.self)
        ScriptedPlugin.start = declare
        XCTAssertEqual(descriptor.pointee.on_worker_start?(FakeHost.context), 0)
        ScriptedPlugin.events = []
        return descriptor
    }

    /// The usual plugin: add (with a result when asked), say, and events that throw.
    func startChat() throws -> UnsafePointer<gwd_plugin> {
        try start { gateway in
            try gateway.on("add") { (_, _, add: Add) in
                GatewayEventsTests.received.append("add \(add.a) \(add.b)")
            }
            try gateway.on("sum") { (_, _, add: Add) -> Sum in Sum(sum: add.a + add.b) }
            try gateway.on("say") { (gateway, client, say: Say) in
                GatewayEventsTests.received.append("say \(client) \(say.room) \(say.text)")
                try gateway.emit("said", to: .group(say.room), say.room, say.text)
            }
            try gateway.on("fail") { (_, _, code: Int32) in
                throw GatewayError(code: GatewayError.Code(rawValue: code), message: "asked to fail")
            }
            try gateway.on("refuse") { (_, _) in throw Refusal() }
        }
    }

    /// Delivers `text` from client A and returns the host calls that made.
    func send(_ text: String, to descriptor: UnsafePointer<gwd_plugin>) -> [HostCall] {
        fakeHost.calls = []
        deliver(.text(text), to: descriptor)
        return fakeHost.calls
    }

    /// A frame to the sender.
    func frame(_ text: String) -> HostCall {
        HostCall(function: "send_to_current_client", data: text, bytes: Array(text.utf8))
    }

    // MARK: The three forms

    func testTheArrayFormDecodesPositionalArguments() throws {
        let plugin = try startChat()
        XCTAssertEqual(send(#"["add", 2, 3]"#, to: plugin), [])
        XCTAssertEqual(send(" \n[\"add\",-7,9223372036854775807]\t", to: plugin), [], "whitespace around")
        XCTAssertEqual(GatewayEventsTests.received, ["add 2 3", "add -7 9223372036854775807"])
        XCTAssertEqual(ScriptedPlugin.messages, [], "message(...) sees no event")
    }

    func testTheObjectFormDecodesByFieldNames() throws {
        let plugin = try startChat()
        XCTAssertEqual(send(#"{"b": 3, "other": [true], "event": "add", "a": 2}"#, to: plugin), [])
        XCTAssertEqual(GatewayEventsTests.received, ["add 2 3"], "by name, whatever the order; other members ignored")
        XCTAssertEqual(ScriptedPlugin.messages, [])
    }

    func testTheObjectFormWithArgsIsPositional() throws {
        let plugin = try startChat()
        XCTAssertEqual(send(#"{"event": "add", "args": [4, 5]}"#, to: plugin), [])
        XCTAssertEqual(send(#"{"args": [6, 7], "a": 100, "event": "add"}"#, to: plugin), [], "args wins over names")
        XCTAssertEqual(GatewayEventsTests.received, ["add 4 5", "add 6 7"])
    }

    func testTheHandlerGetsTheSenderAndCanEmit() throws {
        let plugin = try startChat()
        let said = #"["said","room 1","hi \"you\""]"#
        XCTAssertEqual(send(#"["say", "room 1", "hi \"you\""]"#, to: plugin),
                       [HostCall(function: "send_to_group", name: "room 1", data: said, bytes: Array(said.utf8))])
        XCTAssertEqual(GatewayEventsTests.received, [#"say \#(clientA) room 1 hi "you""#])
    }

    func testEveryArgumentKind() throws {
        var got: [Everything] = []
        let plugin = try start { gateway in
            try gateway.on("types") { (_, _, all: Everything) in got.append(all) }
        }
        let j = #"{"k": [1, 2.50, null], "é": "\u00e9"}"#
        XCTAssertEqual(send(#"["types", "s\u00e9\ud83d\ude00\n", -42, 2.5e3, true, \#(j)]"#, to: plugin), [])
        XCTAssertEqual(send(#"{"event": "types", "s": "", "i": 0, "d": -1, "b": false, "j": "text", "note": null, "small": 255}"#,
                            to: plugin), [])
        XCTAssertEqual(send(#"["types", "x", 1, 0.5, true, null, "a note"]"#, to: plugin), [])
        XCTAssertEqual(got, [
            Everything(s: "sé😀\n", i: -42, d: 2500, b: true, j: try RawJSON(j), note: nil, small: nil),
            Everything(s: "", i: 0, d: -1, b: false, j: try RawJSON(#""text""#), note: nil, small: 255),
            Everything(s: "x", i: 1, d: 0.5, b: true, j: try RawJSON("null"), note: "a note", small: nil),
        ])
        XCTAssertEqual(got.first?.j.text, j, "raw JSON as the client wrote it")
    }

    func testNestedStructuresAndOtherArgumentShapes() throws {
        var shapes: [Shape] = []
        var lists: [[Int]] = []
        var texts: [String] = []
        var pings = 0
        let plugin = try start { gateway in
            try gateway.on("shape") { (_, _, shape: Shape) in shapes.append(shape) }
            try gateway.on("list") { (_, _, list: [Int]) in lists.append(list) }
            try gateway.on("text") { (_, _, text: String) in texts.append(text) }
            try gateway.on("ping") { (_, _) in pings += 1 }
        }
        XCTAssertEqual(send(#"["shape", "tri", [{"x": 0, "y": 0}, {"y": 2, "x": 1}]]"#, to: plugin), [])
        XCTAssertEqual(send(#"{"event": "shape", "points": [], "name": "none"}"#, to: plugin), [])
        XCTAssertEqual(send(#"["list", 1, 2, 3]"#, to: plugin), [])
        XCTAssertEqual(send(#"{"event": "list", "args": []}"#, to: plugin), [])
        XCTAssertEqual(send(#"["text", "one"]"#, to: plugin), [])
        XCTAssertEqual(send(#"["ping"]"#, to: plugin), [])
        XCTAssertEqual(send(#"{"event": "ping", "extra": 1}"#, to: plugin), [])
        XCTAssertEqual(shapes, [Shape(name: "tri", points: [Point(x: 0, y: 0), Point(x: 1, y: 2)]), Shape(name: "none", points: [])])
        XCTAssertEqual(lists, [[1, 2, 3], []])
        XCTAssertEqual(texts, ["one"])
        XCTAssertEqual(pings, 2)

        // No names for a list or a single value: the named form is refused.
        XCTAssertEqual(send(#"{"event": "text", "text": "one"}"#, to: plugin), [frame(
            #"{"error":"bad_argument","event":"text","argument":1,"expected":"json","reason":"this event takes positional arguments (\"args\")"}"#)])
        XCTAssertEqual(send(#"["ping", 1]"#, to: plugin), [frame(#"{"error":"too_many_arguments","event":"ping","argument":1}"#)])
    }

    func testASubclassDecodesItsSuperclassFromSuper() throws {
        var got: [String] = []
        let plugin = try start { gateway in
            try gateway.on("derived") { (_, _, derived: Derived) in got.append("\(derived.name) \(derived.id)") }
            try gateway.on("nested") { (_, _, list: [Derived]) in got += list.map { "\($0.name) \($0.id)" } }
        }
        XCTAssertEqual(send(#"{"event": "derived", "name": "a", "super": {"id": 1}}"#, to: plugin), [])
        XCTAssertEqual(send(#"["derived", "b", {"id": 2}]"#, to: plugin), [])
        XCTAssertEqual(send(#"["nested", {"name": "c", "super": {"id": 3}}]"#, to: plugin), [])
        XCTAssertEqual(got, ["a 1", "b 2", "c 3"])
        XCTAssertEqual(send(#"["nested", {"name": "d"}]"#, to: plugin), [frame(
            #"{"error":"bad_argument","event":"nested","argument":1,"expected":"json","reason":"super: missing"}"#)])
    }

    func testAClientIDArgument() throws {
        struct Whisper: Decodable { let to: ClientID; let text: String }
        let plugin = try start { gateway in
            try gateway.on("whisper") { (gateway, client, whisper: Whisper) in
                try gateway.emit("whispered", to: .client(whisper.to), client, whisper.text)
            }
        }
        let whispered = #"["whispered","\#(clientA)","psst"]"#
        XCTAssertEqual(send(#"["whisper", "\#(clientB)", "psst"]"#, to: plugin),
                       [HostCall(function: "send_to_client", client: clientB, data: whispered, bytes: Array(whispered.utf8))])
        let refused = send(#"["whisper", "not-a-client", "psst"]"#, to: plugin)
        XCTAssertEqual(refused.map(\.function), ["send_to_current_client"])
        XCTAssertTrue(refused.first?.data?.hasPrefix(#"{"error":"bad_argument","event":"whisper","argument":1,"expected":"string","reason":"#) == true,
                      "\(refused)")
    }

    // MARK: Acknowledgements

    func testAnAckIsAnsweredOnceTheHandlerReturned() throws {
        let plugin = try startChat()
        XCTAssertEqual(send(#"{"event": "add", "a": 1, "b": 2, "ack": 7}"#, to: plugin), [frame(#"{"ack":7,"status":0}"#)])
        XCTAssertEqual(send(#"{"event": "add", "args": [1, 2], "ack": -9223372036854775808}"#, to: plugin),
                       [frame(#"{"ack":-9223372036854775808,"status":0}"#)])
        XCTAssertEqual(GatewayEventsTests.received, ["add 1 2", "add 1 2"])
    }

    func testTheHandlersResultGoesInTheAck() throws {
        let plugin = try startChat()
        XCTAssertEqual(send(#"{"event": "sum", "a": 2, "b": 3, "ack": 1}"#, to: plugin),
                       [frame(#"{"ack":1,"status":0,"result":{"sum":5}}"#)])
        XCTAssertEqual(send(#"["sum", 2, 3]"#, to: plugin), [], "no ack asked: the result is unused")

        let other = try start { gateway in
            try gateway.on("raw") { (_, _, raw: RawJSON) in raw }
            try gateway.on("maybe") { (_, _, n: Int) -> Int? in n > 0 ? n : nil }
            try gateway.on("nan") { (_, _) in Double.nan }
        }
        XCTAssertEqual(send(#"{"event": "raw", "args": [ {"a" : [1, 2.50]} ], "ack": 2}"#, to: other),
                       [frame(#"{"ack":2,"status":0,"result":{"a" : [1, 2.50]}}"#)], "raw JSON as it came")
        XCTAssertEqual(send(#"{"event": "maybe", "args": [4], "ack": 3}"#, to: other), [frame(#"{"ack":3,"status":0,"result":4}"#)])
        XCTAssertEqual(send(#"{"event": "maybe", "args": [0], "ack": 4}"#, to: other), [frame(#"{"ack":4,"status":0}"#)],
                       "a nil result is left out")
        let failed = send(#"{"event": "nan", "ack": 5}"#, to: other)
        XCTAssertEqual(failed.last, frame(#"{"ack":5,"status":11}"#), "a result that cannot be encoded: FAILED")
        XCTAssertEqual(failed.first?.function, "log")
    }

    func testAThrownErrorGivesItsStatus() throws {
        let plugin = try startChat()
        XCTAssertEqual(send(#"{"event": "fail", "args": [2], "ack": 8}"#, to: plugin), [frame(#"{"ack":8,"status":2}"#)])
        XCTAssertEqual(send(#"{"event": "fail", "args": [4242], "ack": 9}"#, to: plugin), [frame(#"{"ack":9,"status":4242}"#)])
        XCTAssertEqual(send(#"{"event": "refuse", "ack": 10}"#, to: plugin), [frame(#"{"ack":10,"status":11}"#)],
                       "any other error: GWD_ERR_FAILED")

        // Without an ack the error is logged instead.
        let logged = send(#"["refuse"]"#, to: plugin)
        XCTAssertEqual(logged.map(\.function), ["log"])
        XCTAssertEqual(logged.first?.data, "event refuse failed: Refusal()")
        XCTAssertEqual(logged.first?.flags, UInt32(GWD_LOG_WARNING))
        XCTAssertEqual(send(#"["fail", 5]"#, to: plugin).map(\.data), ["event fail failed: asked to fail (GWD_ERR_TIMEOUT)"])
    }

    func testAFailedSendInsideTheHandlerIsItsStatus() throws {
        let plugin = try startChat()
        fakeHost.statuses["send_to_group"] = Int32(GWD_ERR_TOO_LARGE.rawValue)
        let calls = send(#"{"event": "say", "room": "r", "text": "t", "ack": 3}"#, to: plugin)
        XCTAssertEqual(calls.map(\.function), ["send_to_group", "send_to_current_client"])
        XCTAssertEqual(calls.last, frame(#"{"ack":3,"status":9}"#))
    }

    // MARK: Error frames

    func testBadArguments() throws {
        let plugin = try startChat()
        let cases: [(String, String)] = [
            (#"["add", "1", 2]"#, #"{"error":"bad_argument","event":"add","argument":1,"expected":"integer","reason":"not an integer"}"#),
            (#"["add", 1, 2.5]"#, #"{"error":"bad_argument","event":"add","argument":2,"expected":"integer","reason":"not an integer"}"#),
            (#"["add", 1, 1e3]"#, #"{"error":"bad_argument","event":"add","argument":2,"expected":"integer","reason":"not an integer"}"#),
            (#"["add", 9223372036854775808, 1]"#,
             #"{"error":"bad_argument","event":"add","argument":1,"expected":"integer","reason":"out of range"}"#),
            (#"{"event": "add", "a": 1, "b": null, "ack": 7}"#,
             #"{"error":"bad_argument","event":"add","argument":2,"expected":"integer","reason":"not an integer","ack":7}"#),
            (#"{"event": "say", "room": "r", "text": {}}"#,
             #"{"error":"bad_argument","event":"say","argument":2,"expected":"string","reason":"not a string"}"#),
        ]
        for (message, error) in cases {
            XCTAssertEqual(send(message, to: plugin), [frame(error)], message)
        }
        XCTAssertEqual(GatewayEventsTests.received, [], "no handler ran")
        XCTAssertEqual(ScriptedPlugin.messages, [], "and message(...) saw none of them")
    }

    func testMissingAndTooManyArguments() throws {
        let plugin = try startChat()
        XCTAssertEqual(send(#"["add", 1]"#, to: plugin),
                       [frame(#"{"error":"missing_argument","event":"add","argument":2,"expected":"integer"}"#)])
        XCTAssertEqual(send(#"["add"]"#, to: plugin),
                       [frame(#"{"error":"missing_argument","event":"add","argument":1,"expected":"integer"}"#)])
        XCTAssertEqual(send(#"{"event": "add", "b": 1, "ack": 3}"#, to: plugin),
                       [frame(#"{"error":"missing_argument","event":"add","argument":1,"expected":"integer","ack":3}"#)],
                       "a named field is absent: its number is its position in the type")
        XCTAssertEqual(send(#"["add", 1, 2, 3]"#, to: plugin),
                       [frame(#"{"error":"too_many_arguments","event":"add","argument":3}"#)])
        XCTAssertEqual(send(#"{"event": "add", "args": [1, 2, 3, 4], "ack": 1}"#, to: plugin),
                       [frame(#"{"error":"too_many_arguments","event":"add","argument":3,"ack":1}"#)])
    }

    func testBadAckAndBadJSON() throws {
        let plugin = try startChat()
        for ack in ["1.5", #""7""#, "null", "9223372036854775808", "1e2"] {
            XCTAssertEqual(send(#"{"event": "add", "a": 1, "b": 2, "ack": \#(ack)}"#, to: plugin),
                           [frame(#"{"error":"bad_ack","event":"add"}"#)], ack)
        }
        XCTAssertEqual(send(#"["add", 1,"#, to: plugin), [frame(#"{"error":"bad_json","event":"add"}"#)])
        XCTAssertEqual(send(#"{"ack": 1, "event": "add", "a": tru}"#, to: plugin), [frame(#"{"error":"bad_json","event":"add","ack":1}"#)],
                       "with the ack read before the error")
        XCTAssertEqual(send(#"{"ack": 1.5, "event": "add", "a": tru}"#, to: plugin), [frame(#"{"error":"bad_json","event":"add"}"#)])
        XCTAssertEqual(GatewayEventsTests.received, [])
        XCTAssertEqual(ScriptedPlugin.messages, [])
    }

    func testNestedFailuresNameThePathInsideTheArgument() throws {
        let plugin = try start { gateway in
            try gateway.on("shape") { (_, _, _: Shape) in }
            try gateway.on("positive") { (_, _, _: Positive) in }
        }
        XCTAssertEqual(send(#"["shape", "s", [{"x": 1, "y": 2}, {"x": "1", "y": 2}]]"#, to: plugin), [frame(
            #"{"error":"bad_argument","event":"shape","argument":2,"expected":"json","reason":"[1].x: not an integer"}"#)])
        XCTAssertEqual(send(#"["shape", "s", [{"x": 1}]]"#, to: plugin), [frame(
            #"{"error":"bad_argument","event":"shape","argument":2,"expected":"json","reason":"[0].y: missing"}"#)])
        XCTAssertEqual(send(#"["shape", "s", {"x": 1}]"#, to: plugin), [frame(
            #"{"error":"bad_argument","event":"shape","argument":2,"expected":"json","reason":"not an array"}"#)])
        XCTAssertEqual(send(#"{"event": "positive", "n": -1}"#, to: plugin), [frame(
            #"{"error":"bad_argument","event":"positive","argument":1,"expected":"integer","reason":"must be positive"}"#)],
            "a check of the type's own: the argument its coding path names")
    }

    func testArgumentLimits() throws {
        var lengths: [Int] = []
        let plugin = try start { gateway in
            try gateway.on("text") { (_, _, text: String) in lengths.append(text.utf8.count) }
            try gateway.on("json") { (_, _, raw: RawJSON) in lengths.append(raw.text.utf8.count) }
        }
        let limit = Int(GWD_EVENT_MAX_ARG_BYTES)
        XCTAssertEqual(send(#"["text", "\#(String(repeating: "x", count: limit))"]"#, to: plugin), [])
        XCTAssertEqual(send(#"["text", "\#(String(repeating: "x", count: limit + 1))"]"#, to: plugin),
                       [frame(#"{"error":"bad_argument","event":"text","argument":1,"expected":"string","reason":"too large"}"#)])
        let deep64 = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        let deep65 = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        XCTAssertEqual(send(#"["json", \#(deep64)]"#, to: plugin), [])
        XCTAssertEqual(send(#"["json", \#(deep65)]"#, to: plugin),
                       [frame(#"{"error":"bad_argument","event":"json","argument":1,"expected":"json","reason":"too deep"}"#)])
        let big = "[" + Array(repeating: "1", count: limit / 2 + 1).joined(separator: ",") + "]"
        XCTAssertEqual(send(#"["json", \#(big)]"#, to: plugin),
                       [frame(#"{"error":"bad_argument","event":"json","argument":1,"expected":"json","reason":"too large"}"#)])
        XCTAssertEqual(lengths, [limit, 128])

        // Nesting far past any argument's limit is refused by the parser, not the stack.
        let abyss = String(repeating: "[", count: 100_000)
        XCTAssertEqual(send(#"["json", \#(abyss)"#, to: plugin), [frame(#"{"error":"bad_json","event":"json"}"#)])
    }

    // MARK: What reaches message(...)

    func testEverythingElseReachesMessageUnchanged() throws {
        let plugin = try startChat()
        let texts = [
            #"["unknown", 1]"#, #"{"event": "unknown", "a": 1, "ack": "bad"}"#, "hello", "", " ", "[1, 2]", "[]", "{}",
            #"{"type": "add", "a": 1}"#, #"{"event": 5}"#, "[\"unknown\"", "[ broken", #"{"a": oops"#, "\"add\"", "42",
            #"{"event": "unknown", "a": 1, "#,
        ]
        for text in texts {
            XCTAssertEqual(send(text, to: plugin), [], text)
        }
        deliver(.binary(Array(#"["add", 1, 2]"#.utf8)), to: plugin)
        XCTAssertEqual(ScriptedPlugin.messages, texts.map { .text($0) } + [.binary(Array(#"["add", 1, 2]"#.utf8))])
        XCTAssertEqual(GatewayEventsTests.received, [], "a binary message is never an event")
    }

    func testWithoutEventsEveryMessageReachesMessage() throws {
        let plugin = try start { _ in }
        XCTAssertEqual(send(#"["add", 1, 2]"#, to: plugin), [])
        XCTAssertEqual(send(#"["add", 1,"#, to: plugin), [])
        XCTAssertEqual(ScriptedPlugin.messages, [.text(#"["add", 1, 2]"#), .text(#"["add", 1,"#)])
    }

    // MARK: Declaring

    func testDeclaringChecksTheNameAndDuplicates() throws {
        let plugin = try startChat()
        var errors: [GatewayError.Code] = []
        ScriptedPlugin.script = { gateway, _, _ in
            for name in ["", String(repeating: "n", count: 65), "add"] {
                do throws(GatewayError) {
                    try gateway.on(name) { (_, _) in }
                } catch {
                    errors.append(error.code)
                }
            }
            try gateway.on(String(repeating: "é", count: 32)) { (_, _) in }  // 64 bytes
            XCTAssertEqual(gateway.declaredEvents.count, 6)
            XCTAssertTrue(gateway.off("add"))
            XCTAssertFalse(gateway.off("add"))
            XCTAssertEqual(gateway.declaredEvents, ["fail", "refuse", "say", "sum", String(repeating: "é", count: 32)])
        }
        _ = send("declare", to: plugin)
        XCTAssertEqual(errors, [.invalidArgument, .invalidArgument, .exists])
        XCTAssertEqual(GatewayError.Code.exists.description, "GWD_ERR_EXISTS")
        ScriptedPlugin.script = nil
        ScriptedPlugin.messages = []
        XCTAssertEqual(send(#"["add", 1, 2]"#, to: plugin), [], "off: the event reaches message(...) again")
        XCTAssertEqual(ScriptedPlugin.messages, [.text(#"["add", 1, 2]"#)])
    }

    func testADuplicateInWorkerStartedRefusesTheStart() throws {
        let descriptor = try register(ScriptedPlugin.self)
        ScriptedPlugin.start = { gateway in
            try gateway.on("x") { (_, _) in }
            try gateway.on("x") { (_, _) in }
        }
        XCTAssertEqual(descriptor.pointee.on_worker_start?(FakeHost.context), Int32(GWD_ERR_EXISTS.rawValue))
    }

    func testARegistrationStartsWithoutEvents() throws {
        _ = try startChat()
        let plugin = try register(ScriptedPlugin.self)  // as a reload would: a fresh instance
        XCTAssertEqual(send(#"["add", 1, 2]"#, to: plugin), [])
        XCTAssertEqual(ScriptedPlugin.messages, [.text(#"["add", 1, 2]"#)])
    }

    // MARK: Emitting

    func testEmitToEachTarget() throws {
        try inCallback { [b] gateway in
            try gateway.emit("hello", to: .client(b), "wörld", 1, 2.5, true)
            try gateway.emit("news", to: .group("room/1"), Point(x: 1, y: -2), [1, 2])
            try gateway.emit("ping", to: .uid("u-9"))
            try gateway.emit("all", to: .everyone, try RawJSON(#" {"kept" : [1, 2.50]} "#), nil as String?, ["k": "v"])
        }
        func call(_ function: String, client: String? = nil, name: String? = nil, _ text: String) -> HostCall {
            HostCall(function: function, client: client, name: name, data: text, bytes: Array(text.utf8))
        }
        XCTAssertEqual(fakeHost.sends, [
            call("send_to_client", client: clientB, #"["hello","wörld",1,2.5,true]"#),
            call("send_to_group", name: "room/1", #"["news",{"x":1,"y":-2},[1,2]]"#),
            call("send_to_uid", name: "u-9", #"["ping"]"#),
            call("send_to_all", #"["all", {"kept" : [1, 2.50]} ,null,{"k":"v"}]"#),
        ])
    }

    func testEmitEscapesAndRefusesWhatJSONCannotHold() throws {
        let error = gatewayError { [b] gateway in
            try gateway.emit("quote\"\n\u{1}", to: .client(b), "tab\t")
            try gateway.emit("bad", to: .client(b), 1, Double.infinity)
        }
        XCTAssertEqual(error?.code, .invalidArgument)
        XCTAssertTrue(error?.message.hasPrefix("emit bad: argument 2 cannot be encoded as JSON") == true, "\(String(describing: error))")
        XCTAssertEqual(fakeHost.sends.map(\.data), [#"["quote\"\n\u0001","tab\t"]"#], "nothing sent for the refused one")
    }

    func testEmitThrowsWhatTheSendThrows() throws {
        fakeHost.statuses["send_to_uid"] = Int32(GWD_ERR_INVALID_ARGUMENT.rawValue)
        XCTAssertEqual(gatewayError { gateway in try gateway.emit("x", to: .uid("")) }?.code, .invalidArgument)
    }

    // MARK: RawJSON

    func testRawJSON() throws {
        XCTAssertEqual(try RawJSON(" [1, {\"a\": null}] ").text, " [1, {\"a\": null}] ")
        for invalid in ["", "[1,]", "{a: 1}", "1 2", "'x'", "nul"] {
            XCTAssertThrowsError(try RawJSON(invalid), invalid)
        }
        // Through Foundation's coders: re-encoded from its value.
        let wrapped = try JSONEncoder().encode(["j": try RawJSON(#"{"a":[1,2.5,"x",true,null]}"#)])
        XCTAssertEqual(String(decoding: wrapped, as: UTF8.self), #"{"j":{"a":[1,2.5,"x",true,null]}}"#)
        let decoded = try JSONDecoder().decode([String: RawJSON].self, from: Data(#"{"j": [1, "two", [false]]}"#.utf8))
        XCTAssertEqual(decoded["j"]?.text, #"[1,"two",[false]]"#)
    }
}

/// docs/events.md's Swift example, as written there.
final class Chat: GatewayPlugin {
    static let name = "chat"
    static let version = "1.0.0"

    struct Say: Decodable { let room: String; let text: String }
    struct Add: Decodable { let a: Int; let b: Int }

    func workerStarted(_ gateway: Gateway) throws {
        try gateway.on("say") { (gateway, client, say: Say) in
            try gateway.emit("said", to: .group(say.room), say.room, say.text)
        }
        try gateway.on("add") { (gateway, client, add: Add) -> Int in   // the ack's result
            add.a &+ add.b   // wraps around: a plugin must never trap on what a client sends
        }
        try gateway.on("ping") { (gateway, client) in
            try gateway.emit("pong", to: .client(client))
        }
    }
}

final class DocsEventsExampleTests: GatewayCallTestCase {
    func testTheSwiftExampleOfTheDocs() throws {
        let plugin = try register(Chat.self)
        XCTAssertEqual(plugin.pointee.on_worker_start?(FakeHost.context), 0)
        func send(_ text: String) -> [String?] {
            fakeHost.calls = []
            deliver(.text(text), to: plugin)
            return fakeHost.calls.map { [$0.function, $0.name ?? $0.client, $0.data].compactMap { $0 }.joined(separator: " ") }
        }
        XCTAssertEqual(send(#"{"event": "say", "room": "r1", "text": "hi"}"#), [#"send_to_group r1 ["said","r1","hi"]"#])
        XCTAssertEqual(send(#"{"event": "add", "args": [9223372036854775807, 1], "ack": 1}"#),
                       [#"send_to_current_client {"ack":1,"status":0,"result":-9223372036854775808}"#])
        XCTAssertEqual(send(#"["ping"]"#), [#"send_to_client \#(clientA) ["pong"]"#])
    }
}
