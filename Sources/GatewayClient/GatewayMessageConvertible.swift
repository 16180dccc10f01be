/// What can be pushed to a client: text (sent as its UTF-8 bytes) or raw bytes.
public protocol GatewayMessageConvertible: Sendable {
    var gatewayMessageBytes: [UInt8] { get }
}

extension String: GatewayMessageConvertible {
    public var gatewayMessageBytes: [UInt8] { Array(utf8) }
}

extension Substring: GatewayMessageConvertible {
    public var gatewayMessageBytes: [UInt8] { Array(utf8) }
}

extension Array: GatewayMessageConvertible where Element == UInt8 {
    public var gatewayMessageBytes: [UInt8] { self }
}
