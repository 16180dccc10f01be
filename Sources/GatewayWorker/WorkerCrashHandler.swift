import CGatewaySystem
import GatewayCore
import GatewayWire
import Glibc

/// A worker process's last words: one log line naming the signal, the plugin callback that was
/// running and its client, written by CGatewaySystem's handler in place of the Swift runtime's
/// backtrace (seconds, during which the events the worker holds wait for nothing), then the
/// signal ends the process and the master replaces it.
public enum WorkerCrashHandler {
    /// Installs the handler for this process; `label`, `index` and `format` as the worker's logger has them.
    public static func install(label: String, index: Int, format: LogFormat) {
        // The handler names code c with names[c - 1]: the cases in order, numbered from 1.
        let names = CallbackWatch.Callback.allCases.map(\.name)
        precondition(CallbackWatch.Callback.allCases.map(\.rawValue) == Array(1...UInt8(names.count)))
        var pointers = names.map { strdup($0) }
        defer { for pointer in pointers { free(pointer) } }
        let installed = pointers.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                gwd_sys_install_crash_handler(
                    STDERR_FILENO, label, format == .json ? 1 : 0, Int32(index), $0, Int32(buffer.count))
            }
        }
        precondition(installed == 0, "cannot install the crash handler: errno \(errno)")
        // Its last frame to the gateway of the event it crashed in (GatewayLinkSet arms it).
        let notice = WorkerCrashed.template()
        let set = notice.frame.withUnsafeBufferPointer {
            gwd_sys_set_crash_notice($0.baseAddress, Int32($0.count), Int32(notice.bodyOffset))
        }
        precondition(set == 0, "cannot set the crash notice: errno \(errno)")
    }
}
