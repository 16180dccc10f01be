// engine-floor: ../shared/tools/floor's protocol (echo:<x> back to the sender, all:<x> to every
// client) served by gatewayd's client engine (GatewayIOEngine on GatewayEventLoop), so that the
// engine's own cost can be compared with the floor's in one run with the same generator: the
// go/no-go measurement of issue 14 (docs/design/io-engine.md). Not gatewayd: no workers, no
// routing; the WebSocket handling here is the floor's minimum, not the gateway's codec.
//
// Run: .build/release/EngineFloor PORT    (127.0.0.1 only)
import Crypto
import Foundation
import GatewayEventLoop
import GatewayIOEngine
import Glibc

/// The protocol on top of the engine: per-connection state in a table indexed by descriptor,
/// the open connections in an array for broadcasts.
final class FloorProtocol: ClientEngineDelegate {
    private let engine: ClientEngine
    /// 0 unused, 1 waiting for the handshake, 2 open; by descriptor.
    private let states: UnsafeMutablePointer<UInt8>
    private let positions: UnsafeMutablePointer<Int32>
    private var open: [ConnectionID] = []
    private var messagesIn = 0
    private var framesOut = 0

    init(engine: ClientEngine) {
        self.engine = engine
        states = .allocate(capacity: engine.maximumDescriptors)
        states.initialize(repeating: 0, count: engine.maximumDescriptors)
        positions = .allocate(capacity: engine.maximumDescriptors)
    }

    func connectionOpened(_ id: ConnectionID, listener: Int, peer: PeerAddress) {
        states[Int(id.fd)] = 1
    }

    func connectionClosed(_ id: ConnectionID, reason: CloseReason) {
        if states[Int(id.fd)] == 2 {
            let position = Int(positions[Int(id.fd)])
            let last = open.removeLast()
            if position < open.count {
                open[position] = last
                positions[Int(last.fd)] = Int32(position)
            }
        }
        states[Int(id.fd)] = 0
    }

    func bytesReceived(_ id: ConnectionID, _ bytes: UnsafeMutableRawBufferPointer) -> ReceiveOutcome {
        var used = 0
        if states[Int(id.fd)] == 1 {
            used = handshake(id, bytes)
            guard states[Int(id.fd)] == 2 else { return ReceiveOutcome(consumed: used) }
        }
        return ReceiveOutcome(consumed: used + frames(id, UnsafeMutableRawBufferPointer(rebasing: bytes[used...])))
    }

