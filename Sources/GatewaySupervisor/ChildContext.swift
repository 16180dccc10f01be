import GatewayCore

/// Everything a forked child needs to run its role. Built by the master before fork; the
/// child receives it by value (fork copies memory), so children never re-read config or flags.
public struct ChildContext: Sendable {
    public var role: Role
    /// 0..count-1 within the role; for workers part of the worker key.
    public var index: Int
    /// The fully resolved configuration: listen URLs and the register address carry real ports.
    public var configuration: GatewayConfiguration
    /// This child's end of the control socketpair with the master (JSON lines).
    public var controlDescriptor: Int32
    /// Register role: its listening socket.
    public var registerDescriptor: Int32?
    /// Gateway role: one listening socket per client listener, in `configuration.listen` order.
    public var clientDescriptors: [Int32]
    /// Gateway role: the inner (worker-facing) listening socket and its port.
    public var innerDescriptor: Int32?
    public var innerPort: Int
    /// Gateway role: how many local workers must be attached before it reports ready (so that
    /// `start` returns only when a client's first message already has a worker to go to).
    public var expectedWorkers: Int
    /// Worker role: the plugin generation (0 at start, +1 per reload); part of the worker key.
    public var generation: Int = 0
    /// Worker role: a reload's canary — load the plugin, run on_worker_start, report, exit.
    public var canary = false
    /// HTTP API role: its listening socket.
    public var httpAPIDescriptor: Int32?

    public init(
        role: Role, index: Int, configuration: GatewayConfiguration, controlDescriptor: Int32,
        registerDescriptor: Int32? = nil, clientDescriptors: [Int32] = [], innerDescriptor: Int32? = nil,
        innerPort: Int = 0, expectedWorkers: Int = 0
    ) {
        self.role = role
        self.index = index
        self.configuration = configuration
        self.controlDescriptor = controlDescriptor
        self.registerDescriptor = registerDescriptor
        self.clientDescriptors = clientDescriptors
        self.innerDescriptor = innerDescriptor
        self.innerPort = innerPort
        self.expectedWorkers = expectedWorkers
    }

    /// Every descriptor the child inherited from the master.
    public var inheritedDescriptors: [Int32] {
        [controlDescriptor] + clientDescriptors + [registerDescriptor, innerDescriptor, httpAPIDescriptor].compactMap { $0 }
    }
}
