import Foundation

/// The files a running deployment keeps in its run directory.
public struct RunDirectory: Sendable, Hashable {
    public var path: String

    public init(path: String) {
        self.path = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
    }

    public var pidFile: String { path + "/gatewayd.pid" }
    public var controlSocket: String { path + "/gatewayd.sock" }
    public var logFile: String { path + "/gatewayd.log" }
    /// The running deployment's resolved configuration (real ports), for `restart`.
    public var configurationFile: String { path + "/gatewayd.config.json" }
    /// The content-addressed plugin store: `<sha256>.so`, read-only copies workers load.
    public var pluginStore: String { path + "/plugins" }

    /// Creates the directory readable by this user only (0700), or tightens an existing one that
    /// this user owns: it holds the resolved configuration (with its secrets), the log and the
    /// control socket, which stops and reloads everything.
    public func createPrivate() throws(RunDirectoryError) {
        // An existing directory is left as it is here and tightened below.
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw RunDirectoryError(path: path, reason: error.localizedDescription)
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw RunDirectoryError(path: path, reason: "not a directory")
        }
        guard info.st_uid == getuid() else {
            throw RunDirectoryError(path: path, reason: "owned by another user (uid \(info.st_uid))")
        }
        if info.st_mode & 0o077 != 0, chmod(path, 0o700) != 0 {
            throw RunDirectoryError(path: path, reason: "cannot make it private (chmod 0700): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `data` to `file` with mode 0600 (a new file beside it, then renamed over it).
    public static func writePrivate(_ data: Data, to file: String) -> Bool {
        let temporary = file + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        let written = FileDescriptorIO.writeAll(fd, Array(data))
        // An existing file keeps its mode through O_TRUNC: set it.
        let done = written && fchmod(fd, 0o600) == 0
        close(fd)
        guard done, rename(temporary, file) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }

    /// The master pid from the pid file, if that process is alive.
    public func runningMasterPID() -> Int32? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }
}

/// The run directory could not be made ready; worded for the one-line error.
public struct RunDirectoryError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { "cannot use run directory \(path): \(reason)" }
}
