import GatewayWire
import XCTest

/// EventDecoder against docs/events.md: the three forms, every argument type, every error
/// frame byte for byte, acknowledgements, unknown events and messages that are not events.
final class EventDecoderTests: XCTestCase {
    private let table = makeEventTable()
    private var decoder = EventDecoder()

    private func index(_ name: String) -> Int { self.table.index(ofName: name)! }

    /// Decodes `text`, expects event `name` and returns its arguments.
    private func event(
        _ text: String, _ name: String, ack: Int64? = nil, file: StaticString = #filePath, line: UInt = #line
    ) -> [EventValue] {
        let result = self.decoder.decode(text, table: self.table)
        XCTAssertEqual(result, .event(index: self.index(name), ack: ack), text, file: file, line: line)
        return self.decoder.values(file: file, line: line)
    }

    /// Decodes `text` and expects the error frame `frame`.
    private func assertFrame(_ text: String, _ frame: String, file: StaticString = #filePath, line: UInt = #line) {
        let result = self.decoder.decode(text, table: self.table)
        XCTAssertEqual(result.frameText, frame, "\(text) -> \(result)", file: file, line: line)
        XCTAssertEqual(self.decoder.arguments.count, 0, file: file, line: line)
    }

    /// Decodes `text` as an `S` argument of `blob`, or returns the failure's reason.
    private func bytesArgument(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> EventValue? {
        let result = self.decoder.decode("[\"blob\",\(json)]", table: self.table)
        guard case .event = result else { return nil }
        return self.decoder.values(file: file, line: line).first
    }

    // MARK: Forms

    func testArrayForm() {
        XCTAssertEqual(self.event(#"["say", "room1", "hi"]"#, "say"), [.string("room1"), .string("hi")])
        XCTAssertEqual(self.event(#"["add",2,3]"#, "add"), [.integer(2), .integer(3)])
        XCTAssertEqual(self.event(#"["ping"]"#, "ping"), [])
        XCTAssertEqual(self.event(" \t\r\n[ \"ping\" ] \n", "ping"), [])
        XCTAssertEqual(self.event("[\n\"add\"\t,\r1 ,2\n]", "add"), [.integer(1), .integer(2)])
    }

    func testNamedObjectForm() {
        XCTAssertEqual(self.event(#"{"event": "say", "room": "room1", "text": "hi"}"#, "say"), [.string("room1"), .string("hi")])
        // Any member order; other members ignored, whatever they hold.
        XCTAssertEqual(
            self.event(#"{"text":"hi","x":{"deep":[1,{"y":null}]},"event":"say","z":true,"room":"r"}"#, "say"),
            [.string("r"), .string("hi")])
        XCTAssertEqual(self.event(#"{"event":"ping"}"#, "ping"), [])
        XCTAssertEqual(self.event(#"{"event":"ping","ack":-1}"#, "ping", ack: -1), [])
        XCTAssertEqual(self.event(#"{"b":3,"a":2,"event":"add","ack":7}"#, "add", ack: 7), [.integer(2), .integer(3)])
    }

    func testPositionalObjectForm() {
        XCTAssertEqual(self.event(#"{"event": "say", "args": ["room1", "hi"]}"#, "say"), [.string("room1"), .string("hi")])
        XCTAssertEqual(self.event(#"{"args":[2,3],"event":"add","ack":9223372036854775807}"#, "add", ack: .max), [.integer(2), .integer(3)])
        XCTAssertEqual(self.event(#"{"event":"ping","args":[]}"#, "ping"), [])
        XCTAssertEqual(self.event(#"{"event":"ping","args":[ ]}"#, "ping"), [])
        // "args" wins over named fields, before or after it.
        XCTAssertEqual(self.event(#"{"event":"add","a":100,"args":[2,3],"b":200}"#, "add"), [.integer(2), .integer(3)])
        XCTAssertEqual(self.event(#"{"a":100,"args":[2,3],"event":"add"}"#, "add"), [.integer(2), .integer(3)])
        // An "args" that is not an array is ignored: the named form applies.
        XCTAssertEqual(self.event(#"{"event":"add","args":"x","a":1,"b":2}"#, "add"), [.integer(1), .integer(2)])
        self.assertFrame(#"{"event":"add","args":{"a":1,"b":2}}"#, #"{"error":"missing_argument","event":"add","argument":1,"expected":"integer"}"#)
    }

    func testDuplicateMembersLastWins() {
        XCTAssertEqual(self.event(#"{"event":"add","a":1,"b":2,"a":5}"#, "add"), [.integer(5), .integer(2)])
        // A bad value overridden by a good one, and the other way round.
        XCTAssertEqual(self.event(#"{"event":"add","a":"x","b":2,"a":1}"#, "add"), [.integer(1), .integer(2)])
        self.assertFrame(
            #"{"event":"add","a":1,"b":2,"a":"x"}"#,
            #"{"error":"bad_argument","event":"add","argument":1,"expected":"integer","reason":"not an integer"}"#)
        XCTAssertEqual(self.event(#"{"event":"nope","a":1,"b":2,"event":"add"}"#, "add"), [.integer(1), .integer(2)])
        XCTAssertEqual(self.event(#"{"event":"add","a":1,"b":2,"event":"say","room":"r","text":"t"}"#, "say"), [.string("r"), .string("t")])
        XCTAssertEqual(self.event(#"{"event":"add","ack":1,"ack":2,"a":1,"b":2}"#, "add", ack: 2), [.integer(1), .integer(2)])
        XCTAssertEqual(self.event(#"{"event":"add","args":[9],"args":[1,2]}"#, "add"), [.integer(1), .integer(2)])
        // A last "event" that is not a string: not an event.
        XCTAssertEqual(self.decoder.decode(#"{"event":"add","a":1,"b":2,"event":null}"#, table: self.table), .notAnEvent)
    }

    func testEscapedNamesAndKeys() {
        XCTAssertEqual(self.event(#"["\u0073ay","r","t"]"#, "say"), [.string("r"), .string("t")])
        XCTAssertEqual(self.event(#"{"\u0065vent":"add","\u0061":1,"b":2,"\u0061ck":4}"#, "add", ack: 4), [.integer(1), .integer(2)])
        XCTAssertEqual(self.event(#"{"event":"add","a\u0000":9,"a":1,"b":2}"#, "add"), [.integer(1), .integer(2)])
    }

    func testUnnamedArgumentsOnlyByPosition() {
        XCTAssertEqual(self.event(#"["mixed",1,"n"]"#, "mixed"), [.integer(1), .string("n")])
        self.assertFrame(#"{"event":"mixed","named":"n"}"#, #"{"error":"missing_argument","event":"mixed","argument":1,"expected":"integer"}"#)
    }

    // MARK: Types

    func testStrings() {
        XCTAssertEqual(self.event(#"["say","",""]"#, "say"), [.string(""), .string("")])
        XCTAssertEqual(
            self.event(#"["say","a\"b\\c\/d\b\f\n\r\t","\u00e9\u623f\u95f4"]"#, "say"),
            [.string("a\"b\\c/d\u{8}\u{C}\n\r\t"), .string("é房间")])
        XCTAssertEqual(self.event(#"["say","\ud83d\ude00 \uD83D\uDE00","héllo 😀"]"#, "say"), [.string("😀 😀"), .string("héllo 😀")])
        XCTAssertEqual(self.event(#"["say","\u007f\u0080\u07ff\u0800\uffff","\udbff\udfff"]"#, "say"),
            [.string("\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}"), .string("\u{10FFFF}")])
        // Long runs (the 8-byte scan) with a special byte at every offset.
        for offset in 0..<17 {
            let prefix = String(repeating: "x", count: offset)
            XCTAssertEqual(self.event("[\"say\",\"\(prefix)\\n\(prefix)\",\"\(prefix)é\"]", "say"),
                [.string(prefix + "\n" + prefix), .string(prefix + "é")])
        }
    }

    func testNULInBytesButNotInString() {
        XCTAssertEqual(self.bytesArgument(#""a\u0000b""#), .bytes([0x61, 0, 0x62]))
        XCTAssertEqual(self.bytesArgument(#""\u0000""#), .bytes([0]))
        self.assertFrame(
            #"["say","a\u0000b","x"]"#,
            #"{"error":"bad_argument","event":"say","argument":1,"expected":"string","reason":"contains NUL"}"#)
        self.assertFrame(
            #"{"event":"blob","data":5,"ack":3}"#,
            #"{"error":"bad_argument","event":"blob","argument":1,"expected":"string","reason":"not a string","ack":3}"#)
    }

    func testLoneSurrogates() {
        for string in [#""\ud800""#, #""\udc00""#, #""\ud800x""#, #""\ud800\u0041""#, #""\ud800\ud800""#] {
            self.assertFrame(
                "[\"say\",\(string),\"x\"]",
                #"{"error":"bad_argument","event":"say","argument":1,"expected":"string","reason":"invalid unicode"}"#)
            self.assertFrame(
                "[\"raw\",[\(string)]]",
                #"{"error":"bad_argument","event":"raw","argument":1,"expected":"json","reason":"invalid unicode"}"#)
        }
        // In an ignored member it is only JSON; in a name it matches nothing.
        XCTAssertEqual(self.event(#"{"event":"ping","x":"\ud800"}"#, "ping"), [])
        XCTAssertEqual(self.decoder.decode(#"["\ud800"]"#, table: self.table), .unknownEvent(name: "\u{FFFD}", ack: nil))
    }

    func testIntegers() {
        XCTAssertEqual(
            self.event(#"["add",9223372036854775807,-9223372036854775808]"#, "add"), [.integer(.max), .integer(.min)])
        XCTAssertEqual(self.event(#"["add",-0,0]"#, "add"), [.integer(0), .integer(0)])
        for text in ["9223372036854775808", "-9223372036854775809", "18446744073709551616", "99999999999999999999999"] {
            self.assertFrame(
                "{\"event\":\"add\",\"a\":1,\"b\":\(text),\"ack\":7}",
                #"{"error":"bad_argument","event":"add","argument":2,"expected":"integer","reason":"out of range","ack":7}"#)
        }
        for text in ["1.5", "1.0", "1e2", "1E+2", "-0.0", "\"1\"", "true", "null", "[1]", "{}"] {
            self.assertFrame(
                "[\"add\",\(text),1]",
                #"{"error":"bad_argument","event":"add","argument":1,"expected":"integer","reason":"not an integer"}"#)
        }
    }

    func testNumbers() {
        func number(_ text: String) -> EventValue? {
            guard case .event = self.decoder.decode("[\"num\",\(text)]", table: self.table) else { return nil }
            return self.decoder.values().first
        }
        let texts = [
            "0", "-0", "5", "-5", "0.1", "1e308", "-1e308", "1.7976931348623157e308", "4.9e-324", "2.2250738585072014e-308",
            "0.30000000000000004", "123456789012345678901234567890", "9007199254740993", "1e-400", "1E22", "1e23", "3.14159",
            "-0.0", "0.000001234", "12345678901234567890e-10", "1.5e+2", "100000000000000000000000000000e-29",
        ]
        for text in texts {
            XCTAssertEqual(number(text), .double(Double(text)!), text)
        }
        XCTAssertEqual(number("-0"), .number((-0.0).bitPattern))
        XCTAssertEqual(number("9223372036854775808"), .double(9_223_372_036_854_775_808))
        for text in ["1e400", "-1e309", "1e99999999999999999999"] {
            self.assertFrame("[\"num\",\(text)]",
                #"{"error":"bad_argument","event":"num","argument":1,"expected":"number","reason":"out of range"}"#)
        }
        for text in ["\"1\"", "true", "null", "[]"] {
            self.assertFrame("[\"num\",\(text)]",
                #"{"error":"bad_argument","event":"num","argument":1,"expected":"number","reason":"not a number"}"#)
        }
    }

    func testBooleans() {
        XCTAssertEqual(self.event(#"["flag",true]"#, "flag"), [.boolean(true)])
        XCTAssertEqual(self.event(#"{"event":"flag","on":false}"#, "flag"), [.boolean(false)])
        for text in ["1", "0", "\"true\"", "null", "[]"] {
            self.assertFrame("[\"flag\",\(text)]",
                #"{"error":"bad_argument","event":"flag","argument":1,"expected":"boolean","reason":"not a boolean"}"#)
        }
    }

    func testJSON() {
        for text in [
            "null", "true", "false", "0", "-1.5e3", "\"x\"", "[]", "{}", "[1, 2 ,3]", "{\"a\" : [true, {\"b\":null}]}",
            "\"\\ud83d\\ude00\\u0000\"", "{\"a\":1,\"a\":2}",
        ] {
            XCTAssertEqual(self.event("[\"raw\",  \(text)  ]", "raw"), [.json(text)], text)
            XCTAssertEqual(self.event("{\"value\":\(text),\"event\":\"raw\"}", "raw"), [.json(text)], text)
        }
    }

    func testAllTypesTogether() {
        XCTAssertEqual(
            self.event(#"["all","s","S\u0000",-7,2.5,true,{"k":[1]}]"#, "all"),
            [.string("s"), .bytes([0x53, 0]), .integer(-7), .double(2.5), .boolean(true), .json(#"{"k":[1]}"#)])
        XCTAssertEqual(
            self.event(#"{"event":"all","json":null,"flag":false,"num":1,"int":1,"bytes":"","s":"é"}"#, "all"),
            [.string("é"), .bytes([]), .integer(1), .double(1), .boolean(false), .json("null")])
    }

    // MARK: Limits

    func testJSONDepth() {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertEqual(self.event("[\"raw\",\(ok)]", "raw"), [.json(ok)])
        let objects = String(repeating: "{\"a\":", count: 63) + "[]" + String(repeating: "}", count: 63)
        XCTAssertEqual(self.event("{\"event\":\"raw\",\"args\":[\(objects)]}", "raw"), [.json(objects)])
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        self.assertFrame("[\"raw\",\(deep)]",
            #"{"error":"bad_argument","event":"raw","argument":1,"expected":"json","reason":"too deep"}"#)
        // Deep values elsewhere are only skipped, up to 512 levels; deeper is not accepted as JSON.
        let skipped = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        XCTAssertEqual(self.event("{\"event\":\"ping\",\"x\":\(skipped)}", "ping"), [])
        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        self.assertFrame("{\"event\":\"ping\",\"x\":\(tooDeep)}", #"{"error":"bad_json","event":"ping"}"#)
        self.assertFrame("[\"add\",\(tooDeep),1]", #"{"error":"bad_json","event":"add"}"#)
    }

    func testArgumentSizes() {
        let limit = EventLimits.maximumArgumentBytes
        let fits = String(repeating: "x", count: limit)
        XCTAssertEqual(self.bytesArgument("\"\(fits)\""), .bytes(Array(fits.utf8)))
        XCTAssertEqual(self.event("[\"say\",\"\(fits)\",\"\(fits)\"]", "say"), [.string(fits), .string(fits)])
        let tooLarge = #"{"error":"bad_argument","event":"say","argument":2,"expected":"string","reason":"too large"}"#
        self.assertFrame("[\"say\",\"\(fits)\",\"\(fits)x\"]", tooLarge)
        self.assertFrame("[\"say\",\"x\",\"\(String(repeating: "y", count: 1 << 20))\"]", tooLarge)
        // Decoded size counts: 65536 escapes are 65536 bytes; one multi-byte character more is too many.
        let escapes = String(repeating: "\\n", count: limit)
        XCTAssertEqual(self.bytesArgument("\"\(escapes)\""), .bytes(Array(repeating: 0x0A, count: limit)))
        XCTAssertNil(self.bytesArgument("\"\(String(repeating: "x", count: limit - 1))é\""))
        // Raw JSON: its text as sent.
        let array = "[" + String(repeating: "1,", count: limit / 2 - 2) + "1 ]"
        XCTAssertEqual(array.utf8.count, limit)
        XCTAssertEqual(self.event("[\"raw\",\(array)]", "raw"), [.json(array)])
        self.assertFrame("[\"raw\",[ \(array.dropFirst())]",
            #"{"error":"bad_argument","event":"raw","argument":1,"expected":"json","reason":"too large"}"#)
        self.assertFrame("[\"raw\",\"\(String(repeating: "z", count: 1 << 20))\"]",
            #"{"error":"bad_argument","event":"raw","argument":1,"expected":"json","reason":"too large"}"#)
    }

    func testArenaGrowsAndShrinksBack() {
        var decoder = EventDecoder(steadyCapacity: 4096, retainedCapacity: 100_000)
        XCTAssertEqual(decoder.arenaCapacity, 4096)
        let say = EventDecodeResult.event(index: self.index("say"), ack: nil)
        // Up to the retained size the arena keeps what it grew to; past it, the next message
        // that fits gives the memory back.
        for (length, grown, after) in [(30000, 65536, 65536), (60000, 131_072, 4096)] {
            let text = String(repeating: "x", count: length)
            XCTAssertEqual(decoder.decode("[\"say\",\"\(text)\",\"\(text)\"]", table: self.table), say)
            XCTAssertEqual(decoder.arenaCapacity, grown)
            XCTAssertEqual(decoder.values(), [.string(text), .string(text)])
            XCTAssertEqual(decoder.decode(#"["say","a","b"]"#, table: self.table), say)
            XCTAssertEqual(decoder.arenaCapacity, after)
            XCTAssertEqual(decoder.values(), [.string("a"), .string("b")])
        }
    }

    func testArgumentsAreClearedByTheNextMessage() {
        _ = self.event(#"["add",1,2]"#, "add")
        XCTAssertEqual(self.decoder.arguments.count, 2)
        XCTAssertEqual(self.decoder.decode("hello", table: self.table), .notAnEvent)
        XCTAssertEqual(self.decoder.arguments.count, 0)
        XCTAssertEqual(self.decoder.decode(#"["add",1]"#, table: self.table).error?.kind, .missingArgument)
        XCTAssertEqual(self.decoder.arguments.count, 0)
    }

    // MARK: Errors

    func testMissingAndExtraArguments() {
        self.assertFrame(#"["add",1]"#, #"{"error":"missing_argument","event":"add","argument":2,"expected":"integer"}"#)
        self.assertFrame(#"["add"]"#, #"{"error":"missing_argument","event":"add","argument":1,"expected":"integer"}"#)
        self.assertFrame(#"{"event":"add","b":1,"ack":0}"#,
            #"{"error":"missing_argument","event":"add","argument":1,"expected":"integer","ack":0}"#)
        self.assertFrame(#"{"event":"say","args":["r"]}"#, #"{"error":"missing_argument","event":"say","argument":2,"expected":"string"}"#)
        self.assertFrame(#"["add",1,2,3,4]"#, #"{"error":"too_many_arguments","event":"add","argument":3}"#)
        self.assertFrame(#"["ping",1]"#, #"{"error":"too_many_arguments","event":"ping","argument":1}"#)
        self.assertFrame(#"{"event":"add","args":[1,2,{}],"ack":-5}"#, #"{"error":"too_many_arguments","event":"add","argument":3,"ack":-5}"#)
        // The first problem in argument order wins; a bad argument before an extra one.
        self.assertFrame(#"["add","x",2,3]"#,
            #"{"error":"bad_argument","event":"add","argument":1,"expected":"integer","reason":"not an integer"}"#)
        self.assertFrame(#"{"event":"add","b":"x"}"#, #"{"error":"missing_argument","event":"add","argument":1,"expected":"integer"}"#)
    }

    func testAck() {
        XCTAssertEqual(self.event(#"{"event":"ping","ack":-9223372036854775808}"#, "ping", ack: .min), [])
        XCTAssertEqual(self.event(#"{"event":"ping","ack":-0}"#, "ping", ack: 0), [])
        for ack in ["\"7\"", "1.5", "1.0", "1e2", "9223372036854775808", "-9223372036854775809", "null", "true", "[7]", "{}"] {
            self.assertFrame("{\"event\":\"add\",\"a\":1,\"b\":2,\"ack\":\(ack)}", #"{"error":"bad_ack","event":"add"}"#)
            // bad_ack comes before argument errors.
            self.assertFrame("{\"ack\":\(ack),\"event\":\"add\",\"a\":\"x\"}", #"{"error":"bad_ack","event":"add"}"#)
        }
        // The array form has no acknowledgement: a trailing element is an argument.
        self.assertFrame(#"["ping",{"ack":1}]"#, #"{"error":"too_many_arguments","event":"ping","argument":1}"#)
    }

    func testBadJSON() {
        let cases: [(String, String)] = [
            (#"["add",1,"#, #"{"error":"bad_json","event":"add"}"#),
            (#"["add",1,2"#, #"{"error":"bad_json","event":"add"}"#),
            (#"["add",1,2]]"#, #"{"error":"bad_json","event":"add"}"#),
            (#"["add",1,2] x"#, #"{"error":"bad_json","event":"add"}"#),
            (#"["add",1,2]["ping"]"#, #"{"error":"bad_json","event":"add"}"#),
            (#"["add",01,2]"#, #"{"error":"bad_json","event":"add"}"#),
            (#"["add",1.,2]"#, #"{"error":"bad_json","event":"add"}"#),
            (#"["add",+1,2]"#, #"{"error":"bad_json","event":"add"}"#),
            (#"["add",1,2,]"#, #"{"error":"bad_json","event":"add"}"#),
            (#"["add" 1,2]"#, #"{"error":"bad_json","event":"add"}"#),
            (#"["add",tru,2]"#, #"{"error":"bad_json","event":"add"}"#),
            (#"["say","a\x","b"]"#, #"{"error":"bad_json","event":"say"}"#),
            (#"["say","\u12","b"]"#, #"{"error":"bad_json","event":"say"}"#),
            ("[\"say\",\"a\tb\",\"c\"]", #"{"error":"bad_json","event":"say"}"#),
            (#"["nope",1,"#, #"{"error":"bad_json","event":"nope"}"#),
            (#"["ad"#, #"{"error":"bad_json"}"#),
            (#"["a\q"]"#, #"{"error":"bad_json"}"#),
            (#"{"event":"add","a":1,"#, #"{"error":"bad_json","event":"add"}"#),
            (#"{"event":"add","ack":3,"a":}"#, #"{"error":"bad_json","event":"add","ack":3}"#),
            (#"{"event":"add","a":1,"b":2}}"#, #"{"error":"bad_json","event":"add"}"#),
            (#"{"event":"add","a":1 "b":2}"#, #"{"error":"bad_json","event":"add"}"#),
            (#"{"event":"add",a:1}"#, #"{"error":"bad_json","event":"add"}"#),
            (#"{"event":"ad"#, #"{"error":"bad_json"}"#),
            (#"{"x":1,"event":"ping","y":[}"#, #"{"error":"bad_json","event":"ping"}"#),
        ]
        for (text, frame) in cases {
            self.assertFrame(text, frame)
        }
        // Bytes that are not UTF-8, inside an argument, a skipped member and a name.
        for bytes in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]] as [[UInt8]] {
            let argument = Array(#"["say",""#.utf8) + bytes + Array(#"","x"]"#.utf8)
            XCTAssertEqual(self.decoder.decode(argument, table: self.table).frameText, #"{"error":"bad_json","event":"say"}"#)
            let member = Array(#"{"event":"ping","x":""#.utf8) + bytes + Array(#""}"#.utf8)
            XCTAssertEqual(self.decoder.decode(member, table: self.table).frameText, #"{"error":"bad_json","event":"ping"}"#)
            let name = Array(#"[""#.utf8) + bytes + Array(#""]"#.utf8)
            XCTAssertEqual(self.decoder.decode(name, table: self.table).frameText, #"{"error":"bad_json"}"#)
        }
    }

    func testUnknownEvents() {
        XCTAssertEqual(self.decoder.decode(#"["nope",1,2]"#, table: self.table), .unknownEvent(name: "nope", ack: nil))
        XCTAssertEqual(self.decoder.decode(#"{"event":"nope","ack":5,"x":1}"#, table: self.table), .unknownEvent(name: "nope", ack: 5))
        XCTAssertEqual(self.decoder.decode(#"{"ack":"x","event":"nope"}"#, table: self.table), .unknownEvent(name: "nope", ack: nil))
        XCTAssertEqual(self.decoder.decode(#"["Say","r","t"]"#, table: self.table), .unknownEvent(name: "Say", ack: nil))
        XCTAssertEqual(self.decoder.decode(#"[""]"#, table: self.table), .unknownEvent(name: "", ack: nil))
        XCTAssertEqual(self.decoder.decode(#"["\u00e9\n\"x"]"#, table: self.table), .unknownEvent(name: "é\n\"x", ack: nil))
        let long = String(repeating: "n", count: 100_000)
        XCTAssertEqual(self.decoder.decode("[\"\(long)\"]", table: self.table), .unknownEvent(name: long, ack: nil))
        XCTAssertEqual(self.decoder.arguments.count, 0)
        XCTAssertEqual(
            String(decoding: EventDecodeError(kind: .unknownEvent, event: "no\"pe", ack: 5).frame(), as: UTF8.self),
            #"{"error":"unknown_event","event":"no\"pe","ack":5}"#)
    }

    func testNotEvents() {
        let texts = [
            "", " ", "hello", "\"say\"", "42", "null", "true", "[]", "[ ]", "[1,2]", "[[\"say\"]]", "[null,\"say\"]", "{}", "{\"foo\":1}",
            "{\"event\":1}", "{\"event\":null,\"args\":[]}", "{\"event\":[\"say\"]}", "{\"Event\":\"say\"}", "{\"events\":\"say\"}",
            "[", "{", "[1,", "{\"foo\":", "{\"foo\":1,\"event\":", "{\"foo\" 1, \"event\":\"say\"}", "{\"event\" \"say\"}",
            "\u{FEFF}[\"ping\"]", "\u{0C}[\"ping\"]", "x[\"ping\"]",
        ]
        for text in texts {
            XCTAssertEqual(self.decoder.decode(text, table: self.table), .notAnEvent, text.debugDescription)
        }
        XCTAssertEqual(self.decoder.decode(UnsafeRawBufferPointer(start: nil, count: 0), table: self.table), .notAnEvent)
        // With no event declared, events are unknown, never bound.
        XCTAssertEqual(self.decoder.decode(#"["say","a","b"]"#, table: EventTable()), .unknownEvent(name: "say", ack: nil))
    }

    func testFrames() {
        let frame = EventDecodeError(kind: .badArgument, event: "add", argument: 2, expected: .integer, reason: "out of range", ack: 7)
        XCTAssertEqual(
            String(decoding: frame.frame(), as: UTF8.self),
            #"{"error":"bad_argument","event":"add","argument":2,"expected":"integer","reason":"out of range","ack":7}"#)
        XCTAssertEqual(String(decoding: EventDecodeError(kind: .badJSON, reason: "unexpected byte").frame(), as: UTF8.self), #"{"error":"bad_json"}"#)
        XCTAssertEqual(
            String(decoding: EventDecodeError(kind: .missingArgument, event: "é\u{1}", argument: 1, expected: .bytes).frame(), as: UTF8.self),
            #"{"error":"missing_argument","event":"é\u0001","argument":1,"expected":"string"}"#)
        for type in EventArgumentType.allCases {
            XCTAssertEqual(EventDecodeError(kind: .missingArgument, argument: 1, expected: type).frame().count > 0, true)
        }
        XCTAssertEqual(EventArgumentType.allCases.map(\.expectedName), ["string", "string", "integer", "number", "boolean", "json"])
        // Every frame the decoder makes is a JSON object.
        for text in [#"["add",1]"#, #"["add","x",1]"#, #"["add",1,2,3]"#, #"{"event":"add","ack":"x"}"#, #"["add""#] {
            let bytes = self.decoder.decode(text, table: self.table).error!.frame()
            XCTAssertNotNil(try? JSONValue.parse(bytes).objectValue, text)
        }
    }

    func testEventNamesInFramesAreEscaped() throws {
        var table = EventTable()
        try table.declare(name: "a\"b\\c", signature: EventSignature(parsing: "i"))
        let result = self.decoder.decode(#"["a\"b\\c","x"]"#, table: table)
        XCTAssertEqual(result.frameText,
            #"{"error":"bad_argument","event":"a\"b\\c","argument":1,"expected":"integer","reason":"not an integer"}"#)
    }
}
