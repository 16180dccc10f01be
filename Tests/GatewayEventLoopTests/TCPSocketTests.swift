import GatewayEventLoop
import Glibc
import XCTest

final class TCPSocketTests: XCTestCase {
    private static let loopback: UInt32 = 0x7F00_0001

    /// A listening socket on 127.0.0.1, port 0; returns the fd and the port the kernel chose.
    private func listen() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw EventLoopError(syscall: "socket", errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = Self.loopback.bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && Glibc.listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            let error = EventLoopError(syscall: "bind/listen", errno: errno)
            close(fd)
            throw error
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private func read(_ socket: TCPSocket) -> TCPSocket.IOResult {
        var buffer = [UInt8](repeating: 0, count: 64)
        return buffer.withUnsafeMutableBytes { socket.read(into: $0) }
    }

    private func readText(_ socket: TCPSocket) -> String? {
        var buffer = [UInt8](repeating: 0, count: 64)
        let result = buffer.withUnsafeMutableBytes { socket.read(into: $0) }
        guard case .bytes(let count) = result else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    private func write(_ socket: TCPSocket, _ text: String) -> TCPSocket.IOResult {
        Array(text.utf8).withUnsafeBytes { socket.write($0) }
    }

    func testConnectExchangeBytesAndSeeThePeerClose() throws {
        let loop = try EventLoop()
        let listener = try listen()
        defer { close(listener.fd) }
        let (client, _) = try TCPSocket.connect(ipv4: Self.loopback, port: listener.port)
        client.setNoDelay()
        client.setUserTimeout(milliseconds: 5_000)

        var log: [String] = []
        var server: TCPSocket?
        var serverRegistration: Registration?
        var clientRegistration: Registration?

        let serverHandler = ClosureHandler(onReadable: { [unowned loop] in
            guard let server, let text = self.readText(server) else { return }
            log.append("server got \(text)")
            XCTAssertEqual(self.write(server, "pong"), .bytes(4))
            _ = loop
        })
        let listenerHandler = ClosureHandler(onReadable: { [unowned loop] in
            // accept4 is a GNU extension Glibc's module leaves out: accept, then fcntl.
            let fd = accept(listener.fd, nil, nil)
            guard fd >= 0 else { return XCTAssertEqual(errno, EAGAIN) }
            XCTAssertEqual(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0)
            server = TCPSocket(fd: fd)
            serverRegistration = try? loop.register(fd: fd, interest: .readable, handler: serverHandler)
            XCTAssertNotNil(serverRegistration)
        })
        let clientHandler = ClosureHandler(
            onReadable: { [unowned loop] in
                switch self.read(client) {
                case .bytes(let count):
                    log.append("client got \(count) bytes")
                    // The server hangs up now: the client's next read sees the end.
                    loop.unregister(serverRegistration!)
                    server?.close()
                case .closed:
                    log.append("client saw close")
                    loop.unregister(clientRegistration!)
                    loop.stop()
                case .wouldBlock:
                    break
                case .failed(let error):
                    XCTFail("read failed: \(error)")
                    loop.stop()
                }
            },
            onWritable: { [unowned loop] in
                // Whether connect finished at once or not, writable is when to check it.
                XCTAssertEqual(client.connectResult(), 0)
                log.append("connected")
                loop.setInterest(clientRegistration!, .readable)
                XCTAssertEqual(self.write(client, "ping"), .bytes(4))
            })

        let listenerRegistration = try loop.register(fd: listener.fd, interest: .readable, handler: listenerHandler)
        clientRegistration = try loop.register(fd: client.fd, interest: .writable, handler: clientHandler)
        loop.run(failAfter: 10)
        loop.unregister(listenerRegistration)
        client.close()

        XCTAssertEqual(log, ["connected", "server got ping", "client got 4 bytes", "client saw close"])
        XCTAssertEqual(intOption(client.fd, IPPROTO_TCP, TCP_NODELAY), nil, "closed by now")
    }

    func testOptionsAreSet() throws {
        let listener = try listen()
        defer { close(listener.fd) }
        let (client, _) = try TCPSocket.connect(ipv4: Self.loopback, port: listener.port)
        defer { client.close() }
        XCTAssertEqual(intOption(client.fd, IPPROTO_TCP, TCP_NODELAY), 0)
        client.setNoDelay()
        XCTAssertEqual(intOption(client.fd, IPPROTO_TCP, TCP_NODELAY), 1)
        client.setUserTimeout(milliseconds: 12_345)
        XCTAssertEqual(intOption(client.fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 12_345)
        // Non-blocking: nothing to read yet.
        XCTAssertEqual(read(client), .wouldBlock)
    }

    func testAConnectionRefusedIsReported() throws {
        // A port that was just listening and is closed again: nobody is there.
        let listener = try listen()
        close(listener.fd)
        let loop = try EventLoop()
        let result: Int32
        do {
            let (client, inProgress) = try TCPSocket.connect(ipv4: Self.loopback, port: listener.port)
            defer { client.close() }
            XCTAssertTrue(inProgress)
            var outcome: Int32 = -1
            var registration: Registration?
            let handler = ClosureHandler(onWritable: { [unowned loop] in
                outcome = client.connectResult()
                loop.unregister(registration!)
                loop.stop()
            })
            registration = try loop.register(fd: client.fd, interest: .writable, handler: handler)
            loop.run(failAfter: 10)
            result = outcome
        } catch let error as EventLoopError {
            XCTAssertEqual(error.syscall, "connect")
            result = error.errno
        }
        XCTAssertEqual(result, ECONNREFUSED)
    }

    func testWritingToAClosedPeerFailsInsteadOfRaisingSIGPIPE() throws {
        let (a, b) = try makeSocketPair()
        close(b)
        let socket = TCPSocket(fd: a)
        defer { socket.close() }
        XCTAssertEqual(write(socket, "x"), .failed(EPIPE))
        XCTAssertEqual(read(socket), .closed)
    }
}

private func intOption(_ fd: Int32, _ level: Int, _ name: Int32) -> Int32? {
    var value: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    return getsockopt(fd, Int32(level), name, &value, &length) == 0 ? value : nil
}
