import CGatewayABI
import Foundation
import XCTest

/// The typed events of the conformance protocol (add, shout, types), for a plugin that decodes
/// events itself: conformance-swift, through the SDK. (conformance-c's events are the host's to
/// decode, through event_on, which the fake host does not run.) Events are declared in
/// workerStarted, so each check runs between on_worker_start and on_worker_stop.
extension ConformanceDriver {
    func checkEventAdd(file: StaticString = #filePath, line: UInt = #line) {
        whileStarted(file: file, line: line) {
            XCTAssertEqual(send(#"["add", 2, 3]"#), [sent(#"["sum",5]"#)], "array", file: file, line: line)
            XCTAssertEqual(send(#"{"event": "add", "b": 3, "a": -10}"#, from: clientB), [sent(#"["sum",-7]"#, to: clientB)],
                           "named, to the sender", file: file, line: line)
            XCTAssertEqual(send(#"{"event": "add", "args": [40, 2], "ack": 7}"#), [sent(#"["sum",42]"#), reply(#"{"ack":7,"status":0,"result":42}"#)],
                           "positional with an ack, answered after the handler, the sum as its result", file: file, line: line)
            XCTAssertEqual(send(#"{"event": "add", "a": 9223372036854775807, "b": 1, "ack": -1}"#),
                           [sent(#"["sum",-9223372036854775808]"#), reply(#"{"ack":-1,"status":0,"result":-9223372036854775808}"#)],
                           "64-bit, wrapping around", file: file, line: line)
        }
    }

    func checkEventShout(file: StaticString = #filePath, line: UInt = #line) {
        whileStarted(file: file, line: line) {
            XCTAssertEqual(send(#"["shout", "héllo, wörld 1"]"#), [sent(#"["shouted","HéLLO, WöRLD 1"]"#)],
                           "ASCII letters only, as C's toupper", file: file, line: line)
            XCTAssertEqual(send(#"{"event": "shout", "text": "a\"b\\c\u0001", "ack": 0}"#),
                           [sent(#"["shouted","A\"B\\C\u0001"]"#), reply(#"{"ack":0,"status":0}"#)], file: file, line: line)
            XCTAssertEqual(send(#"{"event": "shout", "args": [""]}"#), [sent(#"["shouted",""]"#)], file: file, line: line)
        }
    }

    func checkEventTypes(file: StaticString = #filePath, line: UInt = #line) {
        whileStarted(file: file, line: line) {
            XCTAssertEqual(send(#"["types", "s", -1, 2.5, false, {"a": [1, "x", null]}]"#),
                           [sent(#"["types","s",-1,2.5,false,{"a": [1, "x", null]}]"#)],
                           "j as the client wrote it, as a value", file: file, line: line)
            XCTAssertEqual(send(#"{"event": "types", "j": "str", "b": true, "d": -0.125, "i": 7, "s": "é\"", "ack": 3}"#),
                           [sent(#"["types","é\"",7,-0.125,true,"str"]"#), reply(#"{"ack":3,"status":0}"#)], file: file, line: line)
            XCTAssertEqual(send(#"{"event": "types", "args": ["", 0, 1, true, [[]]]}"#),
                           [sent(#"["types","",0,1,true,[[]]]"#)], "an integer for d: any number", file: file, line: line)
        }
    }

    func checkEventBadArguments(file: StaticString = #filePath, line: UInt = #line) {
        whileStarted(file: file, line: line) {
            let cases: [(String, String)] = [
                (#"["add", 1, "2"]"#, #"{"error":"bad_argument","event":"add","argument":2,"expected":"integer","reason":"not an integer"}"#),
                (#"{"event": "add", "a": 1.5, "b": 2, "ack": 9}"#,
                 #"{"error":"bad_argument","event":"add","argument":1,"expected":"integer","reason":"not an integer","ack":9}"#),
                (#"{"event": "shout", "text": 5, "ack": 2}"#,
                 #"{"error":"bad_argument","event":"shout","argument":1,"expected":"string","reason":"not a string","ack":2}"#),
                (#"["types", "s", 1, "x", true, null]"#,
                 #"{"error":"bad_argument","event":"types","argument":3,"expected":"number","reason":"not a number"}"#),
                (#"{"event": "types", "s": "s", "i": 1, "d": 1, "b": 1, "j": 1}"#,
                 #"{"error":"bad_argument","event":"types","argument":4,"expected":"boolean","reason":"not a boolean"}"#),
                (#"["shout"]"#, #"{"error":"missing_argument","event":"shout","argument":1,"expected":"string"}"#),
                (#"["shout", "nul \u0000 inside"]"#,
                 #"{"error":"bad_argument","event":"shout","argument":1,"expected":"string","reason":"contains NUL"}"#),
                (#"["types", "\u0000", 1, 1, true, null]"#,
                 #"{"error":"bad_argument","event":"types","argument":1,"expected":"string","reason":"contains NUL"}"#),
                (#"{"event": "add", "a": 1}"#, #"{"error":"missing_argument","event":"add","argument":2,"expected":"integer"}"#),
                (#"["add", 1, 2, 3]"#, #"{"error":"too_many_arguments","event":"add","argument":3}"#),
                (#"{"event": "add", "a": 1, "b": 2, "ack": "7"}"#, #"{"error":"bad_ack","event":"add"}"#),
                (#"["shout", "x""#, #"{"error":"bad_json","event":"shout"}"#),
            ]
            for (message, error) in cases {
                XCTAssertEqual(send(message), [reply(error)], message, file: file, line: line)
            }
            XCTAssertEqual(send(#"["unknown", 1]"#), [], "not declared: the commands ignore it", file: file, line: line)
            XCTAssertEqual(send("echo:[\"add\", 1, 2]"), [reply("echo:[\"add\", 1, 2]")], "commands still work", file: file, line: line)
        }
    }
}
