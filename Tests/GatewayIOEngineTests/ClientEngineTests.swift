import GatewayEventLoop
import Glibc
import XCTest

@testable import GatewayIOEngine

/// The client engine over real loopback sockets, on one thread: the test's client sockets are
/// non-blocking and read between the loop's iterations, so nothing sleeps.
final class ClientEngineTests: XCTestCase {
    var loop: EventLoop!
    var engine: ClientEngine!
    var recorder: Recorder!
    var listenFD: Int32 = -1
    var port: UInt16 = 0
    var clients: [Int32] = []

    override func setUpWithError() throws {
        loop = try EventLoop()
        var configuration = ClientEngine.Configuration()
        configuration.maximumPendingBytes = 256 * 1024
        configuration.maximumBacklogBytes = 16 * 1024 * 1024
        engine = ClientEngine(loop: loop, configuration: configuration)
        recorder = Recorder(engine: engine)
        engine.delegate = recorder
        (listenFD, port) = try Self.listener()
        _ = try engine.listen(fd: listenFD)
    }

    override func tearDown() {
        for client in clients { close(client) }
        engine?.stopListening()
        engine?.delegate = nil
        loop?.close()
        if listenFD >= 0 { close(listenFD) }
    }

    // MARK: Helpers

    /// Runs the loop (flushing the engine each iteration) until `condition` holds; fails after 5 s.
    func run(until condition: @escaping () -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = loop.now + 5_000_000_000
        var met = condition()
        loop.afterIteration = { [unowned self] in
            engine.flush()
            met = condition()
            if met || loop.now >= deadline { loop.stop() }
        }
        // A timer every millisecond keeps iterations coming while the condition waits on a
        // client socket the loop does not watch.
        var tick: (() -> Void)!
        tick = { [unowned self] in if !met { loop.schedule(after: 1_000_000, tick) } }
        loop.schedule(after: 1_000_000, tick)
        if !met { loop.run() }
        loop.afterIteration = nil
        XCTAssertTrue(met, "condition not met within 5 s", file: file, line: line)
    }

