// swift-tools-version:6.1
// gatewayd — a real-time connection gateway (Register / Gateway / BusinessWorker) whose
// business logic is a plugin .so written against the C ABI in include/gatewayd.h.
import PackageDescription

/// The modules on the message path are built without dynamic exclusivity checks in release:
/// they were 12 % of the gateway's and 14 % of the workers' CPU per echoed message
/// (bench/perf/profile.sh echo). Debug builds, which the tests run, keep the checks. Not on
/// the targets of products other packages use (GatewayClient, GatewayWire, GatewayPluginSDK):
/// SwiftPM refuses unsafe flags in a dependency.
let messagePath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

/// The Swift compiler building this package, major.minor. The manifest is compiled by the
/// toolchain that builds the package, so a plugin built against this package (by path or URL)
/// carries its builder's version and gatewayd its own (target CSwiftCompilerStamp). Code sees
/// the compiler only through `#if compiler(>=…)`, which has no patch level; patch releases keep
/// the runtime's ABI, minor releases are what a plugin must match.
let swiftCompiler: String = {
    #if compiler(>=8.0)
    return "8.0 or later"
    #elseif compiler(>=7.9)
    return "7.9"
    #elseif compiler(>=7.8)
    return "7.8"
    #elseif compiler(>=7.7)
    return "7.7"
    #elseif compiler(>=7.6)
    return "7.6"
    #elseif compiler(>=7.5)
    return "7.5"
    #elseif compiler(>=7.4)
    return "7.4"
    #elseif compiler(>=7.3)
    return "7.3"
    #elseif compiler(>=7.2)
    return "7.2"
    #elseif compiler(>=7.1)
    return "7.1"
    #elseif compiler(>=7.0)
    return "7.0"
    #elseif compiler(>=6.9)
    return "6.9"
    #elseif compiler(>=6.8)
    return "6.8"
    #elseif compiler(>=6.7)
    return "6.7"
    #elseif compiler(>=6.6)
    return "6.6"
    #elseif compiler(>=6.5)
    return "6.5"
    #elseif compiler(>=6.4)
    return "6.4"
    #elseif compiler(>=6.3)
    return "6.3"
    #elseif compiler(>=6.2)
    return "6.2"
    #elseif compiler(>=6.1)
    return "6.1"
    #else
    return "before 6.1"
    #endif
}()

