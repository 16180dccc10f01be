import CGatewayABI
import Foundation
import GatewayWire

/// The host function table handed to every plugin (gwd_host_api, ABI 1.2).
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
        guard let invocation = PluginInvocation.from(context), invocation.clientID != nil else { return nil }
        return UnsafePointer(invocation.clientIDCString)
    }
    table.pointee.free = { pointer in free(pointer) }
    installSending(table)
    installSessions(table)
    installQueries(table)
    installTimersAndPosts(table)
    installEvents(table)
    return table
}()

/// Sends, closes and memberships (gatewayd.h: 1.0 and the 1.1 list forms).
private func installSending(_ table: UnsafeMutablePointer<gwd_host_api>) {
    table.pointee.send_to_client = { context, clientID, data, length, flags in
        hostCall(context) { try $0.host.sendToClient(clientID: Argument.clientID(clientID), Argument.payload(data, length), flags: flags) }
    }
    table.pointee.send_to_current_client = { context, data, length, flags in
        hostCall(context) { try $0.host.sendToClient(clientID: Argument.current($0), Argument.payload(data, length), flags: flags) }
    }
    table.pointee.send_to_all = { context, data, length, flags, exclude, excludeCount in
        hostCall(context) {
            try $0.host.sendToAll(Argument.payload(data, length), flags: flags, excluding: Argument.clientIDs(exclude, excludeCount))
        }
    }
    table.pointee.send_to_clients = { context, clientIDs, count, data, length, flags in
        hostCall(context) { try $0.host.sendToClients(Argument.clientIDs(clientIDs, count), Argument.payload(data, length), flags: flags) }
    }
    table.pointee.close_client = { context, clientID, message, length, flags in
        hostCall(context) {
            try $0.host.closeClient(Argument.clientID(clientID), message: message.map { Argument.payload($0, length) }, flags: flags)
        }
    }
    table.pointee.close_current_client = { context, message, length, flags in
        hostCall(context) {
            try $0.host.closeClient(Argument.current($0), message: message.map { Argument.payload($0, length) }, flags: flags)
        }
    }
    table.pointee.destroy_client = { context, clientID in
        hostCall(context) { $0.host.destroyClient(try Argument.clientID(clientID)) }
    }
    table.pointee.destroy_current_client = { context in
        hostCall(context) { $0.host.destroyClient(try Argument.current($0)) }
    }
    table.pointee.join_group = { context, clientID, group, length in
        hostCall(context) { $0.host.membership(.joinGroup, try Argument.clientID(clientID), name: try Argument.name(group, length)) }
    }
    table.pointee.leave_group = { context, clientID, group, length in
        hostCall(context) { $0.host.membership(.leaveGroup, try Argument.clientID(clientID), name: try Argument.name(group, length)) }
    }
    table.pointee.ungroup = { context, group, length in
        hostCall(context) { $0.host.ungroup(try Argument.name(group, length)) }
    }
    table.pointee.send_to_group = { context, group, groupLength, data, length, flags, exclude, excludeCount in
        hostCall(context) {
            try $0.host.sendToGroups(
                [Argument.name(group, groupLength)], Argument.payload(data, length), flags: flags,
                excluding: Argument.clientIDs(exclude, excludeCount))
        }
    }
    table.pointee.send_to_groups = { context, groups, groupCount, data, length, flags, exclude, excludeCount in
        hostCall(context) {
            try $0.host.sendToGroups(
                Argument.names(groups, groupCount), Argument.payload(data, length), flags: flags,
                excluding: Argument.clientIDs(exclude, excludeCount))
        }
    }
    table.pointee.bind_uid = { context, clientID, uid, length in
        hostCall(context) { $0.host.membership(.bindUID, try Argument.clientID(clientID), name: try Argument.name(uid, length)) }
    }
    table.pointee.unbind_uid = { context, clientID, uid, length in
        hostCall(context) { $0.host.membership(.unbindUID, try Argument.clientID(clientID), name: try Argument.name(uid, length)) }
    }
    table.pointee.send_to_uid = { context, uid, uidLength, data, length, flags in
        hostCall(context) { try $0.host.sendToUIDs([Argument.name(uid, uidLength)], Argument.payload(data, length), flags: flags) }
    }
    table.pointee.send_to_uids = { context, uids, count, data, length, flags in
        hostCall(context) { try $0.host.sendToUIDs(Argument.names(uids, count), Argument.payload(data, length), flags: flags) }
    }
}

