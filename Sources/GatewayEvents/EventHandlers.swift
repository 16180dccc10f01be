import CFFI
import CGatewayABI
import GatewayWire

/// The typed events a C plugin declared (gatewayd.h `event_on`) and how each handler is called:
/// through libffi, with a call interface prepared once per event when it is declared, and the
/// arguments written into storage reused by every call — nothing is allocated per event.
///
/// libffi because a handler's C signature is only known at run time (`"s:room s:text"` means
/// `int32_t (gwd_ctx *, const char *, const char *, const char *)`): calling it any other way
/// would need a generated trampoline per signature. Plugin thread only.
public final class EventHandlers {
    private struct Handler {
        var function: gwd_event_fn
        var cif: UnsafeMutablePointer<ffi_cif>
    }

    /// Names and signatures, looked up by the decoder.
    public private(set) var table = EventTable()
    /// Handler `i` is `handlers[i]`; `handlerCapacity` long. Unsafe storage rather than an
    /// array: reading a class's array property per event costs an exclusivity check and a
    /// reference count, ≈ 15 ns (bench/Benchmarks/EventBenchmarks).
    private var handlers: UnsafeMutablePointer<Handler>
    private var handlerCount = 0
    private var handlerCapacity = 16

    /// C parameters of the widest handler: ctx, client_id, and two per argument at most.
    private static let maximumParameters = 2 + 2 * Int(GWD_EVENT_MAX_ARGS)
    /// One call's parameter values, one 8-byte slot each, and the pointers libffi reads them by.
    private let values: UnsafeMutableRawPointer
    private let valuePointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    public init() {
        values = .allocate(byteCount: Self.maximumParameters * 8, alignment: 8)
        valuePointers = .allocate(capacity: Self.maximumParameters)
        for index in 0..<Self.maximumParameters { valuePointers[index] = values + index * 8 }
        handlers = .allocate(capacity: handlerCapacity)
    }

    deinit {
        values.deallocate()
        valuePointers.deallocate()
        handlers.deinitialize(count: handlerCount)
        handlers.deallocate()
    }

    public var isEmpty: Bool { handlerCount == 0 }

    /// Why `event_on` refused a declaration, and the reason for the log.
    public struct Refusal: Error {
        /// GWD_ERR_EXISTS for a name declared before, else GWD_ERR_INVALID_ARGUMENT.
        public var alreadyDeclared: Bool
        public var reason: String
    }

    /// Declares an event and prepares its call interface.
    public func declare(name: String, signature text: String, function: gwd_event_fn) throws(Refusal) {
        let signature: EventSignature
        do {
            signature = try EventSignature(parsing: text)
        } catch {
            throw Refusal(alreadyDeclared: false, reason: "\(error)")
        }
        let index: Int
        do {
            index = try table.declare(name: name, signature: signature)
        } catch {
            let exists = if case .exists = error { true } else { false }
            throw Refusal(alreadyDeclared: exists, reason: "\(error)")
        }
        precondition(index == handlerCount, "events are declared in order")
        if handlerCount == handlerCapacity {
            let grown = UnsafeMutablePointer<Handler>.allocate(capacity: 2 * handlerCapacity)
            grown.moveInitialize(from: handlers, count: handlerCount)
            handlers.deallocate()
            handlers = grown
            handlerCapacity *= 2
        }
        (handlers + handlerCount).initialize(to: Handler(function: function, cif: Self.prepareCallInterface(for: signature)))
        handlerCount += 1
    }

    /// The libffi types of a handler's parameters: `(gwd_ctx *, const char *client_id, …)`.
    /// Kept for the life of the process, as the call interface refers to them.
    private static func prepareCallInterface(for signature: EventSignature) -> UnsafeMutablePointer<ffi_cif> {
        var types: [UnsafeMutablePointer<ffi_type>?] = [gwd_ffi_type_pointer(), gwd_ffi_type_pointer()]
        for type in signature.types {
            switch type {
            case .string: types.append(gwd_ffi_type_pointer())
            case .bytes, .json: types += [gwd_ffi_type_pointer(), gwd_ffi_type_uint64()]
            case .integer: types.append(gwd_ffi_type_sint64())
            case .number: types.append(gwd_ffi_type_double())
            case .boolean: types.append(gwd_ffi_type_uint8())
            }
        }
        let parameterTypes = UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>.allocate(capacity: types.count)
        parameterTypes.initialize(from: types, count: types.count)
        let cif = UnsafeMutablePointer<ffi_cif>.allocate(capacity: 1)
        let status = ffi_prep_cif(cif, gwd_ffi_default_abi(), UInt32(types.count), gwd_ffi_type_sint32(), parameterTypes)
        precondition(status == FFI_OK, "ffi_prep_cif refused a signature of \(types.count) plain parameters")
        return cif
    }

    /// Calls event `index`'s handler with the decoded arguments; returns its status.
    public func call(
        _ index: Int, context: OpaquePointer, clientID: UnsafePointer<CChar>, arguments: UnsafeBufferPointer<EventArgument>
    ) -> Int32 {
        precondition(index >= 0 && index < handlerCount, "no event \(index)")
        let handler = handlers[index]
        // One 8-byte slot per C parameter, in order; libffi reads each by the cif's type.
        var slot = values
        slot.storeBytes(of: context, as: OpaquePointer.self)
        (slot + 8).storeBytes(of: clientID, as: UnsafePointer<CChar>.self)
        slot += 16
        for argument in arguments {
            switch argument.type {
            case .string:
                slot.storeBytes(of: argument.text, as: UnsafePointer<CChar>?.self)
            case .bytes, .json:
                slot.storeBytes(of: argument.text, as: UnsafePointer<CChar>?.self)
                slot += 8
                slot.storeBytes(of: UInt64(argument.length), as: UInt64.self)
            case .integer:
                slot.storeBytes(of: argument.integer, as: Int64.self)
            case .number:
                slot.storeBytes(of: argument.number, as: Double.self)
            case .boolean:
                slot.storeBytes(of: argument.boolean ? 1 : 0, as: UInt8.self)
            }
            slot += 8
        }
        var result: ffi_arg = 0  // a return value narrower than a register comes back widened
        ffi_call(handler.cif, handler.function, &result, valuePointers)
        return Int32(truncatingIfNeeded: result)
    }
}
