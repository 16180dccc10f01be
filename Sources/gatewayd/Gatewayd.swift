import ArgumentParser

/// gatewayd: a real-time connection gateway. Register, gateways and BusinessWorkers, with
/// business logic in plugin shared libraries written against include/gatewayd.h.
@main
struct Gatewayd: ParsableCommand {
    static let version = GatewaydVersion.product

    static let configuration = CommandConfiguration(
        commandName: "gatewayd",
        abstract: "A real-time connection gateway: WebSocket clients stay connected while plugins are reloaded or crash.",
        version: GatewaydVersion.description,
        subcommands: [
            StartCommand.self, StopCommand.self, StatusCommand.self, ConnectionsCommand.self, PluginCommand.self,
            ReloadCommand.self, RestartCommand.self, ClientCommand.self, ConfigCommand.self,
        ]
    )
}
