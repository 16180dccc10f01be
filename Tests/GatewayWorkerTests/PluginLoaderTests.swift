import CGatewayABI
import Foundation
import XCTest

@testable import GatewayWorker

final class PluginLoaderTests: XCTestCase {
    /// A plugin whose entry does `body` (C statements; `api`, `out`, `err`, `err_len` in scope)
    /// after `declarations` at file scope.
    private func plugin(_ name: String, declarations: String, entry body: String) throws -> String {
        try CPluginCompiler.build(
            name,
            """
            #include <stddef.h>
            #include <string.h>
            #include "gatewayd.h"

            static void on_connect(gwd_ctx *ctx, const char *client_id) { (void)ctx; (void)client_id; }
            static void on_message(gwd_ctx *ctx, const char *client_id, const void *data, size_t len, uint32_t kind) {
                (void)ctx; (void)client_id; (void)data; (void)len; (void)kind;
            }
            static void on_close(gwd_ctx *ctx, const char *client_id) { (void)ctx; (void)client_id; }
            static int32_t on_worker_start(gwd_ctx *ctx) { (void)ctx; return GWD_OK; }

            \(declarations)

            GWD_PLUGIN_ENTRY(api, out, err, err_len) {
                (void)api; (void)out; (void)err; (void)err_len;
                (void)on_connect; (void)on_message; (void)on_close; (void)on_worker_start;
                \(body)
            }
            """)
    }

