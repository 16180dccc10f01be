import CGatewayABI
import XCTest

/// The README's smallest plugins keep working: each sends every message back as its kind.
final class HelloPluginTests: XCTestCase {
    override func setUp() {
        resetFakeHost()
    }

    /// Echoes a text and a binary message and checks the send flags: `text` and `binary`.
    func assertEchoes(_ library: URL, name: String, table: UnsafePointer<gwd_host_api> = FakeHostTable.allocate(),
                      flags: (text: UInt32, binary: UInt32) = (0, GWD_SEND_BINARY),
                      file: StaticString = #filePath, line: UInt = #line) throws {
        let driver = try ConformanceDriver.load(library, table: table)
        XCTAssertEqual(driver.name, name, file: file, line: line)
        XCTAssertEqual(driver.send("hi there"),
                       [HostCall(function: "send_to_current_client", data: "hi there", bytes: Array("hi there".utf8), flags: flags.text)],
                       file: file, line: line)
        XCTAssertEqual(driver.send([0, 0xFF], kind: GWD_MESSAGE_BINARY),
                       [HostCall(function: "send_to_current_client", data: lossy([0, 0xFF]), bytes: [0, 0xFF], flags: flags.binary)],
                       file: file, line: line)
    }

    /// On an ABI 1.2 host hello-c answers with GWD_SEND_AS_RECEIVED; on an older one with the
    /// kind's own flags (a 1.1 host would send GWD_SEND_AS_RECEIVED as text).
    func testHelloC() throws {
        let library = try PluginBuilds.plugin("plugins/hello-c/hello.c", output: "hello-c.so")
        try assertEchoes(library, name: "hello-c", flags: (GWD_SEND_AS_RECEIVED, GWD_SEND_AS_RECEIVED))
        let version1_1 = FakeHostTable.allocate {
            $0.struct_size = UInt32(MemoryLayout<gwd_host_api>.offset(of: \.timer_add)!)
            $0.abi_minor = 1
        }
        try assertEchoes(library, name: "hello-c", table: version1_1)
    }

    func testHelloSwift() throws {
        let library = try PluginBuilds.swiftPlugin(package: "hello-swift", product: "HelloSwift",
                                                   variable: "GATEWAYD_HELLO_SWIFT_LIBRARY")
        try assertEchoes(library, name: "hello-swift")
    }
}
