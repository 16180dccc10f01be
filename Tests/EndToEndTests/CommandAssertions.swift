import XCTest

extension XCTestCase {
    /// The command line's contract for bad input: `gatewayd <arguments>` exits non-zero with
    /// exactly one `gatewayd: error:` line, and that line names `offending`.
    func assertFailsWithOneErrorLine(
        _ arguments: [String], naming offending: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let result = try GatewaydProcess.run(arguments, timeout: .seconds(60))
        XCTAssertNotEqual(result.exitCode, 0, "\(result)", file: file, line: line)
        XCTAssertEqual(result.errorLines.count, 1, "expected exactly one error line: \(result)", file: file, line: line)
        XCTAssertTrue(
            result.errorLines.first?.contains(offending) ?? false,
            "the error line does not name \(offending): \(result)", file: file, line: line)
    }
}
