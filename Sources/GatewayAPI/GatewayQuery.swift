import GatewayWire
import NIOCore

/// One of GatewayWorker's query functions: the request each gateway gets, and how their
/// answers merge into the function's result.
///
/// The transport is someone else's (a worker's query links, GatewayClient's connections): it
/// sends `dispatch` to the gateways, waits for each answer up to its timeout, and hands every
/// answer that came back to `result(from:)`. A gateway that did not answer in time is listed in
/// the result, never waited for forever.
public struct GatewayQuery<Value: Sendable>: Sendable {
    /// GatewayWorker's name for the function, e.g. "getClientIdByUid".
    public let name: String
    public let dispatch: GatewayDispatch
    private let merge: @Sendable ([GatewayAnswer]) -> Value

    init(name: String, dispatch: GatewayDispatch, merge: @escaping @Sendable ([GatewayAnswer]) -> Value) {
        self.name = name
        self.dispatch = dispatch
        self.merge = merge
    }

    /// Merges the answers; `unanswered` are the gateways asked that gave none.
    public func result(from answers: [GatewayAnswer], unanswered: [String]) -> GatewayQueryResult<Value> {
        GatewayQueryResult(value: merge(answers.sorted { $0.gateway < $1.gateway }), unanswered: unanswered.sorted())
    }
}

/// One gateway's reply to a query, unserialized.
public struct GatewayAnswer: Sendable {
    /// The gateway's inner address, "a.b.c.d:port".
    public var gateway: String
    public var value: PHPValue

    public init(gateway: String, value: PHPValue) {
        self.gateway = gateway
        self.value = value
    }

    /// Reads a reply payload (the bytes after the u32 length); an unreadable one counts as null.
    public init(gateway: String, payload: ByteBuffer) {
        self.init(gateway: gateway, value: (try? PHPSerializer.unserialize(payload)) ?? .null)
    }
}

/// A query's merged result and the gateways that did not answer in time (empty when all did).
public struct GatewayQueryResult<Value: Sendable>: Sendable {
    public var value: Value
    public var unanswered: [String]

    public var isComplete: Bool { unanswered.isEmpty }
}

extension GatewayQueryResult: Equatable where Value: Equatable {}
