import CGatewayABI
import XCTest

/// The README's smallest plugins keep working: each sends every message back as its kind.
final class HelloPluginTests: XCTestCase {
    override func setUp() {
        resetFakeHost()
    }

    func assertEchoes(_ library: URL, name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let driver = try ConformanceDriver.load(library)
        XCTAssertEqual(driver.name, name, file: file, line: line)
        XCTAssertEqual(driver.send("hi there"), [driver.reply("hi there")], file: file, line: line)
        XCTAssertEqual(driver.send([0, 0xFF], kind: GWD_MESSAGE_BINARY),
                       [HostCall(function: "send_to_current_client", data: lossy([0, 0xFF]), bytes: [0, 0xFF], flags: GWD_SEND_BINARY)],
                       file: file, line: line)
    }

    func testHelloC() throws {
        try assertEchoes(try PluginBuilds.plugin("plugins/hello-c/hello.c", output: "hello-c.so"), name: "hello-c")
    }

    func testHelloSwift() throws {
        let library = try PluginBuilds.swiftPlugin(package: "hello-swift", product: "HelloSwift",
                                                   variable: "GATEWAYD_HELLO_SWIFT_LIBRARY")
        try assertEchoes(library, name: "hello-swift")
    }
}
