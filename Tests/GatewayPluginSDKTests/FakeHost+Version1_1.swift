import CGatewayABI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func names(_ list: UnsafePointer<gwd_bytes>?, _ count: Int) -> [String] {
    guard let list else { return [] }
    return UnsafeBufferPointer(start: list, count: count).map { text($0.data, $0.len) }
}

extension FakeHostTable {
    /// The ABI 1.1 entries: record the call, answer from ``FakeHost``'s canned results in host
    /// memory laid out as gatewayd.h says (tracked in ``FakeHost/outstandingBuffers``).
    static func installVersion1_1(_ table: inout gwd_host_api) {
        table.destroy_client = { context, client in
            fakeHost.record(context, HostCall(function: "destroy_client", client: clientString(client)))
        }
        table.destroy_current_client = { context in
            fakeHost.record(context, HostCall(function: "destroy_current_client"))
        }
        table.send_to_clients = { context, ids, count, data, length, flags in
            fakeHost.record(context, HostCall(function: "send_to_clients", data: text(data, length), bytes: bytes(data, length),
                                              flags: flags, list: clientIDs(ids, count)))
        }
        table.send_to_uids = { context, uids, count, data, length, flags in
            fakeHost.record(context, HostCall(function: "send_to_uids", data: text(data, length), bytes: bytes(data, length),
                                              flags: flags, list: names(uids, count)))
        }
        table.send_to_groups = { context, groups, count, data, length, flags, exclude, excludeCount in
            fakeHost.record(context, HostCall(function: "send_to_groups", data: text(data, length), bytes: bytes(data, length),
                                              flags: flags, exclude: clientIDs(exclude, excludeCount), list: names(groups, count)))
        }
        table.is_uid_online = { context, uid, length, out in
            fakeFlag(context, HostCall(function: "is_uid_online", name: text(uid, length)), out)
        }
        table.get_client_id_by_uid = { context, uid, length, out in
            fakeList(context, HostCall(function: "get_client_id_by_uid", name: text(uid, length)), out)
        }
        table.get_uid_by_client_id = { context, client, out in
            fakeBuffer(context, HostCall(function: "get_uid_by_client_id", client: clientString(client)), out)
        }
        table.get_client_count_by_group = { context, group, length, out in
            fakeCount(context, HostCall(function: "get_client_count_by_group", name: text(group, length)), out)
        }
        table.get_client_id_list_by_group = { context, group, length, out in
            fakeList(context, HostCall(function: "get_client_id_list_by_group", name: text(group, length)), out)
        }
        table.get_client_sessions_by_group = { context, group, length, out in
            fakeBuffer(context, HostCall(function: "get_client_sessions_by_group", name: text(group, length)), out)
        }
        table.get_uid_list_by_group = { context, group, length, out in
            fakeList(context, HostCall(function: "get_uid_list_by_group", name: text(group, length)), out)
        }
        table.get_uid_count_by_group = { context, group, length, out in
            fakeCount(context, HostCall(function: "get_uid_count_by_group", name: text(group, length)), out)
        }
        table.get_all_client_id_list = { context, out in fakeList(context, HostCall(function: "get_all_client_id_list"), out) }
        table.get_all_client_sessions = { context, out in fakeBuffer(context, HostCall(function: "get_all_client_sessions"), out) }
        table.get_all_group_id_list = { context, out in fakeList(context, HostCall(function: "get_all_group_id_list"), out) }
        table.get_all_uid_list = { context, out in fakeList(context, HostCall(function: "get_all_uid_list"), out) }
        table.get_all_uid_count = { context, out in fakeCount(context, HostCall(function: "get_all_uid_count"), out) }
        table.get_all_group_uid_list = { context, out in fakeTable(context, HostCall(function: "get_all_group_uid_list"), out) }
        table.get_all_group_uid_count = { context, out in fakeTable(context, HostCall(function: "get_all_group_uid_count"), out) }
        table.get_all_group_client_id_list = { context, out in
            fakeTable(context, HostCall(function: "get_all_group_client_id_list"), out)
        }
        table.get_all_group_client_id_count = { context, out in
            fakeTable(context, HostCall(function: "get_all_group_client_id_count"), out)
        }
        table.batch_get_client_id_by_uid = { context, uids, count, out in
            fakeTable(context, HostCall(function: "batch_get_client_id_by_uid", list: names(uids, count)), out)
        }
        table.batch_get_client_count_by_group = { context, groups, count, out in
            fakeTable(context, HostCall(function: "batch_get_client_count_by_group", list: names(groups, count)), out)
        }
        table.is_uids_online = { context, uids, count, out in
            fakeTable(context, HostCall(function: "is_uids_online", list: names(uids, count)), out)
        }
    }
}

// MARK: Answers
//
// Like the real host: on GWD_OK and on a partial status (TIMEOUT, UNAVAILABLE) the result is
// handed out; on any other status there is none.

private func hasResult(_ status: Int32) -> Bool {
    status == 0 || status == Int32(GWD_ERR_TIMEOUT.rawValue) || status == Int32(GWD_ERR_UNAVAILABLE.rawValue)
}

