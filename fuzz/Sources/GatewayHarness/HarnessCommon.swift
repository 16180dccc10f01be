#if canImport(Glibc)
import Glibc
#endif
import GatewayCompression
import GatewayCore
import GatewayWire
import Logging
import NIOCore
import NIOPosix

@testable import GatewayRuntime
@testable import GatewayServer

/// What both harnesses' gateways are set up with: one inner port, short verdict and handshake
/// deadlines, no listeners bound (clients are handed in) and no register reached.
func harnessConfiguration(maxMessageBytes: Int, secretKey: String, innerHeartbeat: Bool, compression: Bool = false) -> GatewayServerConfiguration {
    var configuration = GatewayServerConfiguration(
        lanIP: IPv4Address("10.1.2.3")!, innerPort: 2900, secretKey: secretKey, maxMessageBytes: maxMessageBytes,
        verdictTimeout: .seconds(1), handshakeDeadline: .seconds(10), expectedWorkers: 0,
        register: HostPort(host: "127.0.0.1", port: 1238), listeners: [])
    if innerHeartbeat { configuration.innerHeartbeat = InnerHeartbeat(interval: .seconds(5), timeout: .seconds(15)) }
    // Every message compressed (no minimum), so that the deflate side runs too.
    if compression { configuration.compression = PermessageDeflateSettings(level: 1, minimumMessageBytes: 0) }
    return configuration
}

let harnessLogger = Logger(label: "gatewayd.fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

/// The harness worker's WORKER_CONNECT: a gatewayd worker announces its capability (it gives
/// handshake verdicts), a PHP worker does not.
func workerConnectFrame(secretKey: String, gatewaydWorker: Bool) -> GatewayFrame {
    let capabilities = gatewaydWorker ? [JSONMember(GatewaydCapability.key, .int(GatewaydCapability.version))] : []
    let hello = WorkerConnectBody(workerKey: "BusinessWorker:0", secretKey: secretKey, extra: capabilities)
    return GatewayFrame(command: .workerConnect, body: ByteBuffer(bytes: hello.encoded()))
}

/// The frames a gateway sends its worker, parsed as they arrive; traps on a malformed one. The
/// link's own frames are checked and left out: GATEWAYD_HELLO (234, the greeting to a gatewayd
/// worker) must come first, and the inner heartbeat's marked CMD_PING is skipped. They are
/// about the link, not about a client.
struct WorkerFrameReader {
    private var parser = GatewayFrameParser(maximumFrameLength: Int(UInt32.max))
    private var sawFrame = false

    /// The whole frames at the front of `bytes` (consumed); a partial one stays.
    mutating func frames(from bytes: inout ByteBuffer) -> [GatewayFrame] {
        var frames: [GatewayFrame] = []
        do {
            while let frame = try parser.parse(&bytes) {
                if frame.command == .gatewaydHello {
                    precondition(!sawFrame, "GATEWAYD_HELLO after other frames")
                } else if !GatewaydHeartbeat.isMarkedPing(frame) {
                    frames.append(frame)
                }
                sawFrame = true
            }
        } catch {
            fatalError("the gateway sent its worker a malformed frame: \(error)")
        }
        return frames
    }
}

/// The gateways' `ChildReporter` needs a control link, which attaches only to a connected
/// socket: one socketpair for the whole process, shared by both harnesses. The gateway reports
/// to it only after registering with a register, which never happens here.
let sharedReporter: ChildReporter = {
    var descriptors: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &descriptors) == 0 else {
        fatalError("socketpair failed")
    }
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let link = try! ControlLink.attach(
        descriptor: descriptors[0], on: group.next(), onMessage: { _, _ in }, onClose: {}
    ).wait()
    return ChildReporter(link: link)
}()
