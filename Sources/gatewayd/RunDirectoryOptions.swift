import ArgumentParser
import GatewayCore

/// `--run-dir`, shared by every command that talks to a running deployment.
struct RunDirectoryOptions: ParsableArguments {
    @Option(name: .customLong("run-dir"), help: "Directory with the pid file, control socket and log (default: $GATEWAYD_RUN_DIR or /tmp/gatewayd-<uid>).")
    var runDirectory: String?

    var resolved: RunDirectory {
        RunDirectory(path: runDirectory ?? GatewayConfiguration.defaultRunDirectory)
    }
}
