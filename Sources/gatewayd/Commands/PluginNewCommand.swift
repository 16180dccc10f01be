import ArgumentParser
import Foundation

struct PluginNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a new plugin project (C or Swift) that builds outside this repository.",
        discussion: """
            Writes NAME.c (C) or a Swift package (Package.swift, exports.map, Sources/), a chat page (index.html) \
            and a README into DIR (default ./NAME), which must not exist or be empty. The plugin greets each \
            client, sends ["said", name, text] to everyone for a client's ["say", name, text] and echoes the rest.
            A Swift project depends on gatewayd's GatewayPluginSDK: by path when --gatewayd-package is a folder, \
            by URL and version (from: "\(GatewaydVersion.product)") when it is a URL; without it, the source \
            checkout this gatewayd was built in when there is one, else \(GatewaydVersion.packageURL).
            """)

    @Argument(help: "c or swift.")
    var language: String

    @Argument(help: "The plugin's name: a letter, then letters, digits, '-' or '_' (at most 64).")
    var name: String

    @Argument(help: "Where to write the project (default: ./NAME).")
    var directory: String?

    @Option(name: .customLong("gatewayd-package"), help: "Swift: gatewayd's package, a folder or a git URL.")
    var gatewaydPackage: String?

    func run() throws {
        guard let language = PluginTemplate.Language(rawValue: language) else {
            throw failCommand("unknown plugin language '\(language)': use c or swift")
        }
        guard Self.isValidName(name) else {
            throw failCommand(
                "invalid plugin name '\(name)': a letter, then letters, digits, '-' or '_', at most 64 characters")
        }
        if language == .c, gatewaydPackage != nil {
            throw failCommand("--gatewayd-package is for Swift plugins; a C plugin needs only gatewayd.h")
        }
        let folder = directory ?? name
        try ensureEmptyOrAbsent(folder)
        let template = PluginTemplate(
            language: language, name: name, gatewaydVersion: GatewaydVersion.product, gatewaydURL: GatewaydVersion.packageURL,
            package: language == .swift ? try packageSource() : .url(GatewaydVersion.packageURL, from: GatewaydVersion.product))
        for file in template.files {
            let path = folder + "/" + file.path
            do {
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try file.contents.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw failCommand("cannot write \(path): \(error.localizedDescription)")
            }
        }
        print("wrote \(language.rawValue) plugin \(name) in \(folder): \(template.files.map(\.path).joined(separator: ", "))")
        print("build it with: gatewayd plugin build \(folder) -o \(name).so")
    }

    /// A letter, then letters, digits, '-' or '_': safe as a file name, a C string and (camel-cased)
    /// a Swift module name.
    static func isValidName(_ name: String) -> Bool {
        func isLetter(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }
        guard let first = name.unicodeScalars.first, isLetter(first), name.unicodeScalars.count <= 64 else { return false }
        return name.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }

    private func ensureEmptyOrAbsent(_ folder: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw failCommand("\(folder) exists and is not a directory") }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        guard entries.isEmpty else {
            throw failCommand("\(folder) is not empty (\(entries.count) entries); choose another DIR or remove it")
        }
    }

    /// --gatewayd-package, else this binary's source checkout, else the release by URL.
    private func packageSource() throws -> PluginTemplate.PackageSource {
        guard let given = gatewaydPackage else {
            if let checkout = Self.sourceCheckout() { return .path(checkout) }
            return .url(GatewaydVersion.packageURL, from: GatewaydVersion.product)
        }
        if given.contains("://") || given.hasPrefix("git@") {
            return .url(given, from: GatewaydVersion.product)
        }
        let absolute = URL(fileURLWithPath: given).standardizedFileURL.path
        guard Self.isGatewaydPackage(absolute) else {
            throw failCommand("--gatewayd-package \(given): no gatewayd Package.swift in \(absolute)")
        }
        return .path(absolute)
    }

    /// The checkout that built this binary (`swift run gatewayd`, `.build/<triple>/<config>/gatewayd`):
    /// the nearest folder above it holding gatewayd's Package.swift.
    private static func sourceCheckout() -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        var folder = URL(fileURLWithPath: executable).deletingLastPathComponent()
        while folder.path != "/" {
            if folder.lastPathComponent == ".build" {
                let root = folder.deletingLastPathComponent().path
                return isGatewaydPackage(root) ? root : nil
            }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }

    private static func isGatewaydPackage(_ folder: String) -> Bool {
        guard let manifest = try? String(contentsOfFile: folder + "/Package.swift", encoding: .utf8) else { return false }
        return manifest.contains("name: \"gatewayd\"") && manifest.contains("\"GatewayPluginSDK\"")
    }
}
