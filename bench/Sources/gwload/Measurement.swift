import Foundation
import Histogram
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Monotonic nanoseconds, the same clock on every thread of this process (latencies are
/// computed across threads in broadcast mode).
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// CPU seconds (user + system) this process has used so far.
func ownCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The server processes whose CPU (and context switches) are charged to the work: `role:pid`
/// pairs from `--pids`.
///
/// Read from /proc/<pid>/stat (utime + stime, in clock ticks) at the start and the end of the
/// measured window, so connection set-up, warm-up and drain do not count.
struct ServerProcesses {
    struct Process {
        var role: String
        var pid: Int32
    }

    var processes: [Process]

    /// Parses "gateway:123,worker:456,..." (a bare pid gets the role "server").
    init(spec: String?) {
        processes = (spec ?? "").split(separator: ",").compactMap { item in
            let parts = item.split(separator: ":")
            if parts.count == 2, let pid = Int32(parts[1]) { return Process(role: String(parts[0]), pid: pid) }
            if parts.count == 1, let pid = Int32(parts[0]) { return Process(role: "server", pid: pid) }
            return nil
        }
    }

    var isEmpty: Bool { processes.isEmpty }

    /// CPU seconds used so far, per pid (a process that is gone reads as nil).
    func sample() -> [Int32: Double] {
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        var result: [Int32: Double] = [:]
        for process in processes {
            guard let stat = try? String(contentsOfFile: "/proc/\(process.pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // Fields after "pid (comm)": state is field 3, utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            result[process.pid] = (user + system) / ticksPerSecond
        }
        return result
    }

    /// Context switches so far (voluntary + nonvoluntary) of every thread, per pid and thread id,
    /// from /proc/<pid>/task/<tid>/status. The kernel counts them per thread only (a process's
    /// own status shows its main thread's), so every thread is read; a process that is gone
    /// reads as nil.
    func sampleContextSwitches() -> [Int32: [Int32: UInt64]] {
        var result: [Int32: [Int32: UInt64]] = [:]
        for process in processes {
            guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.pid)/task") else { continue }
            var threads: [Int32: UInt64] = [:]
            for name in tids {
                guard let tid = Int32(name),
                    let status = try? String(contentsOfFile: "/proc/\(process.pid)/task/\(name)/status", encoding: .utf8)
                else { continue }  // a thread that ended between the listing and the read
                var switches: UInt64 = 0
                for line in status.split(separator: "\n")
                where line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") {
                    if let value = line.split(separator: ":").last.flatMap({ UInt64($0.trimmingCharacters(in: .whitespaces)) }) {
                        switches += value
                    }
                }
                threads[tid] = switches
            }
            result[process.pid] = threads
        }
        return result
    }

    /// Total and per-role context switches between two samples. Counted per thread: a thread
    /// born in the window counts in full; one that ended in the window took its count with it
    /// (the kernel keeps no total for the dead threads of a live process in /proc), so it adds
    /// nothing and is counted, per role, in `threadsGone`.
    func contextSwitchDifference(from start: [Int32: [Int32: UInt64]], to end: [Int32: [Int32: UInt64]])
        -> (total: UInt64, byRole: [String: UInt64], threadsGone: [String: Int])
    {
        var total: UInt64 = 0
        var byRole: [String: UInt64] = [:]
        var threadsGone: [String: Int] = [:]
        for process in processes {
            guard let before = start[process.pid], let after = end[process.pid] else { continue }
            var switches: UInt64 = 0
            for (tid, count) in after {
                let earlier = before[tid] ?? 0
                switches += count >= earlier ? count - earlier : count  // a reused tid: a new thread
            }
            let gone = before.keys.filter { after[$0] == nil }.count
            if gone > 0 { threadsGone[process.role, default: 0] += gone }
            total += switches
            byRole[process.role, default: 0] += switches
        }
        return (total, byRole, threadsGone)
    }

    /// Allocation and free calls so far per pid, from bench/malloc-counter's files in `directory`.
    func sampleAllocations(directory: String) -> [Int32: (allocations: UInt64, frees: UInt64)] {
        var result: [Int32: (UInt64, UInt64)] = [:]
        for process in processes {
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(process.pid)"), data.count >= 64 else { continue }
            let fields = (0..<8).map { index in
                data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) }
            }
            // magic, pid, malloc, calloc, realloc, aligned, free, bytes
            guard fields[0] == 0x7274_6e63_6c6c_616d, fields[1] == UInt64(process.pid) else { continue }
            result[process.pid] = (fields[2] + fields[3] + fields[4] + fields[5], fields[6])
        }
        return result
    }

    /// Total and per-role CPU seconds between two samples.
    func difference(from start: [Int32: Double], to end: [Int32: Double]) -> (total: Double, byRole: [String: Double]) {
        var total = 0.0
        var byRole: [String: Double] = [:]
        for process in processes {
            guard let before = start[process.pid], let after = end[process.pid] else { continue }
            total += after - before
            byRole[process.role, default: 0] += after - before
        }
        return (total, byRole)
    }
}

