import CGatewayABI
import Foundation
import GatewayWire

/// The host function table handed to every plugin (gwd_host_api, ABI 1.0).
///
/// This is one of the few globals in gatewayd, and on purpose: a C function pointer cannot
/// capture context, so each entry is a plain function that finds its worker through the
/// `gwd_ctx` argument. The table itself is immutable after creation and lives for the process.
nonisolated(unsafe) let hostAPI: UnsafeMutablePointer<gwd_host_api> = {
    let table = UnsafeMutablePointer<gwd_host_api>.allocate(capacity: 1)
    table.initialize(to: gwd_host_api())
    table.pointee.struct_size = UInt32(MemoryLayout<gwd_host_api>.size)
    table.pointee.abi_major = UInt16(GWD_ABI_VERSION_MAJOR)
    table.pointee.abi_minor = UInt16(GWD_ABI_VERSION_MINOR)
    table.pointee.status_string = { hostStatusString($0) }
    table.pointee.log = { context, level, message, length in
        guard let invocation = PluginInvocation.from(context), let message else { return }
        let text = String(decoding: UnsafeRawBufferPointer(start: message, count: length), as: UTF8.self)
        invocation.host.pluginLog(level: level, text)
    }
    table.pointee.worker_info = { context, pid, index in
        guard let invocation = PluginInvocation.from(context) else { return GWD_ERR_WRONG_THREAD.code }
        pid?.pointee = getpid()
        index?.pointee = Int32(invocation.host.workerIndex)
        return GWD_OK.code
    }
    table.pointee.current_client_id = { context in
        guard let invocation = PluginInvocation.from(context), invocation.event != nil else { return nil }
        return UnsafePointer(invocation.clientIDCString)
    }
    table.pointee.send_to_client = { context, clientID, data, length, flags in
        call(context) { try $0.host.sendToClient(clientID: clientIDArgument(clientID, $0), bytes(data, length), flags: flags) }
    }
    table.pointee.send_to_current_client = { context, data, length, flags in
        call(context) { try $0.host.sendToClient(clientID: try currentClient($0), bytes(data, length), flags: flags) }
    }
    table.pointee.send_to_all = { context, data, length, flags, exclude, excludeCount in
        call(context) {
            try $0.host.sendToAll(bytes(data, length), flags: flags, excluding: try clientIDList(exclude, excludeCount))
        }
    }
    table.pointee.close_client = { context, clientID, message, length, flags in
        call(context) {
            try $0.host.closeClient(
                clientIDArgument(clientID, $0), message: message.map { _ in bytes(message, length) }, flags: flags)
        }
    }
    table.pointee.close_current_client = { context, message, length, flags in
        call(context) {
            try $0.host.closeClient(try currentClient($0), message: message.map { _ in bytes(message, length) }, flags: flags)
        }
    }
    table.pointee.join_group = { context, clientID, group, length in
        call(context) { try $0.host.group(.joinGroup, clientIDArgument(clientID, $0), name: try name(group, length)) }
    }
    table.pointee.leave_group = { context, clientID, group, length in
        call(context) { try $0.host.group(.leaveGroup, clientIDArgument(clientID, $0), name: try name(group, length)) }
    }
    table.pointee.ungroup = { context, group, length in
        call(context) { try $0.host.ungroup(try name(group, length)) }
    }
    table.pointee.send_to_group = { context, group, groupLength, data, length, flags, exclude, excludeCount in
        call(context) {
            try $0.host.sendToGroup(
                try name(group, groupLength), bytes(data, length), flags: flags,
                excluding: try clientIDList(exclude, excludeCount))
        }
    }
    table.pointee.bind_uid = { context, clientID, uid, length in
        call(context) { try $0.host.group(.bindUID, clientIDArgument(clientID, $0), name: try name(uid, length)) }
    }
    table.pointee.unbind_uid = { context, clientID, uid, length in
        call(context) { try $0.host.group(.unbindUID, clientIDArgument(clientID, $0), name: try name(uid, length)) }
    }
    table.pointee.send_to_uid = { context, uid, uidLength, data, length, flags in
        call(context) { try $0.host.sendToUID(try name(uid, uidLength), bytes(data, length), flags: flags) }
    }
    table.pointee.is_online = { context, clientID, out in
        call(context) { out?.pointee = try $0.host.isOnline(clientIDArgument(clientID, $0)) ? 1 : 0 }
    }
    table.pointee.get_all_client_count = { context, out in
        call(context) { out?.pointee = UInt64(try $0.host.allClientCount()) }
    }
    table.pointee.session_get = { context, key, length, out in
        call(context) { invocation in
            guard let out else { throw HostError.invalidArgument }
            guard let value = invocation.sessionValue(forKey: try bytes(key, length, required: true)) else {
                throw HostError.notFound
            }
            out.pointee = invocation.borrow(value)
        }
    }
    table.pointee.session_json = { context, out in
        call(context) { invocation in
            guard let out else { throw HostError.invalidArgument }
            guard invocation.event != nil else { throw HostError.noCurrentClient }
            out.pointee = invocation.borrow(invocation.session.json.serialized(escaping: .minimal))
        }
    }
    table.pointee.set_session = { context, clientID, pairs, count in
        call(context) { try $0.host.changeSession(of: optionalClient(clientID, $0), to: try pairArray(pairs, count), merge: false) }
    }
    table.pointee.update_session = { context, clientID, pairs, count in
        call(context) { try $0.host.changeSession(of: optionalClient(clientID, $0), to: try pairArray(pairs, count), merge: true) }
    }
    table.pointee.set_session_json = { context, clientID, json, length in
        call(context) {
            try $0.host.changeSession(of: optionalClient(clientID, $0), to: try jsonObject(json, length), merge: false)
        }
    }
    table.pointee.update_session_json = { context, clientID, json, length in
        call(context) {
            try $0.host.changeSession(of: optionalClient(clientID, $0), to: try jsonObject(json, length), merge: true)
        }
    }
    table.pointee.get_session_json = { context, clientID, out in
        call(context) { invocation in
            guard let out else { throw HostError.invalidArgument }
            let json = try invocation.host.sessionJSON(of: clientIDArgument(clientID, invocation))
            let memory = malloc(json.count + 1)!.assumingMemoryBound(to: CChar.self)
            json.withUnsafeBufferPointer { source in
                memory.withMemoryRebound(to: UInt8.self, capacity: json.count) { target in
                    target.update(from: source.baseAddress!, count: json.count)
                }
            }
            memory[json.count] = 0
            out.pointee = gwd_buffer(data: memory, len: json.count)
        }
    }
    table.pointee.free = { pointer in free(pointer) }
    return table
}()

