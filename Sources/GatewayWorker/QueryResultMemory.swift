import CGatewayABI
import Glibc

/// Query results in the memory gatewayd.h promises ("Query results"): a `gwd_list` or
/// `gwd_table` is ONE malloc'd block — the header, its arrays, then every string followed by a
/// NUL — so the plugin releases it with a single `api->free`, and a client id taken from it is
/// a valid `client_id` argument as it is.
enum QueryResultMemory {
    /// A table entry's value: a list (list tables) or a number (number tables).
    enum TableValue: Equatable {
        case list([[UInt8]])
        case number(Int)
    }

    /// A `gwd_list` of `items`, in order.
    static func list(_ items: [[UInt8]]) throws(HostError) -> UnsafeMutablePointer<gwd_list> {
        let arrays = MemoryLayout<gwd_list>.stride + items.count * MemoryLayout<gwd_bytes>.stride
        var block = try Block(byteCount: arrays + stringBytes(items))
        let list = block.base.bindMemory(to: gwd_list.self, capacity: 1)
        let views = (block.base + MemoryLayout<gwd_list>.stride).bindMemory(to: gwd_bytes.self, capacity: items.count)
        block.strings = block.base + arrays
        for (index, item) in items.enumerated() { (views + index).initialize(to: block.store(item)) }
        list.initialize(to: gwd_list(count: items.count, items: views))
        return list
    }

    /// A `gwd_table` of `entries`, in order.
    static func table(_ entries: [(key: [UInt8], value: TableValue)]) throws(HostError) -> UnsafeMutablePointer<gwd_table> {
        let lists = entries.map { entry -> [[UInt8]] in
            if case .list(let items) = entry.value { return items }
            return []
        }
        let itemCount = lists.reduce(0) { $0 + $1.count }
        let entriesOffset = MemoryLayout<gwd_table>.stride
        let itemsOffset = entriesOffset + entries.count * MemoryLayout<gwd_table_entry>.stride
        let stringsOffset = itemsOffset + itemCount * MemoryLayout<gwd_bytes>.stride
        var block = try Block(
            byteCount: stringsOffset + stringBytes(entries.map(\.key)) + lists.reduce(0) { $0 + stringBytes($1) })
        let table = block.base.bindMemory(to: gwd_table.self, capacity: 1)
        let cEntries = (block.base + entriesOffset).bindMemory(to: gwd_table_entry.self, capacity: entries.count)
        var views = (block.base + itemsOffset).bindMemory(to: gwd_bytes.self, capacity: itemCount)
        block.strings = block.base + stringsOffset
        for (index, entry) in entries.enumerated() {
            let key = block.store(entry.key)
            switch entry.value {
            case .number(let number):
                (cEntries + index).initialize(to: gwd_table_entry(key: key, count: max(0, number), items: nil))
            case .list(let items):
                for (offset, item) in items.enumerated() { (views + offset).initialize(to: block.store(item)) }
                (cEntries + index).initialize(to: gwd_table_entry(key: key, count: items.count, items: views))
                views += items.count
            }
        }
        table.initialize(to: gwd_table(count: entries.count, entries: cEntries))
        return table
    }

    /// A `gwd_buffer` holding `bytes` and a NUL that `len` does not count.
    static func buffer(_ bytes: [UInt8]) throws(HostError) -> gwd_buffer {
        var block = try Block(byteCount: bytes.count + 1)
        block.strings = block.base
        let view = block.store(bytes)
        return gwd_buffer(data: UnsafeMutablePointer(mutating: view.data), len: view.len)
    }

    /// The bytes the strings take, each with its NUL.
    private static func stringBytes(_ strings: [[UInt8]]) -> Int {
        strings.reduce(0) { $0 + $1.count + 1 }
    }

    /// One malloc'd block and the place the next string goes.
    private struct Block {
        let base: UnsafeMutableRawPointer
        var strings: UnsafeMutableRawPointer

        init(byteCount: Int) throws(HostError) {
            // malloc aligns for every C type, and every array in the block has a stride that is a
            // multiple of 8, so each array starts aligned.
            guard let memory = malloc(max(byteCount, 1)) else { throw .noMemory }
            base = memory
            strings = memory
        }

        mutating func store(_ bytes: [UInt8]) -> gwd_bytes {
            let start = strings
            bytes.withUnsafeBytes { if let source = $0.baseAddress { start.copyMemory(from: source, byteCount: $0.count) } }
            start.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
            strings += bytes.count + 1
            return gwd_bytes(data: start.bindMemory(to: CChar.self, capacity: bytes.count + 1), len: bytes.count)
        }
    }
}
