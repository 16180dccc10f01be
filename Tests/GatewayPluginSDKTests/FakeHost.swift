import CGatewayABI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One call a plugin made into the fake host, with its arguments copied out.
struct HostCall: Equatable, CustomStringConvertible {
    var function: String
    /// The client id argument; nil when the function has none or the plugin passed NULL.
    var client: String? = nil
    /// A group name, uid or session key.
    var name: String? = nil
    /// The payload, JSON or log line, as text (test payloads are UTF-8).
    var data: String? = nil
    /// The payload as bytes, for binary checks.
    var bytes: [UInt8]? = nil
    var flags: UInt32 = 0
    var exclude: [String] = []
    var pairs: [String: String] = [:]
    /// A list of names (uids, groups) or client ids passed in.
    var list: [String] = []
    /// A number passed in: a timer's interval or id.
    var number: Int64? = nil

    var description: String {
        var parts = [function]
        if let client { parts.append("client=\(client)") }
        if let name { parts.append("name=\(name)") }
        if let data { parts.append("data=\(data.debugDescription)") }
        if flags != 0 { parts.append("flags=\(flags)") }
        if !exclude.isEmpty { parts.append("exclude=\(exclude)") }
        if !pairs.isEmpty { parts.append("pairs=\(pairs)") }
        if !list.isEmpty { parts.append("list=\(list)") }
        if let number { parts.append("number=\(number)") }
        return parts.joined(separator: " ")
    }
}

/// The state behind the fake host table: what the plugin called, and what the host answers.
/// Tests run one at a time on one thread, like a worker's plugin thread.
final class FakeHost {
    /// The `gwd_ctx *` the tests pass to callbacks; every host call must hand it back.
    static var context: OpaquePointer { OpaquePointer(bitPattern: 0xC7C7_0000)! }

    var calls: [HostCall] = []
    /// Statuses to answer instead of GWD_OK, by function name.
    var statuses: [String: Int32] = [:]
    /// Host calls whose ctx was not ``context``.
    var foreignContexts = 0

    var currentClient: String? = "0a0000000000000000a1"
    var pid: Int32 = 4242
    var workerIndex: Int32 = 3
    var clientCount: UInt64 = 17
    var online: Set<String> = []
    /// The current client's session, as session_get reads it; update_session merges into it.
    var session: [String: String] = [:]
    var sessionJSON = #"{"room":"lobby"}"#
    /// What get_session_json answers per client.
    var otherSessions: [String: String] = [:]
    /// What the 1.1 queries answer, by function name: lists, tables (key, count, items or nil
    /// for a number table), buffers, counts and yes/no answers.
    var lists: [String: [String]] = [:]
    var tables: [String: [(key: String, count: Int, items: [String]?)]] = [:]
    var buffers: [String: String] = [:]
    var counts: [String: UInt64] = [:]
    var answers: [String: Bool] = [:]

    /// Memory handed out by queries and not yet freed with api->free.
    var outstandingBuffers: Set<UnsafeMutableRawPointer> = []
    var freedBuffers = 0
    /// The timers the plugin added (ABI 1.2), by id; ``fire(_:)`` calls one as the host would.
    var timers: [UInt64: FakeTimer] = [:]
    var nextTimerID: UInt64 = 1
    /// The events a C plugin declared with event_on (ABI 1.2): signature and handler, by name.
    var eventHandlers: [String: (signature: String, handler: gwd_event_fn)] = [:]
    /// Borrowed views handed to the plugin; released at ``reset()``.
    private var borrowed: [UnsafeMutablePointer<CChar>] = []

    func status(_ function: String) -> Int32 { statuses[function] ?? 0 }

    func record(_ context: OpaquePointer?, _ call: HostCall) -> Int32 {
        if context != FakeHost.context { foreignContexts += 1 }
        calls.append(call)
        return status(call.function)
    }

    /// A copy of `string` that stays valid until ``reset()``.
    func borrow(_ string: String) -> UnsafeMutablePointer<CChar> {
        let copy = strdup(string)!
        borrowed.append(copy)
        return copy
    }

    /// The calls, without the log lines.
    var sends: [HostCall] { calls.filter { $0.function != "log" } }
    var logs: [String] { calls.filter { $0.function == "log" }.compactMap(\.data) }

    deinit {
        borrowed.forEach { free($0) }
    }
}

/// The recorder the fake table's C functions write to. Replaced by ``resetFakeHost()``.
nonisolated(unsafe) var fakeHost = FakeHost()

func resetFakeHost() {
    fakeHost = FakeHost()
    fakePosts.reset()
}

// MARK: - Argument copies

func text(_ data: UnsafeRawPointer?, _ length: Int) -> String {
    String(decoding: bytes(data, length), as: UTF8.self)
}

