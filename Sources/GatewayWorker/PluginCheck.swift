import CGatewayABI
import Foundation

/// What `gatewayd plugin check` reports about a plugin file.
public struct PluginReport: Codable, Sendable, Hashable {
    public var name: String
    public var version: String
    public var abi: String
    /// The callbacks the plugin implements.
    public var callbacks: [String]
}

extension PluginLoader {
    /// Loads `path` in the calling process and describes it; errors name `displayPath` (default:
    /// `path`). Meant for a throwaway child: a plugin can never be unloaded again.
    public static func describe(path: String, displayPath: String? = nil) throws(PluginLoadError) -> PluginReport {
        let plugin = try load(mappedPath: path, displayPath: displayPath ?? path, api: UnsafePointer(hostAPI))
        let descriptor = plugin.descriptor
        var callbacks: [String] = []
        if descriptor.on_worker_start != nil { callbacks.append("on_worker_start") }
        if descriptor.on_worker_stop != nil { callbacks.append("on_worker_stop") }
        if descriptor.on_connect != nil { callbacks.append("on_connect") }
        if descriptor.on_websocket_handshake != nil { callbacks.append("on_websocket_handshake") }
        if descriptor.on_message != nil { callbacks.append("on_message") }
        if descriptor.on_close != nil { callbacks.append("on_close") }
        return PluginReport(
            name: plugin.name, version: plugin.version, abi: "\(plugin.abiMajor).\(plugin.abiMinor)", callbacks: callbacks)
    }
}
