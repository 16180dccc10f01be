/// One client connection of a `ClientEngine`: its descriptor, and which use of that descriptor
/// number (descriptors are reused; an id of a closed connection never matches a later one).
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    public let fd: Int32
    public let generation: UInt32

    public init(fd: Int32, generation: UInt32) {
        self.fd = fd
        self.generation = generation
    }

    public var description: String { "connection \(fd)#\(generation)" }
}

/// Where an accepted connection came from (IPv4, host byte order; 0 for another family).
public struct PeerAddress: Hashable, Sendable {
    public var ipv4: UInt32
    public var port: UInt16

    public init(ipv4: UInt32, port: UInt16) {
        self.ipv4 = ipv4
        self.port = port
    }
}

/// Why a connection ended.
public enum CloseReason: Equatable, Sendable {
    /// The peer closed its side (read returned 0).
    case peerClosed
    /// A read or write failed (its errno, e.g. ECONNRESET).
    case failed(Int32)
    /// `ClientEngine.close(_:)` was called (after the output was flushed, or not).
    case closedLocally
    /// Output waited in the connection's backlog beyond `maximumBacklogBytes`.
    case backlogOverflow
    /// A partial message waited beyond `maximumPendingBytes`.
    case pendingOverflow
}
