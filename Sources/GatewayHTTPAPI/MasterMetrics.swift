import Foundation
import GatewayCore
import NIOCore
import NIOPosix

/// `/metrics` on the HTTP API: the host's metrics come from the master, which alone sees every
/// process, through its control socket (`{"command":"metrics"}`, one JSON answer, then EOF),
/// read on the role's event loop without blocking it.
public struct MasterMetrics: Sendable {
    public let controlSocket: String
    /// As the master's own `/metrics` (MetricsExporter.contentType, which this role does not link).
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public init(controlSocket: String) {
        self.controlSocket = controlSocket
    }

    /// The text the master rendered; fails when the master cannot be reached or says no.
    func fetch(on eventLoop: EventLoop) -> EventLoopFuture<String> {
        let answer = eventLoop.makePromise(of: [UInt8].self)
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ReadToEnd(answer: answer)) }
            }
            .connect(unixDomainSocketPath: controlSocket)
        connected.whenFailure { answer.fail($0) }
        return connected
            .flatMap { channel in
                let request = ByteBuffer(string: "{\"command\":\"metrics\"}\n")
                // The master answers within its one-second wait for the children.
                let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
                return channel.writeAndFlush(request).flatMap { answer.futureResult }.always { _ in timeout.cancel() }
            }
            .flatMapThrowing { bytes in
                let decoder = JSONDecoder()
                decoder.keyDecodingStrategy = .convertFromSnakeCase
                let response = try decoder.decode(ControlResponse.self, from: Data(bytes))
                guard response.ok, let text = response.metrics else { throw MasterMetricsError(reason: response.error ?? "no metrics") }
                return text
            }
    }
}

struct MasterMetricsError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// Collects everything the master writes until it closes the connection.
private final class ReadToEnd: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let answer: EventLoopPromise<[UInt8]>
    private var bytes: [UInt8] = []

    init(answer: EventLoopPromise<[UInt8]>) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bytes += unwrapInboundIn(data).readableBytesView
    }

    func channelInactive(context: ChannelHandlerContext) {
        if bytes.isEmpty {
            answer.fail(MasterMetricsError(reason: "the master closed the control socket without an answer"))
        } else {
            answer.succeed(bytes)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ReadToEnd: Sendable {}
