import Foundation
import GatewayWire
import NIOCore

/// Loads the bytes captured from PHP GatewayWorker (`Fixtures/*.json`) for the tests.
///
/// The JSON files are read with `JSONValue.parse` (itself tested against hand-written cases in
/// JSONValueTests), which keeps integers, doubles and key order exactly as written.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func load(_ name: String) -> JSONValue {
        let url = self.directory.appendingPathComponent(name)
        guard let data = try? Data(contentsOf: url) else {
            fatalError("cannot read fixture \(url.path)")
        }
        do {
            return try JSONValue.parse(Array(data))
        } catch {
            fatalError("fixture \(name) is not JSON: \(error)")
        }
    }

    static let vectorsDocument = load("vectors.json")
    static let vectors: [JSONValue] = vectorsDocument["vectors"]?.arrayValue ?? []
    static let phpSerializeSamples: [JSONValue] = load("php-serialize.json").arrayValue ?? []

    static func vector(_ id: String) -> JSONValue {
        guard let vector = self.vectors.first(where: { $0["id"]?.stringValue == id }) else {
            fatalError("no vector \(id)")
        }
        return vector
    }

    /// Vectors whose `hex` is one inner-protocol frame.
    static var frameVectors: [JSONValue] {
        self.vectors.filter { $0["channel"]?.stringValue?.contains("GatewayProtocol frame") == true }
    }

    /// Vectors whose `hex` is one reply (u32 length + serialized payload).
    static var replyVectors: [JSONValue] {
        self.vectors.filter { $0["channel"]?.stringValue?.contains("reply") == true }
    }

    /// Register-protocol vectors.
    static var registerVectors: [JSONValue] {
        self.vectors.filter { $0["group"]?.stringValue?.hasPrefix("R") == true }
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8? = nil
        for byte in hex.utf8 {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: fatalError("bad hex \(hex)")
            }
            if let pending = high {
                out.append(pending << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        precondition(high == nil, "odd hex length")
        return out
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func buffer(hex: String) -> ByteBuffer {
        ByteBuffer(bytes: self.bytes(hex: hex))
    }

    /// A payload field (`ext_data`, `body`, `payload`): the exact string when printable UTF-8,
    /// else `{"hex": ...}`.
    static func payload(_ value: JSONValue?) -> [UInt8] {
        switch value {
        case .string(let text)?: return Array(text.utf8)
        case .object?: return self.bytes(hex: value?["hex"]?.stringValue ?? "")
        default: return []
        }
    }

    /// The header fields a vector's `decoded` lists, as a frame (independent of the parser).
    static func expectedFrame(_ vector: JSONValue) -> GatewayFrame {
        let decoded = vector["decoded"]!
        func int(_ key: String) -> Int { decoded[key]!.intValue! }
        return GatewayFrame(
            command: GatewayCommand(rawValue: UInt8(int("cmd"))),
            connectionID: UInt32(int("connection_id")),
            flags: GatewayFrameFlags(rawValue: UInt8(int("flag"))),
            extData: ByteBuffer(bytes: self.payload(decoded["ext_data"])),
            body: ByteBuffer(bytes: self.payload(decoded["body"])),
            localIP: UInt32(int("local_ip")),
            localPort: UInt16(int("local_port")),
            clientIP: UInt32(int("client_ip")),
            clientPort: UInt16(int("client_port")),
            gatewayPort: UInt16(int("gateway_port"))
        )
    }
}
