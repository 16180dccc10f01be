import Foundation
import GatewayCore

/// Which address the register of this host binds, when every host shares one register list.
///
/// `register_listen` wins when set (e.g. `0.0.0.0:1236` behind NAT). Otherwise it is the first
/// address of the list whose IP belongs to this host (an interface address, 127.0.0.0/8 or
/// 0.0.0.0) — so the same list works unchanged on every host, and a host with two registers'
/// addresses runs the first one.
public enum RegisterBinding {
    public struct Choice {
        var address: HostPort
        /// The position in the register list it came from (nil: from `register_listen`), so a
        /// port 0 there can be replaced by the port actually bound.
        var listIndex: Int?
    }

    static func choose(for configuration: GatewayConfiguration) throws(SupervisorError) -> Choice {
        if let listen = configuration.registerListen {
            return Choice(address: try HostPort(parsingOrThrow: listen, key: "register_listen"), listIndex: nil)
        }
        let local = localIPv4Addresses()
        for (index, text) in configuration.registerAddresses.enumerated() {
            let address = try HostPort(parsingOrThrow: text, key: "register")
            if isLocal(address.host, interfaces: local) { return Choice(address: address, listIndex: index) }
        }
        throw .startup(
            "this host runs the register role, but none of the register addresses (\(configuration.register)) is an "
                + "address of this host; set register_listen (--register-listen) to the address it should bind")
    }

    static func isLocal(_ host: String, interfaces: Set<UInt32>) -> Bool {
        guard let ip = IPv4Address(host) else { return false }
        return ip.value == 0 || ip.value >> 24 == 127 || interfaces.contains(ip.value)
    }

    /// The IPv4 addresses of this host's interfaces (in its network namespace), host order.
    static func localIPv4Addresses() -> Set<UInt32> {
        var first: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&first) == 0 else { return [] }
        defer { freeifaddrs(first) }
        var addresses: Set<UInt32> = []
        var cursor = first
        while let entry = cursor {
            cursor = entry.pointee.ifa_next
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            addresses.insert(
                address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) })
        }
        return addresses
    }
}
