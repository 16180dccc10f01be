import CGatewayABI

/// What `gatewayd --version` prints. The product version is written here and nowhere else
/// (status reports it; CHANGELOG.md's newest entry must name it, which a test checks).
enum GatewaydVersion {
    static let product = "0.1.0"

    /// The plugin ABI this binary hosts, from include/gatewayd.h as compiled in.
    static let pluginABI = "\(GWD_ABI_VERSION_MAJOR).\(GWD_ABI_VERSION_MINOR)"

    /// The Swift compiler that built this binary (Swift plugins must be built with the same
    /// toolchain); see `compilerVersion` below.
    static let swiftCompiler = compilerVersion

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

/// Code sees the compiler's version only through `#if compiler(>=…)`: this names the newest
/// major.minor the compiler is at least (the patch level is not visible to code).
#if compiler(>=8.0)
private let compilerVersion = "8.0 or later"
#elseif compiler(>=7.9)
private let compilerVersion = "7.9"
#elseif compiler(>=7.8)
private let compilerVersion = "7.8"
#elseif compiler(>=7.7)
private let compilerVersion = "7.7"
#elseif compiler(>=7.6)
private let compilerVersion = "7.6"
#elseif compiler(>=7.5)
private let compilerVersion = "7.5"
#elseif compiler(>=7.4)
private let compilerVersion = "7.4"
#elseif compiler(>=7.3)
private let compilerVersion = "7.3"
#elseif compiler(>=7.2)
private let compilerVersion = "7.2"
#elseif compiler(>=7.1)
private let compilerVersion = "7.1"
#elseif compiler(>=7.0)
private let compilerVersion = "7.0"
#elseif compiler(>=6.9)
private let compilerVersion = "6.9"
#elseif compiler(>=6.8)
private let compilerVersion = "6.8"
#elseif compiler(>=6.7)
private let compilerVersion = "6.7"
#elseif compiler(>=6.6)
private let compilerVersion = "6.6"
#elseif compiler(>=6.5)
private let compilerVersion = "6.5"
#elseif compiler(>=6.4)
private let compilerVersion = "6.4"
#elseif compiler(>=6.3)
private let compilerVersion = "6.3"
#elseif compiler(>=6.2)
private let compilerVersion = "6.2"
#elseif compiler(>=6.1)
private let compilerVersion = "6.1"
#else
private let compilerVersion = "before 6.1"
#endif
