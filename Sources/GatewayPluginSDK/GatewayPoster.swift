import CGatewayABI

/// Work from other threads (ABI 1.2, `get_poster` / `post`).
extension Gateway {
    /// The worker's poster (`get_poster`): hand it to a thread or task of your own (a queue
    /// consumer, a database listener) so that it can run work on the plugin thread.
    ///
    /// Get it in ``GatewayPlugin/workerStarted(_:)`` (or any callback). It is valid until
    /// ``GatewayPlugin/workerStopping(_:)`` returns: stop every thread and task that posts
    /// before then. Throws ``GatewayError/Code/unsupported`` on a host older than ABI 1.2.
    public func poster() throws(GatewayError) -> GatewayPoster {
        let getPoster = try api.require(\.get_poster, "get_poster")
        _ = try api.require(\.post, "post")
        var handle: OpaquePointer?
        try api.check(getPoster(context, &handle))
        guard let handle else {
            throw GatewayError(code: .internal, message: "get_poster answered GWD_OK without a poster")
        }
        return GatewayPoster(handle: handle, table: api.table)
    }
}

/// Posts work to the plugin thread from any thread (`post`): the one SDK handle that is
/// `Sendable`. Get it with ``Gateway/poster()``.
///
/// Each posted closure runs once on the plugin thread, after the callback running there now,
/// in the order posted, with a ``Gateway`` that has no current client (send to clients by
/// id). Every post that did not throw runs exactly once, also when the worker begins to stop:
/// queued work runs before ``GatewayPlugin/workerStopping(_:)``.
public struct GatewayPoster: @unchecked Sendable {
    // Sendable by the header's word: `post` may be called from any thread with this handle,
    // and the table is immutable and lives as long as the process.
    let handle: OpaquePointer
    let table: UnsafePointer<gwd_host_api>

    /// Queues `body` to run on the plugin thread; never blocks. Any thread.
    ///
    /// Throws ``GatewayError/Code/queueFull`` when 16384 tasks are already waiting (the
    /// plugin thread is not keeping up: retry later or drop the work) and
    /// ``GatewayError/Code/stopping`` once the worker is stopping. A refused `body` is
    /// released without running.
    public func post(_ body: @escaping @Sendable (Gateway) -> Void) throws(GatewayError) {
        let api = HostAPI(table: table)
        let post = try api.require(\.post, "post")
        let task = Unmanaged.passRetained(PostedTask(body: body, table: table)).toOpaque()
        let status = post(handle, gatewayPostedTaskRun, task)
        guard status == 0 else {
            Unmanaged<PostedTask>.fromOpaque(task).release()
            throw api.error(status)
        }
    }

    /// Runs `body` on the plugin thread and returns its result, for async code
    /// (`Task { … }`): posts it, then suspends until it has run. What `body` throws is
    /// rethrown here; a refused post throws its ``GatewayError`` (``GatewayError/Code/queueFull``,
    /// ``GatewayError/Code/stopping``) without running `body`.
    ///
    /// Cancelling the calling task does not take back a post: once accepted, `body` runs.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Gateway) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            do {
                try post { gateway in continuation.resume(with: Result { try body(gateway) }) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}

/// One posted closure, retained for the host from `post` until it runs.
private final class PostedTask {
    let body: @Sendable (Gateway) -> Void
    let table: UnsafePointer<gwd_host_api>

    init(body: @escaping @Sendable (Gateway) -> Void, table: UnsafePointer<gwd_host_api>) {
        self.body = body
        self.table = table
    }
}

/// The `gwd_task_fn` of every SDK post: runs the task once and releases it.
private func gatewayPostedTaskRun(_ context: OpaquePointer?, _ userData: UnsafeMutableRawPointer?) {
    guard let userData else { return }
    let task = Unmanaged<PostedTask>.fromOpaque(userData).takeRetainedValue()
    guard let context else { return }
    whileRunning(context) { task.body(Gateway(context: context, api: HostAPI(table: task.table))) }
}
