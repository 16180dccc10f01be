import CGatewayABI
import Foundation
import GatewayAPI
import GatewayEventLoop
import GatewayWire
import Logging
import NIOCore
import XCTest

@testable import GatewayWorker

/// A ``PluginHost`` on the test's thread (its worker thread here) with the real host table, a
/// real event loop and a real plugin .so, whose gateways are fakes: the commands the plugin
/// makes are collected per gateway, and its queries are answered by `answer` (a PHP value, or a
/// failure such as a timeout).
final class PluginHostHarness: @unchecked Sendable {  // used on the test thread only
    typealias Answer = (_ gateway: String, _ request: GatewayFrame) -> Result<PHPValue, HostError>

    static let gatewayA = "127.0.0.1:2900"
    static let gatewayB = "127.0.0.1:2901"

    let logs = LogRecorder()
    let loop: GatewayEventLoop.EventLoop
    let transport: FakeTransport
    let host: PluginHost

    /// Starts the host with `plugin` loaded; the register lists `gateways`.
    init(plugin path: String, gateways: [String] = [gatewayA, gatewayB], answer: @escaping Answer) throws {
        loop = try GatewayEventLoop.EventLoop()
        transport = FakeTransport(gateways: gateways.map { GatewayAddress($0)! }, answer: answer)
        let recorder = logs
        host = PluginHost(
            workerIndex: 0, logger: Logger(label: "test") { _ in RecordingLogHandler(recorder: recorder) },
            loop: loop, transport: transport)
        let host = self.host
        loop.afterIteration = { host.runBacklog() }
        loop.onWake = { host.runPostedTasks() }
        _ = try host.start { api throws(PluginLoadError) in try PluginLoader.load(mappedPath: path, displayPath: path, api: api) }
    }

    func stop() throws {
        host.stop()
        loop.close()
    }

    /// A client of the gateway at 127.0.0.1:`port`.
    static func client(port: UInt16 = 2900, _ connection: UInt32) -> ClientID {
        ClientID(ipv4: 0x7F00_0001, port: port, connectionID: connection)
    }

    /// Delivers a text message from `client`, as its gateway would, and runs it.
    func send(_ text: String, from client: ClientID) {
        let frame = GatewayFrame(
            command: .onMessage, connectionID: client.connectionID, flags: .scalarBody, extData: ByteBuffer(),
            body: ByteBuffer(string: text), localIP: client.ipv4, localPort: client.port, clientIP: 0x7F00_0001,
            clientPort: 50000, gatewayPort: 8282)
        host.deliver(PluginEvent(frame: frame)!)
        host.runBacklog()
    }

    /// The text messages sent to `client` (SEND_TO_ONE) so far; runs the loop (timers, posts)
    /// until there are `count` of them or `timeout` seconds passed.
    func replies(to client: ClientID, count: Int = 1, timeout: Double = 10) -> [String] {
        func current() -> [String] {
            transport.frames.filter {
                $0.gateway == client.gateway && $0.frame.command == .sendToOne && $0.frame.connectionID == client.connectionID
            }.map { String(buffer: $0.frame.body) }
        }
        let deadline = loop.now + Int64(timeout * 1e9)
        while current().count < count && loop.now < deadline { runLoop(for: 10_000_000) }
        return current()
    }

    /// Sends `message` from `client` and returns the next `count` text messages sent to it.
    func call(from client: ClientID, _ message: String, expecting count: Int = 1, timeout: Double = 10) -> [String] {
        let before = replies(to: client, timeout: 0).count
        send(message, from: client)
        return Array(replies(to: client, count: before + count, timeout: timeout).dropFirst(before))
    }

    /// Runs the event loop for `nanoseconds`.
    func runLoop(for nanoseconds: Int64) {
        let loop = self.loop
        loop.schedule(after: nanoseconds) { loop.stop() }
        loop.run()
    }

    /// Every frame written so far, per gateway.
    var frames: [(gateway: String, frame: GatewayFrame)] {
        transport.frames.map { ($0.gateway.description, $0.frame) }
    }

    static func frames(in buffer: ByteBuffer) -> [GatewayFrame] {
        var buffer = buffer
        var parser = GatewayFrameParser()
        var frames: [GatewayFrame] = []
        while let frame = try? parser.parse(&buffer) { frames.append(frame) }
        return frames
    }
}

/// Gateways that collect what the plugin writes to them and answer its queries at once.
final class FakeTransport: WorkerTransport {
    func eventStarted(from address: GatewayAddress, connection: UInt32) {}
    func eventFinished() {}
    let gateways: [GatewayAddress]
    let answer: PluginHostHarness.Answer
    private(set) var frames: [(gateway: GatewayAddress, frame: GatewayFrame)] = []
    private(set) var flushes = 0

    init(gateways: [GatewayAddress], answer: @escaping PluginHostHarness.Answer) {
        self.gateways = gateways
        self.answer = answer
    }

    func append(to address: GatewayAddress, _ encode: (inout ByteBuffer) -> Void) -> Bool {
        guard gateways.contains(address) else { return false }
        var buffer = ByteBuffer()
        encode(&buffer)
        frames += PluginHostHarness.frames(in: buffer).map { (address, $0) }
        return true
    }

    func appendToAll(_ encode: (inout ByteBuffer) -> Void) {
        for gateway in gateways { _ = append(to: gateway, encode) }
    }

    func appendPerGateway(_ make: (GatewayAddress) -> ByteBuffer?) {
        for gateway in gateways {
            guard let frame = make(gateway) else { continue }
            _ = append(to: gateway) { $0.writeImmutableBuffer(frame) }
        }
    }

    func flush() { flushes += 1 }

    func ask(_ dispatch: GatewayDispatch) -> [GatewayReply] {
        dispatch.targets(among: gateways).compactMap { gateway in
            dispatch.frame(for: gateway).map { request in
                let frame = PluginHostHarness.frames(in: request)[0]
                let result = answer(gateway.description, frame).map { ByteBuffer(bytes: PHPSerializer.serialize($0)) }
                return GatewayReply(gateway: gateway, result: result)
            }
        }
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
