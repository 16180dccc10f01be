/// The kinds of process a gatewayd deployment runs.
public enum Role: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    case master
    case register
    case gateway
    case worker
    /// The HTTP push API (runs only when configured).
    case httpAPI = "http-api"

    private var order: Int {
        switch self {
        case .master: return 0
        case .register: return 1
        case .gateway: return 2
        case .worker: return 3
        case .httpAPI: return 4
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.order < rhs.order }
}
