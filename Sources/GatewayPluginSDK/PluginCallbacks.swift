import CGatewayABI

// The C side of a Swift plugin: the globals behind the descriptor and the C callbacks in it.
//
// The host calls the callbacks (plugin events, timers, posted tasks) on the worker's single
// plugin thread, one at a time, and calls the entry on that thread too, before any callback.
// So these globals are written once per entry and read only on that thread, while no other code
// touches them: that, not a lock, is what makes the `nonisolated(unsafe)` sound.

/// The one plugin instance and the host table it was registered with.
struct PluginRegistration {
    let api: HostAPI
    let plugin: any GatewayPlugin
    /// The typed events the plugin declared (`Gateway.on`), read before `message(...)`.
    let events = EventTable()
}

/// C callback table, part 1: what the callbacks dispatch to. Set by `GatewayPluginExport.entry`.
nonisolated(unsafe) var pluginRegistration: PluginRegistration?

/// C callback table, part 2: the `gwd_plugin` descriptor handed to the host, allocated on the
/// first entry and never freed (the host keeps the pointer for the life of the process).
nonisolated(unsafe) var pluginDescriptor: UnsafeMutablePointer<gwd_plugin>?

/// The `gwd_ctx` of the callback running now on the plugin thread (a plugin event, a timer or a
/// posted task), or nil between callbacks. It lets handles that are used without a ``Gateway``
/// (``GatewayTimer/cancel()``) call the host with a context that is valid. Written only by the
/// trampolines, on the plugin thread, like the globals above.
nonisolated(unsafe) var runningCallbackContext: OpaquePointer?

/// Runs `body` with `context` as the running callback's context, restoring the outer one after.
func whileRunning<Result>(_ context: OpaquePointer, _ body: () throws -> Result) rethrows -> Result {
    let outer = runningCallbackContext
    runningCallbackContext = context
    defer { runningCallbackContext = outer }
    return try body()
}

/// The registration and a ``Gateway`` for the callback's context, or nil when the host called
/// without a context or before the entry.
private func callbackGateway(_ context: OpaquePointer?) -> (PluginRegistration, Gateway)? {
    guard let registration = pluginRegistration, let context else { return nil }
    return (registration, Gateway(context: context, api: registration.api))
}

/// The callback's client, or nil (logged) when the host passed a malformed id.
private func callbackClient(_ gateway: Gateway, _ id: UnsafePointer<CChar>?, _ event: String) -> ClientID? {
    guard let id, let client = ClientID(cString: id) else {
        gateway.log("\(event): the host passed a malformed client id; event dropped", level: .error)
        return nil
    }
    return client
}

func pluginWorkerStart(_ context: OpaquePointer?) -> Int32 {
    guard let (registration, gateway) = callbackGateway(context) else {
        return Int32(bitPattern: GWD_ERR_INVALID_ARGUMENT.rawValue)
    }
    do {
        try whileRunning(gateway.context) { try registration.plugin.workerStarted(gateway) }
        return Int32(bitPattern: GWD_OK.rawValue)
    } catch let error as GatewayError {
        gateway.log("workerStarted refused the start: \(error)", level: .error)
        return error.code.rawValue
    } catch {
        gateway.log("workerStarted refused the start: \(error)", level: .error)
        return Int32(bitPattern: GWD_ERR_FAILED.rawValue)
    }
}

func pluginWorkerStop(_ context: OpaquePointer?) {
    guard let (registration, gateway) = callbackGateway(context) else { return }
    whileRunning(gateway.context) { registration.plugin.workerStopping(gateway) }
    registration.events.removeAll()  // the worker is done; a start after this (tests) declares afresh
}

func pluginConnect(_ context: OpaquePointer?, _ id: UnsafePointer<CChar>?) {
    guard let (registration, gateway) = callbackGateway(context),
          let client = callbackClient(gateway, id, "on_connect")
    else { return }
    whileRunning(gateway.context) { registration.plugin.clientConnected(gateway, client: client) }
}

func pluginWebSocketHandshake(_ context: OpaquePointer?, _ id: UnsafePointer<CChar>?,
                              _ request: UnsafePointer<gwd_handshake>?) -> Int32 {
    guard let (registration, gateway) = callbackGateway(context),
          let client = callbackClient(gateway, id, "on_websocket_handshake"),
          let request
    else { return 500 }
    let decision = whileRunning(gateway.context) {
        registration.plugin.handshake(gateway, client: client, request: HandshakeRequest(copying: request))
    }
    if case .reject(let status) = decision, !(400...599).contains(status) {
        gateway.log("handshake rejected with HTTP status \(status), outside 400...599: sending 500", level: .warning)
    }
    return decision.abiValue
}

func pluginMessage(_ context: OpaquePointer?, _ id: UnsafePointer<CChar>?, _ data: UnsafeRawPointer?,
                   _ length: Int, _ kind: UInt32) {
    guard let (registration, gateway) = callbackGateway(context),
          let client = callbackClient(gateway, id, "on_message")
    else { return }
    let bytes = UnsafeRawBufferPointer(start: length > 0 ? data : nil, count: data == nil ? 0 : length)
    // A typed event goes to its handler (or is answered with an error frame) instead.
    if kind == GWD_MESSAGE_TEXT, !registration.events.isEmpty,
       whileRunning(gateway.context, { registration.events.dispatch(gateway, client, bytes) }) {
        return
    }
    let message: Message
    switch kind {
    case GWD_MESSAGE_TEXT: message = .text(String(decoding: bytes, as: UTF8.self))
    case GWD_MESSAGE_BINARY: message = .binary(Array(bytes))
    default:
        gateway.log("on_message: unknown message kind \(kind); message dropped", level: .warning)
        return
    }
    whileRunning(gateway.context) { registration.plugin.message(gateway, client: client, message: message) }
}

func pluginClose(_ context: OpaquePointer?, _ id: UnsafePointer<CChar>?) {
    guard let (registration, gateway) = callbackGateway(context),
          let client = callbackClient(gateway, id, "on_close")
    else { return }
    whileRunning(gateway.context) { registration.plugin.clientClosed(gateway, client: client) }
}
