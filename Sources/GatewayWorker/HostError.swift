import CGatewayABI

/// Errors inside host functions, each mapped to one gwd_status.
enum HostError: Error, Equatable {
    case invalidArgument
    case notFound
    case noCurrentClient
    case unavailable
    case timeout
    case noMemory
    case tooLarge
    case wrongThread
    case queueFull
    case stopping
    case exists

    var status: gwd_status {
        switch self {
        case .invalidArgument: return GWD_ERR_INVALID_ARGUMENT
        case .notFound: return GWD_ERR_NOT_FOUND
        case .noCurrentClient: return GWD_ERR_NO_CURRENT_CLIENT
        case .unavailable: return GWD_ERR_UNAVAILABLE
        case .timeout: return GWD_ERR_TIMEOUT
        case .noMemory: return GWD_ERR_NO_MEMORY
        case .tooLarge: return GWD_ERR_TOO_LARGE
        case .wrongThread: return GWD_ERR_WRONG_THREAD
        case .queueFull: return GWD_ERR_QUEUE_FULL
        case .stopping: return GWD_ERR_STOPPING
        case .exists: return GWD_ERR_EXISTS
        }
    }
}

extension gwd_status {
    /// The status as the Int32 every ABI function returns.
    var code: Int32 { Int32(bitPattern: rawValue) }
}