/// Where a run is. Written by the main thread, read by every event loop.
final class RunPhase: Sendable {
    enum Value: Int {
        case connecting = 0
        case warmup = 1
        case measuring = 2
        case draining = 3
    }

    private let raw = Atomic<Int>(Value.connecting.rawValue)

    var value: Value { Value(rawValue: raw.load(ordering: .acquiring))! }

    func set(_ value: Value) {
        raw.store(value.rawValue, ordering: .releasing)
    }

    /// Senders keep going in warm-up and measurement, and stop once the drain starts.
    var mayStartWork: Bool {
        let current = value
        return current == .warmup || current == .measuring
    }
}

/// Latencies in microseconds, 1 µs to 100 s, three significant digits.
func makeLatencyHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000, numberOfSignificantValueDigits: .three)
}

/// The percentiles every report gives.
struct LatencySummary {
    var p50: UInt64
    var p90: UInt64
    var p99: UInt64
    var p999: UInt64
    var max: UInt64
    var count: UInt64

    init(_ histogram: Histogram<UInt64>) {
        count = histogram.totalCount
        if count == 0 {
            p50 = 0; p90 = 0; p99 = 0; p999 = 0; max = 0
        } else {
            p50 = histogram.valueAtPercentile(50)
            p90 = histogram.valueAtPercentile(90)
            p99 = histogram.valueAtPercentile(99)
            p999 = histogram.valueAtPercentile(99.9)
            max = histogram.max
        }
    }

    var json: [(String, JSONNumber)] {
        [("p50_us", .int(Int(p50))), ("p90_us", .int(Int(p90))), ("p99_us", .int(Int(p99))),
         ("p999_us", .int(Int(p999))), ("max_us", .int(Int(max)))]
    }

    var text: String {
        String(format: "p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms",
               Double(p50) / 1000, Double(p90) / 1000, Double(p99) / 1000, Double(p999) / 1000, Double(max) / 1000)
    }
}

/// A JSON value small enough for one report line.
enum JSONNumber {
    case int(Int)
    case double(Double)
    case string(String)
    case object([(String, JSONNumber)])

    var encoded: String {
        switch self {
        case .int(let value): return String(value)
        case .double(let value):
            return value.isFinite ? String(format: "%.6g", value) : "null"
        case .string(let value):
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\""
        case .object(let members):
            return "{" + members.map { "\"\($0.0)\":\($0.1.encoded)" }.joined(separator: ",") + "}"
        }
    }
}

/// CPU used by the generator and by the servers over the measured window.
struct CPUWindow {
    let servers: ServerProcesses
    /// bench/malloc-counter's directory, when the servers run with it preloaded.
    var mallocDirectory: String?
    private var allocationStart: [Int32: (allocations: UInt64, frees: UInt64)] = [:]
    private(set) var allocationsByRole: [String: (allocations: UInt64, frees: UInt64)] = [:]
    private var generatorStart = 0.0
    private var serverStart: [Int32: Double] = [:]
    private(set) var generatorSeconds = 0.0
    private(set) var serverSeconds = 0.0
    private(set) var serverByRole: [String: Double] = [:]
    private var switchStart: [Int32: [Int32: UInt64]] = [:]
    private(set) var contextSwitches: UInt64 = 0
    private(set) var contextSwitchesByRole: [String: UInt64] = [:]
    private(set) var threadsGone: [String: Int] = [:]

    init(servers: ServerProcesses, mallocDirectory: String? = nil) {
        self.servers = servers
        self.mallocDirectory = mallocDirectory
    }

    mutating func start() {
        if let mallocDirectory { allocationStart = servers.sampleAllocations(directory: mallocDirectory) }
        switchStart = servers.sampleContextSwitches()
        generatorStart = ownCPUSeconds()
        serverStart = servers.sample()
    }

