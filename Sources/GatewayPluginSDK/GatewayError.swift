import CGatewayABI

/// A host function's failure: the `gwd_status` it returned and the host's description of it.
///
/// Every ``Gateway`` method that calls the host throws this, and only this, when the host
/// answers anything but `GWD_OK`. A plugin may throw one from
/// ``GatewayPlugin/workerStarted(_:)`` to refuse the start with a chosen status.
public struct GatewayError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A `gwd_status` code other than `GWD_OK`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32

        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        init(_ status: gwd_status) {
            rawValue = Int32(bitPattern: status.rawValue)
        }

        /// `GWD_ERR_INVALID_ARGUMENT` (1): a NULL pointer, a malformed client id, bad flags.
        public static let invalidArgument = Code(GWD_ERR_INVALID_ARGUMENT)
        /// `GWD_ERR_NOT_FOUND` (2): no such client, no such session key.
        public static let notFound = Code(GWD_ERR_NOT_FOUND)
        /// `GWD_ERR_NO_CURRENT_CLIENT` (3): a current-client call outside a client event.
        public static let noCurrentClient = Code(GWD_ERR_NO_CURRENT_CLIENT)
        /// `GWD_ERR_UNAVAILABLE` (4): the gateway that holds the client is not connected.
        public static let unavailable = Code(GWD_ERR_UNAVAILABLE)
        /// `GWD_ERR_TIMEOUT` (5): a query got no answer in time from some gateway.
        public static let timeout = Code(GWD_ERR_TIMEOUT)
        /// `GWD_ERR_NO_MEMORY` (6).
        public static let noMemory = Code(GWD_ERR_NO_MEMORY)
        /// `GWD_ERR_WRONG_THREAD` (7): a ``Gateway`` used outside its callback or thread.
        public static let wrongThread = Code(GWD_ERR_WRONG_THREAD)
        /// `GWD_ERR_UNSUPPORTED` (8): the host does not implement this here, or its table has
        /// no such entry.
        public static let unsupported = Code(GWD_ERR_UNSUPPORTED)
        /// `GWD_ERR_TOO_LARGE` (9): a message or name exceeds the configured limit.
        public static let tooLarge = Code(GWD_ERR_TOO_LARGE)
        /// `GWD_ERR_ABI_MISMATCH` (10).
        public static let abiMismatch = Code(GWD_ERR_ABI_MISMATCH)
        /// `GWD_ERR_FAILED` (11): a plugin callback reports failure.
        public static let failed = Code(GWD_ERR_FAILED)
        /// `GWD_ERR_INTERNAL` (12).
        public static let `internal` = Code(GWD_ERR_INTERNAL)
        /// `GWD_ERR_QUEUE_FULL` (13, ABI 1.2): ``GatewayPoster/post(_:)`` found the worker's
        /// queue of posted work full; retry later or drop the work.
        public static let queueFull = Code(GWD_ERR_QUEUE_FULL)
        /// `GWD_ERR_STOPPING` (14, ABI 1.2): the worker is stopping (reload, stop); it takes no
        /// new timers or posts.
        public static let stopping = Code(GWD_ERR_STOPPING)
        /// `GWD_ERR_EXISTS` (15, ABI 1.2): ``Gateway/on(_:_:)`` was given the name of an event
        /// that is already declared.
        public static let exists = Code(GWD_ERR_EXISTS)

        /// The C name, e.g. `GWD_ERR_NOT_FOUND`, or the number for a code this SDK predates.
        public var description: String {
            let names = ["GWD_OK", "GWD_ERR_INVALID_ARGUMENT", "GWD_ERR_NOT_FOUND", "GWD_ERR_NO_CURRENT_CLIENT",
                         "GWD_ERR_UNAVAILABLE", "GWD_ERR_TIMEOUT", "GWD_ERR_NO_MEMORY", "GWD_ERR_WRONG_THREAD",
                         "GWD_ERR_UNSUPPORTED", "GWD_ERR_TOO_LARGE", "GWD_ERR_ABI_MISMATCH", "GWD_ERR_FAILED",
                         "GWD_ERR_INTERNAL", "GWD_ERR_QUEUE_FULL", "GWD_ERR_STOPPING", "GWD_ERR_EXISTS"]
            return names.indices.contains(Int(rawValue)) ? names[Int(rawValue)] : "gwd_status \(rawValue)"
        }
    }

    public let code: Code
    /// The host's `status_string` for the code, or the SDK's own explanation.
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) (\(code))" }
}
