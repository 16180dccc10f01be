import CGatewayABI

/// The host's function table as the entry received it. The pointer is the host's and lives as
/// long as the process; entries are read only when the table's `struct_size` covers them.
struct HostAPI {
    let table: UnsafePointer<gwd_host_api>

    var structSize: Int { Int(table.pointer(to: \.struct_size)!.pointee) }
    var abiMajor: UInt16 { table.pointer(to: \.abi_major)!.pointee }
    var abiMinor: UInt16 { table.pointer(to: \.abi_minor)!.pointee }

    /// The entry at `field`, or nil when the host's table ends before it or leaves it NULL
    /// (the header's `GWD_HAS`).
    func entry<Function>(_ field: KeyPath<gwd_host_api, Function?>) -> Function? {
        guard let offset = MemoryLayout<gwd_host_api>.offset(of: field),
              offset + MemoryLayout<Function?>.size <= structSize
        else { return nil }
        return table.pointer(to: field)!.pointee
    }

    /// The entry at `field`, or ``GatewayError/Code/unsupported`` naming it.
    func require<Function>(_ field: KeyPath<gwd_host_api, Function?>, _ name: String) throws(GatewayError) -> Function {
        guard let function = entry(field) else {
            throw GatewayError(code: .unsupported, message: "the host's API table has no \(name) (ABI \(abiMajor).\(abiMinor))")
        }
        return function
    }

    /// Throws the ``GatewayError`` for a status other than `GWD_OK`.
    func check(_ status: Int32) throws(GatewayError) {
        if status != 0 { throw error(status) }
    }

    func error(_ status: Int32) -> GatewayError {
        GatewayError(code: .init(rawValue: status), message: describe(status))
    }

    /// The host's `status_string`, or the code's C name when the host has none.
    func describe(_ status: Int32) -> String {
        if let statusString = entry(\.status_string), let text = statusString(status) {
            return String(cString: text)
        }
        return GatewayError.Code(rawValue: status).description
    }
}

// MARK: - Passing Swift values as the C arguments the table takes

/// A byte to point at for empty payloads: the header does not say whether a NULL pointer with
/// length 0 is an empty string or an invalid argument, so the SDK never passes NULL for bytes.
private let emptyBytes: StaticString = ""

/// Calls `body` with the UTF-8 of `string` as (pointer, length), the pointer never NULL.
func withBytes<Result>(of string: String, _ body: (UnsafePointer<CChar>, Int) -> Result) -> Result {
    var string = string
    return string.withUTF8 { utf8 in
        guard let base = utf8.baseAddress, !utf8.isEmpty else {
            return body(UnsafeRawPointer(emptyBytes.utf8Start).assumingMemoryBound(to: CChar.self), 0)
        }
        return body(UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), utf8.count)
    }
}

/// Calls `body` with a message's payload as (pointer, length, `GWD_SEND_*` flags).
func withPayload<Result>(of message: Message, options: Gateway.SendOptions,
                         _ body: (UnsafeRawPointer, Int, UInt32) -> Result) -> Result {
    switch message {
    case .text(let text):
        return withBytes(of: text) { body(UnsafeRawPointer($0), $1, options.rawValue) }
    case .binary(let bytes):
        let flags = options.rawValue | GWD_SEND_BINARY
        return bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, !raw.isEmpty else {
                return body(UnsafeRawPointer(emptyBytes.utf8Start), 0, flags)
            }
            return body(base, raw.count, flags)
        }
    }
}

/// Calls `body` with the client id as the NUL-terminated string the table takes, or NULL.
func withClientID<Result>(_ client: ClientID?, _ body: (UnsafePointer<CChar>?) -> Result) -> Result {
    guard let client else { return body(nil) }
    return client.rawValue.withCString(body)
}

/// Calls `body` with the ids as a C array of NUL-terminated strings (NULL when empty) and its count.
func withClientIDs<Result>(_ clients: [ClientID], _ body: (UnsafePointer<UnsafePointer<CChar>?>?, Int) -> Result) -> Result {
    if clients.isEmpty { return body(nil, 0) }
    let stride = ClientID.length + 1
    var storage = [CChar](repeating: 0, count: clients.count * stride)
    for (index, client) in clients.enumerated() {
        for (offset, byte) in client.rawValue.utf8.enumerated() {
            storage[index * stride + offset] = CChar(bitPattern: byte)
        }
    }
    return storage.withUnsafeBufferPointer { strings in
        let pointers: [UnsafePointer<CChar>?] = clients.indices.map { strings.baseAddress! + $0 * stride }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress, clients.count) }
    }
}

/// Calls `body` with the pairs as a C array of `gwd_pair` over one copy of their bytes.
func withPairs<Result>(_ pairs: [String: String], _ body: (UnsafePointer<gwd_pair>?, Int) -> Result) -> Result {
    let flat = pairs.flatMap { [$0.key, $0.value] }
    return withViews(of: flat) { views in
        let cPairs = stride(from: 0, to: views.count, by: 2).map { gwd_pair(key: views[$0], value: views[$0 + 1]) }
        if cPairs.isEmpty {  // an empty map: still a real pointer, with count 0
            return withUnsafePointer(to: gwd_pair()) { body($0, 0) }
        }
        return cPairs.withUnsafeBufferPointer { body($0.baseAddress, cPairs.count) }
    }
}

/// Calls `body` with the names as a C array of `gwd_bytes` (NULL when empty) and its count.
func withNames<Result>(_ names: [String], _ body: (UnsafePointer<gwd_bytes>?, Int) -> Result) -> Result {
    withViews(of: names) { views in
        views.withUnsafeBufferPointer { body(views.isEmpty ? nil : $0.baseAddress, views.count) }
    }
}

/// Calls `body` with a `gwd_bytes` view of each string, all over one copy of their UTF-8.
private func withViews<Result>(of strings: [String], _ body: ([gwd_bytes]) -> Result) -> Result {
    var storage: [UInt8] = []
    var ranges: [Range<Int>] = []
    for string in strings {
        let start = storage.count
        storage.append(contentsOf: string.utf8)
        ranges.append(start..<storage.count)
    }
    storage.append(0)  // never empty, so every view points at real memory
    return storage.withUnsafeBufferPointer { buffer in
        let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
        return body(ranges.map { gwd_bytes(data: base + $0.lowerBound, len: $0.count) })
    }
}
