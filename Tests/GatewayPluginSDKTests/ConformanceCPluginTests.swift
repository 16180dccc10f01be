import CGatewayABI
import Foundation
import XCTest

/// Builds plugins/conformance-c/conformance.c with `cc` (as plugins/README.md says, plus
/// -Wall -Wextra -Werror), loads it with dlopen and drives the conformance rows that need no
/// real gateway through the fake host table.
final class ConformanceCPluginTests: XCTestCase {
    static let source = "plugins/conformance-c/conformance.c"
    static let versionLine = #"#define CONFORMANCE_VERSION "1""#

    override func setUp() {
        resetFakeHost()
    }

    /// The plugin built with `version` on its CONFORMANCE_VERSION line, as the reload test does with sed.
    static func build(version: String = "1") throws -> URL {
        try PluginBuilds.plugin(source, output: "conformance-c-\(version).so",
                                rewrite: (versionLine, #"#define CONFORMANCE_VERSION "\#(version)""#))
    }

    func driver(version: String = "1") throws -> ConformanceDriver {
        try ConformanceDriver.load(try Self.build(version: version))
    }

    func testTheVersionLineIsThereOnceExactly() throws {
        let lines = try String(contentsOf: PluginBuilds.repositoryRoot.appendingPathComponent(Self.source), encoding: .utf8)
            .components(separatedBy: "\n")
        XCTAssertEqual(lines.filter { $0 == Self.versionLine }.count, 1)
    }

    func testDescriptor() throws {
        let driver = try driver()
        XCTAssertEqual(driver.name, "conformance-c")
        driver.checkDescriptor(version: "1")
    }

    func testEcho() throws { try driver().checkEcho() }
    func testIDAndVersion() throws { try driver().checkIDAndVersion() }
    func testGroups() throws { try driver().checkGroups() }
    func testSends() throws { try driver().checkSends() }
    func testUIDs() throws { try driver().checkUIDs() }
    func testQueries() throws { try driver().checkQueries() }
    func testSession() throws { try driver().checkSession() }
    func testKickSleepUnknownAndFailures() throws { try driver().checkKickSleepUnknownAndFailures() }
    func testRejectParameter() throws { try driver().checkRejectParameter() }
    func testRawEcho() throws { try driver().checkRawEcho() }
    func testAPISends() throws { try driver().checkAPISends() }
    func testAPIQueries() throws { try driver().checkAPIQueries() }
    func testAPIErrors() throws { try driver().checkAPIErrors() }

    func testAPIOnAVersion1_0Host() throws { try ConformanceDriver.checkAPIOnAVersion1_0Host(try Self.build()) }

    func testTick() throws { try driver().checkTick() }
    func testPost() throws { try driver().checkPost() }
    func testPostRetriesAFullQueue() throws { try driver().checkPostRetriesAFullQueue() }
    func testTickAndPostOnAVersion1_1Host() throws { try ConformanceDriver.checkTickAndPostOnAVersion1_1Host(try Self.build()) }
    func testAPIVersion1_2() throws { try driver().checkAPIVersion1_2() }
    func testAPIVersion1_2OnAVersion1_1Host() throws { try ConformanceDriver.checkAPIVersion1_2OnAVersion1_1Host(try Self.build()) }

    /// What the end-to-end reload test does: rewrite the version line, rebuild, see `ver:` answer it.
    func testRewrittenVersionLineAnswersVer() throws {
        let driver = try driver(version: "7")
        driver.checkDescriptor(version: "7")
        XCTAssertEqual(driver.send("ver:").last, driver.reply("ver:7:4242"))
    }

    func testTooShortHostTableIsRefused() throws {
        let library = try Self.build()
        let handle = try XCTUnwrap(dlopen(library.path, RTLD_NOW | RTLD_LOCAL))
        let entry = unsafeBitCast(try XCTUnwrap(dlsym(handle, GWD_PLUGIN_ENTRY_SYMBOL)), to: gwd_plugin_entry_fn.self)
        var descriptor: UnsafePointer<gwd_plugin>?
        var reason = [CChar](repeating: 0, count: 256)
        let status = entry(FakeHostTable.allocate { $0.struct_size = 100 }, &descriptor, &reason, reason.count)
        XCTAssertEqual(status, Int32(GWD_ERR_ABI_MISMATCH.rawValue))
        XCTAssertEqual(string(reason), "conformance-c needs the ABI 1.0 host table (216 bytes), the host's has 100 bytes")
    }

    func testMajorVersionMismatchIsRefusedWithBothVersions() throws {
        let (status, reason, refused) = try ConformanceDriver.refuse(try Self.build(), hostMajor: 2, hostMinor: 1)
        XCTAssertEqual(status, Int32(GWD_ERR_ABI_MISMATCH.rawValue))
        XCTAssertTrue(refused)
        XCTAssertEqual(reason, "plugin built against gatewayd plugin ABI 1.2, host has ABI 2.1")
    }
}
