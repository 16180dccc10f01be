import ArgumentParser
import NIOCore

/// gwload — gatewayd's own WebSocket load generator (SwiftNIO, NIOWebSocket client).
///
/// Every mode prints a few human lines and then exactly one JSON line, last. Server CPU per
/// unit of work is measured over the timed window only, from /proc/<pid>/stat of the pids
/// given with `--pids role:pid,...`, and so are their context switches (every thread's, from
/// /proc/<pid>/task/*/status); the generator's own CPU comes from getrusage.
@main
struct GWLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gwload",
        abstract: "WebSocket load generator for gatewayd benchmarks.",
        subcommands: [Echo.self, Broadcast.self, Idle.self])
}

struct CommonOptions: ParsableArguments {
    @Option(help: "Server URL, ws://host:port/path.")
    var url: String

    @Option(help: "Event-loop threads of the generator (default: the number of cores).")
    var threads: Int = System.coreCount

    @Option(help: "Handshakes in progress at once while connecting.")
    var connectConcurrency: Int = 200

    @Option(help: "Server processes to charge CPU and context switches to, as role:pid,role:pid,...")
    var pids: String?

    @Option(help: "bench/malloc-counter's directory: report heap calls per unit of work for the --pids.")
    var mallocCounters: String?

    @Option(help: "A label copied into the report.")
    var label: String?

    @Flag(help: "Offer permessage-deflate: send compressed, inflate what arrives compressed, report bytes on the wire.")
    var deflate = false

    var target: WebSocketTarget {
        get throws {
            var target = try WebSocketTarget(url: url)
            target.offersDeflate = deflate
            return target
        }
    }
}

extension GWLoad {
    struct Echo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "N connections, each keeping K `echo:` messages in flight; latency per message.")

        @OptionGroup var common: CommonOptions
        @Option(name: [.customShort("c"), .long], help: "Connections.") var connections: Int = 100
        @Option(help: "Messages in flight per connection.") var inflight: Int = 1
        @Option(help: "Message size in bytes (echo: + sequence number + filler).") var size: Int = 64
        @Option(help: "Warm-up seconds before the measured window.") var warmup: Double = 1
        @Option(name: [.customShort("d"), .long], help: "Measured seconds.") var duration: Double = 10
        @Option(help: "Seconds to wait for the replies to the window's messages.") var drain: Double = 5

        func run() throws {
            try EchoLoad(
                target: common.target, connections: connections, inFlight: inflight, size: size,
                warmup: warmup, duration: duration, drainTimeout: drain, threads: common.threads,
                connectConcurrency: common.connectConcurrency, servers: ServerProcesses(spec: common.pids),
                mallocDirectory: common.mallocCounters, label: common.label
            ).run()
        }
    }

    struct Broadcast: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "N receivers and one sender of `all:<seq>,<time>`; deliveries/s, latency from send, completeness.")

        @OptionGroup var common: CommonOptions
        @Option(help: "Receiving connections.") var receivers: Int = 2000
        @Option(help: "Broadcasts per second; 0 = as fast as the window allows.") var rate: Double = 0
        @Option(help: "Broadcasts not yet received by every receiver, at most.") var window: Int = 4
        @Option(name: [.customShort("d"), .long], help: "Seconds of sending.") var duration: Double = 10
        @Option(help: "Seconds to wait for every delivery after sending stops.") var drain: Double = 10
        @Option(help: "Pad each broadcast to this many bytes with chat-like JSON (0: `<seq>,<time>` only).") var size: Int = 0

        func run() throws {
            try BroadcastLoad(
                target: common.target, receivers: receivers, rate: rate, window: window, size: size,
                duration: duration, drainTimeout: drain, threads: common.threads,
                connectConcurrency: common.connectConcurrency, servers: ServerProcesses(spec: common.pids),
                mallocDirectory: common.mallocCounters, label: common.label
            ).run()
        }
    }

    struct Idle: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Opens N connections and keeps them open; reports when all are established.")

        @OptionGroup var common: CommonOptions
        @Option(name: [.customShort("c"), .long], help: "Connections.") var connections: Int = 10_000
        @Option(help: "Seconds to keep them open once established.") var hold: Double = 10
        @Option(help: "A file written (with the count) once every connection is established.") var readyFile: String?

        func run() throws {
            try IdleLoad(
                target: common.target, connections: connections, hold: hold, threads: common.threads,
                connectConcurrency: common.connectConcurrency, readyFile: readyFile, label: common.label
            ).run()
        }
    }
}
