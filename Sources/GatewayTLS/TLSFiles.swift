/// Where a listener's certificate and key are, and the oldest version it accepts: what a
/// gateway reads at its start and again when `gatewayd reload` says so.
public struct TLSFiles: Sendable, Hashable {
    public var certificateChain: String
    public var privateKey: String
    public var minimumVersion: TLSVersion

    public init(certificateChain: String, privateKey: String, minimumVersion: TLSVersion) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.minimumVersion = minimumVersion
    }

    /// A server context from the files as they are now.
    public func load() throws(TLSConfigurationError) -> TLSServerContext {
        try TLSServerContext(certificateChainFile: certificateChain, privateKeyFile: privateKey, minimumVersion: minimumVersion)
    }
}
