import Crypto
import Foundation

/// The private, content-addressed copies workers load plugins from.
///
/// A worker never maps the user's file: overwriting a mapped .so in place (cp over it) crashes
/// every process that has it mapped, even with identical bytes, because truncation throws away
/// the relocated pages. So the plugin is copied to `<store>/<sha256>.so` — written to a temp
/// file, fsync'ed, made read-only and renamed into place — and loaded from there.
public struct PluginStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public struct Entry: Sendable, Hashable {
        /// The store copy to dlopen.
        public var path: String
        /// Lowercase hex SHA-256 of the plugin bytes.
        public var sha256: String
    }

    /// Copies `source` into the store (once per content) and returns the copy.
    public func add(_ source: String) throws(PluginLoadError) -> Entry {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        } catch {
            throw .unreadable(path: source, reason: Self.unreadableReason(source, error))
        }
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let destination = "\(directory)/\(digest).so"
        if FileManager.default.fileExists(atPath: destination) {
            return Entry(path: destination, sha256: digest)
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .store(reason: "cannot create plugin store \(directory): \(error.localizedDescription)")
        }
        let temporary = "\(directory)/.\(digest).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw .store(reason: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let count = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += count
            }
            return true
        }
        let synced = written && fsync(fd) == 0 && fchmod(fd, 0o444) == 0
        close(fd)
        guard synced, rename(temporary, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .store(reason: "cannot store plugin copy \(destination): \(reason)")
        }
        return Entry(path: destination, sha256: digest)
    }

    /// The real reason a plugin file cannot be read, as a user would want it named.
    private static func unreadableReason(_ path: String, _ error: Error) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return errno == ENOENT ? "no such file" : String(cString: strerror(errno)) }
        if info.st_mode & S_IFMT == S_IFDIR { return "is a directory" }
        if access(path, R_OK) != 0 { return "permission denied" }
        return error.localizedDescription
    }
}
