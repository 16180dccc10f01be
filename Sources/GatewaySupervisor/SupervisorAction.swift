import Foundation
import GatewayCore
import GatewayMetrics
import Logging

/// What ``SupervisorStateMachine`` asks the shell (``Supervisor``) to do, in order.
enum SupervisorAction: Hashable, Sendable {
    /// Fork a process for this slot (its role, index, generation and purpose are in the machine),
    /// then report `childSpawned` or `spawnFailed`.
    case spawn(ChildID)
    /// Write a control message on the child's channel (skipped when it is closed).
    case send(ControlMessage, to: ChildID)
    /// Signal the child's current process.
    case kill(ChildID, signal: Int32)
    /// One line in the master's log; `pid` is added as `gw.pid`.
    case log(Logger.Level, String, pid: pid_t? = nil)
    /// Write the response and close the requester's connection.
    case respond(RequesterID, ControlResponse)
    /// Answer `status` with the report as it is now (the shell adds what only it knows: the
    /// master's own line, resident memory).
    case answerStatus(RequesterID)
    /// Answer `metrics` (the control socket's, or a scrape of `/metrics`) with the children's
    /// reports as they are now.
    case answerMetrics(RequesterID)
    /// A reload ended: counted for `/metrics` (refused ones have no duration).
    case reloadFinished(ReloadOutcome, seconds: Double?, killedWorkers: Int)
    /// Every child serves: tell whoever started the master ("gatewayd ready: ...").
    case reportReady
    /// Tell the service manager (systemd's `$NOTIFY_SOCKET`, if any) that a reload began or
    /// ended, or that the master stops; `.reportReady` tells it the master is ready.
    case tellServiceManager(ServiceState)
    /// Start-up failed: tell whoever started the master why.
    case reportStartFailure(String)
    /// Delete the plugin store's copies other than this sha256's (no live generation maps them).
    case removePluginCopies(keeping: String)
    /// Wait (blocking) until the child's process, just killed, is gone.
    case awaitExit(ChildID)
    /// Close the listening sockets and remove the control socket and pid file.
    case closeSockets
    /// The master is done: `run` returns this exit code.
    case exit(Int32)
}
