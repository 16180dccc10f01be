import Foundation
import GatewayCore
import Logging
import XCTest

/// The two log line formats: text with logfmt-quoted values, and JSON lines.
final class LogRecordFormatTests: XCTestCase {
    private func record(message: String = "gateway ready", metadata: Logger.Metadata = [:], label: String = "gatewayd.gateway")
        -> LogRecord
    {
        LogRecord(
            timestamp: "2026-11-22T10:00:00.123Z", level: .info, label: label, pid: 4242, message: message, metadata: metadata)
    }

    func testTextLineKeepsItsFormatForPlainValues() {
        let line = record(metadata: ["gw.index": "0", "gw.listen": "websocket://127.0.0.1:7272"]).textLine()
        XCTAssertEqual(
            line, "2026-11-22T10:00:00.123Z INFO    gatewayd.gateway[4242] gateway ready gw.index=0 gw.listen=websocket://127.0.0.1:7272\n")
    }

    func testLogfmtQuotesValuesThatNeedIt() {
        XCTAssertEqual(LogEscaping.logfmtValue("plain"), "plain")
        XCTAssertEqual(LogEscaping.logfmtValue("back\\slash"), "back\\slash", "a backslash alone needs no quotes")
        XCTAssertEqual(LogEscaping.logfmtValue(""), "\"\"")
        XCTAssertEqual(LogEscaping.logfmtValue("two words"), "\"two words\"")
        XCTAssertEqual(LogEscaping.logfmtValue("a=b"), "\"a=b\"")
        XCTAssertEqual(LogEscaping.logfmtValue("say \"hi\""), "\"say \\\"hi\\\"\"")
        XCTAssertEqual(LogEscaping.logfmtValue("a \\ b"), "\"a \\\\ b\"")
        XCTAssertEqual(LogEscaping.logfmtValue("line\nbreak\ttab\r"), "\"line\\nbreak\\ttab\\r\"")
        XCTAssertEqual(LogEscaping.logfmtValue("bell\u{07}del\u{7F}"), "\"bell\\u0007del\\u007f\"")
        XCTAssertEqual(LogEscaping.logfmtValue("héllo→"), "héllo→", "non-ASCII text needs no quotes")
    }

    func testTextLineQuotesMetadataAndKeepsOneLinePerRecord() {
        let line = record(
            message: "first\nsecond", metadata: ["gw.reason": "bad key = 1", "gw.empty": "", "bad key": "x"]
        ).textLine()
        XCTAssertEqual(
            line,
            "2026-11-22T10:00:00.123Z INFO    gatewayd.gateway[4242] first\\nsecond bad_key=x gw.empty=\"\" gw.reason=\"bad key = 1\"\n")
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1)
    }

    func testJSONStringEscaping() {
        XCTAssertEqual(LogEscaping.jsonString("plain"), "\"plain\"")
        XCTAssertEqual(LogEscaping.jsonString("q\"b\\s/"), "\"q\\\"b\\\\s/\"")
        XCTAssertEqual(LogEscaping.jsonString("\n\r\t\u{08}\u{0C}\u{7F}"), "\"\\n\\r\\t\\u0008\\u000c\\u007f\"")
        XCTAssertEqual(LogEscaping.jsonString("\u{00}\u{1F}"), "\"\\u0000\\u001f\"")
        XCTAssertEqual(LogEscaping.jsonString("é→😀"), "\"é→😀\"")
    }

    func testJSONLineHasTheNamedFieldsAndParsesBack() throws {
        let hostile = "quote \" backslash \\ newline \n nul \u{00} tab \t emoji 😀"
        let line = record(
            message: hostile,
            metadata: [
                "gw.index": "3", "gw.weird": .string(hostile), "gw.list": .array(["a", "b c"]),
                "gw.nested": .dictionary(["k": "v", "n": .stringConvertible(42)]),
            ]
        ).jsonLine()
        XCTAssertTrue(line.hasSuffix("}\n"))
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1, "one object per line")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["timestamp", "level", "role", "pid", "message", "metadata"])
        XCTAssertEqual(object["timestamp"] as? String, "2026-11-22T10:00:00.123Z")
        XCTAssertEqual(object["level"] as? String, "info")
        XCTAssertEqual(object["role"] as? String, "gateway")
        XCTAssertEqual(object["pid"] as? Int, 4242)
        XCTAssertEqual(object["message"] as? String, hostile)
        let metadata = try XCTUnwrap(object["metadata"] as? [String: Any])
        XCTAssertEqual(metadata["gw.index"] as? String, "3")
        XCTAssertEqual(metadata["gw.weird"] as? String, hostile)
        XCTAssertEqual(metadata["gw.list"] as? [String], ["a", "b c"])
        XCTAssertEqual(metadata["gw.nested"] as? [String: String], ["k": "v", "n": "42"])
    }

    func testJSONLineWithoutMetadataAndTheRoleOfOtherLabels() throws {
        let line = record(metadata: [:], label: "custom").jsonLine()
        XCTAssertEqual(
            line,
            "{\"timestamp\":\"2026-11-22T10:00:00.123Z\",\"level\":\"info\",\"role\":\"custom\",\"pid\":4242,\"message\":\"gateway ready\",\"metadata\":{}}\n"
        )
        XCTAssertEqual(record(label: "gatewayd.master").role, "master")
    }

    /// The handler writes what `line(_:)` formats, whole, to its descriptor.
    func testHandlerWritesJSONLinesToItsDescriptor() throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer { close(ends[0]) }
        var logger = Logger(label: "gatewayd.worker") { GatewayLogHandler(label: $0, level: .info, format: .json, descriptor: ends[1]) }
        logger[metadataKey: "gw.index"] = "1"
        logger.info("hello \"there\"", metadata: ["gw.client_id": "7f0000010b5400000001"])
        logger.debug("not written")
        close(ends[1])
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(ends[0], &chunk, chunk.count)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 1)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(object["message"] as? String, "hello \"there\"")
        XCTAssertEqual(object["role"] as? String, "worker")
        XCTAssertEqual(object["pid"] as? Int, Int(getpid()))
        XCTAssertEqual(object["metadata"] as? [String: String], ["gw.index": "1", "gw.client_id": "7f0000010b5400000001"])
    }
}
