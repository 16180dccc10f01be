import CGatewayABI
import GatewayPluginSDK
import XCTest

final class GatewayPluginExportTests: XCTestCase {
    override func setUp() {
        resetFakeHost()
        ScriptedPlugin.reset()
    }

    /// The SDK's entry fits the header's entry typedef exactly, so `@c` / `@_cdecl` exports match it.
    func testEntryHasTheHeadersSignature() {
        let entry: gwd_plugin_entry_fn = { api, plugin, error, errorLength in
            GatewayPluginExport.entry(ScriptedPlugin.self, api, plugin, error, errorLength)
        }
        var descriptor: UnsafePointer<gwd_plugin>?
        XCTAssertEqual(entry(FakeHostTable.allocate(), &descriptor, nil, 0), 0)
        XCTAssertNotNil(descriptor)
    }

    func testDescriptorHeaderNamesAndCallbacks() throws {
        let descriptor = try register(ScriptedPlugin.self).pointee
        XCTAssertEqual(Int(descriptor.struct_size), MemoryLayout<gwd_plugin>.size)
        XCTAssertEqual(descriptor.abi_major, 1)
        XCTAssertEqual(descriptor.abi_minor, 2)
        XCTAssertEqual(String(cString: try XCTUnwrap(descriptor.name)), "scripted")
        XCTAssertEqual(String(cString: try XCTUnwrap(descriptor.version)), "0.1.0")
        XCTAssertNotNil(descriptor.on_worker_start)
        XCTAssertNotNil(descriptor.on_worker_stop)
        XCTAssertNotNil(descriptor.on_connect)
        XCTAssertNotNil(descriptor.on_websocket_handshake)
        XCTAssertNotNil(descriptor.on_message)
        XCTAssertNotNil(descriptor.on_close)
        XCTAssertEqual(GatewayPluginExport.abiVersion.major, 1)
    }

    func testEntryCreatesOneInstanceAndKeepsOneDescriptor() throws {
        let first = try register(ScriptedPlugin.self)
        XCTAssertEqual(ScriptedPlugin.instances, 1)
        let firstName = first.pointee.name
        let second = try register(ScriptedPlugin.self)
        XCTAssertEqual(ScriptedPlugin.instances, 2, "a repeated entry starts a fresh instance")
        XCTAssertEqual(first, second, "the host keeps the descriptor pointer: it never moves")
        XCTAssertEqual(second.pointee.name, firstName, "same name: the same permanent C string")

        let minimal = try register(MinimalPlugin.self)
        XCTAssertEqual(minimal, first)
        XCTAssertEqual(String(cString: minimal.pointee.name), "minimal")
        XCTAssertEqual(String(cString: minimal.pointee.version), "2.0.0")
    }

    func testMajorVersionMismatchIsRefusedNamingBothVersions() {
        let table = FakeHostTable.allocate { $0.abi_major = 2; $0.abi_minor = 3 }
        var descriptor: UnsafePointer<gwd_plugin>?
        var reason = [CChar](repeating: 0x55, count: 256)
        let status = GatewayPluginExport.entry(ScriptedPlugin.self, table, &descriptor, &reason, reason.count)
        XCTAssertEqual(status, Int32(GWD_ERR_ABI_MISMATCH.rawValue))
        XCTAssertNil(descriptor)
        XCTAssertEqual(string(reason),
                       "scripted 0.1.0: built against gatewayd plugin ABI 1.2, but the host has ABI 2.3")
        XCTAssertEqual(ScriptedPlugin.instances, 0, "a refused host gets no plugin instance")
    }

    func testNewerMinorVersionIsAccepted() throws {
        let descriptor = try register(ScriptedPlugin.self, table: FakeHostTable.allocate { $0.abi_minor = 9 })
        XCTAssertEqual(descriptor.pointee.on_worker_start?(FakeHost.context), 0)
    }

    func testMissingTableAndMissingOutPointerAreInvalidArguments() {
        var reason = [CChar](repeating: 0, count: 128)
        var descriptor: UnsafePointer<gwd_plugin>?
        XCTAssertEqual(GatewayPluginExport.entry(ScriptedPlugin.self, nil, &descriptor, &reason, reason.count),
                       Int32(GWD_ERR_INVALID_ARGUMENT.rawValue))
        XCTAssertEqual(string(reason), "scripted 0.1.0: the host passed no API table")
        XCTAssertEqual(GatewayPluginExport.entry(ScriptedPlugin.self, FakeHostTable.allocate(), nil, &reason, reason.count),
                       Int32(GWD_ERR_INVALID_ARGUMENT.rawValue))
        XCTAssertEqual(string(reason), "scripted 0.1.0: the host passed no place for the plugin descriptor")
    }

    func testTableTooShortForItsVersionIsRefused() {
        var descriptor: UnsafePointer<gwd_plugin>?
        var reason = [CChar](repeating: 0, count: 128)
        let status = GatewayPluginExport.entry(ScriptedPlugin.self, FakeHostTable.allocate { $0.struct_size = 4 },
                                               &descriptor, &reason, reason.count)
        XCTAssertEqual(status, Int32(GWD_ERR_ABI_MISMATCH.rawValue))
        XCTAssertNil(descriptor)
        XCTAssertTrue(string(reason).contains("too short"), string(reason))
    }

    func testReasonIsCutToTheBufferAndTerminated() {
        let table = FakeHostTable.allocate { $0.abi_major = 7 }
        var descriptor: UnsafePointer<gwd_plugin>?
        var reason = [CChar](repeating: 0x55, count: 20)
        _ = GatewayPluginExport.entry(ScriptedPlugin.self, table, &descriptor, &reason, 12)
        XCTAssertEqual(string(reason), "scripted 0.")
        XCTAssertEqual(reason[11], 0)
        XCTAssertEqual(reason[12], 0x55, "nothing written past error_len")
        // No buffer at all is fine too.
        XCTAssertEqual(GatewayPluginExport.entry(ScriptedPlugin.self, table, &descriptor, nil, 0),
                       Int32(GWD_ERR_ABI_MISMATCH.rawValue))
    }

    /// A host whose table ends early (an older minor) still loads the plugin; the functions it
    /// lacks throw `unsupported` without being called.
    func testEntriesBeyondTheHostsTableAreUnsupported() throws {
        let shortSize = MemoryLayout<gwd_host_api>.offset(of: \.get_session_json)!
        let table = FakeHostTable.allocate { $0.struct_size = UInt32(shortSize); $0.abi_minor = 0 }
        let descriptor = try register(ScriptedPlugin.self, table: table)
        var caught: GatewayError?
        ScriptedPlugin.script = { gateway, client, _ in
            try gateway.reply("still here")
            do {
                _ = try gateway.sessionJSON(of: client)
            } catch let error as GatewayError {
                caught = error
            }
        }
        deliver(.text("go"), to: descriptor)
        XCTAssertEqual(caught?.code, .unsupported)
        XCTAssertEqual(caught?.message, "the host's API table has no get_session_json (ABI 1.0)")
        XCTAssertEqual(fakeHost.sends.map(\.function), ["send_to_current_client"])
    }
}
