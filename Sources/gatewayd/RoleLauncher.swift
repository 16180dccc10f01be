#if canImport(Glibc)
import GatewayHub
import Glibc
#endif
import CDemoPlugin
import GatewayClient
import GatewayCompression
import GatewayCore
import GatewayHTTPAPI
import GatewayRegister
import GatewayRuntime
import GatewayServer
import GatewaySupervisor
import GatewayWorker
import Logging
import NIOCore

/// Runs one role in a child the master just forked. Only here do threads start.
enum RoleLauncher {
    static func run(_ context: ChildContext) -> Never {
        let configuration = context.configuration
        // A child never execs, except the Swift runtime's crash reporter after a crash: it must
        // not inherit the listening sockets (a hung reporter would keep the ports bound).
        for descriptor in context.inheritedDescriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var logger = Logger(label: "gatewayd.\(context.role.rawValue)")
        if context.role != .register { logger[metadataKey: "gw.index"] = "\(context.index)" }
        // Validated by the master before it forked anything.
        let registers = configuration.registerAddresses.map { try! HostPort(parsing: $0) }
        let heartbeat = InnerHeartbeat(
            intervalMilliseconds: configuration.innerHeartbeatIntervalMilliseconds,
            timeoutMilliseconds: configuration.innerHeartbeatTimeoutMilliseconds)

        ChildRuntime.run(controlDescriptor: context.controlDescriptor, logger: logger) { eventLoop, reporter in
            switch context.role {
            case .register:
                let server = RegisterServer(
                    secretKey: configuration.secretKey, eventLoop: eventLoop, logger: logger, heartbeat: heartbeat)
                try server.start(listeningDescriptor: context.registerDescriptor!).wait()
                reporter.ready(["listen": configuration.registerListen ?? configuration.register])
                return server
            case .gateway:
                let listeners = configuration.listen.map { try! ListenAddress(parsing: $0) }
                var settings = GatewayServerConfiguration(
                    lanIP: IPv4Address(configuration.lanIP)!, innerPort: context.innerPort,
                    secretKey: configuration.secretKey, maxMessageBytes: configuration.maxMessageBytes,
                    verdictTimeout: .milliseconds(Int64(configuration.handshakeTimeoutMilliseconds)),
                    handshakeDeadline: .milliseconds(Int64(configuration.connectTimeoutMilliseconds)),
                    expectedWorkers: context.expectedWorkers, register: registers[0], listeners: listeners,
                    heartbeat: HeartbeatPolicy(
                        interval: configuration.pingInterval, notResponseLimit: configuration.pingNotResponseLimit,
                        pingData: Array(configuration.pingData.utf8)))
                settings.maxConnections = configuration.maxConnections
                settings.sendBufferBytes = configuration.sendBufferBytes
                settings.slowClientPolicy = configuration.slowClientPolicy
                settings.workerBufferBytes = configuration.workerBufferBytes
                settings.registers = registers
                settings.innerHeartbeat = heartbeat
                settings.tls = configuration.tlsFiles
                if configuration.compression {
                    settings.compression = PermessageDeflateSettings(
                        level: configuration.compressionLevel, minimumMessageBytes: configuration.compressionMinBytes)
                }
                switch configuration.clientIO {
                case .engine:
                    let gateway = try EngineGateway(configuration: settings, eventLoop: eventLoop, logger: logger, reporter: reporter)
                    try gateway.start(clientDescriptors: context.clientDescriptors, innerDescriptor: context.innerDescriptor!)
                    return gateway
                case .nio:
                    let server = GatewayServer(configuration: settings, eventLoop: eventLoop, logger: logger, reporter: reporter)
                    try server.start(clientDescriptors: context.clientDescriptors, innerDescriptor: context.innerDescriptor!)
                        .wait()
                    return server
                }
            case .worker:
                WorkerCrashHandler.install(
                    label: "gatewayd.\(context.role.rawValue)", index: context.index, format: configuration.logFormat ?? .text)
                var settings = WorkerConfiguration(
                        index: context.index, workerName: configuration.workerName, secretKey: configuration.secretKey,
                        register: registers[0],
                        queryTimeout: .milliseconds(Int64(configuration.queryTimeoutMilliseconds)),
                        pluginPath: configuration.plugin,
                        storeDirectory: RunDirectory(path: configuration.runDirectory).pluginStore,
                        generation: context.generation, canary: context.canary,
                        processTimeout: .milliseconds(Int64(configuration.processTimeoutMilliseconds)))
                settings.registers = registers
                settings.innerHeartbeat = heartbeat
                settings.queueBytes = configuration.workerQueueBytes
                let worker = try WorkerService(configuration: settings, eventLoop: eventLoop, logger: logger)
                worker.start(reporter: reporter, builtInEntry: gwd_demo_plugin_entry)
                return worker
            case .httpAPI:
                let settings = configuration.httpAPI!
                // The API pushes and queries exactly as an outside GatewayClient would.
                let client = GatewayClient(
                    configuration: GatewayClientConfiguration(
                        registers: registers, secretKey: configuration.secretKey,
                        timeout: .milliseconds(configuration.queryTimeoutMilliseconds)),
                    eventLoopGroup: eventLoop)
                let server = HTTPAPIServer(
                    settings: settings, backend: client, eventLoop: eventLoop, logger: logger,
                    metrics: MasterMetrics(controlSocket: RunDirectory(path: configuration.runDirectory).controlSocket))
                try server.start(listeningDescriptor: context.httpAPIDescriptor!).wait()
                reporter.ready(["listen": settings.listen])
                return server
            case .master:
                fatalError("the master is not a child role")
            }
        }
    }
}
