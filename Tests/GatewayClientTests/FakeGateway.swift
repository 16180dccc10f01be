import GatewayWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An in-process stand-in for a gateway's inner port: records every frame it receives (and on
/// which connection), checks GATEWAY_CLIENT_CONNECT when it has a secret, and answers queries
/// as the test says — in request order, as a real gateway does, even when one answer is late.
final class FakeGateway: Sendable {
    enum Answer: Sendable {
        case value(PHPValue)
        case late(PHPValue, after: TimeAmount)
        /// No answer; the connection is closed instead.
        case close
    }

    struct Received: Sendable {
        var connection: Int
        var command: GatewayCommand
        var connectionID: UInt32
        var body: [UInt8]
    }

    private struct State {
        var accepted = 0
        var received: [Received] = []
    }

    let address: String
    private let channel: Channel
    private let state: NIOLockedValueBox<State>

    /// - Parameter answer: how to answer query `index` (counted over all connections).
    init(
        group: EventLoopGroup, secretKey: String = "",
        answer: @escaping @Sendable (GatewayFrame, _ index: Int) -> Answer = { _, _ in .value(.int(1)) }
    ) async throws {
        let state = NIOLockedValueBox(State())
        self.state = state
        channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = state.withLockedValue { state -> Int in
                        state.accepted += 1
                        return state.accepted
                    }
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(GatewayFrameDecoder()),
                        FakeGatewayHandler(connection: connection, secretKey: secretKey, state: state, answer: answer),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        address = "127.0.0.1:\(channel.localAddress!.port!)"
    }

    var connectionsAccepted: Int { state.withLockedValue { $0.accepted } }
    var received: [Received] { state.withLockedValue { $0.received } }

    func stop() async throws {
        try await channel.close()
    }

    private final class FakeGatewayHandler: ChannelInboundHandler {
        typealias InboundIn = GatewayFrame
        typealias OutboundOut = ByteBuffer

        private let connection: Int
        private let secretKey: String
        private let state: NIOLockedValueBox<State>
        private let answer: @Sendable (GatewayFrame, Int) -> Answer
        private var authenticated = false
        /// The last answer's write: the next one goes after it, so late answers keep their order.
        private var lastAnswer: EventLoopFuture<Void>?

        init(connection: Int, secretKey: String, state: NIOLockedValueBox<State>, answer: @escaping @Sendable (GatewayFrame, Int) -> Answer) {
            self.connection = connection
            self.secretKey = secretKey
            self.state = state
            self.answer = answer
            self.authenticated = secretKey.isEmpty
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            let index = state.withLockedValue { state -> Int in
                state.received.append(
                    Received(connection: connection, command: frame.command, connectionID: frame.connectionID, body: Array(frame.body.readableBytesView)))
                return state.received.filter { $0.command.expectsReply }.count - 1
            }
            if frame.command == .gatewayClientConnect {
                let body = try? GatewayClientConnectBody(body: frame.body)
                guard body?.secretKey == secretKey else { return context.close(promise: nil) }
                authenticated = true
                return
            }
            guard authenticated else { return context.close(promise: nil) }
            guard frame.command.expectsReply else { return }
            let channel = context.channel
            let previous = lastAnswer ?? context.eventLoop.makeSucceededVoidFuture()
            switch answer(frame, index) {
            case .value(let value):
                lastAnswer = previous.flatMap { channel.writeAndFlush(Self.reply(value)) }
            case .late(let value, let delay):
                lastAnswer = previous.flatMap {
                    channel.eventLoop.scheduleTask(in: delay) {}.futureResult.flatMap { channel.writeAndFlush(Self.reply(value)) }
                }
            case .close:
                lastAnswer = previous.flatMap { channel.close() }
            }
        }

        private static func reply(_ value: PHPValue) -> ByteBuffer {
            var buffer = ByteBuffer()
            buffer.writeGatewayReply(value)
            return buffer
        }
    }
}
