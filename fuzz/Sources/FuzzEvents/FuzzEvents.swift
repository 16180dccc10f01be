// Typed events (docs/events.md): client text messages through EventDecoder.decode against a
// table with one event of every argument type ("all": s S i d b j, by name), one without
// arguments ("ping"), an all-j one ("jays") and two small ones ("say", "add"). Decoders are
// reused across inputs, as a worker reuses its one decoder.
//
// Control byte 0: bits 0-1 the decoder (arena steady size 64, 1 KiB, 16 KiB, 16 KiB), bit 2
// decode twice (the second result and arguments must equal the first).
//
// Checks, beyond no crash: an event's arguments have the declared types; texts are
// NUL-terminated, at most 64 KiB, valid UTF-8, and an `s` holds no NUL; a `d` is finite;
// a `j` is JSON (JSONValue.parse, whose only extra refusal is a number beyond a double's
// range). Error frames are JSON objects with a known "error". Where JSONValue.parse accepts
// the whole message (it refuses what the decoder lets through only in ignored members:
// nesting over 64, out-of-range numbers, lone surrogates), the decoder must agree with it:
// never bad_json; an event exactly when the message is an array starting with a string or
// an object whose last "event" member is a string; the same name; and for a bound event the
// same argument values as the parsed JSON.
import FuzzSupport
import GatewayWire

@main enum Main {
    static func main() { runLibFuzzer(fuzzEvents) }
}

private let table: EventTable = {
    var table = EventTable()
    for (name, signature) in [
        ("all", "s:s S:bytes i:int d:num b:flag j:json"), ("ping", ""), ("jays", "j:a j:b j:c j:d"), ("say", "s:room s:text"),
        ("add", "i:a i:b"),
    ] {
        try! table.declare(name: name, signature: EventSignature(parsing: signature))
    }
    return table
}()

nonisolated(unsafe) private var tinyDecoder = EventDecoder(steadyCapacity: 64)
nonisolated(unsafe) private var smallDecoder = EventDecoder(steadyCapacity: 1024)
nonisolated(unsafe) private var decoder = EventDecoder(steadyCapacity: 16 * 1024)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEvents(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let options = input.byte()
    let message = input.remaining
    switch options & 3 {
    case 0: check(message, &tinyDecoder, twice: options & 4 != 0)
    case 1: check(message, &smallDecoder, twice: options & 4 != 0)
    default: check(message, &decoder, twice: options & 4 != 0)
    }
    return 0
}

/// An argument as a comparable value.
private enum Value: Equatable {
    case text([UInt8])
    case integer(Int64)
    case number(Double)
    case boolean(Bool)
}

private func check(_ message: UnsafeRawBufferPointer, _ decoder: inout EventDecoder, twice: Bool) {
    let result = decoder.decode(message, table: table)
    let values = checkArguments(result, decoder)
    if twice {
        precondition(decoder.decode(message, table: table) == result, "a second decode differs")
        precondition(checkArguments(result, decoder) == values, "a second decode bound other arguments")
    }
    if case .failure(let error) = result {
        let frame: JSONValue
        do {
            frame = try JSONValue.parse(error.frame())
        } catch {
            fatalError("an error frame is not JSON: \(error)")
        }
        let kinds = ["bad_argument", "missing_argument", "too_many_arguments", "bad_ack", "bad_json"]
        precondition(frame["error"]?.stringValue.map(kinds.contains) == true, "an error frame without a known error")
    }
    compareWithParser(message, result, values)
}

