import GatewayClient
import NIOCore
import XCTest

@testable import GatewayHTTPAPI

/// The HTTP layer on a test channel with a fake backend: routing, the token, the size limit,
/// JSON in and out, and how gateway trouble maps to status codes.
final class HTTPAPIHandlerTests: XCTestCase {
    private typealias Connection = HTTPTestConnection

    func testASendPassesItsJSONArgumentsAndAnswersOK() async throws {
        let backend = FakeBackend()
        let connection = try await Connection(backend: backend)
        let response = try await connection.exchange(Connection.request("/v1/send-to-uid", body: #"{"uid":"alice","message":"hi"}"#))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.json, ["ok": true])
        XCTAssertEqual(response.headers["content-type"], "application/json; charset=utf-8")
        XCTAssertEqual(backend.calls.map(\.0), [.sendToUID])
        XCTAssertEqual(backend.calls.first?.1, ["uid": "alice", "message": "hi"])
    }

    func testAQueryAnswersItsResultJSON() async throws {
        let backend = FakeBackend { _, _ in
            .success(GatewayCallOutcome(json: ["result": ["7f00000100010000000a"], "unanswered": ["127.0.0.1:2901"]]))
        }
        let connection = try await Connection(backend: backend)
        let response = try await connection.exchange(Connection.request("/v1/get-client-id-by-uid", body: #"{"uid":"alice"}"#))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.json, ["result": ["7f00000100010000000a"], "unanswered": ["127.0.0.1:2901"]])
    }

    func testAnEmptyBodyMeansNoArguments() async throws {
        let backend = FakeBackend()
        let connection = try await Connection(backend: backend)
        let response = try await connection.exchange(Connection.request("/v1/get-all-client-id-count"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(backend.calls.first?.1, .object([]))
    }

    func testRequestsWithoutTheRightTokenAre401AndTheConnectionStaysUsable() async throws {
        let backend = FakeBackend()
        let connection = try await Connection(backend: backend)
        for token in [nil, "wrong", "secret-token-and-more", "secret-toke"] {
            let response = try await connection.exchange(Connection.request("/v1/get-all-uid-count", body: "{}", token: token))
            XCTAssertEqual(response.status, 401, "token \(token ?? "none")")
            XCTAssertEqual(response.headers["www-authenticate"], "Bearer")
            XCTAssertNotNil(response.json?["error"]?.stringValue)
        }
        let basic = try await connection.exchange(
            Connection.request("/v1/get-all-uid-count", token: nil, headers: ["Authorization: Basic c2VjcmV0LXRva2Vu"]))
        XCTAssertEqual(basic.status, 401)
        XCTAssertTrue(backend.calls.isEmpty, "nothing refused reaches the cluster")
        let accepted = try await connection.exchange(Connection.request("/v1/get-all-uid-count"))
        XCTAssertEqual(accepted.status, 200)
    }

    func testUnknownPathsAre404AndWrongMethods405() async throws {
        let connection = try await Connection(backend: FakeBackend())
        for path in ["/", "/v1/", "/v1/sendToUid", "/v2/send-to-uid", "/v1/send-to-uid/x"] {
            let response = try await connection.exchange(Connection.request(path, body: "{}"))
            XCTAssertEqual(response.status, 404, path)
        }
        let get = try await connection.exchange(Connection.request("/v1/send-to-uid", method: "GET"))
        XCTAssertEqual(get.status, 405)
        XCTAssertEqual(get.headers["allow"], "POST")
        let postHealth = try await connection.exchange(Connection.request("/v1/health", body: "{}"))
        XCTAssertEqual(postHealth.status, 405)
        XCTAssertEqual(postHealth.headers["allow"], "GET")
    }

    func testABodyOverTheLimitIs413AtOnceAndTheConnectionCloses() async throws {
        let backend = FakeBackend()
        let connection = try await Connection(backend: backend, maxBodyBytes: 1024)
        // Announced too large: refused from the head alone, before any body byte.
        var head = Connection.request("/v1/send-to-all", token: "secret-token", headers: ["Content-Length: 5000"])
        try await connection.send(head)
        let refused = try await connection.response()
        XCTAssertEqual(refused.status, 413)
        XCTAssertEqual(refused.headers["connection"], "close")
        // The rest of the upload is read and dropped; its end closes the connection.
        try await connection.send(String(repeating: "x", count: 5000))
        try await connection.channel.closeFuture.get()
        XCTAssertTrue(backend.calls.isEmpty)

        // Chunked, so only the bytes tell.
        let chunked = try await Connection(backend: backend, maxBodyBytes: 1024)
        head = Connection.request("/v1/send-to-all", headers: ["Transfer-Encoding: chunked"])
        try await chunked.send(head + "400\r\n" + String(repeating: "y", count: 1024) + "\r\n")
        try await chunked.send("1\r\nz\r\n")
        let tooLong = try await chunked.response()
        XCTAssertEqual(tooLong.status, 413)
        XCTAssertTrue(backend.calls.isEmpty)
    }

    func testABodyAtTheLimitIsServed() async throws {
        let connection = try await Connection(backend: FakeBackend(), maxBodyBytes: 1024)
        let message = String(repeating: "m", count: 1024 - #"{"message":""}"#.utf8.count)
        let response = try await connection.exchange(Connection.request("/v1/send-to-all", body: #"{"message":"\#(message)"}"#))
        XCTAssertEqual(response.status, 200)
    }

    func testABodyThatIsNotJSONIs400() async throws {
        let backend = FakeBackend()
        let connection = try await Connection(backend: backend)
        let response = try await connection.exchange(Connection.request("/v1/send-to-uid", body: #"{"uid": alice}"#))
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.json?["error"]?.stringValue?.hasPrefix("the body is not JSON") ?? false, response.body)
        XCTAssertTrue(backend.calls.isEmpty)
    }

    func testBadArgumentsAre400() async throws {
        let backend = FakeBackend { _, _ in .failure(.invalidArgument("'uid' must be a string")) }
        let connection = try await Connection(backend: backend)
        let response = try await connection.exchange(Connection.request("/v1/send-to-uid", body: #"{"uid":1,"message":"x"}"#))
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.json, ["error": "'uid' must be a string"])
        let badID = try await Connection(backend: FakeBackend { _, _ in .failure(.invalidClientID("nope")) })
            .exchange(Connection.request("/v1/is-online", body: #"{"client_id":"nope"}"#))
        XCTAssertEqual(badID.status, 400)
    }

    func testAnUnreachableClusterIs502AndATimeout504() async throws {
        let cases: [(GatewayClientError, Int)] = [
            (.noRegister([GatewayFailure(address: "127.0.0.1:1236", reason: .unreachable("connection refused"))]), 502),
            (.noRegister([GatewayFailure(address: "127.0.0.1:1236", reason: .timedOut)]), 504),
            (.notDelivered([GatewayFailure(address: "127.0.0.1:2900", reason: .closedByPeer)]), 502),
            (.notDelivered([GatewayFailure(address: "127.0.0.1:2900", reason: .timedOut)]), 504),
        ]
        for (error, status) in cases {
            let connection = try await Connection(backend: FakeBackend { _, _ in .failure(error) })
            let response = try await connection.exchange(Connection.request("/v1/send-to-all", body: #"{"message":"x"}"#))
            XCTAssertEqual(response.status, status, "\(error)")
            XCTAssertEqual(response.json?["error"]?.stringValue, error.description)
        }
        let undelivered = try await Connection(backend: FakeBackend { _, _ in .failure(cases[3].0) })
            .exchange(Connection.request("/v1/send-to-all", body: #"{"message":"x"}"#))
        XCTAssertEqual(undelivered.json?["undelivered"], ["127.0.0.1:2900"])
    }

    func testAQueryNoGatewayAnsweredIs504OrIs502() async throws {
        for (reason, status) in [(GatewayFailure.Reason.timedOut, 504), (.unreachable("connection refused"), 502)] {
            let failure = GatewayFailure(address: "127.0.0.1:2900", reason: reason)
            let backend = FakeBackend { _, _ in
                .success(GatewayCallOutcome(json: ["result": false, "unanswered": ["127.0.0.1:2900"]], failures: [failure], nothingAnswered: true))
            }
            let response = try await Connection(backend: backend)
                .exchange(Connection.request("/v1/is-online", body: #"{"client_id":"7f0000010b5400000001"}"#))
            XCTAssertEqual(response.status, status)
            XCTAssertEqual(response.json?["unanswered"], ["127.0.0.1:2900"])
        }
    }

    func testHealthNeedsNoTokenAndSaysWhenTheRegisterIsAway() async throws {
        let healthy = try await Connection(backend: FakeBackend())
        let ok = try await healthy.exchange(Connection.request("/v1/health", method: "GET", token: nil))
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.json, ["status": "ok", "gateways": 2])

        let away = try await Connection(backend: FakeBackend(gateways: .failure(.noRegister([]))))
        let unavailable = try await away.exchange(Connection.request("/v1/health", method: "GET", token: nil))
        XCTAssertEqual(unavailable.status, 503)
        XCTAssertEqual(unavailable.json?["status"], "unavailable")
    }

    /// `GET /metrics` needs no token; a role told of no master has none (404); any other method
    /// is a 405. (Asking a real master needs a real event loop: MetricsTests, end to end.)
    func testMetricsNeedNoTokenAndOnlyGET() async throws {
        let connection = try await Connection(backend: FakeBackend())
        let notHere = try await connection.exchange(Connection.request("/metrics", method: "GET", token: nil))
        XCTAssertEqual(notHere.status, 404)
        let post = try await connection.exchange(Connection.request("/metrics", body: "{}"))
        XCTAssertEqual(post.status, 405)
        XCTAssertEqual(post.headers["allow"], "GET")
    }

    func testWithoutATokenEveryRequestIsServed() async throws {
        let connection = try await Connection(backend: FakeBackend(), token: "")
        let response = try await connection.exchange(Connection.request("/v1/get-all-uid-count", token: nil))
        XCTAssertEqual(response.status, 200)
    }

    func testKeepAliveServesSeveralRequestsAndConnectionCloseCloses() async throws {
        let backend = FakeBackend()
        let connection = try await Connection(backend: backend)
        for _ in 0..<3 {
            let response = try await connection.exchange(Connection.request("/v1/get-all-uid-count"))
            XCTAssertEqual(response.headers["connection"], "keep-alive")
        }
        let last = try await connection.exchange(Connection.request("/v1/get-all-uid-count", headers: ["Connection: close"]))
        XCTAssertEqual(last.headers["connection"], "close")
        try await connection.channel.closeFuture.get()
        XCTAssertEqual(backend.calls.count, 4)
    }

    func testAnIdleConnectionIsClosed() async throws {
        let connection = try await Connection(backend: FakeBackend())
        _ = try await connection.exchange(Connection.request("/v1/get-all-uid-count"))
        try await connection.channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        try await connection.channel.closeFuture.get()
    }
}
