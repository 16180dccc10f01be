import Foundation
import GatewayClient
import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest

@testable import GatewayHTTPAPI

/// The HTTP API's pipeline (NIO's HTTP/1.1 server codec, then the API handler) on a test
/// channel: requests go in as bytes, responses come out as bytes and are parsed.
struct HTTPTestConnection {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String

        var json: JSONValue? { try? JSONValue.parse(Array(body.utf8)) }
    }

    let channel = NIOAsyncTestingChannel()

    init(backend: HTTPAPIBackend, token: String = "secret-token", maxBodyBytes: Int = 1024, metrics: MasterMetrics? = nil) async throws {
        let channel = self.channel
        try await channel.testingEventLoop.executeInContext {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(
                HTTPAPIHandler(backend: backend, token: token, maxBodyBytes: maxBodyBytes, statistics: HTTPAPIStatistics(), metrics: metrics))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7273)).get()
    }

    /// A request's bytes: `POST /v1/<path>` with a bearer token and a JSON body by default.
    static func request(
        _ path: String, method: String = "POST", body: String? = nil, token: String? = "secret-token", headers: [String] = []
    ) -> String {
        var lines = ["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1"]
        if let token { lines.append("Authorization: Bearer \(token)") }
        if let body { lines += ["Content-Type: application/json", "Content-Length: \(body.utf8.count)"] }
        lines += headers
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + (body ?? "")
    }

    func send(_ bytes: String) async throws {
        try await channel.writeInbound(ByteBuffer(string: bytes))
    }

    /// Sends a request and reads its whole response.
    func exchange(_ bytes: String) async throws -> Response {
        try await send(bytes)
        return try await response()
    }

    /// Reads outbound bytes until one whole response (its Content-Length) is there.
    func response() async throws -> Response {
        var received = ""
        while true {
            let chunk = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
            received += String(buffer: chunk)
            guard let split = received.range(of: "\r\n\r\n") else { continue }
            let head = received[..<split.lowerBound].split(separator: "\r\n").map(String.init)
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                headers[parts[0].lowercased()] = parts.count > 1 ? parts[1] : ""
            }
            let body = String(received[split.upperBound...])
            guard body.utf8.count >= Int(headers["content-length"] ?? "0") ?? 0 else { continue }
            let status = Int(head[0].split(separator: " ")[1]) ?? 0
            return Response(status: status, headers: headers, body: body)
        }
    }
}