/// `bytes` read as UTF-8, as the recorder's `data` reads a payload.
func lossy(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

func bytes(_ data: UnsafeRawPointer?, _ length: Int) -> [UInt8] {
    guard let data else { return [] }
    return Array(UnsafeRawBufferPointer(start: data, count: length))
}

func clientIDs(_ list: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int) -> [String] {
    guard let list else { return [] }
    return (0..<count).map { list[$0].map { String(cString: $0) } ?? "<NULL>" }
}

func pairs(_ list: UnsafePointer<gwd_pair>?, _ count: Int) -> [String: String] {
    guard let list else { return [:] }
    var result: [String: String] = [:]
    for pair in UnsafeBufferPointer(start: list, count: count) {
        result[text(pair.key.data, pair.key.len)] = text(pair.value.data, pair.value.len)
    }
    return result
}

/// The NUL-terminated string at the start of `buffer`.
func string(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

func clientString(_ id: UnsafePointer<CChar>?) -> String? {
    id.map { String(cString: $0) }
}

// MARK: - The table

private func staticCString(_ string: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(string.utf8Start).assumingMemoryBound(to: CChar.self)
}

enum FakeHostTable {
    /// The status strings the fake host answers; the tests check errors carry them.
    static func describe(_ status: Int32) -> UnsafePointer<CChar>? {
        switch status {
        case 0: staticCString("ok")
        case 1: staticCString("invalid argument")
        case 2: staticCString("not found")
        case 3: staticCString("no current client")
        case 5: staticCString("timeout")
        case 7: staticCString("wrong thread")
        case 8: staticCString("unsupported")
        case 13: staticCString("queue full")
        case 14: staticCString("stopping")
        default: staticCString("fake: unknown status")
        }
    }

    /// The ABI 1.0 part of a table whose functions record into ``fakeHost`` (``allocate(_:)``
    /// adds the 1.1 and 1.2 entries).
    static func make() -> gwd_host_api {
        gwd_host_api(
            struct_size: UInt32(MemoryLayout<gwd_host_api>.size),
            abi_major: UInt16(GWD_ABI_VERSION_MAJOR),
            abi_minor: UInt16(GWD_ABI_VERSION_MINOR),
            status_string: { status in FakeHostTable.describe(status) },
            log: { context, level, message, length in
                _ = fakeHost.record(context, HostCall(function: "log", data: text(message, length), flags: UInt32(level)))
            },
            worker_info: { context, pid, index in
                let status = fakeHost.record(context, HostCall(function: "worker_info"))
                pid?.pointee = fakeHost.pid
                index?.pointee = fakeHost.workerIndex
                return status
            },
            current_client_id: { _ in
                fakeHost.currentClient.map { UnsafePointer(fakeHost.borrow($0)) }
            },
            send_to_client: { context, client, data, length, flags in
                fakeHost.record(context, HostCall(function: "send_to_client", client: clientString(client),
                                                  data: text(data, length), bytes: bytes(data, length), flags: flags))
            },
            send_to_current_client: { context, data, length, flags in
                fakeHost.record(context, HostCall(function: "send_to_current_client", data: text(data, length),
                                                  bytes: bytes(data, length), flags: flags))
            },
            send_to_all: { context, data, length, flags, exclude, excludeCount in
                fakeHost.record(context, HostCall(function: "send_to_all", data: text(data, length), bytes: bytes(data, length),
                                                  flags: flags, exclude: clientIDs(exclude, excludeCount)))
            },
            close_client: { context, client, data, length, flags in
                fakeHost.record(context, HostCall(function: "close_client", client: clientString(client),
                                                  data: data == nil ? nil : text(data, length), flags: flags))
            },
            close_current_client: { context, data, length, flags in
                fakeHost.record(context, HostCall(function: "close_current_client",
                                                  data: data == nil ? nil : text(data, length), flags: flags))
            },
            join_group: { context, client, group, length in
                fakeHost.record(context, HostCall(function: "join_group", client: clientString(client), name: text(group, length)))
            },
            leave_group: { context, client, group, length in
                fakeHost.record(context, HostCall(function: "leave_group", client: clientString(client), name: text(group, length)))
            },
            ungroup: { context, group, length in
                fakeHost.record(context, HostCall(function: "ungroup", name: text(group, length)))
            },
            send_to_group: { context, group, groupLength, data, length, flags, exclude, excludeCount in
                fakeHost.record(context, HostCall(function: "send_to_group", name: text(group, groupLength),
                                                  data: text(data, length), bytes: bytes(data, length), flags: flags,
                                                  exclude: clientIDs(exclude, excludeCount)))
            },
            bind_uid: { context, client, uid, length in
                fakeHost.record(context, HostCall(function: "bind_uid", client: clientString(client), name: text(uid, length)))
            },
            unbind_uid: { context, client, uid, length in
                fakeHost.record(context, HostCall(function: "unbind_uid", client: clientString(client), name: text(uid, length)))
            },
            send_to_uid: { context, uid, uidLength, data, length, flags in
                fakeHost.record(context, HostCall(function: "send_to_uid", name: text(uid, uidLength), data: text(data, length),
                                                  bytes: bytes(data, length), flags: flags))
            },
            is_online: { context, client, online in
                let status = fakeHost.record(context, HostCall(function: "is_online", client: clientString(client)))
                online?.pointee = clientString(client).map(fakeHost.online.contains) == true ? 1 : 0
                return status
            },
            get_all_client_count: { context, count in
                let status = fakeHost.record(context, HostCall(function: "get_all_client_count"))
                count?.pointee = fakeHost.clientCount
                return status
            },
            session_get: { context, key, length, value in
                let name = text(key, length)
                let status = fakeHost.record(context, HostCall(function: "session_get", name: name))
                guard status == 0 else { return status }
                guard let stored = fakeHost.session[name] else { return Int32(bitPattern: GWD_ERR_NOT_FOUND.rawValue) }
                value?.pointee = gwd_bytes(data: fakeHost.borrow(stored), len: stored.utf8.count)
                return 0
            },
            session_json: { context, json in
                let status = fakeHost.record(context, HostCall(function: "session_json"))
                json?.pointee = gwd_bytes(data: fakeHost.borrow(fakeHost.sessionJSON), len: fakeHost.sessionJSON.utf8.count)
                return status
            },
            set_session: { context, client, list, count in
                let status = fakeHost.record(context, HostCall(function: "set_session", client: clientString(client),
                                                               pairs: pairs(list, count)))
                if status == 0, client == nil { fakeHost.session = pairs(list, count) }
                return status
            },
            update_session: { context, client, list, count in
                let status = fakeHost.record(context, HostCall(function: "update_session", client: clientString(client),
                                                               pairs: pairs(list, count)))
                if status == 0, client == nil { fakeHost.session.merge(pairs(list, count)) { $1 } }
                return status
            },
            set_session_json: { context, client, json, length in
                fakeHost.record(context, HostCall(function: "set_session_json", client: clientString(client),
                                                  data: text(json, length)))
            },
            update_session_json: { context, client, json, length in
                fakeHost.record(context, HostCall(function: "update_session_json", client: clientString(client),
                                                  data: text(json, length)))
            },
            get_session_json: { context, client, buffer in
                let status = fakeHost.record(context, HostCall(function: "get_session_json", client: clientString(client)))
                guard status == 0 else { return status }
                guard let json = clientString(client).flatMap({ fakeHost.otherSessions[$0] }) else {
                    return Int32(bitPattern: GWD_ERR_NOT_FOUND.rawValue)
                }
                let memory = strdup(json)!
                fakeHost.outstandingBuffers.insert(UnsafeMutableRawPointer(memory))
                buffer?.pointee = gwd_buffer(data: memory, len: json.utf8.count)
                return 0
            },
            free: { pointer in
                guard let pointer else { return }
                if fakeHost.outstandingBuffers.remove(pointer) != nil { fakeHost.freedBuffers += 1 }
                free(pointer)
            },
            destroy_client: nil, destroy_current_client: nil, send_to_clients: nil, send_to_uids: nil,
            send_to_groups: nil, is_uid_online: nil, get_client_id_by_uid: nil, get_uid_by_client_id: nil,
            get_client_count_by_group: nil, get_client_id_list_by_group: nil, get_client_sessions_by_group: nil,
            get_uid_list_by_group: nil, get_uid_count_by_group: nil, get_all_client_id_list: nil,
            get_all_client_sessions: nil, get_all_group_id_list: nil, get_all_uid_list: nil, get_all_uid_count: nil,
            get_all_group_uid_list: nil, get_all_group_uid_count: nil, get_all_group_client_id_list: nil,
            get_all_group_client_id_count: nil, batch_get_client_id_by_uid: nil, batch_get_client_count_by_group: nil,
            is_uids_online: nil, timer_add: nil, timer_del: nil, get_poster: nil, post: nil,
            event_on: nil, event_result: nil, event_emit: nil)
    }

    /// A fresh table in memory that lives for the rest of the process, as a host's does.
    static func allocate(_ adjust: (inout gwd_host_api) -> Void = { _ in }) -> UnsafePointer<gwd_host_api> {
        var table = make()
        installVersion1_1(&table)
        installVersion1_2(&table)
        adjust(&table)
        let pointer = UnsafeMutablePointer<gwd_host_api>.allocate(capacity: 1)
        pointer.initialize(to: table)
        return UnsafePointer(pointer)
    }
}