    /// Runs `describe` and returns the error it throws, failing if it loads.
    private func loadError(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> PluginLoadError? {
        do {
            let report = try PluginLoader.describe(path: path)
            XCTFail("loaded: \(report)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Plugins that load

    func testGoodPluginLoads() throws {
        let path = try plugin(
            "good",
            declarations: """
                GWD_PLUGIN_API;
                static const gwd_plugin plugin = {
                    GWD_PLUGIN_HEADER, .name = "loader-good", .version = "1.2.3",
                    .on_connect = on_connect, .on_message = on_message,
                };
                """,
            entry: """
                GWD_PLUGIN_INIT(api, err, err_len);
                *out = &plugin;
                return GWD_OK;
                """)

        let report = try PluginLoader.describe(path: path)

        XCTAssertEqual(report.name, "loader-good")
        XCTAssertEqual(report.version, "1.2.3")
        XCTAssertEqual(report.abi, "1.\(GWD_ABI_VERSION_MINOR)")
        XCTAssertEqual(report.callbacks, ["on_connect", "on_message"])
    }

    func testLoadedPluginKeepsBothPathsAndTheDescriptor() throws {
        let source = try plugin(
            "mapped",
            declarations: """
                static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "loader-mapped", .on_close = on_close };
                """,
            entry: "*out = &plugin; return GWD_OK;")
        let store = PluginStore(directory: try CPluginCompiler.directory().file("store"))
        let copy = try store.add(source)

        let loaded = try PluginLoader.load(mappedPath: copy.path, displayPath: source, api: UnsafePointer(hostAPI))

        XCTAssertEqual(loaded.path, source)
        XCTAssertEqual(loaded.mappedPath, copy.path)
        XCTAssertEqual(loaded.name, "loader-mapped")
        XCTAssertEqual(loaded.version, "", "a missing version reads as empty")
        XCTAssertEqual(loaded.abiMajor, 1)
        XCTAssertEqual(loaded.abiMinor, Int(GWD_ABI_VERSION_MINOR))
        XCTAssertNotNil(loaded.descriptor.on_close)
        XCTAssertNil(loaded.descriptor.on_message)
        XCTAssertEqual(Int(loaded.descriptor.struct_size), MemoryLayout<gwd_plugin>.size)
    }

    func testSmallerDescriptorLoadsWithNoCallbacks() throws {
        // Built against a 1.x header that ended at `version`: everything past struct_size is the
        // plugin's other data, here deliberately non-NULL, and must not be read.
        let path = try plugin(
            "small",
            declarations: """
                static const gwd_plugin plugin = {
                    .struct_size = (uint32_t)(offsetof(gwd_plugin, version) + sizeof(const char *)),
                    .abi_major = GWD_ABI_VERSION_MAJOR, .abi_minor = 0,
                    .name = "loader-small", .version = "0.1",
                    .on_worker_start = on_worker_start, .on_connect = on_connect,
                    .on_message = on_message, .on_close = on_close,
                };
                """,
            entry: "*out = &plugin; return GWD_OK;")

        let report = try PluginLoader.describe(path: path)

        XCTAssertEqual(report.name, "loader-small")
        XCTAssertEqual(report.version, "0.1")
        XCTAssertEqual(report.callbacks, [])
    }

    func testLargerDescriptorOfANewerMinorLoads() throws {
        let path = try plugin(
            "newer",
            declarations: """
                typedef struct { gwd_plugin base; void (*on_something_new)(void); } future_plugin;
                static void something_new(void) {}
                static const future_plugin plugin = {
                    .base = {
                        .struct_size = sizeof(future_plugin), .abi_major = GWD_ABI_VERSION_MAJOR, .abi_minor = 9,
                        .name = "loader-newer", .version = "2.0.0", .on_close = on_close,
                    },
                    .on_something_new = something_new,
                };
                """,
            entry: "*out = &plugin.base; return GWD_OK;")

        let report = try PluginLoader.describe(path: path)

        XCTAssertEqual(report.abi, "1.9")
        XCTAssertEqual(report.callbacks, ["on_close"])
    }

    func testEntryReceivesTheHostTable() throws {
        // Refuses unless the table is the 1.x one, with status_string working.
        let path = try plugin(
            "sees-api",
            declarations: """
                static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "loader-sees-api" };
                """,
            entry: """
                if (api == NULL || api->abi_major != 1 || api->struct_size < sizeof(gwd_host_api)
                    || api->status_string == NULL || strcmp(api->status_string(GWD_OK), "ok") != 0) {
                    return GWD_ERR_INVALID_ARGUMENT;
                }
                *out = &plugin;
                return GWD_OK;
                """)
        XCTAssertEqual(try PluginLoader.describe(path: path).name, "loader-sees-api")
    }

    // MARK: - Plugins that do not

    func testLibraryWithoutTheEntryHasNoEntrySymbol() throws {
        let path = try CPluginCompiler.build(
            "no-entry", "__attribute__((visibility(\"default\"))) int not_a_plugin(void) { return 1; }\n")
        let error = loadError(path)
        XCTAssertEqual(error, .noEntrySymbol(path: path))
        XCTAssertTrue(error?.description.contains("gwd_plugin_entry_v1") == true, "\(String(describing: error))")
        XCTAssertTrue(error?.description.contains(path) == true)
    }

    func testEntryHiddenByVisibilityHasNoEntrySymbol() throws {
        let path = try CPluginCompiler.build(
            "hidden-entry",
            """
            #include "gatewayd.h"
            int32_t gwd_plugin_entry_v1(const gwd_host_api *api, const gwd_plugin **out, char *err, size_t err_len) {
                (void)api; (void)out; (void)err; (void)err_len;
                return GWD_OK;
            }
            """)
        XCTAssertEqual(loadError(path), .noEntrySymbol(path: path))
    }

    func testOtherABIMajorIsRefusedNamingBothVersions() throws {
        let path = try plugin(
            "abi2",
            declarations: """
                static const gwd_plugin plugin = {
                    .struct_size = sizeof(gwd_plugin), .abi_major = 2, .abi_minor = 3, .name = "loader-abi2",
                };
                """,
            entry: "*out = &plugin; return GWD_OK;")

        let error = loadError(path)

        XCTAssertEqual(error, .abiMismatch(path: path, pluginMajor: 2, pluginMinor: 3, hostMajor: 1, hostMinor: Int(GWD_ABI_VERSION_MINOR)))
        let text = error?.description ?? ""
        XCTAssertTrue(text.contains("ABI 2.3"), text)
        XCTAssertTrue(text.contains("ABI 1.\(GWD_ABI_VERSION_MINOR)"), text)
        XCTAssertTrue(text.contains(path), text)
    }

    func testEntryFailureCarriesTheReason() throws {
        let path = try plugin(
            "refuses",
            declarations: "",
            entry: """
                strncpy(err, "database unreachable", err_len - 1);
                err[err_len - 1] = 0;
                return GWD_ERR_FAILED;
                """)

        let error = loadError(path)

        XCTAssertEqual(error, .entryFailed(path: path, status: GWD_ERR_FAILED.code, reason: "database unreachable"))
        XCTAssertTrue(error?.description.contains("database unreachable") == true)
    }

    func testEntryFailureWithoutAReasonNamesTheStatus() throws {
        let path = try plugin("refuses-silently", declarations: "", entry: "return GWD_ERR_UNAVAILABLE;")
        XCTAssertEqual(
            loadError(path), .entryFailed(path: path, status: GWD_ERR_UNAVAILABLE.code, reason: "gateway unavailable"))
    }

    func testEntryFailureWithAnUnterminatedReasonIsCutAtTheBuffer() throws {
        let path = try plugin(
            "refuses-loudly", declarations: "", entry: "memset(err, 'x', err_len); return GWD_ERR_INTERNAL;")
        guard case .entryFailed(_, let status, let reason)? = loadError(path) else { return XCTFail() }
        XCTAssertEqual(status, GWD_ERR_INTERNAL.code)
        XCTAssertFalse(reason.isEmpty)
        XCTAssertTrue(reason.allSatisfy { $0 == "x" }, reason)
    }

    func testEntryRefusingThisHostsABIUsesTheHeadersReason() throws {
        // What GWD_PLUGIN_INIT writes for a host of another major version.
        let path = try plugin(
            "init-mismatch", declarations: "",
            entry: "gwd_abi_mismatch_reason(err, err_len, 7, 1); return GWD_ERR_ABI_MISMATCH;")
        XCTAssertEqual(
            loadError(path),
            .entryFailed(
                path: path, status: GWD_ERR_ABI_MISMATCH.code,
                reason: "plugin built against gatewayd plugin ABI 1.\(GWD_ABI_VERSION_MINOR), host has ABI 7.1"))
    }

    func testDescriptorWithoutANameIsInvalid() throws {
        let path = try plugin(
            "nameless",
            declarations: "static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .version = \"1.0.0\" };",
            entry: "*out = &plugin; return GWD_OK;")
        guard case .invalidDescriptor(let reported, let reason)? = loadError(path) else { return XCTFail() }
        XCTAssertEqual(reported, path)
        XCTAssertTrue(reason.contains("name"), reason)
    }

    func testDescriptorWithAnEmptyNameIsInvalid() throws {
        let path = try plugin(
            "empty-name",
            declarations: "static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = \"\" };",
            entry: "*out = &plugin; return GWD_OK;")
        guard case .invalidDescriptor? = loadError(path) else { return XCTFail() }
    }

    func testOKWithoutADescriptorIsInvalid() throws {
        let path = try plugin("no-descriptor", declarations: "", entry: "return GWD_OK;")
        guard case .invalidDescriptor(_, let reason)? = loadError(path) else { return XCTFail() }
        XCTAssertTrue(reason.contains("no descriptor"), reason)
    }

    func testDescriptorSmallerThanTheHeaderIsInvalid() throws {
        let path = try plugin(
            "tiny",
            declarations: """
                static const gwd_plugin plugin = {
                    .struct_size = 8, .abi_major = GWD_ABI_VERSION_MAJOR, .name = "loader-tiny", .version = "1",
                };
                """,
            entry: "*out = &plugin; return GWD_OK;")
        guard case .invalidDescriptor(_, let reason)? = loadError(path) else { return XCTFail() }
        XCTAssertTrue(reason.contains("struct_size 8"), reason)
    }

    func testUnresolvedSymbolFailsAtLoad() throws {
        // RTLD_NOW: a missing symbol is reported here, not when the function first runs.
        let path = try plugin(
            "unresolved",
            declarations: """
                extern void gwd_test_symbol_nobody_defines(void);
                GWD_EXPORT void calls_missing(void) { gwd_test_symbol_nobody_defines(); }
                static const gwd_plugin plugin = { GWD_PLUGIN_HEADER, .name = "loader-unresolved" };
                """,
            entry: "*out = &plugin; return GWD_OK;")
        guard case .cannotOpen(let reported, let reason)? = loadError(path) else { return XCTFail() }
        XCTAssertEqual(reported, path)
        XCTAssertTrue(reason.contains("gwd_test_symbol_nobody_defines"), reason)
    }

    func testNonELFFileCannotBeOpened() throws {
        let directory = try CPluginCompiler.directory()
        let path = try directory.write(Array("this is not a shared object\n".utf8), to: "not-elf.so")
        guard case .cannotOpen(let reported, _)? = loadError(path) else { return XCTFail() }
        XCTAssertEqual(reported, path)
        XCTAssertTrue(loadError(path)?.description.hasPrefix("cannot load plugin \(path): ") == true)
    }

    func testMissingFileCannotBeOpened() throws {
        let path = try CPluginCompiler.directory().file("never-built.so")
        guard case .cannotOpen(let reported, _)? = loadError(path) else { return XCTFail() }
        XCTAssertEqual(reported, path)
    }

    func testOpenErrorsNameTheUsersFileNotTheStoreCopy() throws {
        let directory = try CPluginCompiler.directory()
        let source = try directory.write(Array("garbage, not ELF".utf8), to: "garbage.so")
        let copy = try PluginStore(directory: directory.file("store")).add(source)

        XCTAssertThrowsError(
            try PluginLoader.load(mappedPath: copy.path, displayPath: source, api: UnsafePointer(hostAPI))
        ) { error in
            guard case .cannotOpen(let reported, let reason) = error as? PluginLoadError else { return XCTFail("\(error)") }
            XCTAssertEqual(reported, source)
            XCTAssertFalse(reason.contains(copy.path), reason)
        }
    }
}
