import Foundation

/// Runs async work to completion from a synchronous command and returns its result.
///
/// `gatewayd` stays a synchronous command line because `start`'s master must not have any
/// thread but its own when it forks; one-shot commands such as `client` run in their own
/// process, so they may start Swift concurrency's threads and wait here.
func runBlocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// Written by the task before it signals, read after the wait: the semaphore orders the two.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
