import ArgumentParser
import CGatewaySystem
import Foundation
import GatewayCore
import GatewayWorker

struct PluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin", abstract: "Create, build and check plugins.",
        subcommands: [PluginNewCommand.self, PluginBuildCommand.self, PluginCheckCommand.self, PluginHeaderCommand.self])
}

struct PluginBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a plugin .so from a C file, a folder of C files, or a Swift plugin package, and check it.",
        discussion: """
            C sources are compiled with the flags `gatewayd plugin header --cflags` prints (cc -std=c11 -O2 -shared \
            -fPIC -fvisibility=hidden -pthread against the gatewayd.h this binary implements). A folder with a \
            Package.swift is built with `swift build -c release` and its dynamic library product is copied. The \
            result is then loaded as `gatewayd plugin check` does; only a plugin that passes replaces OUT, so a \
            failed build never overwrites the plugin a running cluster would reload.
            """)

    @Argument(help: "A .c file, a folder of .c files, or a Swift plugin package folder.")
    var source: String

    @Option(name: .shortAndLong, help: "Where to write the plugin .so.")
    var output: String

    @Option(name: .long, help: "Swift packages: the dynamic library product to copy (when there are several).")
    var product: String?

    @Option(name: .customLong("cc"), help: "C compiler (default: $CC or cc).")
    var compiler: String?

    @Flag(name: .long, help: "Write OUT without loading it (e.g. a deliberately broken plugin for a test).")
    var noCheck = false

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw failCommand("plugin source not found: \(source)")
        }
        // Built beside OUT (same file system, so the rename below is atomic), checked there.
        let outputURL = URL(fileURLWithPath: output)
        let staging = outputURL.deletingLastPathComponent()
            .appendingPathComponent(".\(outputURL.lastPathComponent).building-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: staging) }
        if isDirectory.boolValue, FileManager.default.fileExists(atPath: source + "/Package.swift") {
            try buildSwift(into: staging)
        } else {
            try buildC(isDirectory: isDirectory.boolValue, into: staging)
        }
        var summary = ""
        if !noCheck {
            switch PluginProbe.run(path: staging, displayPath: output) {
            case .failure(let failure):
                throw failCommand("\(output) not written: what \(source) built fails plugin check: \(failure.reason)")
            case .success(let report):
                summary = " (\(report.name) \(report.version), plugin ABI \(report.abi))"
            }
        }
        guard rename(staging, outputURL.path) == 0 else {
            throw failCommand("cannot write \(output): \(String(cString: strerror(errno)))")
        }
        print("built \(output)\(summary)")
    }

    private func buildC(isDirectory: Bool, into staging: String) throws {
        var sources = [source]
        if isDirectory {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []
            sources = files.filter { $0.hasSuffix(".c") }.sorted().map { source + "/" + $0 }
            guard !sources.isEmpty else { throw failCommand("no .c files in \(source)") }
        }
        let flags: [String]
        do {
            flags = try PluginHeader.cflags()
        } catch {
            throw failCommand(error.reason)
        }
        let cc = compiler ?? ProcessInfo.processInfo.environment["CC"] ?? "cc"
        let status = runTool(cc, flags + sources + ["-o", staging])
        guard status == 0 else { throw failCommand("\(cc) failed (exit \(status)) building \(source)") }
    }

    private func buildSwift(into staging: String) throws {
        let swift = ProcessInfo.processInfo.environment["SWIFT"] ?? "swift"
        let status = runTool(swift, ["build", "-c", "release", "--package-path", source])
        guard status == 0 else { throw failCommand("swift build failed (exit \(status)) in \(source)") }
        guard let binPath = captureTool(swift, ["build", "-c", "release", "--package-path", source, "--show-bin-path"])?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        else { throw failCommand("cannot find the build folder of \(source)") }
        let libraries = ((try? FileManager.default.contentsOfDirectory(atPath: binPath)) ?? [])
            .filter { $0.hasPrefix("lib") && $0.hasSuffix(".so") }.sorted()
        let chosen: String
        if let product {
            guard libraries.contains("lib\(product).so") else {
                throw failCommand("no dynamic library product '\(product)' in \(binPath) (found: \(libraries.joined(separator: ", ")))")
            }
            chosen = "lib\(product).so"
        } else {
            guard libraries.count == 1 else {
                throw failCommand(
                    libraries.isEmpty
                        ? "\(source) has no dynamic library product (declare `.library(name:, type: .dynamic, ...)`)"
                        : "\(source) has several dynamic libraries (\(libraries.joined(separator: ", "))); pick one with --product")
            }
            chosen = libraries[0]
        }
        do {
            try FileManager.default.copyItem(atPath: binPath + "/" + chosen, toPath: staging)
        } catch {
            throw failCommand("cannot copy \(chosen) to \(staging): \(error.localizedDescription)")
        }
    }
}

