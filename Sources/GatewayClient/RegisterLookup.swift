import GatewayCore
import GatewayWire
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Asks one register for the gateway list as PHP's GatewayClient does: a `worker_connect`
/// line, the `broadcast_addresses` line back, then the connection is closed.
///
/// A register that refuses (wrong secret key) closes without a word; that, a refused
/// connection and silence past the deadline each come back as a `GatewayFailure`.
enum RegisterLookup {
    static func addresses(
        from register: HostPort, secretKey: String, deadline: NIODeadline, on eventLoop: EventLoop
    ) async -> Result<[String], GatewayFailure> {
        let address = register.description
        let answer = eventLoop.makePromise(of: [String].self)
        let timeout = eventLoop.scheduleTask(deadline: deadline) {
            answer.fail(GatewayFailure(address: address, reason: .timedOut))
        }
        let hello = ByteBuffer(bytes: RegisterMessage.workerConnect(secretKey: secretKey).encodedLine())
        let connecting = ClientBootstrap(group: eventLoop)
            .connectTimeout(max(.milliseconds(1), deadline - .now()))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LineFrameDecoder(maximumLineLength: 1 << 20)),
                        RegisterAnswerHandler(address: address, answer: answer),
                    ])
                }
            }
            .connect(host: register.host, port: register.port)
        connecting.whenComplete { result in
            switch result {
            case .success(let channel):
                channel.writeAndFlush(hello, promise: nil)
                // Whatever the outcome, this connection has served its one purpose.
                answer.futureResult.whenComplete { _ in channel.close(promise: nil) }
            case .failure(let error):
                answer.fail(GatewayFailure(address: address, reason: .unreachable(describe(error))))
            }
        }
        defer { timeout.cancel() }
        do {
            return .success(try await answer.futureResult.get())
        } catch let failure as GatewayFailure {
            return .failure(failure)
        } catch {
            return .failure(GatewayFailure(address: address, reason: .unreachable(describe(error))))
        }
    }
}

/// Reads the register's one answer line; the end of the connection before it is a refusal.
private final class RegisterAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let address: String
    private let answer: EventLoopPromise<[String]>

    init(address: String, answer: EventLoopPromise<[String]>) {
        self.address = address
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        if case .broadcastAddresses(let addresses)? = try? RegisterMessage.parse(line.readableBytesView) {
            answer.succeed(addresses)
        } else {
            let start = String(decoding: line.readableBytesView.prefix(60), as: UTF8.self)
            answer.fail(GatewayFailure(address: address, reason: .protocolError("not a register: it answered \(start.debugDescription)")))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        answer.fail(GatewayFailure(address: address, reason: .closedByPeer))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        answer.fail(GatewayFailure(address: address, reason: .protocolError("\(error)")))
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension RegisterAnswerHandler: Sendable {}

/// A connection error in a few words ("connection refused"), not NIO's full dump.
func describe(_ error: Error) -> String {
    if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
    if case ChannelError.connectTimeout? = error as? ChannelError { return "connect timed out" }
    if let connect = error as? NIOConnectionError, let first = connect.connectionErrors.first { return describe(first.error) }
    return "\(error)"
}
