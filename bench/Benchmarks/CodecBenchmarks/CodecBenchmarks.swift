// Micro-benchmarks of the codecs on gatewayd's hot paths: the inner-protocol frame (every
// client message crosses it twice), WebSocket frames out (WebSocketFrameWriter) and in (NIO's
// decoder plus unmasking, as the gateway did until 2026-12, and WebSocketFrameParser with the
// word-wise unmask it does now), PHP serialize/unserialize (sessions), and typed events
// (EventDecoder: a client message checked and its arguments bound, in each form).
// Each benchmark body handles `batch` items per scaled iteration; counts are per item.
//
// Run: cd bench && swift package benchmark --target CodecBenchmarks
import Benchmark
import GatewayWire
import NIOCore
import NIOEmbedded
import NIOWebSocket

private let batch = 100
private let payload64 = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64)
private let payload4K = ByteBuffer(repeating: UInt8(ascii: "x"), count: 4096)

/// A session as a chat app keeps it: a few strings and numbers.
private let session: PHPValue = [
    "uid": "user-18342", "name": "Ada Lovelace", "room": "lobby", "joined_at": 1_763_800_000,
    "roles": ["member", "moderator"], "score": 12.5, "muted": false,
]
private let serializedSession = PHPSerializer.serialize(session)

/// `count` inner frames as a gateway sends them to a worker (CMD_ON_MESSAGE, full header).
private func innerFrames(body: ByteBuffer, count: Int) -> ByteBuffer {
    var buffer = ByteBuffer()
    for index in 0..<count {
        body.withUnsafeReadableBytes { bytes in
            _ = buffer.writeGatewayFrame(
                command: .onMessage, connectionID: UInt32(index), flags: .scalarBody,
                extData: UnsafeRawBufferPointer(start: nil, count: 0), body: bytes,
                localIP: 0x7F00_0001, localPort: 2900, clientIP: 0x7F00_0001, clientPort: 40000, gatewayPort: 8282)
        }
    }
    return buffer
}

/// `count` masked client frames, as a browser sends them.
private func maskedClientFrames(payload: ByteBuffer, count: Int) -> ByteBuffer {
    var buffer = ByteBuffer()
    let key: WebSocketMaskingKey = [0x12, 0x34, 0x56, 0x78]
    for _ in 0..<count {
        var data = payload
        data.webSocketMask(key)
        let length = data.readableBytes
        buffer.writeInteger(UInt8(0x81))
        if length < 126 {
            buffer.writeInteger(UInt8(0x80 | length))
        } else {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(length))
        }
        buffer.writeBytes(key)
        buffer.writeBuffer(&data)
    }
    return buffer
}

/// A worker's declared events: the benchmarked one takes a string, an integer and a double.
private let eventTable: EventTable = {
    var table = EventTable()
    for (name, signature) in [("say", "s:room s:text"), ("update", "s:room i:count d:score"), ("ping", "")] {
        try! table.declare(name: name, signature: EventSignature(parsing: signature))
    }
    return table
}()