    func connect(toPort target: UInt16? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        // A small receive window, so that the server's writes meet push-back soon.
        var size: Int32 = 4096
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = (target ?? port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        clients.append(fd)
        return fd
    }

    /// Connects `count` clients and waits until the engine reported each.
    func connected(_ count: Int) throws -> [(client: Int32, id: ConnectionID)] {
        let before = recorder.opened.count
        let fds = try (0..<count).map { _ in try connect() }
        run { self.recorder.opened.count == before + count }
        return zip(fds, recorder.opened[before...]).map { ($0, $1) }
    }

    func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        XCTAssertEqual(bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }, bytes.count)
    }

    /// Reads what `fd` has now (non-blocking); nil once the peer closed and everything was read.
    func drain(_ fd: Int32, into received: inout [UInt8]) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                received += buffer[..<count]
            } else {
                return count == 0  // EOF: true; EAGAIN: false
            }
        }
    }

    func stage(_ text: String) -> ClientEngine.Staged {
        Array(text.utf8).withUnsafeBytes { engine.stage($0) }
    }

    // MARK: Tests

    func testItReportsAConnectionWithItsPeerAddress() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        XCTAssertEqual(recorder.peers[pair.id]?.ipv4, 0x7F00_0001)
        XCTAssertNotEqual(recorder.peers[pair.id]?.port, 0)
        XCTAssertTrue(engine.isOpen(pair.id))
        XCTAssertEqual(engine.openCount, 1)
    }

    func testWhatTheDelegateLeavesIsOfferedAgainWithTheNextBytes() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        recorder.consumeLines = true
        write(pair.client, "one\ntw")
        run { self.recorder.lines[pair.id] == ["one"] }
        write(pair.client, "o\nthree\n")
        run { self.recorder.lines[pair.id] == ["one", "two", "three"] }
        XCTAssertEqual(recorder.offers.last, "two\nthree\n", "\"tw\" was offered again before the new bytes")
    }

    /// A message bigger than the shared buffer's front room, whose size the delegate knows from
    /// its header, is read into a buffer of its own and offered once, whole — not re-offered
    /// (and copied) at every read.
    func testALargeMessageOfKnownSizeIsOfferedOnceWhole() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        recorder.consumeFrames = true
        let size = 200 * 1024
        var bytes: [UInt8] = [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)]
        bytes += (0..<size).map { UInt8(truncatingIfNeeded: $0) }
        bytes += [0, 0, 0, 2, 7, 7]  // a small frame right behind it
        var sent = 0
        run {
            if sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { send(pair.client, $0.baseAddress, min($0.count, 16 * 1024), Int32(MSG_NOSIGNAL)) }
                if count > 0 { sent += count }
            }
            return self.recorder.frameSizes[pair.id] == [size, 2]
        }
        let large = recorder.offerSizes.filter { $0 > 64 * 1024 }
        XCTAssertEqual(large.count, 1, "offered once it was whole: \(large)")
        XCTAssertGreaterThan(recorder.offerSizes.count, 1)
    }

    /// A message of unknown size (a long line) grows a buffer of its own until it is whole.
    func testALargeMessageOfUnknownSizeArrivesWhole() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        recorder.consumeLines = true
        let line = String(repeating: "z", count: 40_000)
        let text = line + line + line + line + line + "\nend\n"
        var sent = 0
        let bytes = Array(text.utf8)
        run {
            if sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { send(pair.client, $0.baseAddress, min($0.count, 8 * 1024), Int32(MSG_NOSIGNAL)) }
                if count > 0 { sent += count }
            }
            return self.recorder.lines[pair.id]?.count == 2
        }
        XCTAssertEqual(recorder.lines[pair.id]?.first?.count, 200_000)
        XCTAssertEqual(recorder.lines[pair.id]?.last, "end")
    }

    func testStagedBytesReachEveryConnectionInTheOrderTheyWereSent() throws {
        let pairs = try connected(3)
        let shared = stage("everyone;")
        for pair in pairs { engine.send(pair.id, staged: shared) }
        Array("only the first;".utf8).withUnsafeBytes { engine.send(pairs[0].id, bytes: $0) }
        for pair in pairs { engine.send(pair.id, staged: shared) }
        var received = [[UInt8]](repeating: [], count: 3)
        run {
            for index in 0..<3 { _ = self.drain(pairs[index].client, into: &received[index]) }
            return received[1].count == 18 && received[2].count == 18 && received[0].count == 33
        }
        XCTAssertEqual(String(decoding: received[0], as: UTF8.self), "everyone;only the first;everyone;")
        XCTAssertEqual(String(decoding: received[2], as: UTF8.self), "everyone;everyone;")
    }

    func testOutputTheKernelRefusesWaitsInTheBacklogAndArrivesWholeAndInOrder() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        // 12 MiB in 3 KiB pieces, each starting with its number: more than the socket buffers hold.
        var expected: [UInt8] = []
        for index in 0..<4096 {
            let number = String(index)
            var piece = Array((String(repeating: "0", count: 8 - number.count) + number).utf8)
            piece += [UInt8](repeating: UInt8(ascii: "a") + UInt8(index % 26), count: 3 * 1024 - 8)
            expected += piece
            piece.withUnsafeBytes { engine.send(pair.id, bytes: $0) }
        }
        engine.flush()
        XCTAssertGreaterThan(engine.backlogBytes(of: pair.id), 0, "the kernel took all 12 MiB at once")
        var received: [UInt8] = []
        run {
            _ = self.drain(pair.client, into: &received)
            return received.count >= expected.count
        }
        XCTAssertEqual(received.count, expected.count)
        XCTAssertTrue(received == expected, "bytes out of order")
        XCTAssertEqual(engine.backlogBytes(of: pair.id), 0)
    }

    func testABacklogPastItsLimitClosesTheConnection() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        let piece = [UInt8](repeating: 7, count: 1024 * 1024)
        // Never read by the client: 1 MiB per iteration until past the 16 MiB backlog limit.
        run {
            piece.withUnsafeBytes { self.engine.send(pair.id, bytes: $0) }
            return self.recorder.closed[pair.id] != nil
        }
        XCTAssertEqual(recorder.closed[pair.id], .backlogOverflow)
        XCTAssertFalse(engine.isOpen(pair.id))
    }

    func testCloseAfterFlushSendsEverythingThenEndsTheConnection() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        Array("goodbye".utf8).withUnsafeBytes { engine.send(pair.id, bytes: $0) }
        engine.close(pair.id)
        Array("too late".utf8).withUnsafeBytes { engine.send(pair.id, bytes: $0) }
        var received: [UInt8] = []
        var ended = false
        run {
            ended = self.drain(pair.client, into: &received)
            return ended && self.recorder.closed[pair.id] != nil
        }
        XCTAssertEqual(String(decoding: received, as: UTF8.self), "goodbye")
        XCTAssertEqual(recorder.closed[pair.id], .closedLocally)
    }

    func testAPeerThatClosesIsReportedOnceAndItsIDGoesStale() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        close(pair.client)
        clients.removeAll { $0 == pair.client }
        run { self.recorder.closed[pair.id] != nil }
        XCTAssertEqual(recorder.closed[pair.id], .peerClosed)
        XCTAssertEqual(recorder.closeCount, 1)
        XCTAssertEqual(engine.openCount, 0)
        // A new connection may get the same descriptor; the old id does not reach it.
        let next = try XCTUnwrap(try connected(1).first)
        Array("stale".utf8).withUnsafeBytes { engine.send(pair.id, bytes: $0) }
        Array("fresh".utf8).withUnsafeBytes { engine.send(next.id, bytes: $0) }
        var received: [UInt8] = []
        run {
            _ = self.drain(next.client, into: &received)
            return received.count >= 5
        }
        XCTAssertEqual(String(decoding: received, as: UTF8.self), "fresh")
        if next.id.fd == pair.id.fd { XCTAssertNotEqual(next.id.generation, pair.id.generation) }
    }

    func testAPartialMessagePastItsLimitClosesTheConnection() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        recorder.consumeLines = true
        let chunk = String(repeating: "x", count: 16 * 1024)
        run {
            _ = chunk.withCString { send(pair.client, $0, chunk.utf8.count, Int32(MSG_NOSIGNAL)) }
            return self.recorder.closed[pair.id] != nil
        }
        XCTAssertEqual(recorder.closed[pair.id], .pendingOverflow)
    }

    func testAPausedConnectionIsNotReadUntilResumed() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        recorder.consumeLines = true
        engine.setReading(pair.id, false)
        write(pair.client, "held\n")
        // Other traffic keeps the loop turning; the paused connection's line stays unread.
        let other = try XCTUnwrap(try connected(1).first)
        write(other.client, "other\n")
        run { self.recorder.lines[other.id] == ["other"] }
        XCTAssertNil(recorder.lines[pair.id])
        engine.setReading(pair.id, true)
        run { self.recorder.lines[pair.id] == ["held"] }
    }

    /// Bytes a delegate could not take yet (behind a handshake awaiting its verdict) are offered
    /// again on request, without a new read.
    func testLeftBytesAreOfferedAgainOnRequest() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        recorder.consumeLines = true
        recorder.refuse = true
        write(pair.client, "early\n")
        run { self.recorder.offers == ["early\n"] }
        XCTAssertNil(recorder.lines[pair.id])
        recorder.refuse = false
        engine.offerPendingBytes(pair.id)
        XCTAssertEqual(recorder.lines[pair.id], ["early"])
        engine.offerPendingBytes(pair.id)
        XCTAssertEqual(recorder.offers.count, 2, "nothing left: not offered again")
    }

    /// The slow-consumer measure counts this tick's output before it is written, then the backlog.
    func testQueuedBytesCountThisTicksOutputAndTheBacklog() throws {
        let pair = try XCTUnwrap(try connected(1).first)
        let staged = stage(String(repeating: "y", count: 1000))
        engine.send(pair.id, staged: staged)
        engine.send(pair.id, staged: staged)
        XCTAssertEqual(engine.queuedBytes(of: pair.id), 2000)
        engine.flush()
        XCTAssertEqual(engine.queuedBytes(of: pair.id), 0, "written: nothing queued")
        let big = stage(String(repeating: "z", count: 4 << 20))
        engine.send(pair.id, staged: big)
        engine.flush()
        XCTAssertGreaterThan(engine.queuedBytes(of: pair.id), 0, "a 4 KiB receive window cannot take 4 MiB at once")
        XCTAssertEqual(engine.queuedBytes(of: pair.id), engine.backlogBytes(of: pair.id))
    }

    // MARK: Fixtures

    static func listener() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let status = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0, Glibc.listen(fd, 128) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard status == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
        return (fd, UInt16(bigEndian: address.sin_port))
    }
}

