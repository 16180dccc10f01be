/// The events a plugin declared, by index, with a name lookup that does not allocate.
///
/// Names are found through an open-addressing table (linear probing, at most half full) of
/// 32-bit FNV-1a hashes; a hit is confirmed by comparing the bytes. What the decoder reads per
/// argument (types, field names) is kept flat as well, so decoding copies no signature.
public struct EventTable: Sendable {
    /// Everything in one immutable object, so that a copy of the table (the decoder is handed
    /// one per message) is one reference count, and reads need no exclusivity check: 11
    /// separate arrays cost 11 retains and releases per copy, ≈ 250 ns per event (measured
    /// with bench/Benchmarks/EventBenchmarks, 2026-12-07). Declaring builds a new one.
    private final class Storage: Sendable {
        let tables: Tables

        init(_ tables: Tables) {
            self.tables = tables
        }
    }

    /// The flat tables, mutable while a declaration is added.
    private struct Tables: Sendable {
        var names: [String] = []
        var signatures: [EventSignature] = []
        /// Every name's UTF-8, back to back; event `i`'s is `nameBytes[nameStarts[i]..<nameStarts[i + 1]]`.
        var nameBytes: [UInt8] = []
        var nameStarts: [Int] = [0]
        var hashes: [UInt32] = []
        /// Event index per slot, -1 when empty; a power of two long.
        var slots: [Int32] = []
        /// Event `i`'s arguments are `argumentTypes[argumentStarts[i]..<argumentStarts[i + 1]]`.
        var argumentStarts: [Int] = [0]
        var argumentTypes: [EventArgumentType] = []
        /// Field names per argument (same numbering), back to back: argument `a`'s is
        /// `fieldNameBytes[fieldNameStarts[a]..<fieldNameStarts[a + 1]]`, empty when it has none.
        var fieldNameBytes: [UInt8] = []
        var fieldNameStarts: [Int] = [0]

        mutating func rehash(capacity: Int) {
            self.slots = Array(repeating: -1, count: capacity)
            for index in self.names.indices { self.insert(index) }
        }

        mutating func insert(_ index: Int) {
            let mask = self.slots.count - 1
            var slot = Int(self.hashes[index]) & mask
            while self.slots[slot] >= 0 { slot = (slot + 1) & mask }
            self.slots[slot] = Int32(index)
        }
    }

    private var storage = Storage(Tables())

    public init() {}

    /// How many events are declared.
    public var count: Int { self.storage.tables.names.count }

    public subscript(index: Int) -> (name: String, signature: EventSignature) {
        (self.storage.tables.names[index], self.storage.tables.signatures[index])
    }

    /// The signature of event `index`.
    public func signature(at index: Int) -> EventSignature {
        self.storage.tables.signatures[index]
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

        var draft = self.storage.tables
        let index = draft.names.count
        draft.names.append(name)
        draft.signatures.append(signature)
        draft.nameBytes.append(contentsOf: utf8)
        draft.nameStarts.append(draft.nameBytes.count)
        draft.hashes.append(hash)
        draft.argumentTypes.append(contentsOf: signature.types)
        draft.argumentStarts.append(draft.argumentTypes.count)
        for name in signature.names {
            draft.fieldNameBytes.append(contentsOf: name?.utf8 ?? "".utf8)
            draft.fieldNameStarts.append(draft.fieldNameBytes.count)
        }
        if draft.slots.count < 2 * draft.names.count {
            var capacity = 16
            while capacity < 4 * draft.names.count { capacity *= 2 }
            draft.rehash(capacity: capacity)
        } else {
            draft.insert(index)
        }
        self.storage = Storage(draft)
        return index
    }

    /// The index of the event whose name is exactly these bytes (UTF-8, already unescaped), or
    /// nil. Does not allocate.
    public func index(ofName bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count > 0, bytes.count <= EventLimits.maximumNameBytes, !self.storage.tables.slots.isEmpty else { return nil }
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
        self.storage.tables.argumentStarts[event + 1] - self.storage.tables.argumentStarts[event]
    }

    /// The type of argument `slot` of event `event`.
    @inline(__always)
    func argumentType(of event: Int, at slot: Int) -> EventArgumentType {
        self.storage.tables.argumentTypes[self.storage.tables.argumentStarts[event] + slot]
    }

    /// The argument of event `event` whose field name is exactly these bytes.
    func argument(of event: Int, fieldName start: UnsafePointer<UInt8>, count: Int) -> Int? {
        guard count > 0 else { return nil }
        let storage = self.storage
        let first = storage.tables.argumentStarts[event]
        return storage.tables.fieldNameBytes.withUnsafeBufferPointer { names in
            for slot in 0..<storage.tables.argumentStarts[event + 1] - first {
                let from = storage.tables.fieldNameStarts[first + slot]
                if storage.tables.fieldNameStarts[first + slot + 1] - from == count, Self.sameBytes(names.baseAddress! + from, start, count) {
                    return slot
                }
            }
            return nil
        }
    }

    private func find(_ bytes: UnsafeRawBufferPointer, hash: UInt32) -> Int? {
        let storage = self.storage
        guard !storage.tables.slots.isEmpty, let start = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        let mask = storage.tables.slots.count - 1
        var slot = Int(hash) & mask
        return storage.tables.nameBytes.withUnsafeBufferPointer { names in
            while true {
                let index = Int(storage.tables.slots[slot])
                if index < 0 { return nil }
                let from = storage.tables.nameStarts[index]
                if storage.tables.hashes[index] == hash, storage.tables.nameStarts[index + 1] - from == bytes.count,
                    Self.sameBytes(names.baseAddress! + from, start, bytes.count)
                {
                    return index
                }
                slot = (slot + 1) & mask
            }
        }
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
