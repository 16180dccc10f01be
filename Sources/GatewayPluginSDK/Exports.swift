// A plugin's entry signature uses the header's C types (gwd_host_api, gwd_plugin), so importing
// the SDK imports them too: a plugin file needs only `import GatewayPluginSDK`.
@_exported import CGatewayABI
