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

    func validateDeployment() throws(ConfigurationError) {
        guard !registerAddresses.isEmpty else {
            throw .invalid(key: "register", value: register, expected: "host:port, or several separated by commas")
        }
        for address in registerAddresses {
            do { _ = try HostPort(parsing: address) } catch {
                throw .invalid(key: "register", value: address, expected: error.expected)
            }
        }
        guard !roles.isEmpty, roles.allSatisfy(Role.deployable.contains) else {
            throw .invalid(
                key: "role", value: roles.map(\.rawValue).joined(separator: ","),
                expected: "one or more of register, gateway, worker")
        }
        if let registerListen {
            do { _ = try HostPort(parsing: registerListen) } catch {
                throw .invalid(key: "register_listen", value: registerListen, expected: error.expected)
            }
        }
        guard (50...3_600_000).contains(innerHeartbeatIntervalMilliseconds) else {
            throw .invalid(
                key: "inner_heartbeat_interval_ms", value: "\(innerHeartbeatIntervalMilliseconds)",
                expected: "50...3600000 milliseconds")
        }
        // At least two pings fit in the timeout, so one late ping never closes a healthy link.
        guard innerHeartbeatTimeoutMilliseconds >= 2 * innerHeartbeatIntervalMilliseconds,
            innerHeartbeatTimeoutMilliseconds <= 3_600_000
        else {
            throw .invalid(
                key: "inner_heartbeat_timeout_ms", value: "\(innerHeartbeatTimeoutMilliseconds)",
                expected: "2 × inner_heartbeat_interval_ms ... 3600000 milliseconds")
        }
    }
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
