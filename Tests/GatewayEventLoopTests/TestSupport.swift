import GatewayEventLoop
import Glibc
import XCTest

/// An `IOHandler` whose reactions each test sets.
final class ClosureHandler: IOHandler {
    var onReadable: () -> Void
    var onWritable: () -> Void

    init(onReadable: @escaping () -> Void = {}, onWritable: @escaping () -> Void = {}) {
        self.onReadable = onReadable
        self.onWritable = onWritable
    }

    func readable() { onReadable() }
    func writable() { onWritable() }
}

/// A connected, non-blocking AF_UNIX stream pair.
func makeSocketPair(file: StaticString = #filePath, line: UInt = #line) throws -> (Int32, Int32) {
    var fds: [Int32] = [-1, -1]
    let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
        throw EventLoopError(syscall: "socketpair", errno: errno)
    }
    return (fds[0], fds[1])
}

/// Writes all of `text` to a socket that has room for it (a fresh pair always has).
func writeString(_ fd: Int32, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    XCTAssertEqual(written, bytes.count, "send", file: file, line: line)
}

/// Reads what is there; nil for EOF, "" for EAGAIN.
func readString(_ fd: Int32) -> String? {
    var buffer = [UInt8](repeating: 0, count: 4096)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    if count == 0 { return nil }
    if count < 0 { return "" }
    return String(decoding: buffer[..<count], as: UTF8.self)
}

extension EventLoop {
    /// Runs until `stop()`, failing the test and stopping if `seconds` pass first: a broken
    /// loop fails instead of hanging the suite.
    func run(failAfter seconds: Int64, file: StaticString = #filePath, line: UInt = #line) {
        let watchdog = schedule(after: seconds * 1_000_000_000) { [unowned self] in
            XCTFail("the loop was still running after \(seconds) s", file: file, line: line)
            self.stop()
        }
        run()
        cancel(watchdog)
    }
}

let millisecond: Int64 = 1_000_000
let second: Int64 = 1_000_000_000
