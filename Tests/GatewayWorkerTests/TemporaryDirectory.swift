import Foundation

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String) throws {
        let base = FileManager.default.temporaryDirectory
            .appendingPathComponent("gatewayd-worker-tests-\(getpid())-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    func remove() {
        // Store copies are read-only files; their directory is writable, so they can be removed.
        try? FileManager.default.removeItem(atPath: path)
    }
}
