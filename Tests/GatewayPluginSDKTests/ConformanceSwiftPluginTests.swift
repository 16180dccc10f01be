import CGatewayABI
import Foundation
import XCTest

/// Drives the Swift conformance plugin with the same rows as the C one. Building a SwiftPM
/// package from inside `swift test` is slow and needs its dependencies resolved, so this uses a
/// library that is already built — `swift build -c release --package-path plugins/conformance-swift`,
/// or the path in GATEWAYD_CONFORMANCE_SWIFT_LIBRARY — and skips when there is none.
final class ConformanceSwiftPluginTests: XCTestCase {
    override func setUp() {
        resetFakeHost()
    }

    static func library() throws -> URL {
        try PluginBuilds.swiftPlugin(package: "conformance-swift", product: "ConformanceSwift",
                                     variable: "GATEWAYD_CONFORMANCE_SWIFT_LIBRARY")
    }

    func driver() throws -> ConformanceDriver {
        try ConformanceDriver.load(try Self.library())
    }

    func testTheVersionLineIsThereOnceExactly() throws {
        let source = PluginBuilds.repositoryRoot
            .appendingPathComponent("plugins/conformance-swift/Sources/ConformanceSwift/Conformance.swift")
        let lines = try String(contentsOf: source, encoding: .utf8).components(separatedBy: "\n")
        XCTAssertEqual(lines.filter { $0 == #"let conformanceVersion = "1""# }.count, 1)
    }

    func testDescriptor() throws {
        let driver = try driver()
        XCTAssertEqual(driver.name, "conformance-swift")
        driver.checkDescriptor(version: String(cString: driver.plugin.pointee.version))
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

    func testAPIOnAVersion1_0Host() throws { try ConformanceDriver.checkAPIOnAVersion1_0Host(try Self.library()) }

    func testTick() throws { try driver().checkTick() }
    func testPost() throws { try driver().checkPost() }
    func testPostRetriesAFullQueue() throws { try driver().checkPostRetriesAFullQueue() }
    func testTickAndPostOnAVersion1_1Host() throws { try ConformanceDriver.checkTickAndPostOnAVersion1_1Host(try Self.library()) }

    func testEventAdd() throws { try driver().checkEventAdd() }
    func testEventShout() throws { try driver().checkEventShout() }
    func testEventTypes() throws { try driver().checkEventTypes() }
    func testEventBadArguments() throws { try driver().checkEventBadArguments() }

    /// The SDK decodes the events itself: the plugin declares nothing with the host.
    func testEventsAreNotDeclaredWithTheHost() throws {
        let driver = try driver()
        driver.whileStarted {
            XCTAssertEqual(fakeHost.calls.map(\.function), ["get_poster"])
            driver.send(#"["add", 1, 2]"#)
        }
        XCTAssertFalse(fakeHost.calls.contains { $0.function.hasPrefix("event_") })
    }

    /// The `api:` calls of the 1.2 functions are conformance-c's only.
    func testAPIVersion1_2IsNotThere() throws {
        XCTAssertEqual(try driver().api("timer_add 10 1"), "api:timer_add:error:GWD_ERR_UNSUPPORTED")
    }

    func testMajorVersionMismatchIsRefusedWithBothVersions() throws {
        let (status, reason, refused) = try ConformanceDriver.refuse(try Self.library(), hostMajor: 3, hostMinor: 0)
        XCTAssertEqual(status, Int32(GWD_ERR_ABI_MISMATCH.rawValue))
        XCTAssertTrue(refused)
        XCTAssertTrue(reason.hasPrefix("conformance-swift "), reason)
        XCTAssertTrue(reason.hasSuffix(": built against gatewayd plugin ABI 1.2, but the host has ABI 3.0"), reason)
    }
}
