import ArgumentParser
import Foundation

/// Prints the one-line error every failing command ends with and exits non-zero:
/// `gatewayd: error: <what and where>`.
func failCommand(_ message: String, code: Int32 = 1) -> ExitCode {
    FileHandle.standardError.write(Data("gatewayd: error: \(message)\n".utf8))
    return ExitCode(code)
}
