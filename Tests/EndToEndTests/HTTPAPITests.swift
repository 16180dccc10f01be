import Foundation
import XCTest

/// The HTTP API role: every endpoint once against a cluster of 2 gateways (the checks are
/// `PushSuite`'s), plus the token, the size limit, routing errors, health and status.
final class HTTPAPITests: PushSuite {
    override class var pluginKind: ConformancePlugin? { .c }

    override func makeSurface() throws -> PushSurface {
        HTTPPushSurface(port: try httpAPIPort(), token: Self.token)
    }

    func testSendsReachTheirClientsOnBothGateways() throws { try checkSendsReachTheirClientsOnBothGateways() }
    func testUIDFunctions() throws { try checkUIDFunctions() }
    func testGroupFunctions() throws { try checkGroupFunctions() }
    func testSessionFunctions() throws { try checkSessionFunctions() }
    func testClientFunctions() throws { try checkClientFunctions() }

    func testEveryEndpointRefusesAMissingOrWrongToken() throws {
        let port = try httpAPIPort()
        let functions = [
            "send-to-all", "send-to-client", "send-to-uid", "send-to-group", "close-client", "destroy-client", "bind-uid", "unbind-uid",
            "join-group", "leave-group", "ungroup", "set-session", "update-session", "get-session", "is-online", "is-uid-online",
            "is-uids-online", "get-client-id-by-uid", "get-uid-by-client-id", "get-client-id-count-by-group", "get-all-client-id-count",
            "get-client-id-list-by-group", "get-all-client-id-list", "get-client-sessions-by-group", "get-all-client-sessions",
            "get-all-group-id-list", "get-uid-list-by-group", "get-uid-count-by-group", "get-all-uid-list", "get-all-uid-count",
            "get-all-group-uid-list", "get-all-group-uid-count", "get-all-group-client-id-list", "get-all-group-client-id-count",
            "batch-get-client-id-by-uid", "batch-get-client-id-count-by-group",
        ]
        for function in functions {
            for token in [nil, "wrong-token"] {
                let response = try HTTPTestClient.post(port: port, function, ["message": "x"], token: token)
                XCTAssertEqual(response.statusCode, 401, "\(function) with \(token ?? "no token"): \(response)")
                XCTAssertEqual(response.header("WWW-Authenticate"), "Bearer")
            }
        }
    }

    func testABodyOverOneMebibyteIs413() throws {
        let port = try httpAPIPort()
        let message = String(repeating: "x", count: 1 << 20)
        let body = Array(try JSONSerialization.data(withJSONObject: ["message": message]))
        let response = try HTTPTestClient.request(port: port, path: "/v1/send-to-all", token: Self.token, body: body)
        XCTAssertEqual(response.statusCode, 413, "\(response)")
        XCTAssertNotNil((response.json as? [String: Any])?["error"] as? String)
    }

    func testRoutingErrorsAndBadRequests() throws {
        let port = try httpAPIPort()
        let unknown = try HTTPTestClient.request(port: port, path: "/v1/no-such-function", token: Self.token, body: Array("{}".utf8))
        XCTAssertEqual(unknown.statusCode, 404)
        let get = try HTTPTestClient.request(port: port, method: "GET", path: "/v1/get-all-client-id-count", token: Self.token)
        XCTAssertEqual(get.statusCode, 405)
        XCTAssertEqual(get.header("Allow"), "POST")
        let badID = try HTTPTestClient.post(port: port, "is-online", ["client_id": "zz"], token: Self.token)
        XCTAssertEqual(badID.statusCode, 400)
        XCTAssertEqual((badID.json as? [String: Any])?["error"] as? String, "invalid client id 'zz' (expected 20 hex characters)")
        let notJSON = try HTTPTestClient.request(port: port, path: "/v1/ungroup", token: Self.token, body: Array("group=x".utf8))
        XCTAssertEqual(notJSON.statusCode, 400)
    }

    func testHealthAndStatusShowTheRole() throws {
        let port = try httpAPIPort()
        let health = try HTTPTestClient.request(port: port, method: "GET", path: "/v1/health")
        XCTAssertEqual(health.statusCode, 200)
        XCTAssertEqual(canonicalJSON(health.json ?? "none"), canonicalJSON(["status": "ok", "gateways": 2]))

        let process = try XCTUnwrap(cluster.status().processes(role: "http-api").first)
        XCTAssertGreaterThan(process.pid, 0)
        XCTAssertTrue(cluster.readyLine.contains(" http-api=127.0.0.1:\(port) "), cluster.readyLine)
    }
}
