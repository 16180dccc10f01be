// The typed events of the conformance protocol (/work/shared/design/conformance-protocol.md,
// "Typed events"; docs/events.md), through the SDK's Gateway.on and Gateway.emit. Each answers
// the sender with an event; an "ack" in the message is acknowledged by the SDK.
import GatewayPluginSDK

/// `add(int a, int b)` → `["sum", a+b]` (64-bit, wrapping around on overflow as the C plugin's
/// does); an acknowledgement carries the sum as its result.
struct AddArguments: Decodable {
    let a: Int64
    let b: Int64
}

/// `shout(string text)` → `["shouted", TEXT]`: ASCII letters in upper case, the rest unchanged
/// (as C's toupper in the C locale).
struct ShoutArguments: Decodable {
    let text: CString
}

/// `types(string s, int i, double d, bool b, raw JSON j)` → `["types", s, i, d, b, j]`, with
/// `j` as the client wrote it.
struct TypesArguments: Decodable {
    let s: CString
    let i: Int64
    let d: Double
    let b: Bool
    let j: RawJSON
}

/// A string argument as C's `s` type takes it: one with `\u0000` in it is a bad argument, so
/// that this plugin answers exactly as conformance-c (a Swift `String` could hold it).
struct CString: RawRepresentable, Decodable, Encodable {
    let rawValue: String

    init?(rawValue: String) {
        guard !rawValue.utf8.contains(0) else { return nil }
        self.rawValue = rawValue
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let value = CString(rawValue: try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "contains NUL")
        }
        self = value
    }
}

/// Declares add, shout and types (workerStarted).
func declareConformanceEvents(_ gateway: Gateway) throws(GatewayError) {
    try gateway.on("add") { (gateway, client, add: AddArguments) -> Int64 in
        let sum = add.a &+ add.b
        try gateway.emit("sum", to: .client(client), sum)
        return sum  // the acknowledgement's result, as conformance-c sets it with event_result
    }
    try gateway.on("shout") { (gateway, client, shout: ShoutArguments) in
        try gateway.emit("shouted", to: .client(client), asciiUppercased(shout.text.rawValue))
    }
    try gateway.on("types") { (gateway, client, types: TypesArguments) in
        try gateway.emit("types", to: .client(client), types.s, types.i, types.d, types.b, types.j)
    }
}

func asciiUppercased(_ text: String) -> String {
    String(decoding: text.utf8.map { (0x61...0x7A).contains($0) ? $0 - 0x20 : $0 }, as: UTF8.self)
}
