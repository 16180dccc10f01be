import CGatewayHeaderText
import Foundation

/// The gatewayd.h this binary implements, and where a C compiler finds it: what `plugin build`
/// compiles with and `plugin header --cflags` prints, so the two cannot differ.
enum PluginHeader {
    /// The header's text, embedded at build time.
    static var text: String { String(cString: gwd_abi_header_text()) }

    /// The flags `plugin build` passes to cc before the sources and `-o OUT`.
    static let compileFlags = ["-std=c11", "-O2", "-g", "-shared", "-fPIC", "-fvisibility=hidden", "-pthread", "-Wall"]

    /// `compileFlags` and the -I of `includeDirectory()`.
    static func cflags() throws(PluginHeaderError) -> [String] {
        compileFlags + ["-I" + (try includeDirectory())]
    }

    /// The directory holding this binary's gatewayd.h: the installed one when it is beside the
    /// binary (`PREFIX/include/gatewayd.h` for `PREFIX/bin/gatewayd`, as scripts/install.sh lays
    /// it out) and has this binary's text; else a copy in the user's cache
    /// (`$XDG_CACHE_HOME` or `~/.cache`, then the temporary directory), in a folder named by
    /// the text's hash, so two gatewayd builds never share a stale copy.
    static func includeDirectory() throws(PluginHeaderError) -> String {
        let text = self.text
        if let installed = installedIncludeDirectory(), (try? String(contentsOfFile: installed + "/gatewayd.h", encoding: .utf8)) == text {
            return installed
        }
        let folder = "gatewayd/include-\(fnv1a(text))"
        let environment = ProcessInfo.processInfo.environment
        var roots: [String] = []
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") { roots.append(cache) }
        if let home = environment["HOME"], home.hasPrefix("/") { roots.append(home + "/.cache") }
        roots.append(NSTemporaryDirectory() + "gatewayd-\(getuid())")
        var failures: [String] = []
        for root in roots {
            let directory = root + "/" + folder
            if (try? String(contentsOfFile: directory + "/gatewayd.h", encoding: .utf8)) == text { return directory }
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try text.write(toFile: directory + "/gatewayd.h", atomically: true, encoding: .utf8)
                return directory
            } catch {
                failures.append("\(directory): \(error.localizedDescription)")
            }
        }
        throw PluginHeaderError("cannot write gatewayd.h anywhere (\(failures.joined(separator: "; ")))")
    }

    /// `PREFIX/include` for this executable at `PREFIX/bin/gatewayd`, symbolic links resolved.
    private static func installedIncludeDirectory() -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let bin = URL(fileURLWithPath: executable).deletingLastPathComponent()
        guard bin.lastPathComponent == "bin" else { return nil }
        return bin.deletingLastPathComponent().appendingPathComponent("include").path
    }

    /// 64-bit FNV-1a of the text, 16 hex digits: a folder name, not a security measure.
    private static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Why the header could not be put where a compiler finds it, in one line.
struct PluginHeaderError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
