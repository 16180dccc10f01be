import Foundation

/// One GatewayWorker function call, spelled both ways: as `gatewayd client` words and as the
/// HTTP API's JSON body, so one check drives either surface.
struct PushCall {
    let function: String
    let words: [String]
    let json: [String: Any]

    init(_ function: String, _ words: [String] = [], json: [String: Any] = [:]) {
        self.function = function
        self.words = words
        self.json = json
    }
}

/// A way to push to and query a cluster from outside it.
protocol PushSurface {
    /// Runs a send; throws when it was not accepted.
    func send(_ call: PushCall) throws
    /// Runs a query; returns its `result` (Foundation JSON values). Throws when a gateway
    /// did not answer.
    func query(_ call: PushCall) throws -> Any
}

/// `gatewayd client <function> <words…> --register R --secret-key K`.
struct CommandLinePushSurface: PushSurface {
    let register: String
    let secretKey: String

    func run(_ call: PushCall) throws -> CommandResult {
        let result = try GatewaydProcess.run(
            ["client", call.function] + call.words + ["--register", register, "--secret-key", secretKey], timeout: .seconds(30))
        guard result.exitCode == 0 else { throw GatewaydFixtureError("\(call.function) failed: \(result)") }
        return result
    }

    func send(_ call: PushCall) throws {
        let result = try run(call)
        guard result.stdout.isEmpty else { throw GatewaydFixtureError("a send printed something: \(result)") }
    }

    func query(_ call: PushCall) throws -> Any {
        let result = try run(call)
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            let value = object["result"], object["unanswered"] == nil
        else { throw GatewaydFixtureError("\(call.function) did not print {\"result\": …} from every gateway: \(result)") }
        return value
    }
}

/// `POST /v1/<function>` with the call's JSON and the bearer token.
struct HTTPPushSurface: PushSurface {
    let port: Int
    let token: String

    func send(_ call: PushCall) throws {
        let response = try HTTPTestClient.post(port: port, call.function, call.json, token: token)
        guard response.statusCode == 200, (response.json as? [String: Any])?["ok"] as? Bool == true else {
            throw GatewaydFixtureError("POST /v1/\(call.function) \(call.json): \(response)")
        }
    }

    func query(_ call: PushCall) throws -> Any {
        let response = try HTTPTestClient.post(port: port, call.function, call.json, token: token)
        guard response.statusCode == 200, let object = response.json as? [String: Any], let value = object["result"],
            object["unanswered"] == nil
        else { throw GatewaydFixtureError("POST /v1/\(call.function) \(call.json): \(response)") }
        return value
    }
}

/// JSON values as canonical text (sorted keys), so results compare regardless of key order.
func canonicalJSON(_ value: Any) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else {
        return "\(value)"
    }
    return String(decoding: data, as: UTF8.self)
}
