import GatewayCompression
import GatewayHub
import GatewayWebSocket
import GatewayWire

#if canImport(Glibc)
import Glibc
#endif

/// What the engine gateway keeps per client socket besides the engine's record and the hub's
/// client: where the client is in its protocol, and that protocol's decoder. A fixed slot in a
/// table indexed by descriptor, like the engine's records (issue 14: no object graph per
/// connection beyond the hub's client).
struct ClientSlot: ~Copyable {
    enum Phase: UInt8 {
        /// The HTTP upgrade request is arriving (its parser waits in `EngineGateway.handshakes`).
        case handshake
        /// The request went to the worker; reading pauses until its verdict.
        case awaitingVerdict
        case webSocket
        case text
        case frame
        /// A close or failure was answered; what the client still sends is dropped.
        case finished
    }

    /// Nil for a connection refused at accept (over `max_connections`), closing.
    var client: HubClient<EngineGateway>?
    var phase: Phase
    /// permessage-deflate as agreed in the upgrade request (answered in the 101); nil: none.
    var deflate: PermessageDeflateAgreement? = nil
    var webSocket: WebSocketFrameDecoder
    var text: TextLineScanner
    var frame: LengthPrefixedScanner
}

/// `ClientSlot`s by descriptor. Reserved for the process's descriptor limit and touched only
/// where connections are: an idle table costs RSS only for the pages its connections use.
/// A slot is initialized while its connection is open and deinitialized when it closes.
struct ClientSlots: ~Copyable {
    private let slots: UnsafeMutablePointer<ClientSlot>
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        // Uninitialized and untouched: mmap'd pages that cost nothing until a slot is used.
        let raw = calloc(capacity, MemoryLayout<ClientSlot>.stride)!
        slots = raw.bindMemory(to: ClientSlot.self, capacity: capacity)
    }

    deinit {
        // Open slots are deinitialized by their connections' ends; a gateway never frees its table.
        free(slots)
    }

    func open(_ fd: Int32, _ slot: consuming ClientSlot) {
        (slots + Int(fd)).initialize(to: slot)
    }

    func close(_ fd: Int32) {
        (slots + Int(fd)).deinitialize(count: 1)
    }

    /// The slot of an open connection (`fd` below the engine's descriptor limit).
    func slot(_ fd: Int32) -> UnsafeMutablePointer<ClientSlot> {
        slots + Int(fd)
    }
}
