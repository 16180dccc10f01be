import Foundation
import XCTest

/// `crash:` must kill the worker process with a real SIGSEGV. A crash cannot happen in the
/// test process, so a small C host loads the plugin in a child process and sends `crash:`.
final class CrashTests: XCTestCase {
    static let harnessSource = #"""
        #include <dlfcn.h>
        #include <stdio.h>
        #include "gatewayd.h"

        /* Loads argv[1] as a plugin with a table of no functions and sends it `crash:`. */
        int main(int argc, char **argv) {
            static gwd_host_api api;
            const gwd_plugin *plugin = NULL;
            char reason[256] = "";
            void *handle = argc > 1 ? dlopen(argv[1], RTLD_NOW | RTLD_LOCAL) : NULL;
            gwd_plugin_entry_fn entry;
            if (handle == NULL) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 2; }
            *(void **)&entry = dlsym(handle, GWD_PLUGIN_ENTRY_SYMBOL);
            api.struct_size = sizeof api;
            api.abi_major = GWD_ABI_VERSION_MAJOR;
            api.abi_minor = GWD_ABI_VERSION_MINOR;
            if (entry == NULL || entry(&api, &plugin, reason, sizeof reason) != GWD_OK) {
                fprintf(stderr, "entry: %s\n", reason);
                return 3;
            }
            plugin->on_message((gwd_ctx *)&api, "0a0000000000000000a1", "crash:", 6, GWD_MESSAGE_TEXT);
            return 0; /* survived */
        }
        """#

    static func harness() throws -> URL {
        try PluginBuilds.compile(harnessSource, output: "crash-harness", flags: ["-std=c99", "-Wall", "-Wextra", "-Werror", "-ldl"])
    }

    func assertCrashes(_ library: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        // The Swift runtime's crash reporter would only slow the expected crash down.
        let result = try PluginBuilds.run(try Self.harness().path, [library.path], environment: ["SWIFT_BACKTRACE": "enable=no"])
        XCTAssertEqual(result.reason, .uncaughtSignal, "exit \(result.code): \(result.errors)", file: file, line: line)
        XCTAssertEqual(result.code, SIGSEGV, "killed by SIGSEGV", file: file, line: line)
    }

    func testCPluginCrashesWithSIGSEGV() throws {
        try assertCrashes(try ConformanceCPluginTests.build())
    }

    func testSwiftPluginCrashesWithSIGSEGV() throws {
        try assertCrashes(try ConformanceSwiftPluginTests.library())
    }
}