/// Errors inside host functions, each mapped to one gwd_status.
enum HostError: Error {
    case invalidArgument
    case notFound
    case noCurrentClient
    case unavailable
    case timeout
    case tooLarge
    case wrongThread

    var status: gwd_status {
        switch self {
        case .invalidArgument: return GWD_ERR_INVALID_ARGUMENT
        case .notFound: return GWD_ERR_NOT_FOUND
        case .noCurrentClient: return GWD_ERR_NO_CURRENT_CLIENT
        case .unavailable: return GWD_ERR_UNAVAILABLE
        case .timeout: return GWD_ERR_TIMEOUT
        case .tooLarge: return GWD_ERR_TOO_LARGE
        case .wrongThread: return GWD_ERR_WRONG_THREAD
        }
    }
}

/// Runs a host function body for a valid context and maps its outcome to a status code.
private func call(_ context: OpaquePointer?, _ body: (PluginInvocation) throws -> Void) -> Int32 {
    guard let invocation = PluginInvocation.from(context) else { return GWD_ERR_WRONG_THREAD.code }
    do {
        try body(invocation)
        return GWD_OK.code
    } catch let error as HostError {
        return error.status.code
    } catch {
        return GWD_ERR_INTERNAL.code
    }
}

private func bytes(_ pointer: UnsafeRawPointer?, _ length: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: length > 0 ? pointer : nil, count: pointer == nil ? 0 : length)
}

private func bytes(_ pointer: UnsafePointer<CChar>?, _ length: Int, required: Bool) throws -> [UInt8] {
    guard let pointer else { throw HostError.invalidArgument }
    return Array(UnsafeRawBufferPointer(start: pointer, count: length))
}

