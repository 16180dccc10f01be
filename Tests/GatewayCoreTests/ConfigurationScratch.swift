import Foundation
import GatewayCore

/// A temporary directory for config files, and resolution the way `start` does it.
final class ConfigurationScratch {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "gatewayd-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Writes `text` to `name` in the directory; returns its path.
    @discardableResult
    func write(_ text: String, to name: String = "gatewayd.yaml") throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Defaults < `yaml` (as gatewayd.yaml here) < `environment` < `flags`.
    func resolve(
        _ yaml: String? = nil, environment: [String: String] = [:], flags: [String] = []
    ) throws -> ConfigurationResolver.Resolved {
        let file = try yaml.map { try write($0) }
        return try ConfigurationResolver(
            file: file, environment: environment, flags: try ConfigurationFlags.parse(flags), workingDirectory: directory
        ).resolve()
    }

    /// The configuration `yaml` gives.
    func configuration(_ yaml: String) throws -> GatewayConfiguration { try resolve(yaml).configuration }

    /// The one-line error resolving these gives, or nil when they resolve.
    func error(_ yaml: String? = nil, environment: [String: String] = [:], flags: [String] = []) -> String? {
        do {
            _ = try resolve(yaml, environment: environment, flags: flags)
            return nil
        } catch {
            return "\(error)"
        }
    }
}