/// Checks the bound arguments of an event against the table, and returns them.
private func checkArguments(_ result: EventDecodeResult, _ decoder: borrowing EventDecoder) -> [Value] {
    guard case .event(let index, _) = result else {
        precondition(decoder.arguments.isEmpty, "arguments bound without an event")
        return []
    }
    let signature = table[index].signature
    precondition(decoder.arguments.count == signature.count, "not as many arguments as the signature")
    return zip(decoder.arguments, signature.types).map { argument, type in
        precondition(argument.type == type, "an argument of the wrong type")
        switch type {
        case .string, .bytes, .json:
            guard let text = argument.text else { fatalError("a text argument without text") }
            precondition(argument.length >= 0 && argument.length <= EventLimits.maximumArgumentBytes, "a text over the limit")
            precondition(UnsafeRawPointer(text).load(fromByteOffset: argument.length, as: UInt8.self) == 0, "not NUL-terminated")
            let bytes = Array(argument.bytes)
            precondition(String(validating: bytes, as: UTF8.self) != nil, "a text that is not UTF-8")
            if type == .string { precondition(!bytes.contains(0), "an s argument with a NUL") }
            if type == .json {
                do throws(JSONParseError) {
                    _ = try JSONValue.parse(bytes)
                } catch {
                    precondition(error.reason == "number out of range", "a j argument that is not JSON: \(error.reason)")
                }
            }
            return .text(bytes)
        case .integer:
            return .integer(argument.integer)
        case .number:
            precondition(argument.number.isFinite, "a d argument that is not finite")
            return .number(argument.number)
        case .boolean:
            return .boolean(argument.boolean)
        }
    }
}

/// Where the repo's JSON parser accepts the message, the decoder must read it the same way.
private func compareWithParser(_ message: UnsafeRawBufferPointer, _ result: EventDecodeResult, _ values: [Value]) {
    let parsed: JSONValue
    do throws(JSONParseError) {
        parsed = try JSONValue.parse(message)
    } catch {
        if case .event = result {
            // Accepted by the decoder: the parser's refusal must be one of the three it alone makes.
            let allowed = ["nesting deeper than 64", "number out of range", "unpaired UTF-16 surrogate"]
            precondition(allowed.contains(error.reason), "an event the parser refuses: \(error.reason)")
        }
        return
    }
    precondition(result.error?.kind != .badJSON, "bad_json for a message that is JSON")

    // The event name and the argument values the message carries, as the docs define them.
    let name: String
    var arguments: [JSONValue]?
    if let elements = parsed.arrayValue, let first = elements.first?.stringValue {
        name = first
        arguments = Array(elements.dropFirst())
    } else if let members = parsed.objectValue, let last = members.last(where: { $0.key == "event" })?.value.stringValue {
        name = last
        arguments = members.last(where: { $0.key == "args" && $0.value.arrayValue != nil })?.value.arrayValue
        if arguments == nil, let index = table.index(ofName: name) {
            let names = table[index].signature.names
            guard names.allSatisfy({ name in members.contains { $0.key == name } }) else {
                precondition(result.error != nil, "an event with a field missing")
                return
            }
            arguments = names.map { name in members.last { $0.key == name }!.value }
        }
    } else {
        precondition(result == .notAnEvent, "an event in a message that is not one")
        return
    }

    switch result {
    case .notAnEvent:
        fatalError("not an event, but it is one: \(name)")
    case .unknownEvent(let unknown, _):
        precondition(unknown == name && table.index(ofName: name) == nil, "the wrong unknown event")
    case .failure(let error):
        precondition(error.event == name, "an error frame for the wrong event")
    case .event(let index, _):
        precondition(table[index].name == name, "the wrong event")
        guard let arguments else { fatalError("an event without arguments") }
        precondition(arguments.count == values.count, "not as many arguments as the message")
        for (json, (value, type)) in zip(arguments, zip(values, table[index].signature.types)) {
            switch value {
            case .text(let bytes):
                if type == .json {
                    precondition((try? JSONValue.parse(bytes)) == json, "a j argument is not the value sent")
                } else {
                    precondition(json.stringValue.map { Array($0.utf8) } == bytes, "a string decoded wrong")
                }
            case .integer(let integer):
                precondition(json.intValue == Int(integer), "an integer decoded wrong")
            case .number(let number):
                precondition(json.doubleValue == number, "a number decoded wrong")
            case .boolean(let flag):
                precondition(json.boolValue == flag, "a boolean decoded wrong")
            }
        }
    }
}
