import Foundation

/// Settings of a deployment spread over several hosts: which roles run here, which registers
/// everyone uses, where a local register listens, and the inner links' heartbeat.
extension GatewayConfiguration {
    /// Every register listed in `register` (comma-separated), in order. Gateways register with
    /// each; workers use the first that answers and fail over to the next.
    public var registerAddresses: [String] {
        register.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func runs(_ role: Role) -> Bool { roles.contains(role) }
}

extension Role {
    /// The roles a host can run (the master is always there).
    public static let deployable: [Role] = [.register, .gateway, .worker]

    /// Parses a comma list such as `gateway,worker` (order and repeats do not matter).
    public static func parseList(_ text: String) -> [Role]? {
        var roles: Set<Role> = []
        for name in text.split(separator: ",") {
            guard let role = Role(rawValue: name.trimmingCharacters(in: .whitespaces)), deployable.contains(role) else {
                return nil
            }
            roles.insert(role)
        }
        return roles.isEmpty ? nil : roles.sorted()
    }
}
