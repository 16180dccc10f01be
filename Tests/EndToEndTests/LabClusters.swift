/// The gatewayd masters a distributed test started on the hosts of its ``NetworkLab``.
///
/// `stopAll()` stops them in reverse order of start — workers first, the register last, as an
/// operator would — and says which did not stop cleanly (those are killed). Used from the test
/// thread only.
final class LabClusters {
    private var started: [GatewaydProcess] = []

    /// Runs `gatewayd <arguments(run directory)>` inside `host`, in the foreground, once ready.
    func start(on host: NetworkLab.Host, arguments: (String) -> [String]) throws -> GatewaydProcess {
        let cluster = try GatewaydProcess.start(launcher: host.launcher, readyTimeout: .seconds(30), arguments: arguments)
        started.append(cluster)
        return cluster
    }

    /// Stops every cluster; returns a line per one that did not stop cleanly.
    func stopAll() -> [String] {
        var problems: [String] = []
        for cluster in started.reversed() {
            do {
                try cluster.stop(timeout: .seconds(15))
            } catch {
                problems.append("stopping a host: \(error)")
                cluster.killLeftovers()
            }
        }
        started = []
        return problems
    }
}
