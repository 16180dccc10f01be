import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Hosts on a private network for the distributed tests: one Linux network namespace per host,
/// each plugged into one bridge (in a namespace of its own) by a veth pair, with an address in
/// 10.213.1.0/24 (or one chosen by the test). Nothing is added to the machine's own network namespace, so the addresses
/// cannot collide with anything, and two test runs at once each have their own bridge.
///
/// Namespaces are named `gwd<pid>x<n>-<host>` (the test process's pid and a counter), so
/// `tearDown()` — also run by `deinit` — removes exactly this lab's, after killing whatever
/// still runs inside them, and a later run removes what a crashed run left behind.
///
/// gatewayd runs in a host through `launcher` (`ip netns exec <namespace>`); the test's own
/// client sockets are opened inside a host with `run(in:_:)`, which moves the calling thread into
/// the host's namespace for the duration (a socket stays in the namespace it was created in).
///
/// Used from one test thread; not thread-safe.
final class NetworkLab {
    struct Host {
        let name: String
        let namespace: String
        let address: String
        /// The bridge's end of the host's cable (in the bridge namespace).
        let bridgePort: String
        /// What runs a program inside the host.
        let launcher: [String]
    }

    private(set) var hosts: [String: Host] = [:]
    private let prefix: String
    private let bridgeNamespace: String
    private let ip: String
    private var created: [String] = []
    private var tornDown = false

    private static let counter = LockedValue(0)
    private static let namespaceDirectory = "/var/run/netns"

    /// Creates the bridge and one host per name: addresses 10.213.1.1, .2, … in that order, or
    /// the ones given in `addresses` (all in one /24). Throws XCTSkip when network namespaces
    /// cannot be made here.
    init(hosts names: [String], addresses: [String: String] = [:]) throws {
        ip = try Self.availableIP.get()
        let number = Self.counter.withLock { value -> Int in
            value += 1
            return value
        }
        prefix = "gwd\(getpid())x\(number)"
        bridgeNamespace = "\(prefix)-br"
        do {
            try addNamespace(bridgeNamespace)
            try ipCommand(["-n", bridgeNamespace, "link", "add", "br0", "type", "bridge"])
            try ipCommand(["-n", bridgeNamespace, "link", "set", "br0", "up"])
            for (offset, name) in names.enumerated() {
                try addHost(name, number: offset + 1, address: addresses[name] ?? "10.213.1.\(offset + 1)")
            }
        } catch {
            tearDown()
            throw error
        }
    }

    deinit { tearDown() }

    subscript(name: String) -> Host {
        guard let host = hosts[name] else { fatalError("no host \(name) in this lab") }
        return host
    }

    private func addHost(_ name: String, number: Int, address: String) throws {
        let namespace = "\(prefix)-\(name)"
        let bridgePort = "vb\(number)"
        try addNamespace(namespace)
        // Both ends are created directly inside their namespaces: the machine's own never sees them.
        try ipCommand(["link", "add", "eth0", "netns", namespace, "type", "veth", "peer", "name", bridgePort, "netns", bridgeNamespace])
        try ipCommand(["-n", bridgeNamespace, "link", "set", bridgePort, "master", "br0", "up"])
        try ipCommand(["-n", namespace, "addr", "add", "\(address)/24", "dev", "eth0"])
        try ipCommand(["-n", namespace, "link", "set", "eth0", "up"])
        try ipCommand(["-n", namespace, "link", "set", "lo", "up"])
        hosts[name] = Host(
            name: name, namespace: namespace, address: address, bridgePort: bridgePort,
            launcher: [ip, "netns", "exec", namespace])
    }

    /// Unplugs the host's cable at the bridge: no FIN, no RST, packets just stop — the host's
    /// processes and sockets are untouched.
    func cut(_ host: Host) throws {
        try ipCommand(["-n", bridgeNamespace, "link", "set", host.bridgePort, "down"])
    }

    /// Plugs the cable back in.
    func restore(_ host: Host) throws {
        try ipCommand(["-n", bridgeNamespace, "link", "set", host.bridgePort, "up"])
    }