private func name(_ pointer: UnsafePointer<CChar>?, _ length: Int) throws -> String {
    let raw = try bytes(pointer, length, required: true)
    guard !raw.isEmpty, raw.count <= 65535 else { throw HostError.invalidArgument }
    return String(decoding: raw, as: UTF8.self)
}

private func clientIDArgument(_ pointer: UnsafePointer<CChar>?, _ invocation: PluginInvocation) throws -> ClientID {
    guard let pointer else { throw HostError.invalidArgument }
    guard strnlen(pointer, 21) == 20, let id = ClientID(bytes: UnsafeRawBufferPointer(start: pointer, count: 20)) else {
        throw HostError.invalidArgument
    }
    return id
}

private func optionalClient(_ pointer: UnsafePointer<CChar>?, _ invocation: PluginInvocation) throws -> ClientID {
    pointer == nil ? try currentClient(invocation) : try clientIDArgument(pointer, invocation)
}

private func currentClient(_ invocation: PluginInvocation) throws -> ClientID {
    guard let event = invocation.event else { throw HostError.noCurrentClient }
    return event.clientID
}

private func clientIDList(_ list: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int) throws -> [ClientID] {
    guard count > 0 else { return [] }
    guard let list else { throw HostError.invalidArgument }
    return try (0..<count).map { index in
        guard let pointer = list[index], strnlen(pointer, 21) == 20,
            let id = ClientID(bytes: UnsafeRawBufferPointer(start: pointer, count: 20))
        else { throw HostError.invalidArgument }
        return id
    }
}

private func pairArray(_ pairs: UnsafePointer<gwd_pair>?, _ count: Int) throws -> PHPValue {
    var array = PHPArray()
    guard count > 0 else { return .array(array) }
    guard let pairs else { throw HostError.invalidArgument }
    for index in 0..<count {
        let pair = pairs[index]
        guard let keyData = pair.key.data, pair.key.len > 0 else { throw HostError.invalidArgument }
        let key = Array(UnsafeRawBufferPointer(start: keyData, count: pair.key.len))
        let value = pair.value.data.map { Array(UnsafeRawBufferPointer(start: $0, count: pair.value.len)) } ?? []
        array[PHPArrayKey(coercing: key)] = .string(value)
    }
    return .array(array)
}

private func jsonObject(_ pointer: UnsafePointer<CChar>?, _ length: Int) throws -> PHPValue {
    let raw = try bytes(pointer, length, required: true)
    guard let json = try? JSONValue.parse(raw), case .object = json else { throw HostError.invalidArgument }
    return PHPValue(json: json)
}

/// Static English text for each status (gwd_host_api.status_string).
nonisolated(unsafe) private let statusStrings: [UnsafePointer<CChar>] = ([
    "ok", "invalid argument", "not found", "no current client", "gateway unavailable", "timed out",
    "out of memory", "called from the wrong thread or outside a callback", "unsupported", "too large",
    "ABI version mismatch", "failed", "internal error",
] as [String]).map { UnsafePointer(strdup($0)!) }
nonisolated(unsafe) private let unknownStatus: UnsafePointer<CChar> = UnsafePointer(strdup("unknown status")!)

func hostStatusString(_ status: Int32) -> UnsafePointer<CChar> {
    statusStrings.indices.contains(Int(status)) ? statusStrings[Int(status)] : unknownStatus
}

extension PluginInvocation {
    /// One top-level session entry as text: strings as they are, numbers in decimal, true as
    /// "1", false and null as "", nested arrays as JSON.
    func sessionValue(forKey key: [UInt8]) -> [UInt8]? {
        guard case .array(let array) = session, let value = array[PHPArrayKey(coercing: key)] else { return nil }
        switch value {
        case .string(let bytes): return bytes
        case .int(let number): return Array(String(number).utf8)
        case .double(let number): return Array(PHPSerializer.serialize(.double(number)).dropFirst(2).dropLast())
        case .bool(let flag): return flag ? [UInt8(ascii: "1")] : []
        case .null: return []
        case .array: return value.json.serialized(escaping: .minimal)
        }
    }
}

extension gwd_status {
    /// The status as the Int32 every ABI function returns.
    var code: Int32 { Int32(bitPattern: rawValue) }
}
