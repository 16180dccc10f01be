// swift-tools-version:6.1
// gatewayd's libFuzzer targets, one executable per decoder that reads untrusted bytes.
// Kept out of the root package so its `swift build` / `swift test` never see the sanitizers.
//
// Build and run with scripts/fuzz.sh, which passes what these targets need and SwiftPM
// cannot express per package: `-sanitize=fuzzer,address` on every module (so the gateway's
// code is instrumented, not only the harness) and `-enable-testing` (GatewayHarness uses
// `@testable import` to build the gateway's real client and inner pipelines). Each target
// exports `LLVMFuzzerTestOneInput` and has an `@main` that hands it to libFuzzer's driver.
import PackageDescription

let fuzzTarget: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "gatewayd-fuzz",
    dependencies: [
        .package(name: "gatewayd", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // libFuzzer's driver, declared for Swift.
        .target(name: "CLibFuzzer"),
        // Running libFuzzer, and turning fuzz input into control bytes and 1-3 network reads.
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer", .product(name: "NIOCore", package: "swift-nio")]),
        // A gateway with a worker attached, for the pipeline targets: an EngineGateway over
        // socketpairs (EngineGatewayHarness), a GatewayServer on an EmbeddedEventLoop (GatewayHarness).
        .target(name: "GatewayHarness", dependencies: [
            "FuzzSupport",
            .product(name: "GatewayServer", package: "gatewayd"),
            .product(name: "GatewayCompression", package: "gatewayd"),
            .product(name: "GatewayWire", package: "gatewayd"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .executableTarget(name: "FuzzInner", dependencies: [
            "FuzzSupport", .product(name: "GatewayWire", package: "gatewayd"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzRegister", dependencies: [
            "FuzzSupport", .product(name: "GatewayWire", package: "gatewayd"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzPHPSerialize", dependencies: [
            "FuzzSupport", .product(name: "GatewayWire", package: "gatewayd"),
        ], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzWebSocket", dependencies: [
            "FuzzSupport", "GatewayHarness", .product(name: "GatewayWire", package: "gatewayd"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzGatewayInner", dependencies: [
            "FuzzSupport", "GatewayHarness", .product(name: "GatewayWire", package: "gatewayd"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzEvents", dependencies: [
            "FuzzSupport", .product(name: "GatewayWire", package: "gatewayd"),
        ], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzWebSocketCodec", dependencies: [
            "FuzzSupport", "GatewayHarness", .product(name: "GatewayWebSocket", package: "gatewayd"),
            .product(name: "GatewayWire", package: "gatewayd"), .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzStreamScanners", dependencies: [
            "FuzzSupport", .product(name: "GatewayWire", package: "gatewayd"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: fuzzTarget),
        .executableTarget(name: "FuzzTextFrame", dependencies: [
            "FuzzSupport", "GatewayHarness", .product(name: "GatewayWire", package: "gatewayd"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: fuzzTarget),
    ],
    swiftLanguageModes: [.v6]
)
