import CGatewayABI
import Glibc
import GatewayWire

/// Runs a host function body for a valid context and maps its outcome to a status code.
func hostCall(_ context: OpaquePointer?, _ body: (PluginInvocation) throws -> Void) -> Int32 {
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

/// The C arguments of host functions read into Swift values; a malformed one throws
/// ``HostError/invalidArgument``. Used by every entry of the host table (HostAPI*.swift).
enum Argument {
    /// A payload: (NULL, 0) is empty. Borrowed: valid while the host function runs.
    static func payload(_ pointer: UnsafeRawPointer?, _ length: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: length > 0 ? pointer : nil, count: pointer == nil ? 0 : length)
    }

    /// Bytes that must be given (a session key, JSON): NULL is invalid.
    static func requiredBytes(_ pointer: UnsafePointer<CChar>?, _ length: Int) throws -> [UInt8] {
        guard let pointer else { throw HostError.invalidArgument }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    /// A group or uid: 1 to 65535 bytes.
    static func name(_ pointer: UnsafePointer<CChar>?, _ length: Int) throws -> String {
        let raw = try requiredBytes(pointer, length)
        guard !raw.isEmpty, raw.count <= 65535 else { throw HostError.invalidArgument }
        return String(decoding: raw, as: UTF8.self)
    }

    /// A list of names (`const gwd_bytes *`, count), each as ``name(_:_:)`` requires.
    static func names(_ list: UnsafePointer<gwd_bytes>?, _ count: Int) throws -> [String] {
        guard count > 0 else { return [] }
        guard let list else { throw HostError.invalidArgument }
        return try (0..<count).map { try name(list[$0].data, list[$0].len) }
    }

    /// A NUL-terminated 20-hex-character client id.
    static func clientID(_ pointer: UnsafePointer<CChar>?) throws -> ClientID {
        guard let pointer, strnlen(pointer, 21) == 20,
            let id = ClientID(bytes: UnsafeRawBufferPointer(start: pointer, count: 20))
        else { throw HostError.invalidArgument }
        return id
    }

    /// A client id argument where NULL means the current client.
    static func clientOrCurrent(_ pointer: UnsafePointer<CChar>?, _ invocation: PluginInvocation) throws -> ClientID {
        pointer == nil ? try current(invocation) : try clientID(pointer)
    }

    /// The client of the current event.
    static func current(_ invocation: PluginInvocation) throws -> ClientID {
        guard let clientID = invocation.clientID else { throw HostError.noCurrentClient }
        return clientID
    }

    /// An array of client ids (may be NULL when `count` is 0).
    static func clientIDs(_ list: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int) throws -> [ClientID] {
        guard count > 0 else { return [] }
        guard let list else { throw HostError.invalidArgument }
        return try (0..<count).map { try clientID(list[$0]) }
    }

    /// Session pairs as a PHP array of strings.
    static func pairs(_ pairs: UnsafePointer<gwd_pair>?, _ count: Int) throws -> PHPValue {
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

    /// A JSON object, as the PHP value a session holds.
    static func jsonObject(_ pointer: UnsafePointer<CChar>?, _ length: Int) throws -> PHPValue {
        let raw = try requiredBytes(pointer, length)
        guard let json = try? JSONValue.parse(raw), case .object = json else { throw HostError.invalidArgument }
        return PHPValue(json: json)
    }
}
