import NIOHTTP1

/// What `gatewayd status` shows for the HTTP API. Confined to the role's event loop.
final class HTTPAPIStatistics {
    var openConnections = 0
    var requests: UInt64 = 0
    var responses: UInt64 = 0
    /// Responses by status class: "2xx", "4xx", "5xx".
    var byClass: [String: UInt64] = [:]
    /// Responses by status code, for `/metrics`.
    var byCode: [UInt: UInt64] = [:]

    func record(_ status: HTTPResponseStatus) {
        responses += 1
        byClass["\(status.code / 100)xx", default: 0] += 1
        byCode[status.code, default: 0] += 1
    }
}