/// Timers and work from other threads (gatewayd.h, added in 1.2).
private func installTimersAndPosts(_ table: UnsafeMutablePointer<gwd_host_api>) {
    table.pointee.timer_add = { context, interval, flags, callback, userData, out in
        hostCall(context) {
            let id = try $0.host.addTimer(intervalMilliseconds: interval, flags: flags, callback: callback, userData: userData)
            out?.pointee = id
        }
    }
    table.pointee.timer_del = { context, id in
        hostCall(context) { try $0.host.deleteTimer(id) }
    }
    table.pointee.get_poster = { context, out in
        hostCall(context) {
            guard let out else { throw HostError.invalidArgument }
            out.pointee = $0.host.poster.handle
        }
    }
    // Any thread: no context, no thread check; the poster outlives every plugin call.
    table.pointee.post = { poster, callback, userData in
        guard let poster, let callback else { return GWD_ERR_INVALID_ARGUMENT.code }
        return PluginPoster.from(poster).post(callback, userData).code
    }
}

/// Typed events (gatewayd.h, added in 1.2; docs/events.md).
private func installEvents(_ table: UnsafeMutablePointer<gwd_host_api>) {
    table.pointee.event_on = { context, name, signature, handler in
        hostCall(context) {
            guard let name, let signature else { throw HostError.invalidArgument }
            try $0.host.declareEvent(name: String(cString: name), signature: String(cString: signature), handler: handler)
        }
    }
    table.pointee.event_result = { context, json, length in
        hostCall(context) { invocation in
            guard invocation.clientID != nil else { throw HostError.noCurrentClient }
            let bytes = try Argument.requiredBytes(json, length)
            guard (try? JSONValue.parse(bytes)) != nil else { throw HostError.invalidArgument }
            invocation.eventResult = bytes
        }
    }
    table.pointee.event_emit = { context, kind, target, targetLength, name, arguments, count in
        hostCall(context) {
            guard let name, count == 0 || arguments != nil, count <= Int(GWD_EVENT_MAX_ARGS) else {
                throw HostError.invalidArgument
            }
            try $0.host.emitEvent(
                kind: kind, target: Argument.payload(target, targetLength), name: String(cString: name),
                arguments: UnsafeBufferPointer(start: arguments, count: count))
        }
    }
}

/// The current client's session as delivered, and changes to any client's session.
private func installSessions(_ table: UnsafeMutablePointer<gwd_host_api>) {
    table.pointee.session_get = { context, key, length, out in
        hostCall(context) { invocation in
            guard let out else { throw HostError.invalidArgument }
            guard let value = invocation.sessionValue(forKey: try Argument.requiredBytes(key, length)) else {
                throw HostError.notFound
            }
            out.pointee = invocation.borrow(value)
        }
    }
    table.pointee.session_json = { context, out in
        hostCall(context) { invocation in
            guard let out else { throw HostError.invalidArgument }
            guard invocation.clientID != nil else { throw HostError.noCurrentClient }
            out.pointee = invocation.borrow(SessionJSON.object(invocation.session))
        }
    }
    table.pointee.set_session = { context, clientID, pairs, count in
        hostCall(context) {
            $0.host.changeSession(of: try Argument.clientOrCurrent(clientID, $0), to: try Argument.pairs(pairs, count), merge: false)
        }
    }
    table.pointee.update_session = { context, clientID, pairs, count in
        hostCall(context) {
            $0.host.changeSession(of: try Argument.clientOrCurrent(clientID, $0), to: try Argument.pairs(pairs, count), merge: true)
        }
    }
    table.pointee.set_session_json = { context, clientID, json, length in
        hostCall(context) {
            $0.host.changeSession(of: try Argument.clientOrCurrent(clientID, $0), to: try Argument.jsonObject(json, length), merge: false)
        }
    }
    table.pointee.update_session_json = { context, clientID, json, length in
        hostCall(context) {
            $0.host.changeSession(of: try Argument.clientOrCurrent(clientID, $0), to: try Argument.jsonObject(json, length), merge: true)
        }
    }
}

/// Static English text for each status (gwd_host_api.status_string).
nonisolated(unsafe) private let statusStrings: [UnsafePointer<CChar>] = ([
    "ok", "invalid argument", "not found", "no current client", "gateway unavailable", "timed out",
    "out of memory", "called from the wrong thread or outside a callback", "unsupported", "too large",
    "ABI version mismatch", "failed", "internal error", "queue full", "the worker is stopping", "already exists",
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
