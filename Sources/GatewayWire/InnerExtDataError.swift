/// Why an inner-protocol ext_data or body does not have the JSON (or serialized) shape its
/// command requires. The frame should be dropped; the connection can stay.
public struct InnerExtDataError: Error, Hashable {
    /// A short explanation, for logs.
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }
}
