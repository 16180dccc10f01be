import CGatewayABI

/// The handle a plugin calls the host through: the running callback's context (`gwd_ctx`) and
/// the host's function table.
///
/// A `Gateway` is valid only while the callback it was passed to runs, and only on that
/// callback's thread (the worker's plugin thread). Do not store it, capture it in a closure
/// that outlives the callback, or hand it to a task: it is deliberately not `Sendable`, and the
/// host answers calls made outside the callback with ``GatewayError/Code/wrongThread`` — or,
/// once its context is gone, may not be able to answer at all. Code that needs a `Gateway`
/// later asks for a fresh one: a timer's body (``addTimer(every:repeats:_:)``) and a posted
/// closure (``GatewayPoster``, from any thread or task) each get their own.
///
/// Timer bodies and posted closures are callbacks with no current client: ``currentClient``
/// is nil there, and the current-client methods (``reply(_:options:)``, ``session``, …) throw
/// ``GatewayError/Code/noCurrentClient``; everything that names its client works.
///
/// Error rule: every method that calls a host function that returns a status throws a
/// ``GatewayError`` when the status is not `GWD_OK`. That includes the fire-and-forget sends,
/// whose success means "accepted for delivery", not "received": write `try?` where a failed
/// send does not matter. Only ``log(_:level:)`` and ``currentClient``, whose host functions
/// return no status, do not throw.
public struct Gateway {
    /// The `gwd_ctx *` of the running callback, for calling the C API directly.
    public let context: OpaquePointer

    let api: HostAPI

    init(context: OpaquePointer, api: HostAPI) {
        self.context = context
        self.api = api
    }

    /// The host's function table, for calling the C API directly. It lives as long as the process.
    public var hostTable: UnsafePointer<gwd_host_api> { api.table }

    /// The host's plugin ABI version (major, minor).
    public var hostABIVersion: (major: Int, minor: Int) { (Int(api.abiMajor), Int(api.abiMinor)) }

    /// The host's English description of a status code (`status_string`), e.g. to build a
    /// ``GatewayError`` that reads like the host's own. (`free`, the table's other helper, is
    /// called by ``sessionJSON(of:)``: no host memory ever reaches plugin code.)
    public func statusString(_ code: GatewayError.Code) -> String {
        api.describe(code.rawValue)
    }

    /// The client of the current event, or nil outside a client event (`current_client_id`).
    public var currentClient: ClientID? {
        guard let currentClientID = api.entry(\.current_client_id),
              let id = currentClientID(context)
        else { return nil }
        return ClientID(cString: id)
    }

    /// This worker process's pid (`worker_info`).
    public var workerPID: Int32 {
        get throws(GatewayError) { try workerInfo().pid }
    }

    /// This worker's index among the BusinessWorker processes, 0 ..< count (`worker_info`).
    public var workerIndex: Int {
        get throws(GatewayError) { Int(try workerInfo().index) }
    }

    private func workerInfo() throws(GatewayError) -> (pid: Int32, index: Int32) {
        let workerInfo = try api.require(\.worker_info, "worker_info")
        var pid: Int32 = 0
        var index: Int32 = 0
        try api.check(workerInfo(context, &pid, &index))
        return (pid, index)
    }
}

@available(*, unavailable)
extension Gateway: Sendable {}
