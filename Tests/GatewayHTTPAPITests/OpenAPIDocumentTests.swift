import Foundation
import GatewayClient
import XCTest
import Yams

/// docs/openapi.yaml describes exactly what the server serves: one `POST /v1/<name>` per
/// `GatewayFunction` with its parameters, plus `GET /v1/health` and `GET /metrics`.
final class OpenAPIDocumentTests: XCTestCase {
    private static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.yaml").path

    private func document() throws -> [String: Any] {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        return try XCTUnwrap(try Yams.load(yaml: text) as? [String: Any])
    }

    func testEveryFunctionIsAnEndpointWithItsParameters() throws {
        let document = try document()
        XCTAssertEqual(document["openapi"] as? String, "3.1.0")
        let paths = try XCTUnwrap(document["paths"] as? [String: Any])
        XCTAssertEqual(Set(paths.keys), Set(GatewayFunction.allCases.map { "/v1/\($0.rawValue)" } + ["/v1/health", "/metrics"]))
        XCTAssertNotNil((paths["/v1/health"] as? [String: Any])?["get"])
        XCTAssertNotNil((paths["/metrics"] as? [String: Any])?["get"])

        for function in GatewayFunction.allCases {
            let operation = try XCTUnwrap((paths["/v1/\(function.rawValue)"] as? [String: Any])?["post"] as? [String: Any], "\(function)")
            XCTAssertEqual(operation["operationId"] as? String, function.phpName)
            let body = try XCTUnwrap(operation["requestBody"] as? [String: Any])
            let schema = try XCTUnwrap(
                ((body["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any])
            let properties = (schema["properties"] as? [String: Any]) ?? [:]
            XCTAssertEqual(Set(properties.keys), Set(function.parameters.map(\.name)), "\(function)")
            XCTAssertEqual(schema["additionalProperties"] as? Bool, false, "\(function): unknown members are refused")

            // A required message may be message_base64 instead: the schema says so with oneOf.
            var required = Set(schema["required"] as? [String] ?? [])
            for alternative in schema["oneOf"] as? [[String: Any]] ?? [] {
                if let names = alternative["required"] as? [String], names == ["message"] { required.insert("message") }
            }
            XCTAssertEqual(required, Set(function.parameters.filter(\.isRequired).map(\.name)), "\(function)")

            let responses = try XCTUnwrap(operation["responses"] as? [String: Any])
            XCTAssertEqual(Set(responses.keys), ["200", "400", "401", "413", "502", "504"], "\(function)")
            let ok = try XCTUnwrap(responses["200"] as? [String: Any])
            if function.isQuery {
                XCTAssertNotNil(ok["content"], "\(function): a query documents its result")
            } else {
                XCTAssertEqual(ok["$ref"] as? String, "#/components/responses/Sent", "\(function)")
            }
        }
    }
}