    /// Runs `body` on the calling thread moved into the host's network namespace; sockets it
    /// creates belong to that host for their whole life.
    func run<T>(in host: Host, _ body: () throws -> T) throws -> T {
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else { throw GatewaydFixtureError("open /proc/thread-self/ns/net: \(String(cString: strerror(errno)))") }
        defer { close(original) }
        let target = open("\(Self.namespaceDirectory)/\(host.namespace)", O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw GatewaydFixtureError("open namespace \(host.namespace): \(String(cString: strerror(errno)))") }
        defer { close(target) }
        guard Self.setNetworkNamespace(target) == 0 else {
            throw GatewaydFixtureError("setns into \(host.namespace): \(String(cString: strerror(errno)))")
        }
        defer {
            // Staying in the wrong namespace would silently break every later test.
            if Self.setNetworkNamespace(original) != 0 { fatalError("cannot return from namespace \(host.namespace)") }
        }
        return try body()
    }

    /// Kills every process still inside this lab's namespaces and removes them (the veth pairs
    /// and the bridge go with them). Safe to call more than once.
    func tearDown() {
        guard !tornDown else { return }
        tornDown = true
        Self.remove(namespaces: created, ip: ip)
        created = []
    }

    // MARK: - Commands

    private func addNamespace(_ name: String) throws {
        try ipCommand(["netns", "add", name])
        created.append(name)
    }

    private func ipCommand(_ arguments: [String]) throws {
        let result = try GatewaydProcess.runExecutable(URL(fileURLWithPath: ip), arguments, timeout: .seconds(30))
        guard result.exitCode == 0 else { throw GatewaydFixtureError("network lab: \(result)") }
    }

    private static func remove(namespaces: [String], ip: String) {
        let executable = URL(fileURLWithPath: ip)
        for namespace in namespaces.reversed() {
            if let pids = try? GatewaydProcess.runExecutable(executable, ["netns", "pids", namespace], timeout: .seconds(30)) {
                for pid in pids.stdout.split(separator: "\n").compactMap({ pid_t($0) }) { kill(pid, SIGKILL) }
            }
            _ = try? GatewaydProcess.runExecutable(executable, ["netns", "del", namespace], timeout: .seconds(30))
        }
    }

    // MARK: - Can this machine do it?

    /// The `ip` executable, once it proved it can add and remove a namespace here; otherwise
    /// why not, as an XCTSkip.
    private static let availableIP: Result<String, Error> = {
        guard let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first(where: FileManager.default.isExecutableFile)
        else {
            return .failure(XCTSkip("the distributed tests need iproute2's `ip` command (network namespaces); it is not installed"))
        }
        removeLeftoversOfDeadRuns(ip: ip)
        let probe = "gwd\(getpid())probe"
        do {
            let added = try GatewaydProcess.runExecutable(URL(fileURLWithPath: ip), ["netns", "add", probe], timeout: .seconds(30))
            guard added.exitCode == 0 else {
                return .failure(XCTSkip(
                    "the distributed tests need network namespaces, and `ip netns add` is not permitted here (run as root with CAP_SYS_ADMIN): \(added.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"))
            }
            remove(namespaces: [probe], ip: ip)
            return .success(ip)
        } catch {
            return .failure(error)
        }
    }()

    /// Namespaces named after a test process that no longer runs (a crashed or killed run).
    private static func removeLeftoversOfDeadRuns(ip: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: namespaceDirectory)) ?? []
        let dead = names.filter { name in
            guard name.hasPrefix("gwd") else { return false }
            let digits = name.dropFirst(3).prefix { $0.isNumber }
            guard let pid = pid_t(digits), !digits.isEmpty else { return false }
            return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
        }
        remove(namespaces: dead, ip: ip)
    }

    /// setns(2) for a network namespace, looked up at run time (Swift's Glibc module may not declare it).
    private typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    private static let setns: SetNS? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return nil }
        return unsafeBitCast(symbol, to: SetNS.self)
    }()

    private static func setNetworkNamespace(_ descriptor: Int32) -> Int32 {
        guard let setns else {
            errno = ENOSYS
            return -1
        }
        return setns(descriptor, 0x4000_0000 /* CLONE_NEWNET */)
    }
}
