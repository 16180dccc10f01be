import CGatewayABI
import Foundation
import GatewayAPI
import GatewayWire
import Logging
import NIOCore
import NIOPosix
import XCTest

@testable import GatewayWorker

/// A ``PluginHost`` on its real plugin thread, with the real host table and a real plugin .so,
/// whose gateways are fakes: the commands the plugin makes are collected per gateway, and its
/// queries are answered by `answer` (a PHP value, or a failure such as a timeout).
final class PluginHostHarness: @unchecked Sendable {
    typealias Answer = @Sendable (_ gateway: String, _ request: GatewayFrame) -> Result<PHPValue, HostError>

    static let gatewayA = "127.0.0.1:2900"
    static let gatewayB = "127.0.0.1:2901"

    let logs = LogRecorder()
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var host: PluginHost!
    private let condition = NSCondition()
    private var received: [(gateway: String, frame: GatewayFrame)] = []  // guarded by `condition`

    /// Starts the host with `plugin` loaded; the register lists `gateways`.
    init(plugin path: String, gateways: [String] = [gatewayA, gatewayB], answer: @escaping Answer) throws {
        let loop = group.next()
        let recorder = logs
        host = PluginHost(
            workerIndex: 0, logger: Logger(label: "test") { _ in RecordingLogHandler(recorder: recorder) },
            transport: .init(
                eventLoop: loop,
                write: { [weak self] segments in self?.collect(segments, gateways: gateways) },
                ask: { dispatch in
                    loop.makeSucceededFuture(
                        dispatch.targets(among: gateways).compactMap { gateway in
                            dispatch.frame(for: gateway).map { request in
                                let frame = Self.frames(in: request)[0]
                                let result = answer(gateway, frame).map { ByteBuffer(bytes: PHPSerializer.serialize($0)) }
                                return GatewayReply(gateway: GatewayAddress(gateway)!, result: result)
                            }
                        })
                },
                drainMarkHandled: { _ in }))
        let started = loop.makePromise(of: Void.self)
        host.start(
            load: { api throws(PluginLoadError) in try PluginLoader.load(mappedPath: path, displayPath: path, api: api) },
            started: { result in
                switch result {
                case .success: started.succeed(())
                case .failure(let error): started.fail(error)
                }
            })
        try started.futureResult.wait()
    }

    func stop() throws {
        try host.stop().wait()
        try group.syncShutdownGracefully()
    }

    /// A client of the gateway at 127.0.0.1:`port`.
    static func client(port: UInt16 = 2900, _ connection: UInt32) -> ClientID {
        ClientID(ipv4: 0x7F00_0001, port: port, connectionID: connection)
    }

    /// Delivers a text message from `client`, as its gateway would.
    func send(_ text: String, from client: ClientID) {
        let frame = GatewayFrame(
            command: .onMessage, connectionID: client.connectionID, flags: .scalarBody, extData: ByteBuffer(),
            body: ByteBuffer(string: text), localIP: client.ipv4, localPort: client.port, clientIP: 0x7F00_0001,
            clientPort: 50000, gatewayPort: 8282)
        host.enqueue([PluginEvent(frame: frame)!])
    }

    /// Waits until `count` text messages were sent to `client` (SEND_TO_ONE) and returns them.
    func replies(to client: ClientID, count: Int = 1, timeout: TimeInterval = 10) -> [String] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let replies = received.filter {
                $0.gateway == client.gatewayAddress && $0.frame.command == .sendToOne
                    && $0.frame.connectionID == client.connectionID
            }.map { String(buffer: $0.frame.body) }
            if replies.count >= count || !condition.wait(until: deadline) { return replies }
        }
    }

    /// Every frame written so far, per gateway.
    var frames: [(gateway: String, frame: GatewayFrame)] {
        condition.lock()
        defer { condition.unlock() }
        return received
    }

    private func collect(_ segments: [OutgoingBatch.Segment], gateways: [String]) {
        var frames: [(String, GatewayFrame)] = []
        for segment in segments {
            switch segment {
            case .gateway(let gateway, let buffer): frames += Self.frames(in: buffer).map { (gateway.description, $0) }
            case .all(let buffer): for gateway in gateways { frames += Self.frames(in: buffer).map { (gateway, $0) } }
            case .perGateway(let make):
                for gateway in gateways {
                    frames += make(GatewayAddress(gateway)!).map { Self.frames(in: $0).map { (gateway, $0) } } ?? []
                }
            }
        }
        condition.lock()
        received += frames
        condition.broadcast()
        condition.unlock()
    }

    static func frames(in buffer: ByteBuffer) -> [GatewayFrame] {
        var buffer = buffer
        var parser = GatewayFrameParser()
        var frames: [GatewayFrame] = []
        while let frame = try? parser.parse(&buffer) { frames.append(frame) }
        return frames
    }
}

/// Log lines a test can inspect.
final class LogRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [(level: Logger.Level, message: String)] = []

    func append(_ level: Logger.Level, _ message: String) {
        lock.withLock { lines.append((level, message)) }
    }

    var warnings: [String] { lock.withLock { lines.filter { $0.level == .warning }.map(\.message) } }
}

struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        recorder.append(event.level, event.message.description)
    }
}
