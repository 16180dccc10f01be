/// A gatewayd plugin written in Swift: one type whose methods are the worker's events.
///
/// The SDK creates one instance with `init()` when the BusinessWorker loads the plugin
/// (``GatewayPluginExport/entry(_:_:_:_:_:)``) and calls its methods on the worker's single
/// plugin thread, one at a time, so the instance needs no locks. Every method has a default
/// (see `GatewayPlugin+Defaults.swift`): implement only the events you need.
///
/// Threading: one thread per worker runs its gateway links, its timers and every callback —
/// these methods, timer bodies (``Gateway/addTimer(every:repeats:_:)``) and posted closures
/// (``GatewayPoster``) — one at a time. State touched only there needs no lock. A thread or
/// task of your own never calls the host directly: it posts a closure with a
/// ``GatewayPoster``, which runs on the plugin thread with a ``Gateway`` of its own. Stop such
/// threads and tasks in ``workerStopping(_:)``: work still queued runs before it, and posts
/// after it has begun throw ``GatewayError/Code/stopping``.
///
/// Each method receives a ``Gateway``, the handle for calling back into the host. It is valid
/// only until the method returns: do not store it or hand it to another thread.
///
/// A plugin must not trap: a trap (a failed `!`, an out-of-range index, `fatalError`) kills the
/// worker process, which the master then restarts. Errors thrown by the ``Gateway`` methods
/// are ordinary Swift errors and never cross into the host.
///
/// Keep the type nonisolated (no `@MainActor`, no main-actor default isolation in the plugin
/// package): the worker calls it on its plugin thread, not on the main thread.
public protocol GatewayPlugin: AnyObject {
    /// The plugin's name as the host reports it, e.g. `"chat"`.
    static var name: String { get }
    /// The plugin's version as the host reports it, e.g. `"1.4.2"`.
    static var version: String { get }

    /// Called once, when the worker loads the plugin, before ``workerStarted(_:)``.
    init()

    /// Once per worker process, before any client event. Throwing refuses the start: the worker
    /// logs the error and exits, and a reload with this plugin is refused. A thrown
    /// ``GatewayError`` reports its own status to the host; any other error reports
    /// `GWD_ERR_FAILED`.
    func workerStarted(_ gateway: Gateway) throws

    /// Once when the worker stops gracefully (not after a crash), after the posted work still
    /// queued has run. Timers no longer fire; stop your own threads and tasks here.
    func workerStopping(_ gateway: Gateway)

    /// A client connected (for WebSocket: before its handshake).
    func clientConnected(_ gateway: Gateway, client: ClientID)

    /// A WebSocket client sent its handshake request; accept it or refuse it with an HTTP status.
    func handshake(_ gateway: Gateway, client: ClientID, request: HandshakeRequest) -> HandshakeDecision

    /// A whole message from a client (all fragments joined).
    func message(_ gateway: Gateway, client: ClientID, message: Message)

    /// A client disconnected, whoever closed it. Sends to it are dropped from now on.
    func clientClosed(_ gateway: Gateway, client: ClientID)
}
