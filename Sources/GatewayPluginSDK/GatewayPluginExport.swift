import CGatewayABI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a ``GatewayPlugin`` type into the plugin ABI: the plugin's exported entry symbol calls
/// ``entry(_:_:_:_:_:)``, which checks the host, creates the one plugin instance and hands the
/// host the C descriptor whose callbacks forward to it.
///
/// Export a plugin with these lines (in a library target, not in `main.swift`):
///
/// ```swift
/// import CGatewayABI
/// import GatewayPluginSDK
///
/// @c(gwd_plugin_entry_v1)
/// public func gwdPluginEntry(_ api: UnsafePointer<gwd_host_api>?,
///                            _ plugin: UnsafeMutablePointer<UnsafePointer<gwd_plugin>?>?,
///                            _ error: UnsafeMutablePointer<CChar>?, _ errorLength: Int) -> Int32 {
///     GatewayPluginExport.entry(MyPlugin.self, api, plugin, error, errorLength)
/// }
/// ```
///
/// (`@_cdecl("gwd_plugin_entry_v1")` does the same on toolchains before Swift 6.3.) Link the
/// library with a version script that exports only `gwd_plugin_entry_v1` and `gwd_swift_compiler`
/// (the compiler stamp this SDK links in, which the host checks); see plugins/README.md.
public enum GatewayPluginExport {
    /// The ABI version this SDK was compiled against.
    public static let abiVersion = (major: Int(GWD_ABI_VERSION_MAJOR), minor: Int(GWD_ABI_VERSION_MINOR))

    /// The body of `gwd_plugin_entry_v1`: the host calls it once, on the plugin thread, right
    /// after loading the plugin.
    ///
    /// Refuses a host whose ABI major version differs from the SDK's with
    /// `GWD_ERR_ABI_MISMATCH` and a reason in `error` that names both versions. Otherwise
    /// creates `Plugin()`, stores the descriptor in `plugin` and returns `GWD_OK`.
    ///
    /// Calling it again (only tests do) replaces the plugin instance with a fresh one and
    /// returns the same descriptor.
    public static func entry<Plugin: GatewayPlugin>(
        _ type: Plugin.Type,
        _ api: UnsafePointer<gwd_host_api>?,
        _ plugin: UnsafeMutablePointer<UnsafePointer<gwd_plugin>?>?,
        _ error: UnsafeMutablePointer<CChar>?,
        _ errorLength: Int
    ) -> Int32 {
        func refuse(_ status: gwd_status, _ reason: String) -> Int32 {
            writeReason("\(Plugin.name) \(Plugin.version): \(reason)", into: error, capacity: errorLength)
            return Int32(bitPattern: status.rawValue)
        }
        guard let api else {
            return refuse(GWD_ERR_INVALID_ARGUMENT, "the host passed no API table")
        }
        let headerSize = MemoryLayout<gwd_host_api>.offset(of: \.status_string)!
        guard api.pointer(to: \.struct_size)!.pointee >= headerSize else {
            return refuse(GWD_ERR_ABI_MISMATCH, "the host's API table is too short to hold its ABI version")
        }
        let host = HostAPI(table: api)
        guard Int(host.abiMajor) == abiVersion.major else {
            return refuse(GWD_ERR_ABI_MISMATCH, """
                built against gatewayd plugin ABI \(abiVersion.major).\(abiVersion.minor), \
                but the host has ABI \(host.abiMajor).\(host.abiMinor)
                """)
        }
        guard let plugin else {
            return refuse(GWD_ERR_INVALID_ARGUMENT, "the host passed no place for the plugin descriptor")
        }
        pluginRegistration = PluginRegistration(api: host, plugin: Plugin())
        plugin.pointee = UnsafePointer(describe(name: Plugin.name, version: Plugin.version))
        return Int32(bitPattern: GWD_OK.rawValue)
    }

    /// Fills the descriptor the host keeps a pointer to (allocated once, never freed) and
    /// returns it.
    private static func describe(name: String, version: String) -> UnsafeMutablePointer<gwd_plugin> {
        if pluginDescriptor == nil {
            let allocated = UnsafeMutablePointer<gwd_plugin>.allocate(capacity: 1)
            allocated.initialize(to: gwd_plugin(
                struct_size: UInt32(MemoryLayout<gwd_plugin>.size),
                abi_major: UInt16(GWD_ABI_VERSION_MAJOR),
                abi_minor: UInt16(GWD_ABI_VERSION_MINOR),
                name: nil,
                version: nil,
                on_worker_start: pluginWorkerStart,
                on_worker_stop: pluginWorkerStop,
                on_connect: pluginConnect,
                on_websocket_handshake: pluginWebSocketHandshake,
                on_message: pluginMessage,
                on_close: pluginClose))
            pluginDescriptor = allocated
        }
        let described = pluginDescriptor!
        // The host may hold the old strings, so they are never freed; a repeated entry with the
        // same name and version (tests) reuses them.
        described.pointee.name = permanentCString(name, replacing: described.pointee.name)
        described.pointee.version = permanentCString(version, replacing: described.pointee.version)
        return described
    }

    private static func permanentCString(_ string: String, replacing old: UnsafePointer<CChar>?) -> UnsafePointer<CChar> {
        if let old, String(cString: old) == string { return old }
        return UnsafePointer(strdup(string)!)
    }

    /// Writes a NUL-terminated reason of at most `capacity` bytes, cut at a UTF-8 boundary.
    static func writeReason(_ reason: String, into buffer: UnsafeMutablePointer<CChar>?, capacity: Int) {
        guard let buffer, capacity > 0 else { return }
        let utf8 = Array(reason.utf8)
        var length = min(utf8.count, capacity - 1)
        while length > 0, length < utf8.count, utf8[length] & 0xC0 == 0x80 { length -= 1 }
        for index in 0..<length { buffer[index] = CChar(bitPattern: utf8[index]) }
        buffer[length] = 0
    }
}
