import CGatewayABI
import CSwiftCompilerStamp

/// What `gatewayd --version` prints. The product version is written here and nowhere else
/// (status reports it; CHANGELOG.md's newest entry must name it, which a test checks).
enum GatewaydVersion {
    static let product = "0.1.0"

    /// Where gatewayd's package is published; each release is tagged with its version (`0.1.0`),
    /// which is what a Swift plugin's `.package(url:, from:)` resolves (`gatewayd plugin new swift`).
    static let packageURL = "https://github.com/gatewayd/gatewayd.git"

    /// The plugin ABI this binary hosts, from include/gatewayd.h as compiled in.
    static let pluginABI = "\(GWD_ABI_VERSION_MAJOR).\(GWD_ABI_VERSION_MINOR)"

    /// The Swift compiler that built this binary, major.minor (Swift plugins must be built with
    /// the same one); Package.swift says why it comes from there.
    static let swiftCompiler = String(cString: gwd_swift_compiler_of_this_binary())

    #if DEBUG
    static let build = "debug"
    #else
    static let build = "release"
    #endif

    /// `gatewayd 0.1.0`, the plugin ABI, the compiler and the build configuration, one per line.
    static var description: String {
        """
        gatewayd \(product)
        plugin ABI \(pluginABI) (include/gatewayd.h)
        built with Swift \(swiftCompiler) (\(build) build)
        """
    }
}
