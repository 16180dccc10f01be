import CGatewayABI

/// Why a plugin cannot be loaded; each description is the one line a user sees.
public enum PluginLoadError: Error, Hashable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case store(reason: String)
    case cannotOpen(path: String, reason: String)
    case noEntrySymbol(path: String)
    case entryFailed(path: String, status: Int32, reason: String)
    case invalidDescriptor(path: String, reason: String)
    case abiMismatch(path: String, pluginMajor: Int, pluginMinor: Int, hostMajor: Int, hostMinor: Int)
    case workerStartFailed(path: String, status: Int32, statusText: String)
    case swiftCompilerMismatch(path: String, pluginCompiler: String, hostCompiler: String)
    case swiftCompilerUnknown(path: String, hostCompiler: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read plugin \(path): \(reason)"
        case .store(let reason):
            return reason
        case .cannotOpen(let path, let reason):
            return "cannot load plugin \(path): \(reason)"
        case .noEntrySymbol(let path):
            return
                "plugin \(path) has no entry symbol gwd_plugin_entry_v1 (not a gatewayd plugin, or the entry lacks GWD_EXPORT under -fvisibility=hidden)"
        case .entryFailed(let path, let status, let reason):
            return "plugin \(path) refused to initialise (status \(status)): \(reason)"
        case .invalidDescriptor(let path, let reason):
            return "plugin \(path) returned an invalid descriptor: \(reason)"
        case .abiMismatch(let path, let pluginMajor, let pluginMinor, let hostMajor, let hostMinor):
            return
                "plugin \(path) was built for plugin ABI \(pluginMajor).\(pluginMinor), but this gatewayd implements ABI \(hostMajor).\(hostMinor); rebuild it against include/gatewayd.h"
        case .workerStartFailed(let path, let status, let statusText):
            return "plugin \(path): on_worker_start failed with status \(status) (\(statusText))"
        case .swiftCompilerMismatch(let path, let pluginCompiler, let hostCompiler):
            return
                "plugin \(path) was built with Swift \(pluginCompiler), but this gatewayd with Swift \(hostCompiler); Swift has no stable ABI on Linux: rebuild the plugin with Swift \(hostCompiler)"
        case .swiftCompilerUnknown(let path, let hostCompiler):
            return
                "plugin \(path) uses the Swift runtime but does not say which Swift compiler built it (no exported \(GWD_SWIFT_COMPILER_SYMBOL)); build it on GatewayPluginSDK with Swift \(hostCompiler) and list \(GWD_SWIFT_COMPILER_SYMBOL) in its version script"
        }
    }
}
