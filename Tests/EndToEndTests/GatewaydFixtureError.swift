/// A failure of the test fixture itself (starting, querying or stopping `gatewayd`), with the
/// context needed to debug it: the command, its output, the cluster's stderr.
struct GatewaydFixtureError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