/// `update` (s i d) in the three forms, as a browser would send it.
private let eventMessages: [(String, [UInt8])] = [
    ("array", #"["update","room1",42,2.5]"#),
    ("named object", #"{"event":"update","room":"room1","count":42,"score":2.5}"#),
    ("positional object + ack", #"{"event":"update","args":["room1",42,2.5],"ack":7}"#),
].map { ($0.0, Array($0.1.utf8)) }

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )

    // MARK: Inner protocol

    Benchmark("Inner frame encode, 64 B body ×\(batch) (reused buffer)") { benchmark in
        var buffer = ByteBuffer()
        buffer.reserveCapacity(batch * 128)
        for _ in benchmark.scaledIterations {
            buffer.clear()
            payload64.withUnsafeReadableBytes { body in
                for index in 0..<batch {
                    buffer.writeGatewayFrame(
                        command: .onMessage, connectionID: UInt32(index), flags: .scalarBody,
                        extData: UnsafeRawBufferPointer(start: nil, count: 0), body: body,
                        localIP: 0x7F00_0001, localPort: 2900, clientIP: 0x7F00_0001, clientPort: 40000, gatewayPort: 8282)
                }
            }
            blackHole(buffer)
        }
    }

    Benchmark("Inner frame encode, 64 B body ×\(batch) (new buffer each, as GatewayServer.send does)") { benchmark in
        let allocator = ByteBufferAllocator()
        for _ in benchmark.scaledIterations {
            payload64.withUnsafeReadableBytes { body in
                for index in 0..<batch {
                    var buffer = allocator.buffer(capacity: 28 + body.count)
                    buffer.writeGatewayFrame(
                        command: .onMessage, connectionID: UInt32(index), flags: .scalarBody,
                        extData: UnsafeRawBufferPointer(start: nil, count: 0), body: body,
                        localIP: 0x7F00_0001, localPort: 2900, clientIP: 0x7F00_0001, clientPort: 40000, gatewayPort: 8282)
                    blackHole(buffer)
                }
            }
        }
    }

    Benchmark("Inner frame decode, 64 B body ×\(batch)") { benchmark in
        let frames = innerFrames(body: payload64, count: batch)
        for _ in benchmark.scaledIterations {
            var input = frames
            var parser = GatewayFrameParser()
            while let frame = try parser.parse(&input) { blackHole(frame) }
        }
    }

    Benchmark("Inner frame decode, 4 KiB body ×\(batch)") { benchmark in
        let frames = innerFrames(body: payload4K, count: batch)
        for _ in benchmark.scaledIterations {
            var input = frames
            var parser = GatewayFrameParser()
            while let frame = try parser.parse(&input) { blackHole(frame) }
        }
    }

    // MARK: WebSocket

    Benchmark("WebSocketFrameWriter.frame, 64 B ×\(batch)") { benchmark in
        for _ in benchmark.scaledIterations {
            payload64.withUnsafeReadableBytes { bytes in
                for _ in 0..<batch { blackHole(WebSocketFrameWriter.frame(opcode: WebSocketFrameWriter.textOpcode, payload: bytes)) }
            }
        }
    }

    Benchmark("WebSocketFrameWriter.frame, 4 KiB ×\(batch)") { benchmark in
        for _ in benchmark.scaledIterations {
            payload4K.withUnsafeReadableBytes { bytes in
                for _ in 0..<batch { blackHole(WebSocketFrameWriter.frame(opcode: WebSocketFrameWriter.textOpcode, payload: bytes)) }
            }
        }
    }

    Benchmark("WebSocketFrameWriter.writeHeader + payload, 64 B ×\(batch) (reused buffer)") { benchmark in
        var buffer = ByteBuffer()
        buffer.reserveCapacity(batch * 80)
        for _ in benchmark.scaledIterations {
            buffer.clear()
            for _ in 0..<batch {
                WebSocketFrameWriter.writeHeader(fin: true, opcode: WebSocketFrameWriter.textOpcode, payloadLength: 64, into: &buffer)
                buffer.writeImmutableBuffer(payload64)
            }
            blackHole(buffer)
        }
    }

    // The gateway's inbound path: NIO's WebSocketFrameDecoder in a ByteToMessageHandler, then
    // the unmasking WebSocketConnectionHandler does. EmbeddedChannel overhead is included.
    Benchmark("WebSocket decode + unmask, 64 B ×\(batch) (NIO decoder, EmbeddedChannel)") { benchmark in
        let input = maskedClientFrames(payload: payload64, count: batch)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        for _ in benchmark.scaledIterations {
            try channel.writeInbound(input)
            while var frame = try channel.readInbound(as: WebSocketFrame.self) {
                var data = frame.data
                if let key = frame.maskKey { data.webSocketUnmask(key) }
                frame.data = data
                blackHole(frame)
            }
        }
        _ = try channel.finish()
    }

    Benchmark("WebSocket decode + unmask, 4 KiB ×\(batch) (NIO decoder, EmbeddedChannel)") { benchmark in
        let input = maskedClientFrames(payload: payload4K, count: batch)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        for _ in benchmark.scaledIterations {
            try channel.writeInbound(input)
            while var frame = try channel.readInbound(as: WebSocketFrame.self) {
                var data = frame.data
                if let key = frame.maskKey { data.webSocketUnmask(key) }
                frame.data = data
                blackHole(frame)
            }
        }
        _ = try channel.finish()
    }

    // The gateway's inbound path since 2026-12: WebSocketFrameParser on the read buffer, each
    // payload unmasked 8 bytes at a time straight into a reused outgoing buffer (the arena).
    for (name, payload) in [("64 B", payload64), ("4 KiB", payload4K)] {
        Benchmark("WebSocketFrameParser + unmask into a reused buffer, \(name) ×\(batch)") { benchmark in
            let input = maskedClientFrames(payload: payload, count: batch)
            var parser = WebSocketFrameParser(maximumPayloadLength: 1 << 20)
            var output = ByteBuffer()
            output.reserveCapacity(batch * (payload.readableBytes + 8))
            for _ in benchmark.scaledIterations {
                var bytes = input
                output.clear()
                while let frame = try parser.parse(&bytes) {
                    guard let key = frame.maskingKey else { continue }
                    frame.payload.withUnsafeReadableBytes { _ = output.writeUnmaskedWebSocketPayload($0, maskingKey: key) }
                }
                blackHole(output)
            }
        }
    }

    // MARK: PHP serialize

    Benchmark("PHP serialize, 7-key session ×\(batch) → [UInt8]") { benchmark in
        for _ in benchmark.scaledIterations {
            for _ in 0..<batch { blackHole(PHPSerializer.serialize(session)) }
        }
    }

    Benchmark("PHP serialize, 7-key session ×\(batch) → reused ByteBuffer") { benchmark in
        var buffer = ByteBuffer()
        buffer.reserveCapacity(4096)
        for _ in benchmark.scaledIterations {
            for _ in 0..<batch {
                buffer.clear()
                PHPSerializer.serialize(session, into: &buffer)
            }
            blackHole(buffer)
        }
    }

    Benchmark("PHP unserialize, 7-key session ×\(batch)") { benchmark in
        for _ in benchmark.scaledIterations {
            for _ in 0..<batch { blackHole(try PHPSerializer.unserialize(serializedSession)) }
        }
    }

    // MARK: Typed events

    // One decoder reused for every message, as a worker does; arguments bound into its arena.
    for (form, message) in eventMessages {
        Benchmark("EventDecoder.decode, s i d event, \(form) ×\(batch)") { benchmark in
            var decoder = EventDecoder()
            message.withUnsafeBytes { bytes in
                for _ in benchmark.scaledIterations {
                    for _ in 0..<batch {
                        blackHole(decoder.decode(bytes, table: eventTable))
                        blackHole(decoder.arguments[1].integer)
                    }
                }
            }
        }
    }
}
