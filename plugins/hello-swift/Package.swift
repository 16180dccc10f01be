// swift-tools-version:6.1
// hello-swift: the smallest Swift plugin; it echoes every message.
// Build: swift build -c release --package-path plugins/hello-swift
// The plugin is .build/release/libHelloSwift.so.
import PackageDescription

/// This directory, for the linker version script (SwiftPM runs the linker elsewhere).
let packageDirectory = String(#filePath.dropLast("/Package.swift".count))

let package = Package(
    name: "hello-swift",
    products: [
        .library(name: "HelloSwift", type: .dynamic, targets: ["HelloSwift"]),
    ],
    dependencies: [
        .package(name: "gatewayd", path: "../.."),
    ],
    targets: [
        .target(
            name: "HelloSwift",
            dependencies: [.product(name: "GatewayPluginSDK", package: "gatewayd")],
            // Export gwd_plugin_entry_v1 and nothing else: without the script every public
            // Swift symbol (the SDK's too) is exported, and two plugins could interpose. lld
            // (shipped with the toolchain) because gold keeps the SDK's localized metadata
            // symbols in .dynsym (bound LOCAL, so not exported, but listed by `nm -D`).
            linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "--version-script=\(packageDirectory)/exports.map"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