    mutating func stop() {
        generatorSeconds = ownCPUSeconds() - generatorStart
        let (total, byRole) = servers.difference(from: serverStart, to: servers.sample())
        serverSeconds = total
        serverByRole = byRole
        (contextSwitches, contextSwitchesByRole, threadsGone) =
            servers.contextSwitchDifference(from: switchStart, to: servers.sampleContextSwitches())
        if let mallocDirectory {
            let end = servers.sampleAllocations(directory: mallocDirectory)
            allocationsByRole = [:]
            for process in servers.processes {
                guard let before = allocationStart[process.pid], let after = end[process.pid] else { continue }
                let sum = allocationsByRole[process.role] ?? (0, 0)
                allocationsByRole[process.role] = (sum.allocations + after.allocations - before.allocations,
                                                   sum.frees + after.frees - before.frees)
            }
        }
    }

    /// JSON members; `units` is the work the server CPU is divided by (messages, deliveries).
    func json(seconds: Double, units: UInt64) -> [(String, JSONNumber)] {
        var members: [(String, JSONNumber)] = [
            ("gen_cpu_s", .double(generatorSeconds)),
            ("gen_cpu_cores", .double(seconds > 0 ? generatorSeconds / seconds : 0)),
        ]
        if !servers.isEmpty {
            members.append(("server_cpu_s", .double(serverSeconds)))
            members.append(("server_cpu_cores", .double(seconds > 0 ? serverSeconds / seconds : 0)))
            members.append(("server_cpu_us_per_unit", .double(units > 0 ? serverSeconds / Double(units) * 1e6 : 0)))
            members.append(("server_cpu_by_role_s", .object(serverByRole.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) })))
            // Context switches of every thread of the server processes over the window.
            let perUnit = { (count: UInt64) in units > 0 ? Double(count) / Double(units) : 0 }
            members.append(("ctx_switches", .int(Int(contextSwitches))))
            members.append(("ctx_switches_per_unit", .double(perUnit(contextSwitches))))
            members.append(("ctx_switches_per_unit_by_role",
                            .object(contextSwitchesByRole.sorted { $0.key < $1.key }.map { ($0.key, .double(perUnit($0.value))) })))
            members.append(("ctx_switches_threads_gone", .int(threadsGone.values.reduce(0, +))))
        }
        if !allocationsByRole.isEmpty {
            let roles = allocationsByRole.sorted { $0.key < $1.key }
            let perUnit = { (count: UInt64) in units > 0 ? Double(count) / Double(units) : 0 }
            members.append(("allocs_per_unit_by_role", .object(roles.map { ($0.key, .double(perUnit($0.value.allocations))) })))
            members.append(("frees_per_unit_by_role", .object(roles.map { ($0.key, .double(perUnit($0.value.frees))) })))
        }
        return members
    }

    func text(seconds: Double, units: UInt64, unitName: String) -> String {
        var line = String(format: "generator CPU %.2f s (%.2f cores)", generatorSeconds, seconds > 0 ? generatorSeconds / seconds : 0)
        if !servers.isEmpty {
            line += String(format: " | server CPU %.2f s (%.2f cores) = %.2f µs per %@", serverSeconds,
                           seconds > 0 ? serverSeconds / seconds : 0,
                           units > 0 ? serverSeconds / Double(units) * 1e6 : 0, unitName)
            let roles = serverByRole.sorted { $0.key < $1.key }.map { String(format: "%@ %.2f s", $0.key, $0.value) }
            line += " [" + roles.joined(separator: ", ") + "]"
            if units > 0 {
                let switches = contextSwitchesByRole.sorted { $0.key < $1.key }.map {
                    String(format: "%@ %.3f", $0.key, Double($0.value) / Double(units))
                }
                line += "\n  ctx switches per \(unitName): " + switches.joined(separator: ", ")
                    + String(format: " (all %.3f)", Double(contextSwitches) / Double(units))
                if !threadsGone.isEmpty {
                    line += "; threads that ended in the window, their switches not counted: "
                        + threadsGone.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                }
            }
        }
        if !allocationsByRole.isEmpty, units > 0 {
            let roles = allocationsByRole.sorted { $0.key < $1.key }.map {
                String(format: "%@ %.2f allocs / %.2f frees", $0.key, Double($0.value.allocations) / Double(units),
                       Double($0.value.frees) / Double(units))
            }
            line += "\n  heap calls per \(unitName): " + roles.joined(separator: ", ")
        }
        return line
    }
}

/// Prints the human lines, then the JSON line last (what bench/run.sh reads with `tail -1`).
func report(lines: [String], json: [(String, JSONNumber)]) {
    for line in lines { print(line) }
    print(JSONNumber.object(json).encoded)
    fflush(nil)
}

func log(_ message: String) {
    FileHandle.standardError.write(Data(("gwload: " + message + "\n").utf8))
}
