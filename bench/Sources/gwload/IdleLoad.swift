import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket

/// An idle connection: answers pings (so heartbeats do not close it) and nothing else.
final class IdleConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let maskKey = randomMaskKey()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if frame.opcode == .ping {
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: maskKey, data: frame.data)), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// `gwload idle`: opens N connections, says when all are established (stdout line and an
/// optional ready file), keeps them open for `hold` seconds, then reports how many survived.
struct IdleLoad {
    var target: WebSocketTarget
    var connections: Int
    var hold: Double
    var threads: Int
    var connectConcurrency: Int
    var readyFile: String?
    var label: String?

    func run() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        let connector = WebSocketConnector(group: group, target: target, maxFrameSize: 1 << 16)
        let cpuBefore = ownCPUSeconds()
        let openedAt = monotonicNanoseconds()
        let (channels, errors) = connector.connect(count: connections, concurrency: connectConcurrency) { _, _ in
            IdleConnectionHandler()
        }
        let connectSeconds = Double(monotonicNanoseconds() - openedAt) / 1e9
        let connectCPU = ownCPUSeconds() - cpuBefore
        print(String(format: "idle: %d of %d connections established in %.2f s (%d failed)", channels.count, connections,
                     connectSeconds, errors.count))
        if !errors.isEmpty { log("first connect error: \(errors[0])") }
        fflush(nil)
        if let readyFile {
            _ = FileManager.default.createFile(atPath: readyFile, contents: Data("\(channels.count)\n".utf8))
        }
        Thread.sleep(forTimeInterval: hold)
        let open = channels.filter { $0.isActive }.count
        closeAll(channels)
        var json: [(String, JSONNumber)] = [
            ("mode", .string("idle")), ("connections", .int(connections)), ("established", .int(channels.count)),
            ("connect_failures", .int(errors.count)), ("still_open", .int(open)), ("connect_s", .double(connectSeconds)),
            ("hold_s", .double(hold)), ("gen_cpu_s", .double(connectCPU)),
        ]
        if let label { json.insert(("label", .string(label)), at: 0) }
        report(lines: [String(format: "idle: %d still open after %.1f s", open, hold)], json: json)
    }
}
