// tick: and post: (ABI 1.2), as plugins/conformance-c does them, through the SDK's timers and
// its GatewayPoster.
import Dispatch
import GatewayPluginSDK

/// `tick:<ms>:<n>`: a repeating timer that sends `tick:1` … `tick:<n>` to `client`, one per
/// interval, and cancels itself after the n-th. Unparsable arguments are ignored.
func startTicks(_ argument: String, for client: ClientID, _ gateway: Gateway) throws(GatewayError) {
    guard let (interval, times) = split(argument, at: ":"), let milliseconds = parseMilliseconds(interval),
          let n = parseMilliseconds(times), n > 0
    else { return }
    var count = 0
    try gateway.addTimer(every: .milliseconds(milliseconds)) { gateway, timer in
        count += 1
        do throws(GatewayError) {
            try gateway.send("tick:\(count)", to: client)
        } catch {
            logFailure(gateway, "tick", error)
        }
        if count >= n { timer.cancel() }
    }
}

/// `post:<x>`: the plugin's own consumer — one task reading a stream, as a thread would read a
/// queue — posts each request to the plugin thread, where it sends `posted:<x>` to its client.
final class PostRelay {
    struct Request: Sendable {
        let client: ClientID
        let text: String
    }

    private let requests: AsyncStream<Request>.Continuation
    private let finished: DispatchSemaphore

    init(poster: GatewayPoster) {
        let made = AsyncStream<Request>.makeStream()
        requests = made.continuation
        let stream = made.stream
        let finished = DispatchSemaphore(value: 0)
        self.finished = finished
        Task.detached { await PostRelay.consume(stream, poster, finished) }
    }

    private static func consume(_ stream: AsyncStream<Request>, _ poster: GatewayPoster, _ finished: DispatchSemaphore) async {
        for await request in stream { await handOver(request, poster) }
        finished.signal()
    }

    /// Plugin thread: queues a request for the consumer.
    func request(_ request: Request) {
        requests.yield(request)
    }

    /// Plugin thread (workerStopping): ends the consumer and waits for it, since the poster is
    /// invalid once workerStopping returns. Requests it still holds are refused (STOPPING).
    func stop() {
        requests.finish()
        finished.wait()
    }

    /// Posts `request`, retrying every millisecond for up to a second while the queue is full;
    /// a request refused otherwise (STOPPING) is dropped.
    private static func handOver(_ request: Request, _ poster: GatewayPoster) async {
        for _ in 0..<1000 {
            do throws(GatewayError) {
                try poster.post { gateway in
                    do throws(GatewayError) {
                        try gateway.send("posted:\(request.text)", to: request.client)
                    } catch {
                        logFailure(gateway, "post", error)
                    }
                }
                return
            } catch where error.code == .queueFull {
                try? await Task.sleep(for: .milliseconds(1))
            } catch {
                return
            }
        }
    }
}