/// Records what the engine reports; optionally consumes newline-terminated lines.
final class Recorder: ClientEngineDelegate {
    let engine: ClientEngine
    var opened: [ConnectionID] = []
    var peers: [ConnectionID: PeerAddress] = [:]
    var closed: [ConnectionID: CloseReason] = [:]
    var closeCount = 0
    var consumeLines = false
    /// Consume nothing (a delegate not ready for the bytes yet).
    var refuse = false
    var lines: [ConnectionID: [String]] = [:]
    var offers: [String] = []
    var offerSizes: [Int] = []
    var consumeFrames = false
    var frameSizes: [ConnectionID: [Int]] = [:]

    init(engine: ClientEngine) {
        self.engine = engine
    }

    func connectionOpened(_ id: ConnectionID, listener: Int, peer: PeerAddress) {
        opened.append(id)
        peers[id] = peer
    }

    func bytesReceived(_ id: ConnectionID, _ bytes: UnsafeMutableRawBufferPointer) -> ReceiveOutcome {
        offerSizes.append(bytes.count)
        if consumeFrames { return frames(id, bytes) }
        guard consumeLines else { return ReceiveOutcome(consumed: bytes.count) }
        offers.append(String(decoding: bytes, as: UTF8.self))
        if refuse { return ReceiveOutcome(consumed: 0) }
        var consumed = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            lines[id, default: []].append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[consumed..<index]), as: UTF8.self))
            consumed = index + 1
        }
        return ReceiveOutcome(consumed: consumed)
    }

    /// Frames of a 4-byte big-endian length and that many bytes; their sizes are recorded.
    private func frames(_ id: ConnectionID, _ bytes: UnsafeMutableRawBufferPointer) -> ReceiveOutcome {
        var offset = 0
        while bytes.count - offset >= 4 {
            let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard bytes.count - offset >= 4 + length else { return ReceiveOutcome(consumed: offset, messageSize: 4 + length) }
            frameSizes[id, default: []].append(length)
            offset += 4 + length
        }
        return ReceiveOutcome(consumed: offset)
    }

    func connectionClosed(_ id: ConnectionID, reason: CloseReason) {
        closed[id] = reason
        closeCount += 1
    }
}
