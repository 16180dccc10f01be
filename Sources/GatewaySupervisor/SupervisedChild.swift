import Foundation
import GatewayCore

/// Names one child slot for as long as it exists, across its restarts; the shell maps it to the
/// current pid's control channel.
struct ChildID: Hashable, Sendable, CustomStringConvertible {
    let rawValue: Int
    var description: String { "child#\(rawValue)" }
}

/// Whoever asked the master for something and waits for the answer: the shell's handle for the
/// control connection (its descriptor). Opaque to the state machine.
struct RequesterID: Hashable, Sendable {
    let rawValue: Int32
}

/// The master's view of one child slot (role + index); the pid changes across restarts.
struct SupervisedChild: Sendable {
    enum State: Hashable, Sendable {
        case starting
        case ready
        case waitingToRestart(at: MasterInstant)
        case stopping
        case stopped

        /// As `gatewayd status` shows it.
        var name: String {
            switch self {
            case .starting: return "starting"
            case .ready: return "running"
            case .waitingToRestart: return "restarting"
            case .stopping: return "stopping"
            case .stopped: return "stopped"
            }
        }
    }

    /// Why the child exists: serving, a reload's canary, or an old worker draining away.
    enum Purpose: Hashable, Sendable {
        case serving
        case canary
        case retiring
    }

    let id: ChildID
    let role: Role
    let index: Int
    let generation: Int
    var purpose: Purpose
    /// 0 while no process runs for this slot.
    var pid: pid_t = 0
    /// Whether the master's end of the control channel is open: queries go only to those.
    var hasControlChannel = false
    var state: State = .starting
    var startedAt = MasterInstant(seconds: 0)
    var restarts = 0
    var quickFailures = 0
    /// What the child reported with `ready` (inner address, plugin facts, ...).
    var info: [String: String] = [:]
    var counters: ProcessCounters?
    var fatalReason: String?
    /// A retiring worker the master killed at the drain timeout.
    var killedAtDrainTimeout = false

    init(id: ChildID, role: Role, index: Int, generation: Int = 0, purpose: Purpose = .serving) {
        self.id = id
        self.role = role
        self.index = index
        self.generation = generation
        self.purpose = purpose
    }

    var isRunning: Bool { pid > 0 }

    var name: String {
        switch (role, purpose) {
        case (.register, _): return "register"
        case (_, .canary): return "canary (generation \(generation))"
        case (.worker, _) where generation > 0: return "worker \(index) (generation \(generation))"
        default: return "\(role.rawValue) \(index)"
        }
    }
}
