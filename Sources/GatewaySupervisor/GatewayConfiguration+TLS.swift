import GatewayCore
import GatewayTLS

extension GatewayConfiguration {
    /// The certificate files of the wss:// listeners, for the master's check and the gateways;
    /// nil until both are set. (`TLSMinimumVersion` is the setting, `TLSVersion` OpenSSL's side
    /// of it: GatewayTLS sits below GatewayCore's dependencies, so the two meet here.)
    public var tlsFiles: TLSFiles? {
        guard let tlsCertificate, let tlsPrivateKey else { return nil }
        return TLSFiles(
            certificateChain: tlsCertificate, privateKey: tlsPrivateKey, minimumVersion: TLSVersion(rawValue: tlsMinVersion.rawValue) ?? .tls12)
    }
}
