// What the public API is made of, so that `import GatewayClient` is all a caller needs.
@_exported import GatewayAPI
@_exported import struct GatewayCore.HostPort
@_exported import struct GatewayWire.ClientID
@_exported import struct GatewayWire.JSONMember
@_exported import enum GatewayWire.JSONValue
@_exported import enum GatewayWire.PHPValue
