import Foundation
import GatewayCore
@testable import GatewaySupervisor

/// A ``SupervisorStateMachine`` played by hand: the test is the shell. Forks "succeed" with
/// made-up pids, time is `clock`, which only the test moves.
struct MasterHarness {
    var machine: SupervisorStateMachine
    var clock = MasterInstant(seconds: 1_000_000)
    private var nextPID: pid_t = 100

    /// One register, one gateway and two workers running `/plugins/app.so`, unless `configure`
    /// says otherwise.
    init(configure: (inout GatewayConfiguration) -> Void = { _ in }) {
        var configuration = GatewayConfiguration(plugin: "/plugins/app.so", gatewayCount: 1, workerCount: 2)
        configure(&configuration)
        machine = SupervisorStateMachine(configuration: configuration)
    }

    /// Started, every child forked and ready (workers reporting `workerInfo`): the master runs.
    static func running(
        workerInfo: [String: String] = [:], configure: (inout GatewayConfiguration) -> Void = { _ in }
    ) -> MasterHarness {
        var harness = MasterHarness(configure: configure)
        harness.forkEverySpawn(harness.machine.start(now: harness.clock))
        for child in harness.machine.children { _ = harness.ready(child.id, info: child.role == .worker ? workerInfo : [:]) }
        return harness
    }

    mutating func advance(_ seconds: TimeInterval) { clock += seconds }

    /// The slot of a role's index (the serving one unless a generation is given).
    func slot(_ role: Role, _ index: Int, generation: Int? = nil) -> ChildID {
        machine.children.first { child in
            guard child.role == role && child.index == index else { return false }
            if let generation { return child.generation == generation }
            return child.purpose == .serving
        }!.id
    }

    func pid(of id: ChildID) -> pid_t { machine.child(id)?.pid ?? 0 }

    /// What a shell does with `.spawn`: a successful fork for each.
    mutating func forkEverySpawn(_ actions: [SupervisorAction]) {
        for case .spawn(let id) in actions {
            machine.childSpawned(id, pid: nextPID, now: clock)
            nextPID += 1
        }
    }

    mutating func ready(_ id: ChildID, info: [String: String] = [:]) -> [SupervisorAction] {
        machine.received(ControlMessage(kind: .ready, info: info), from: id, now: clock)
    }

    mutating func exit(_ id: ChildID, _ how: ChildExit) -> [SupervisorAction] {
        machine.childExited(id, how, now: clock)
    }

    mutating func tick() -> [SupervisorAction] { machine.timerFired(now: clock) }
}

extension Array where Element == SupervisorAction {
    var spawned: [ChildID] { compactMap { if case .spawn(let id) = $0 { id } else { nil } } }

    var killed: [ChildID] { compactMap { if case .kill(let id, SIGKILL) = $0 { id } else { nil } } }

    func sent(_ kind: ControlMessage.Kind) -> [ChildID] {
        compactMap { if case .send(let message, let id) = $0, message.kind == kind { id } else { nil } }
    }

    var logLines: [String] { compactMap { if case .log(_, let line, _) = $0 { line } else { nil } } }

    func responses(to requester: RequesterID) -> [ControlResponse] {
        compactMap { if case .respond(requester, let response) = $0 { response } else { nil } }
    }
}