let package = Package(
    name: "gatewayd",
    products: [
        .executable(name: "gatewayd", targets: ["gatewayd"]),
        // What a Swift plugin links: the C ABI and the idiomatic Swift layer over it.
        .library(name: "GatewayPluginSDK", targets: ["GatewayPluginSDK"]),
        // Push to clients and query a cluster from outside it (what PHP's GatewayClient does).
        .library(name: "GatewayClient", targets: ["GatewayClient"]),
        .library(name: "GatewayWire", targets: ["GatewayWire"]),
        // For the fuzz package (fuzz/), which drives the gateway's own pipelines.
        .library(name: "GatewayServer", targets: ["GatewayServer"]),
        // For the benchmarks (bench/): typed events decoded and called through libffi.
        .library(name: "GatewayEvents", targets: ["GatewayEvents"]),
        // For the benchmarks: the client I/O engine on its own, against ../shared/tools/floor.
        .library(name: "GatewayIOEngine", targets: ["GatewayIOEngine"]),
        // For the fuzz package: the WebSocket codecs over raw bytes, and permessage-deflate.
        .library(name: "GatewayWebSocket", targets: ["GatewayWebSocket"]),
        .library(name: "GatewayCompression", targets: ["GatewayCompression"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // The plugin ABI: one dependency-free C header, shared by the host and every plugin.
        .target(name: "CGatewayABI", path: "include", publicHeadersPath: "."),
        // The demo plugin linked into gatewayd, run when no --plugin is given.
        .target(name: "CDemoPlugin", dependencies: ["CGatewayABI"]),
        // include/gatewayd.h as text (C23 #embed), for `gatewayd plugin build`.
        .target(name: "CGatewayHeaderText"),
        // `gwd_swift_compiler`, the exported string naming the Swift compiler that built the
        // binary: in gatewayd, and in every Swift plugin through GatewayPluginSDK, so a worker
        // can refuse a plugin from another compiler before running any of its code.
        .target(name: "CSwiftCompilerStamp", cSettings: [.define("GWD_SWIFT_COMPILER", to: "\"\(swiftCompiler)\"")]),
        // The few libc calls Swift cannot make directly (variadic prctl, ...).
        .target(name: "CGatewaySystem"),
        // Debian's libffi: C plugins' typed event handlers are called through it (issue 13).
        .systemLibrary(name: "CFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),

        // Debian's zlib (zlib1g-dev): permessage-deflate for WebSocket clients (issue 18).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // permessage-deflate (RFC 7692): the handshake's negotiation and whole-message deflate
        // and inflate with one zlib stream per process, none per connection. No I/O.
        .target(name: "GatewayCompression", dependencies: ["CZlib", "GatewayWebSocket"], swiftSettings: messagePath),

        // Debian's OpenSSL (libssl-dev): TLS for wss:// listeners (issue 18).
        .systemLibrary(name: "CTLS", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // TLS server contexts (certificate chain, key, minimum version) and sessions over
        // non-blocking sockets, for the client engine. No I/O of its own.
        .target(name: "GatewayTLS", dependencies: ["CTLS"], swiftSettings: messagePath),

        // A single-threaded epoll loop with timers and cross-thread wake-ups; no SwiftNIO. The
        // worker's message path runs on it (issue 12).
        .target(name: "GatewayEventLoop", swiftSettings: messagePath),
        // The gateway's client sockets on that loop: a fixed record per connection, reads into
        // one shared buffer, writes staged per tick and written with one writev (issue 14).
        .target(name: "GatewayIOEngine", dependencies: ["GatewayEventLoop", "CGatewaySystem", "GatewayTLS"], swiftSettings: messagePath),
        // Wire codecs: pure parsers and encoders over ByteBuffer, no I/O.
        .target(name: "GatewayWire", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        // GatewayWorker's API (sends and queries) as inner-protocol requests and merged answers;
        // shared by the worker's plugin host, GatewayClient and the HTTP API. No I/O.
        .target(name: "GatewayAPI", dependencies: ["GatewayWire", .product(name: "NIOCore", package: "swift-nio")]),
        // Configuration, the master<->child control messages, logging; no NIO, no threads.
        .target(name: "GatewayCore", dependencies: [
            "CGatewaySystem",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
        ]),
        // Shared plumbing for the roles: the control channel, line codec handlers, inner links (on
        // NIO, and `StreamConnection` on GatewayEventLoop).
        .target(name: "GatewayRuntime", dependencies: [
            "GatewayCore", "GatewayWire", "GatewayEventLoop",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: messagePath),
        // The client protocol's codecs over raw bytes for GatewayIOEngine: the HTTP upgrade, its
        // responses, client frames decoded in place, server frame headers. No SwiftNIO.
        .target(name: "GatewayWebSocket", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),  // SHA-1 for Sec-WebSocket-Accept
        ]),
        // The register role: discovery.
        .target(name: "GatewayRegister", dependencies: ["GatewayRuntime"]),
        // The gateway's state and decisions without sockets: the client directory (uids, groups,
        // sessions and GatewayWorker's queries over them), the worker router, heartbeats.
        .target(
            name: "GatewayHub",
            dependencies: [
                "GatewayWire", "GatewayCore", "GatewayEventLoop", "GatewayWebSocket", "GatewayCompression",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The hub is generic over its transport and lives in another module than the
            // transports: without cross-module optimization every gateway event ran its
            // unspecialized generic code (echo: ~15 % more gateway CPU, bench/run.sh A/B).
            swiftSettings: messagePath + [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]),
        // The gateway role: client sockets, sessions, uid and group maps, routing to workers.
        .target(name: "GatewayServer", dependencies: [
            "GatewayRuntime", "GatewayHub", "GatewayEventLoop", "GatewayIOEngine", "GatewayWebSocket", "GatewayCompression", "GatewayTLS",
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),  // SHA-1 for Sec-WebSocket-Accept
        ], swiftSettings: messagePath),
        // Typed events of C plugins: declared signatures, handlers called through libffi.
        .target(name: "GatewayEvents", dependencies: ["GatewayWire", "CGatewayABI", "CFFI"]),
        // The BusinessWorker role with its plugin host.
        .target(name: "GatewayWorker", dependencies: [
            "GatewayRuntime", "GatewayAPI", "GatewayEventLoop", "GatewayEvents", "CGatewayABI", "CGatewaySystem",
            "CSwiftCompilerStamp",
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: messagePath),
        // GatewayClient: find the gateways through the register, push and query.
        .target(name: "GatewayClient", dependencies: [
            "GatewayCore", "GatewayWire", "GatewayAPI",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        // The HTTP push API role: JSON over HTTP/1.1 onto GatewayClient.
        .target(name: "GatewayHTTPAPI", dependencies: [
            "GatewayClient", "GatewayRuntime",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // /metrics: the children's reports added up for the host, rendered through swift-metrics
        // onto swift-prometheus registries. No threads, no I/O: the master serves it.
        .target(name: "GatewayMetrics", dependencies: [
            "GatewayCore",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // The single-threaded master: forks, supervises, answers control commands. No NIO.
        .target(name: "GatewaySupervisor", dependencies: ["GatewayCore", "GatewayMetrics", "CGatewaySystem", "GatewayTLS"]),
        // The Swift plugin SDK.
        .target(name: "GatewayPluginSDK", dependencies: ["CGatewayABI", "CSwiftCompilerStamp"]),
        // The command line: commands only.
        .executableTarget(name: "gatewayd", dependencies: [
            "GatewayCore", "GatewaySupervisor", "GatewayRegister", "GatewayServer", "GatewayWorker", "CDemoPlugin", "CGatewayHeaderText",
            "CGatewaySystem", "GatewayClient", "GatewayHTTPAPI", "CGatewayABI", "GatewayCompression", "CSwiftCompilerStamp",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Helpers more than one test target uses (the heap-call counting child run).
        .target(name: "GatewayTestSupport", path: "Tests/GatewayTestSupport"),
        .testTarget(name: "GatewayWireTests", dependencies: [
            "GatewayWire", "GatewayTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOTestUtils", package: "swift-nio"),
        ], exclude: ["Fixtures"]),  // bytes captured from PHP GatewayWorker, read via #filePath
        .testTarget(name: "GatewayAPITests", dependencies: ["GatewayAPI", "GatewayWire"]),
        .testTarget(name: "GatewayClientTests", dependencies: [
            "GatewayClient", "GatewayWire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "GatewayHTTPAPITests", dependencies: [
            "GatewayHTTPAPI", "GatewayClient",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Yams", package: "Yams"),  // reads docs/openapi.yaml
        ]),
        .testTarget(name: "GatewayCoreTests", dependencies: ["GatewayCore", "GatewaySupervisor"]),
        // The ledger and the text /metrics renders; docs/metrics.md against the catalog.
        .testTarget(name: "GatewayMetricsTests", dependencies: ["GatewayMetrics", "GatewayCore"]),
        // The master's decisions (SupervisorStateMachine) played event by event: no fork, no sleep.
        .testTarget(name: "GatewaySupervisorTests", dependencies: [
            "GatewaySupervisor", "GatewayCore", "GatewayMetrics", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "GatewayServerTests", dependencies: [
            "GatewayServer", "GatewayWire", .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "GatewayWorkerTests", dependencies: [
            "GatewayWorker", "GatewayWire", "GatewayAPI", "GatewayEventLoop", "CGatewayABI",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["Fixtures"]),  // include/gatewayd.h as ABI 1.0 shipped it, for old-plugin tests
        .testTarget(name: "GatewayPluginSDKTests", dependencies: ["GatewayPluginSDK", "CGatewayABI"]),
        .testTarget(name: "GatewayEventLoopTests", dependencies: ["GatewayEventLoop"]),
        .testTarget(name: "GatewayHubTests", dependencies: ["GatewayHub", "GatewayEventLoop", "GatewayCompression"]),
        // Byte-level tests, cross-checked against the gateway's SwiftNIO handlers (@testable).
        .testTarget(name: "GatewayWebSocketTests", dependencies: [
            "GatewayWebSocket", "GatewayServer", "GatewayRuntime", "GatewayCore", "GatewayWire", "GatewayTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "GatewayCompressionTests", dependencies: ["GatewayCompression", "GatewayWebSocket", "CZlib"]),
        .testTarget(name: "GatewayIOEngineTests", dependencies: ["GatewayIOEngine", "GatewayEventLoop", "GatewayTLS", "CTLS"]),
        // Starts real gatewayd processes (the executable is a dependency so it is built first).
        .testTarget(name: "EndToEndTests", dependencies: ["gatewayd", "CZlib", "CTLS"]),
    ],
    swiftLanguageModes: [.v6]
)
