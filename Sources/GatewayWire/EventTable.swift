/// The events a plugin declared, by index, with a name lookup that does not allocate.
///
/// Names are found through an open-addressing table (linear probing, at most half full) of
/// 32-bit FNV-1a hashes; a hit is confirmed by comparing the bytes. What the decoder reads per
/// argument (types, field names) is kept flat as well, so decoding copies no signature.
public struct EventTable: Sendable {
    private var names: [String] = []
    private var signatures: [EventSignature] = []
    /// Every name's UTF-8, back to back; event `i`'s is `nameBytes[nameStarts[i]..<nameStarts[i + 1]]`.
    private var nameBytes: [UInt8] = []
    private var nameStarts: [Int] = [0]
    private var hashes: [UInt32] = []
    /// Event index per slot, -1 when empty; a power of two long.
    private var slots: [Int32] = []
    /// Event `i`'s arguments are `argumentTypes[argumentStarts[i]..<argumentStarts[i + 1]]`.
    private var argumentStarts: [Int] = [0]
    private var argumentTypes: [EventArgumentType] = []
    /// Field names per argument (same numbering), back to back: argument `a`'s is
    /// `fieldNameBytes[fieldNameStarts[a]..<fieldNameStarts[a + 1]]`, empty when it has none.
    private var fieldNameBytes: [UInt8] = []
    private var fieldNameStarts: [Int] = [0]

    public init() {}

    /// How many events are declared.
    public var count: Int { self.names.count }

    public subscript(index: Int) -> (name: String, signature: EventSignature) {
        (self.names[index], self.signatures[index])
    }

    /// The signature of event `index`.
    public func signature(at index: Int) -> EventSignature {
        self.signatures[index]
    }

    /// Declares event `name` (1 to 64 bytes of UTF-8) and returns its index, `count` before
    /// the call.
    @discardableResult
    public mutating func declare(name: String, signature: EventSignature) throws(EventTableError) -> Int {
        let utf8 = Array(name.utf8)
        guard !utf8.isEmpty else { throw .emptyName }
        guard utf8.count <= EventLimits.maximumNameBytes else { throw .nameTooLong(name) }
        let hash = utf8.withUnsafeBufferPointer { Self.hash($0.baseAddress!, $0.count) }
        guard utf8.withUnsafeBytes({ self.find($0, hash: hash) }) == nil else { throw .exists(name) }

        let index = self.names.count
        self.names.append(name)
        self.signatures.append(signature)
        self.nameBytes.append(contentsOf: utf8)
        self.nameStarts.append(self.nameBytes.count)
        self.hashes.append(hash)
        self.argumentTypes.append(contentsOf: signature.types)
        self.argumentStarts.append(self.argumentTypes.count)
        for name in signature.names {
            self.fieldNameBytes.append(contentsOf: name?.utf8 ?? "".utf8)
            self.fieldNameStarts.append(self.fieldNameBytes.count)
        }
        if self.slots.count < 2 * self.names.count {
            var capacity = 16
            while capacity < 4 * self.names.count { capacity *= 2 }
            self.rehash(capacity: capacity)
        } else {
            self.insert(index)
        }
        return index
    }

    /// The index of the event whose name is exactly these bytes (UTF-8, already unescaped), or
    /// nil. Does not allocate.
    public func index(ofName bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count > 0, bytes.count <= EventLimits.maximumNameBytes, !self.slots.isEmpty else { return nil }
        return self.find(bytes, hash: Self.hash(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count))
    }

    /// The index of the event named `name`, or nil.
    public func index(ofName name: String) -> Int? {
        var name = name
        return name.withUTF8 { self.index(ofName: UnsafeRawBufferPointer($0)) }
    }

    // MARK: For the decoder

    /// How many arguments event `event` takes.
    @inline(__always)
    func argumentCount(of event: Int) -> Int {
        self.argumentStarts[event + 1] - self.argumentStarts[event]
    }

    /// The type of argument `slot` of event `event`.
    @inline(__always)
    func argumentType(of event: Int, at slot: Int) -> EventArgumentType {
        self.argumentTypes[self.argumentStarts[event] + slot]
    }

    /// The argument of event `event` whose field name is exactly these bytes.
    func argument(of event: Int, fieldName start: UnsafePointer<UInt8>, count: Int) -> Int? {
        guard count > 0 else { return nil }
        let first = self.argumentStarts[event]
        return self.fieldNameBytes.withUnsafeBufferPointer { names in
            for slot in 0..<self.argumentStarts[event + 1] - first {
                let from = self.fieldNameStarts[first + slot]
                if self.fieldNameStarts[first + slot + 1] - from == count, Self.sameBytes(names.baseAddress! + from, start, count) {
                    return slot
                }
            }
            return nil
        }
    }

    private func find(_ bytes: UnsafeRawBufferPointer, hash: UInt32) -> Int? {
        guard !self.slots.isEmpty, let start = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        let mask = self.slots.count - 1
        var slot = Int(hash) & mask
        return self.nameBytes.withUnsafeBufferPointer { names in
            while true {
                let index = Int(self.slots[slot])
                if index < 0 { return nil }
                let from = self.nameStarts[index]
                if self.hashes[index] == hash, self.nameStarts[index + 1] - from == bytes.count,
                    Self.sameBytes(names.baseAddress! + from, start, bytes.count)
                {
                    return index
                }
                slot = (slot + 1) & mask
            }
        }
    }

    private mutating func rehash(capacity: Int) {
        self.slots = Array(repeating: -1, count: capacity)
        for index in self.names.indices { self.insert(index) }
    }

    private mutating func insert(_ index: Int) {
        let mask = self.slots.count - 1
        var slot = Int(self.hashes[index]) & mask
        while self.slots[slot] >= 0 { slot = (slot + 1) & mask }
        self.slots[slot] = Int32(index)
    }

    /// 32-bit FNV-1a.
    static func hash(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        for offset in 0..<count {
            hash = (hash ^ UInt32(bytes[offset])) &* 0x0100_0193
        }
        return hash
    }

    static func sameBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        for offset in 0..<count where a[offset] != b[offset] { return false }
        return true
    }
}

/// Why `EventTable.declare` refused a name.
public enum EventTableError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The name is empty.
    case emptyName
    /// The name is longer than 64 bytes of UTF-8.
    case nameTooLong(String)
    /// An event of that name is already declared (`GWD_ERR_EXISTS`).
    case exists(String)

    public var description: String {
        switch self {
        case .emptyName: return "the event name is empty"
        case .nameTooLong(let name): return "the event name \"\(name)\" is longer than \(EventLimits.maximumNameBytes) bytes"
        case .exists(let name): return "an event named \"\(name)\" is already declared"
        }
    }
}
