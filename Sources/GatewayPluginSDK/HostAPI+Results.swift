import CGatewayABI

/// Reading query results out of host memory (gatewayd.h, "Query results"): each result is
/// copied into Swift values and released with the host's `free` before the call returns, so no
/// host memory ever reaches plugin code. A partial result (``GatewayError/Code/timeout`` or
/// ``GatewayError/Code/unavailable`` from a query of every gateway) is released and thrown.
extension HostAPI {
    /// One entry of a `gwd_table`: a list (list tables) or a number (number tables).
    struct TableEntry {
        var key: String
        var count: Int
        var items: [String]?
    }

    /// Calls a query that fills a `gwd_list **` and returns the list's strings.
    func list(_ query: (UnsafeMutablePointer<UnsafeMutablePointer<gwd_list>?>) -> Int32) throws(GatewayError) -> [String] {
        var result: UnsafeMutablePointer<gwd_list>?
        let status = query(&result)
        defer { release(result) }
        try check(status)
        guard let list = result?.pointee else { return [] }
        return strings(list.items, list.count)
    }

    /// Calls a query that fills a `gwd_table **` and returns its entries in order.
    func table(_ query: (UnsafeMutablePointer<UnsafeMutablePointer<gwd_table>?>) -> Int32) throws(GatewayError) -> [TableEntry] {
        var result: UnsafeMutablePointer<gwd_table>?
        let status = query(&result)
        defer { release(result) }
        try check(status)
        guard let table = result?.pointee, let entries = table.entries, table.count > 0 else { return [] }
        return UnsafeBufferPointer(start: entries, count: table.count).map { entry in
            TableEntry(key: String(copying: entry.key), count: entry.count,
                       items: entry.items.map { strings($0, entry.count) })
        }
    }

    /// Calls a query that fills a `gwd_buffer` and returns its bytes as UTF-8 text.
    func buffer(_ query: (UnsafeMutablePointer<gwd_buffer>) -> Int32) throws(GatewayError) -> String {
        var buffer = gwd_buffer()
        let status = query(&buffer)
        defer { release(buffer.data) }
        try check(status)
        guard let data = buffer.data else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: buffer.len), as: UTF8.self)
    }

    private func strings(_ items: UnsafePointer<gwd_bytes>?, _ count: Int) -> [String] {
        guard let items, count > 0 else { return [] }
        return UnsafeBufferPointer(start: items, count: count).map { String(copying: $0) }
    }

    private func release<Pointee>(_ pointer: UnsafeMutablePointer<Pointee>?) {
        if let pointer { entry(\.free)?(pointer) }
    }
}