struct PluginHeaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "header",
        abstract: "Print gatewayd.h, the plugin ABI this binary implements (or, with --cflags, how plugin build compiles C).",
        discussion: """
            --cflags prints the C compiler flags of `gatewayd plugin build`, one line: \
            cc $(gatewayd plugin header --cflags) my.c -o my.so builds what plugin build would. Its -I names the \
            installed header beside this binary (PREFIX/include for PREFIX/bin/gatewayd) when it is this binary's, \
            else a copy written to ~/.cache/gatewayd.
            """)

    @Flag(name: .long, help: "Print the compiler flags instead of the header.")
    var cflags = false

    func run() throws {
        guard cflags else {
            print(PluginHeader.text, terminator: "")
            return
        }
        do {
            print(try PluginHeader.cflags().joined(separator: " "))
        } catch {
            throw failCommand(error.reason)
        }
    }
}

struct PluginCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load a plugin in a throwaway process and print its name, version and ABI, or why it cannot load.")

    @Argument(help: "The plugin .so.")
    var file: String

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        guard FileManager.default.fileExists(atPath: file) else { throw failCommand("plugin not found: \(file)") }
        let path = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        let outcome = PluginProbe.run(path: path, displayPath: file)
        switch outcome {
        case .failure(let failure):
            throw failCommand(failure.reason)
        case .success(let report):
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print("name \(report.name)")
                print("version \(report.version)")
                print("abi \(report.abi)")
                print("callbacks \(report.callbacks.joined(separator: " "))")
            }
        }
    }
}

/// Loads a plugin in a forked child (a plugin can never be unloaded, and may crash) and
/// returns what the child learned.
enum PluginProbe {
    /// `displayPath` (default: `path`) is the name the reasons give the plugin.
    static func run(path: String, displayPath: String? = nil) -> Result<PluginReport, ProbeFailure> {
        var channel: [Int32] = [0, 0]
        guard pipe(&channel) == 0 else { return .failure(ProbeFailure("pipe(): \(String(cString: strerror(errno)))")) }
        gwd_sys_flush_stdio()
        let pid = fork()
        if pid == 0 {
            close(channel[0])
            let line: String
            do {
                let report = try PluginLoader.describe(path: path, displayPath: displayPath)
                line = "ok " + String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
            } catch let error as PluginLoadError {
                line = "error " + error.description
            } catch {
                line = "error \(error)"
            }
            _ = FileDescriptorIO.writeAll(channel[1], Array((line + "\n").utf8))
            _exit(0)
        }
        close(channel[1])
        defer { close(channel[0]) }
        guard pid > 0 else { return .failure(ProbeFailure("fork(): \(String(cString: strerror(errno)))")) }
        let line = FileDescriptorIO.readLine(channel[0], timeoutSeconds: 30).map { String(decoding: $0, as: UTF8.self) }
        var status: Int32 = 0
        if line == nil { kill(pid, SIGKILL) }
        waitpid(pid, &status, 0)
        guard let line else {
            let signal = status & 0x7f
            return .failure(
                ProbeFailure(
                    signal != 0
                        ? "plugin \(displayPath ?? path) crashed while loading (signal \(signal))"
                        : "plugin \(displayPath ?? path) did not finish loading within 30 s"))
        }
        if line.hasPrefix("ok "), let report = try? JSONDecoder().decode(PluginReport.self, from: Data(line.dropFirst(3).utf8)) {
            return .success(report)
        }
        return .failure(ProbeFailure(String(line.dropFirst(line.hasPrefix("error ") ? 6 : 0))))
    }
}

/// Runs a tool with inherited stdio; returns its exit status.
func runTool(_ tool: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    do { try process.run() } catch { return 127 }
    process.waitUntilExit()
    return process.terminationStatus
}

/// Runs a tool and returns its stdout when it succeeds.
func captureTool(_ tool: String, _ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
}

/// Why a plugin probe failed, in one line.
struct ProbeFailure: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
