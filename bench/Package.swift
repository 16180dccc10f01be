// swift-tools-version:6.1
// gatewayd's benchmark package: the load generator (gwload), a one-hop echo server that
// measures gwload's own ceiling (echoserver), and codec micro-benchmarks (CodecBenchmarks,
// ordo-one/benchmark). Separate from the root package so `swift build` / `swift test` there
// never compile the benchmark dependencies. Driven by bench/run.sh.
import PackageDescription

let package = Package(
    name: "gatewayd-bench",
    dependencies: [
        // The root package: GatewayWire (the codecs the micro-benchmarks measure) and
        // GatewayEvents (typed events).
        .package(name: "gatewayd", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        // gwload's wss:// client (the gateway's own TLS is OpenSSL's; a client of another
        // implementation keeps the measurement honest).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        .executableTarget(
            name: "gwload",
            dependencies: [
                .product(name: "GatewayCompression", package: "gatewayd"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]),
        .executableTarget(
            name: "echoserver",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GatewayWire", package: "gatewayd"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        // A C handler and a hand-written parser, the baseline typed events are measured against.
        .target(name: "CEventBench"),
        .executableTarget(
            name: "EventBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GatewayEvents", package: "gatewayd"),
                .product(name: "GatewayWire", package: "gatewayd"),
                "CEventBench",
            ],
            path: "Benchmarks/EventBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        // ../shared/tools/floor's protocol on gatewayd's client engine (issue 14's go/no-go).
        .executableTarget(
            name: "EngineFloor",
            dependencies: [
                .product(name: "GatewayIOEngine", package: "gatewayd"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
