// hello-swift: the smallest gatewayd plugin in Swift. It sends every message back to its sender;
// `later:<text>` comes back 100 ms later through a one-shot timer, and `async:<text>` from a
// Swift Task, which hands the send to the plugin thread through the worker's poster.
import GatewayPluginSDK

final class HelloPlugin: GatewayPlugin {
    static let name = "hello-swift"
    static let version = "1.0.0"
    private var poster: GatewayPoster?

    func workerStarted(_ gateway: Gateway) throws {
        poster = try? gateway.poster()  // nil on a host older than ABI 1.2
    }

    func message(_ gateway: Gateway, client: ClientID, message: Message) {
        // A failed send only means the client is gone: `try?`.
        if let text = message.text, text.hasPrefix("later:") {
            _ = try? gateway.addTimer(after: .milliseconds(100)) { gateway in
                try? gateway.send(String(text.dropFirst(6)), to: client)
            }
        } else if let text = message.text, text.hasPrefix("async:"), let poster {
            Task {
                // Work of your own (a database, a queue) would go here, off the plugin thread.
                try? await poster.run { gateway in try gateway.send(String(text.dropFirst(6)), to: client) }
            }
        } else {
            try? gateway.reply(message)
        }
    }
}

@c(gwd_plugin_entry_v1)
public func gwdPluginEntry(_ api: UnsafePointer<gwd_host_api>?, _ plugin: UnsafeMutablePointer<UnsafePointer<gwd_plugin>?>?,
                           _ error: UnsafeMutablePointer<CChar>?, _ errorLength: Int) -> Int32 {
    GatewayPluginExport.entry(HelloPlugin.self, api, plugin, error, errorLength)
}
