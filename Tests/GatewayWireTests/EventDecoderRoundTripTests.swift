import GatewayWire
import XCTest

/// Random events: arguments of random types, written as JSON by `JSONValue.serialized` (both
/// escaping styles) in one of the three forms, must decode to the same arguments.
final class EventDecoderRoundTripTests: XCTestCase {
    private typealias Random = SeededRandom

    private static let alphabet: [Unicode.Scalar] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\u{8}", "\u{C}", "\n", "\r", "\t", "\u{1}", "\u{1F}", "\u{7F}", "é", "\u{7FF}", "房",
        "\u{FFFF}", "😀", "\u{10FFFF}",
    ]

    private func randomText(_ random: inout Random, allowNUL: Bool, maximumLength: Int = 40) -> String {
        var scalars = String.UnicodeScalarView()
        let length = Int.random(in: 0...(Bool.random(using: &random) ? maximumLength : 3), using: &random)
        for _ in 0..<length {
            if allowNUL, Int.random(in: 0..<10, using: &random) == 0 {
                scalars.append("\u{0}")
            } else {
                scalars.append(Self.alphabet.randomElement(using: &random)!)
            }
        }
        return String(scalars)
    }

    private func randomDouble(_ random: inout Random) -> Double {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return [0, -0.0, 1, -1, 0.1, 1e308, -1e-308, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 0.30000000000000004]
            .randomElement(using: &random)!
        case 1: return Double(Int.random(in: -1_000_000...1_000_000, using: &random))
        case 2: return Double.random(in: -1...1, using: &random)
        case 3: return Double.random(in: -1e20...1e20, using: &random)
        default:
            let value = Double(bitPattern: random.next())
            return value.isFinite ? value : 1.5
        }
    }

    private func randomJSON(_ random: inout Random, depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .int(Int.random(in: Int.min...Int.max, using: &random))
        case 3: return .double(self.randomDouble(&random))
        case 4: return .string(self.randomText(&random, allowNUL: true))
        case 5: return .array((0..<Int.random(in: 0...3, using: &random)).map { _ in self.randomJSON(&random, depth: depth + 1) })
        default:
            return .object((0..<Int.random(in: 0...3, using: &random)).map { _ in
                JSONMember(self.randomText(&random, allowNUL: false), self.randomJSON(&random, depth: depth + 1))
            })
        }
    }

    /// One argument: its JSON and what the decoder must make of it.
    private func randomArgument(_ type: EventArgumentType, _ random: inout Random, escaping: JSONValue.Escaping) -> (JSONValue, EventValue) {
        switch type {
        case .string:
            let text = self.randomText(&random, allowNUL: false)
            return (.string(text), .string(text))
        case .bytes:
            let text = self.randomText(&random, allowNUL: true)
            return (.string(text), .bytes(Array(text.utf8)))
        case .integer:
            let value = [Int.min, Int.max, 0, -1, Int.random(in: Int.min...Int.max, using: &random)].randomElement(using: &random)!
            return (.int(value), .integer(Int64(value)))
        case .number:
            let value = self.randomDouble(&random)
            return (.double(value), .double(value))
        case .boolean:
            let flag = Bool.random(using: &random)
            return (.bool(flag), .boolean(flag))
        case .json:
            let value = self.randomJSON(&random, depth: 0)
            return (value, .json(String(decoding: value.serialized(escaping: escaping), as: UTF8.self)))
        }
    }

    func testRandomEvents() throws {
        var random = Random(state: 0x5EED_0001)
        var table = EventTable()
        var signatures: [EventSignature] = []
        for index in 0..<24 {
            let count = index < 2 ? index : Int.random(in: 0...EventLimits.maximumArguments, using: &random)
            let types = (0..<count).map { _ in EventArgumentType.allCases.randomElement(using: &random)! }
            let names = (0..<count).map { "f\($0)" as String? }
            let signature = try EventSignature(types: types, names: names)
            try table.declare(name: "event_\(index)_\(self.randomText(&random, allowNUL: true, maximumLength: 10))", signature: signature)
            signatures.append(signature)
        }

        var decoder = EventDecoder(steadyCapacity: 256)
        for round in 0..<3000 {
            let index = Int.random(in: 0..<table.count, using: &random)
            let escaping: JSONValue.Escaping = Bool.random(using: &random) ? .php : .minimal
            let arguments = signatures[index].types.map { self.randomArgument($0, &random, escaping: escaping) }
            let name = JSONValue.string(table[index].name)
            let ack: Int64? = Bool.random(using: &random) ? Int64.random(in: .min ... .max, using: &random) : nil
            let message: JSONValue
            switch round % 3 {
            case 0:
                message = .array([name] + arguments.map(\.0))
            case 1:
                var members = arguments.enumerated().map { JSONMember("f\($0.offset)", $0.element.0) }
                members.append(JSONMember("event", name))
                members.append(JSONMember("ignored", self.randomJSON(&random, depth: 0)))
                if let ack { members.append(JSONMember("ack", .int(Int(ack)))) }
                members.shuffle(using: &random)
                message = .object(members)
            default:
                var members = [JSONMember("event", name), JSONMember("args", .array(arguments.map(\.0)))]
                if let ack { members.append(JSONMember("ack", .int(Int(ack)))) }
                members.shuffle(using: &random)
                message = .object(members)
            }
            let bytes = message.serialized(escaping: escaping)
            let result = decoder.decode(bytes, table: table)
            let text = String(decoding: bytes, as: UTF8.self)
            XCTAssertEqual(result, .event(index: index, ack: round % 3 == 0 ? nil : ack), text)
            XCTAssertEqual(decoder.values(), arguments.map(\.1), text)
        }
    }
}
