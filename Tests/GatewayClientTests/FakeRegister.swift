import GatewayWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An in-process register: answers `worker_connect` with the current address list (or closes
/// on a wrong secret, as GatewayWorker's does) and counts the connections it accepted.
final class FakeRegister: Sendable {
    let address: String
    private let channel: Channel
    private let accepted: NIOLockedValueBox<Int>
    private let addresses: NIOLockedValueBox<[String]>

    init(group: EventLoopGroup, secretKey: String = "", addresses: [String]) async throws {
        let accepted = NIOLockedValueBox(0)
        let list = NIOLockedValueBox(addresses)
        self.accepted = accepted
        self.addresses = list
        channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                accepted.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LineFrameDecoder()),
                        FakeRegisterHandler(secretKey: secretKey, addresses: list),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        address = "127.0.0.1:\(channel.localAddress!.port!)"
    }

    var connectionsAccepted: Int { accepted.withLockedValue { $0 } }

    func list(_ addresses: [String]) {
        self.addresses.withLockedValue { $0 = addresses }
    }

    func stop() async throws {
        try await channel.close()
    }

    private final class FakeRegisterHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let secretKey: String
        private let addresses: NIOLockedValueBox<[String]>

        init(secretKey: String, addresses: NIOLockedValueBox<[String]>) {
            self.secretKey = secretKey
            self.addresses = addresses
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .workerConnect(let secret)? = try? RegisterMessage.parse(unwrapInboundIn(data).readableBytesView),
                secret == secretKey
            else { return context.close(promise: nil) }
            let line = RegisterMessage.broadcastAddresses(addresses.withLockedValue { $0 }).encodedLine()
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: line)), promise: nil)
        }
    }
}