    private func handshake(_ id: ConnectionID, _ bytes: UnsafeMutableRawBufferPointer) -> Int {
        let end = bytes.count
        var headerEnd = -1
        if end >= 4 {
            for index in 0...(end - 4)
            where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                headerEnd = index
                break
            }
        }
        guard headerEnd >= 0 else {
            if end > 8192 { engine.close(id, flush: false) }
            return 0
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<headerEnd]), as: UTF8.self)
        var key: Substring?
        for line in text.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "sec-websocket-key" {
                key = parts[1].drop { $0 == " " || $0 == "\t" }
            }
        }
        guard let key else {
            send(id, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            engine.close(id)
            return end
        }
        let digest = Insecure.SHA1.hash(data: Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        send(id, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(Data(digest).base64EncodedString())\r\n\r\n")
        states[Int(id.fd)] = 2
        positions[Int(id.fd)] = Int32(open.count)
        open.append(id)
        return headerEnd + 4
    }

    private func frames(_ id: ConnectionID, _ bytes: UnsafeMutableRawBufferPointer) -> Int {
        var offset = 0
        let count = bytes.count
        while count - offset >= 2 {
            let first = bytes[offset]
            let second = bytes[offset + 1]
            var length = Int(second & 0x7F)
            var header = 2
            if length == 126 {
                guard count - offset >= 4 else { break }
                length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
                header = 4
            } else if length == 127 {
                guard count - offset >= 10 else { break }
                length = 0
                for index in 0..<8 { length = length << 8 | Int(bytes[offset + 2 + index]) }
                header = 10
            }
            guard second & 0x80 != 0 else {
                closeWith(id, 1002)
                return count
            }
            guard length <= 64 * 1024 else {
                closeWith(id, 1009)
                return count
            }
            guard count - offset >= header + 4 + length else { break }
            let mask = offset + header
            let payload = mask + 4
            for index in 0..<length { bytes[payload + index] ^= bytes[mask + (index & 3)] }
            let opcode = first & 0x0F
            if first & 0x80 != 0 || opcode >= 8 {
                message(id, opcode: opcode, UnsafeRawBufferPointer(rebasing: bytes[payload..<(payload + length)]))
            }
            offset = payload + length
            guard engine.isOpen(id), states[Int(id.fd)] == 2 else { return count }
        }
        return offset
    }

    private func message(_ id: ConnectionID, opcode: UInt8, _ payload: UnsafeRawBufferPointer) {
        switch opcode {
        case 1:
            messagesIn += 1
            if payload.starts(with: "echo:".utf8) {
                engine.send(id, staged: frame(opcode: 1, payload))
                framesOut += 1
            } else if payload.starts(with: "all:".utf8) {
                let staged = frame(opcode: 1, UnsafeRawBufferPointer(rebasing: payload[4...]))
                for receiver in open { engine.send(receiver, staged: staged) }
                framesOut += open.count
            }
        case 8:
            engine.send(id, staged: frame(opcode: 8, UnsafeRawBufferPointer(rebasing: payload.prefix(payload.count >= 2 ? 2 : 0))))
            engine.close(id)
        case 9:
            engine.send(id, staged: frame(opcode: 10, payload))
        default:
            break
        }
    }

    private func closeWith(_ id: ConnectionID, _ code: UInt16) {
        let bytes: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xFF)]
        bytes.withUnsafeBytes { engine.send(id, staged: frame(opcode: 8, $0)) }
        engine.close(id)
    }

    /// A server frame (unmasked), encoded once into the tick's output.
    private func frame(opcode: UInt8, _ payload: UnsafeRawBufferPointer) -> ClientEngine.Staged {
        engine.stage(capacity: payload.count + 10) { out in
            out.storeBytes(of: 0x80 | opcode, as: UInt8.self)
            var header = 2
            if payload.count < 126 {
                out.storeBytes(of: UInt8(payload.count), toByteOffset: 1, as: UInt8.self)
            } else if payload.count < 65536 {
                out.storeBytes(of: 126, toByteOffset: 1, as: UInt8.self)
                out.storeBytes(of: UInt16(payload.count).bigEndian, toByteOffset: 2, as: UInt16.self)
                header = 4
            } else {
                out.storeBytes(of: 127, toByteOffset: 1, as: UInt8.self)
                out.storeBytes(of: UInt64(payload.count).bigEndian, toByteOffset: 2, as: UInt64.self)
                header = 10
            }
            if let base = payload.baseAddress { (out + header).copyMemory(from: base, byteCount: payload.count) }
            return header + payload.count
        }
    }

    private func send(_ id: ConnectionID, _ text: String) {
        var text = text
        text.withUTF8 { engine.send(id, bytes: UnsafeRawBufferPointer($0)) }
    }

    func report() {
        say("engine-floor: msgs_in \(messagesIn) frames_out \(framesOut) conns \(open.count)")
    }
}

/// A line on standard error.
private func say(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

guard CommandLine.arguments.count == 2, let port = UInt16(CommandLine.arguments[1]) else {
    say("usage: EngineFloor PORT")
    exit(2)
}
signal(SIGPIPE, SIG_IGN)
var limit = rlimit()
getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
limit.rlim_cur = limit.rlim_max
setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)

let listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
var one: Int32 = 1
setsockopt(listenFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
var address = sockaddr_in()
address.sin_family = sa_family_t(AF_INET)
address.sin_port = port.bigEndian
address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
}
guard bound == 0, Glibc.listen(listenFD, 4096) == 0 else {
    perror("engine-floor: bind/listen")
    exit(1)
}
let loop = try EventLoop()
let engine = ClientEngine(loop: loop)
let floorProtocol = FloorProtocol(engine: engine)
engine.delegate = floorProtocol
_ = try engine.listen(fd: listenFD)
loop.afterIteration = { engine.flush() }
say("engine-floor: listening on 127.0.0.1:\(port) (max fds \(engine.maximumDescriptors))")
loop.run()
