import CGatewayABI
import CSwiftCompilerStamp
import Foundation

/// A plugin whose entry succeeded: its descriptor, read up to the size the plugin declared.
public struct LoadedPlugin: @unchecked Sendable {
    /// The descriptor copied into host memory; fields beyond the plugin's struct_size are zero.
    public let descriptor: gwd_plugin
    public let name: String
    public let version: String
    public let abiMajor: Int
    public let abiMinor: Int
    /// The path the user configured (for messages), and the file actually mapped.
    public let path: String
    public let mappedPath: String
}

/// dlopens a plugin, calls its entry and checks its descriptor.
///
/// Plugins are opened RTLD_NOW (every symbol resolved up front: a missing one fails here, not
/// mid-message) | RTLD_LOCAL (two plugins cannot interpose on each other) | RTLD_NODELETE, and
/// are never dlclose'd: unloading is what starting a fresh worker process is for.
public enum PluginLoader {
    public static let hostABIMajor = Int(GWD_ABI_VERSION_MAJOR)
    public static let hostABIMinor = Int(GWD_ABI_VERSION_MINOR)

    /// Loads from `mappedPath` (a plugin-store copy); `displayPath` names the user's file.
    public static func load(
        mappedPath: String, displayPath: String, api: UnsafePointer<gwd_host_api>
    ) throws(PluginLoadError) -> LoadedPlugin {
        dlerror()
        guard let handle = dlopen(mappedPath, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw .cannotOpen(path: displayPath, reason: reason.replacingOccurrences(of: mappedPath, with: displayPath))
        }
        try checkSwiftCompiler(handle: handle, displayPath: displayPath)
        guard let symbol = dlsym(handle, GWD_PLUGIN_ENTRY_SYMBOL) else { throw .noEntrySymbol(path: displayPath) }
        let entry = unsafeBitCast(symbol, to: gwd_plugin_entry_fn.self)
        return try run(entry: entry, api: api, displayPath: displayPath, mappedPath: mappedPath)
    }

    /// The Swift compiler that built this host, major.minor (Package.swift).
    public static let hostSwiftCompiler = String(cString: gwd_swift_compiler_of_this_binary())

    /// Refuses a Swift plugin built by another Swift compiler than the host's, before any of its
    /// code runs but the loader's own initializers: Swift has no stable ABI on Linux, and the
    /// plugin shares the host's Swift runtime. The plugin names its compiler in a string symbol
    /// (GWD_SWIFT_COMPILER_SYMBOL), read, not called. A plugin is Swift when the Swift runtime is
    /// among the libraries it was linked to (dlsym on a handle searches the plugin and those).
    static func checkSwiftCompiler(handle: UnsafeMutableRawPointer, displayPath: String) throws(PluginLoadError) {
        guard let stamp = dlsym(handle, GWD_SWIFT_COMPILER_SYMBOL) else {
            if dlsym(handle, "swift_retain") != nil {
                throw .swiftCompilerUnknown(path: displayPath, hostCompiler: hostSwiftCompiler)
            }
            return  // C
        }
        // At most 32 bytes: a malformed symbol must not make the host read on.
        let bytes = stamp.assumingMemoryBound(to: CChar.self)
        let length = strnlen(bytes, 32)
        let compiler = String(
            decoding: UnsafeRawBufferPointer(start: stamp, count: length), as: UTF8.self)
        if length == 32 || compiler != hostSwiftCompiler {
            throw .swiftCompilerMismatch(
                path: displayPath, pluginCompiler: length == 32 ? "(unreadable)" : compiler, hostCompiler: hostSwiftCompiler)
        }
    }

    /// Calls an entry function (a loaded plugin's, or one linked into gatewayd) and validates
    /// the descriptor it returns.
    public static func run(
        entry: gwd_plugin_entry_fn, api: UnsafePointer<gwd_host_api>, displayPath: String, mappedPath: String
    ) throws(PluginLoadError) -> LoadedPlugin {
        var descriptorPointer: UnsafePointer<gwd_plugin>?
        var error = [CChar](repeating: 0, count: 512)
        let status = error.withUnsafeMutableBufferPointer { buffer in
            entry(api, &descriptorPointer, buffer.baseAddress, buffer.count)
        }
        guard status == GWD_OK.code else {
            let length = error.firstIndex(of: 0) ?? error.count
            var reason = String(decoding: error[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if reason.isEmpty { reason = String(cString: hostStatusString(status)) }
            throw .entryFailed(path: displayPath, status: status, reason: reason)
        }
        guard let descriptorPointer else {
            throw .invalidDescriptor(path: displayPath, reason: "the entry returned GWD_OK but no descriptor")
        }
        // Read the header first: struct_size and the ABI version say how much more to read.
        let raw = UnsafeRawPointer(descriptorPointer)
        let declaredSize = Int(raw.load(as: UInt32.self))
        let major = Int(raw.load(fromByteOffset: 4, as: UInt16.self))
        let minor = Int(raw.load(fromByteOffset: 6, as: UInt16.self))
        guard major == hostABIMajor else {
            throw .abiMismatch(
                path: displayPath, pluginMajor: major, pluginMinor: minor, hostMajor: hostABIMajor, hostMinor: hostABIMinor)
        }
        let minimum = MemoryLayout<gwd_plugin>.offset(of: \gwd_plugin.version)! + MemoryLayout<UnsafePointer<CChar>?>.size
        guard declaredSize >= minimum else {
            throw .invalidDescriptor(path: displayPath, reason: "struct_size \(declaredSize) is smaller than the 1.0 header")
        }
        var descriptor = gwd_plugin()
        withUnsafeMutableBytes(of: &descriptor) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: min(declaredSize, target.count)))
        }
        guard let name = descriptor.name.map({ String(cString: $0) }), !name.isEmpty else {
            throw .invalidDescriptor(path: displayPath, reason: "it has no name")
        }
        let version = descriptor.version.map { String(cString: $0) } ?? ""
        return LoadedPlugin(
            descriptor: descriptor, name: name, version: version, abiMajor: major, abiMinor: minor, path: displayPath,
            mappedPath: mappedPath)
    }
}
