/// The object `gatewayd status --json` prints. Fields the tests do not read are ignored, so
/// the command may add keys without breaking the tests.
struct GatewaydStatus: Decodable {
    struct Master: Decodable {
        let pid: Int32
    }

    /// One row of `processes`: the master, the register, each gateway and each worker.
    struct ProcessEntry: Decodable {
        let role: String
        let pid: Int32
        let index: Int?
        /// running, starting, restarting, stopping (absent for the master).
        let state: String?
        let connections: Int?
        let details: [String: String]?
    }

    let master: Master
    let listen: [String]?
    let register: String?
    let processes: [ProcessEntry]
    /// Exit counts per role (`register`, `gateway`, `worker`).
    let exits: [String: Int]?

    /// The entries with the given role, ordered by index.
    func processes(role: String) -> [ProcessEntry] {
        processes.filter { $0.role == role }.sorted { ($0.index ?? -1) < ($1.index ?? -1) }
    }
}