private func fakeFlag(_ context: OpaquePointer?, _ call: HostCall, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    let status = fakeHost.record(context, call)
    if hasResult(status) { out?.pointee = fakeHost.answers[call.function] == true ? 1 : 0 }
    return status
}

private func fakeCount(_ context: OpaquePointer?, _ call: HostCall, _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    let status = fakeHost.record(context, call)
    if hasResult(status) { out?.pointee = fakeHost.counts[call.function] ?? 0 }
    return status
}

private func fakeBuffer(_ context: OpaquePointer?, _ call: HostCall, _ out: UnsafeMutablePointer<gwd_buffer>?) -> Int32 {
    out?.pointee = gwd_buffer()
    let status = fakeHost.record(context, call)
    guard hasResult(status), let text = fakeHost.buffers[call.function] else {
        return hasResult(status) ? Int32(GWD_ERR_NOT_FOUND.rawValue) : status
    }
    let memory = strdup(text)!
    fakeHost.outstandingBuffers.insert(UnsafeMutableRawPointer(memory))
    out?.pointee = gwd_buffer(data: memory, len: text.utf8.count)
    return status
}

private func fakeList(_ context: OpaquePointer?, _ call: HostCall,
                      _ out: UnsafeMutablePointer<UnsafeMutablePointer<gwd_list>?>?) -> Int32 {
    out?.pointee = nil
    let status = fakeHost.record(context, call)
    guard hasResult(status) else { return status }
    let items = fakeHost.lists[call.function] ?? []
    let block = FakeResultBlock(headerBytes: MemoryLayout<gwd_list>.stride, views: items.count, strings: items)
    block.header.bindMemory(to: gwd_list.self, capacity: 1)
        .initialize(to: gwd_list(count: items.count, items: block.store(items) ?? UnsafePointer(block.emptyViews)))
    out?.pointee = block.header.assumingMemoryBound(to: gwd_list.self)
    return status
}

private func fakeTable(_ context: OpaquePointer?, _ call: HostCall,
                       _ out: UnsafeMutablePointer<UnsafeMutablePointer<gwd_table>?>?) -> Int32 {
    out?.pointee = nil
    let status = fakeHost.record(context, call)
    guard hasResult(status) else { return status }
    let entries = fakeHost.tables[call.function] ?? []
    let items = entries.flatMap { $0.items ?? [] }
    let header = MemoryLayout<gwd_table>.stride + entries.count * MemoryLayout<gwd_table_entry>.stride
    let block = FakeResultBlock(headerBytes: header, views: items.count, strings: entries.map(\.key) + items)
    let cEntries = (block.header + MemoryLayout<gwd_table>.stride).bindMemory(to: gwd_table_entry.self, capacity: entries.count)
    for (index, entry) in entries.enumerated() {
        let key = block.store([entry.key])!.pointee
        let views = entry.items.map { block.store($0) ?? UnsafePointer(block.emptyViews) }
        (cEntries + index).initialize(to: gwd_table_entry(key: key, count: entry.items?.count ?? entry.count, items: views))
    }
    block.header.bindMemory(to: gwd_table.self, capacity: 1).initialize(to: gwd_table(count: entries.count, entries: cEntries))
    out?.pointee = block.header.assumingMemoryBound(to: gwd_table.self)
    return status
}

/// One malloc'd result block, as the host hands out: a header, then views, then strings.
/// Simpler than the host's layout code on purpose: each `store` takes views from a cursor.
private final class FakeResultBlock {
    let header: UnsafeMutableRawPointer
    private var views: UnsafeMutablePointer<gwd_bytes>
    let emptyViews: UnsafeMutablePointer<gwd_bytes>
    private var strings: UnsafeMutablePointer<CChar>

    init(headerBytes: Int, views count: Int, strings: [String]) {
        let viewBytes = (count + strings.count) * MemoryLayout<gwd_bytes>.stride
        let stringBytes = strings.reduce(0) { $0 + $1.utf8.count + 1 }
        header = malloc(headerBytes + viewBytes + stringBytes + 1)!
        fakeHost.outstandingBuffers.insert(header)
        views = (header + headerBytes).bindMemory(to: gwd_bytes.self, capacity: count + strings.count)
        emptyViews = views
        self.strings = (header + headerBytes + viewBytes).bindMemory(to: CChar.self, capacity: stringBytes + 1)
    }

    /// Copies `items` in and returns their views (nil for none).
    func store(_ items: [String]) -> UnsafePointer<gwd_bytes>? {
        guard !items.isEmpty else { return nil }
        let first = views
        for item in items {
            let utf8 = Array(item.utf8)
            for (offset, byte) in utf8.enumerated() { strings[offset] = CChar(bitPattern: byte) }
            strings[utf8.count] = 0
            views.initialize(to: gwd_bytes(data: strings, len: utf8.count))
            strings += utf8.count + 1
            views += 1
        }
        return UnsafePointer(first)
    }
}
