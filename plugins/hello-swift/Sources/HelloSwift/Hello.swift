// hello-swift: the smallest gatewayd plugin in Swift. It sends every message back to its sender.
import GatewayPluginSDK

final class HelloPlugin: GatewayPlugin {
    static let name = "hello-swift"
    static let version = "1.0.0"

    func message(_ gateway: Gateway, client: ClientID, message: Message) {
        try? gateway.reply(message)  // a failed send only means the client is gone
    }
}

@c(gwd_plugin_entry_v1)
public func gwdPluginEntry(_ api: UnsafePointer<gwd_host_api>?, _ plugin: UnsafeMutablePointer<UnsafePointer<gwd_plugin>?>?,
                           _ error: UnsafeMutablePointer<CChar>?, _ errorLength: Int) -> Int32 {
    GatewayPluginExport.entry(HelloPlugin.self, api, plugin, error, errorLength)
}
