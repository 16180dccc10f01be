#if canImport(Glibc)
import Glibc
#endif
import CLibFuzzer

/// Runs libFuzzer on `testOneInput` with this process's command line, and exits with its status.
///
/// Each target is an executable whose `@main` calls this rather than relying on libFuzzer's
/// own `main`: SwiftPM renames an executable module's entry point and aliases `main` to it
/// at link time, which leaves no room for a `main` from the fuzzer runtime. The targets still
/// export `LLVMFuzzerTestOneInput`, so any libFuzzer-compatible driver can link them.
public func runLibFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}
