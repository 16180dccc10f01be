// The PHP serialize codec (sessions, replies, ON_WEBSOCKET_CONNECT bodies) and the JSON
// parser behind the register protocol and ext_data. Control byte 0: even = PHP, odd = JSON.
//
// Checks: whatever PHPSerializer.unserialize accepts, serialize() turns into bytes that
// unserialize to an equal value (NaN equal to NaN, -0 distinct from 0) and serialize to the
// same bytes again. Whatever JSONValue.parse accepts, serialized() turns into text that parses
// to an equal value, for both escaping styles (a whole double may come back as the int it
// equals: serialized() writes 1.0 as `1`, like PHP).
import FuzzSupport
import GatewayWire

@main enum Main {
    static func main() { runLibFuzzer(fuzzPHPSerialize) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPHPSerialize(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    if input.byte() % 2 == 0 {
        guard let value = try? PHPSerializer.unserialize(input.remaining) else { return 0 }
        let bytes = PHPSerializer.serialize(value)
        let again: PHPValue
        do {
            again = try PHPSerializer.unserialize(bytes)
        } catch {
            fatalError("serialize() output does not unserialize: \(error): \(String(decoding: bytes, as: UTF8.self))")
        }
        precondition(same(value, again), "value changed in a round trip: \(value) -> \(again)")
        precondition(PHPSerializer.serialize(again) == bytes, "serialize() is not stable")
    } else {
        guard let value = try? JSONValue.parse(input.remaining) else { return 0 }
        for escaping in [JSONValue.Escaping.php, .minimal] {
            let text = value.serialized(escaping: escaping)
            let again: JSONValue
            do {
                again = try JSONValue.parse(text)
            } catch {
                fatalError("serialized() output does not parse: \(error): \(String(decoding: text, as: UTF8.self))")
            }
            precondition(same(value, again), "JSON changed in a round trip: \(value) -> \(again)")
        }
    }
    return 0
}

/// Structural equality where a NaN equals a NaN and -0 differs from 0 (what serialize keeps).
private func same(_ a: PHPValue, _ b: PHPValue) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)):
        return x.isNaN ? y.isNaN : x.bitPattern == y.bitPattern
    case (.array(let x), .array(let y)):
        guard x.count == y.count else { return false }
        return zip(x, y).allSatisfy { $0.key == $1.key && same($0.value, $1.value) }
    default:
        return a == b
    }
}

/// Equality up to what JSON text cannot tell apart: a whole double and the integer it equals.
private func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.double(let x), .int(let n)), (.int(let n), .double(let x)):
        return Double(n) == x
    case (.array(let x), .array(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    case (.object(let x), .object(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && same($0.value, $1.value) }
    default:
        return a == b
    }
}
