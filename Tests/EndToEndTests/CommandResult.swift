/// How a one-shot `gatewayd` (or `cc`) command ended.
struct CommandResult: CustomStringConvertible {
    let arguments: [String]
    let exitCode: Int32
    let stdout: String
    let stderr: String

    /// The lines of stderr that are the command-line contract's error lines
    /// (`gatewayd: error: ...`). Log lines on stderr are not counted.
    var errorLines: [String] {
        stderr.split(separator: "\n", omittingEmptySubsequences: true)
            .map(String.init)
            .filter { $0.hasPrefix("gatewayd: error: ") }
    }

    var description: String {
        "`\(arguments.joined(separator: " "))` exited \(exitCode)\n--- stdout ---\n\(stdout.suffix(4000))\n--- stderr ---\n\(stderr.suffix(4000))"
    }
}
