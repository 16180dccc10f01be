// Typed events (issue 13): what the host adds per event — decoding the JSON against the
// declared signature, binding the arguments and calling the handler through libffi — against
// a hand-written path that parses the same message in C and calls the same handler directly.
// Each sample handles `batch` events, so the harness's own per-sample cost (its clock reads
// and counters, which allocate) is spread over them: divide a row's figures by `batch`.
//
// Run: cd bench && swift package --disable-sandbox benchmark --target EventBenchmarks
import Benchmark
import CEventBench
import CGatewayABI
import GatewayEvents
import GatewayWire

private let batch = 1000
private let message: [UInt8] = Array(#"["say", "room1", 42, 0.5]"#.utf8)
private let clientID: [CChar] = Array("7f0000010b5400000001".utf8CString)

/// The handlers with `bench_on_say` declared as `say`.
private func sayHandlers() throws -> EventHandlers {
    let handlers = EventHandlers()
    typealias Say = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int64, Double) -> Int32
    try handlers.declare(
        name: "say", signature: "s:room i:count d:score", function: unsafeBitCast(bench_on_say as Say, to: gwd_event_fn.self))
    return handlers
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .instructions], maxDuration: .seconds(3), maxIterations: 100_000)

    Benchmark("event: hand-written parse + direct call ×\(batch)", configuration: configuration) { benchmark in
        message.withUnsafeBufferPointer { bytes in
            clientID.withUnsafeBufferPointer { client in
                bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { json in
                    benchmark.startMeasurement()
                    for _ in 0..<batch {
                        blackHole(bench_handwritten(json, bytes.count, nil, client.baseAddress))
                    }
                    benchmark.stopMeasurement()
                }
            }
        }
    }

    Benchmark("event: EventDecoder + libffi call (s i d) ×\(batch)", configuration: configuration) { benchmark in
        let handlers = try sayHandlers()
        var decoder = EventDecoder()
        let context = OpaquePointer(bitPattern: 0x1000)!
        message.withUnsafeBytes { bytes in
            clientID.withUnsafeBufferPointer { client in
                benchmark.startMeasurement()
                for _ in 0..<batch {
                    guard case .event(let index, _) = decoder.decode(bytes, table: handlers.table) else { fatalError("not decoded") }
                    blackHole(handlers.call(index, context: context, clientID: client.baseAddress!, arguments: decoder.arguments))
                }
                benchmark.stopMeasurement()
            }
        }
    }

    Benchmark("event: EventDecoder alone (s i d) ×\(batch)", configuration: configuration) { benchmark in
        let handlers = try sayHandlers()
        var decoder = EventDecoder()
        message.withUnsafeBytes { bytes in
            benchmark.startMeasurement()
            for _ in 0..<batch {
                guard case .event(let index, _) = decoder.decode(bytes, table: handlers.table) else { fatalError("not decoded") }
                blackHole(index)
            }
            benchmark.stopMeasurement()
        }
    }

    Benchmark("event: EventHandlers.call alone (s i d) ×\(batch)", configuration: configuration) { benchmark in
        let handlers = try sayHandlers()
        var decoder = EventDecoder()
        let context = OpaquePointer(bitPattern: 0x1000)!
        message.withUnsafeBytes { bytes in
            clientID.withUnsafeBufferPointer { client in
                guard case .event(let index, _) = decoder.decode(bytes, table: handlers.table) else { fatalError("not decoded") }
                let arguments = decoder.arguments
                benchmark.startMeasurement()
                for _ in 0..<batch {
                    blackHole(handlers.call(index, context: context, clientID: client.baseAddress!, arguments: arguments))
                }
                benchmark.stopMeasurement()
            }
        }
    }
}
