/// The files `gatewayd plugin new` writes: a plugin that greets each client, answers the typed
/// event `["say", name, text]` with `["said", name, text]` to everyone and echoes anything else
/// (a chat room in a few lines, touching connect, events and messages), a page that talks to it,
/// and a README. Paths are relative to the project folder.
struct PluginTemplate {
    enum Language: String, CaseIterable {
        case c, swift
    }

    /// How a Swift plugin's Package.swift names gatewayd (its GatewayPluginSDK product).
    enum PackageSource: Equatable {
        case path(String)
        case url(String, from: String)

        /// The `.package(...)` line; the identity must be "gatewayd" whatever the folder is called.
        var dependency: String {
            switch self {
            case .path(let path): return ".package(name: \"gatewayd\", path: \(swiftLiteral(path)))"
            case .url(let url, let version): return ".package(url: \(swiftLiteral(url)), from: \(swiftLiteral(version)))"
            }
        }
    }

    let language: Language
    /// The plugin's name: its descriptor name, its folder's default name, `NAME.so`.
    let name: String
    let gatewaydVersion: String
    /// Where gatewayd's releases are published, for the URL form of the dependency.
    let gatewaydURL: String
    /// Swift only.
    let package: PackageSource

    /// `my-chat` -> `MyChat`: the Swift product, target and module name.
    var moduleName: String {
        name.split(whereSeparator: { $0 == "-" || $0 == "_" }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    var files: [(path: String, contents: String)] {
        switch language {
        case .c:
            return [("\(name).c", cSource), ("index.html", page), ("README.md", readme)]
        case .swift:
            return [
                ("Package.swift", packageManifest), ("exports.map", exportsMap),
                ("Sources/\(moduleName)/\(moduleName).swift", swiftSource), ("index.html", page), ("README.md", readme),
            ]
        }
    }

    // MARK: - C

    private var cSource: String {
        """
        /* \(name): a gatewayd plugin (from `gatewayd plugin new c \(name)`; README.md says how to run it).
         *
         * Clients speak typed events, JSON arrays: ["say", name, text] sends ["said", name, text] to
         * everyone; a new client gets ["hello", "\(name) <version>"]; any other message is echoed.
         * `gatewayd plugin header` prints gatewayd.h: every host function, with its rules.
         */
        #include <string.h>
        #include "gatewayd.h"

        #define VERSION "0.1.0"

        GWD_PLUGIN_API;

        static void on_connect(gwd_ctx *ctx, const char *client_id) {
            gwd_arg hello[] = {gwd_arg_string("\(name) " VERSION)};
            gwd_api->event_emit(ctx, GWD_EMIT_CLIENT, client_id, strlen(client_id), "hello", hello, 1);
        }

        /* ["say", name, text]: the arguments arrive decoded, as the signature "s:name s:text" says. */
        static int32_t on_say(gwd_ctx *ctx, const char *client_id, const char *name, const char *text) {
            (void)client_id;
            gwd_arg said[] = {gwd_arg_string(name), gwd_arg_string(text)};
            return gwd_api->event_emit(ctx, GWD_EMIT_ALL, NULL, 0, "said", said, 2);
        }

        static const gwd_event_decl events[] = {
            {"say", "s:name s:text", GWD_EVENT_FN(on_say)},
        };

        static int32_t on_worker_start(gwd_ctx *ctx) {
            return gwd_event_on_table(gwd_api, ctx, events, sizeof events / sizeof events[0]);
        }

        /* A message that names no declared event: back to its sender, text as text, binary as binary. */
        static void on_message(gwd_ctx *ctx, const char *client_id, const void *data, size_t len, uint32_t kind) {
            (void)client_id;
            (void)kind;
            gwd_api->send_to_current_client(ctx, data, len, GWD_SEND_AS_RECEIVED);
        }

        static const gwd_plugin plugin = {
            GWD_PLUGIN_HEADER,
            .name = "\(name)",
            .version = VERSION,
            .on_worker_start = on_worker_start,
            .on_connect = on_connect,
            .on_message = on_message,
        };

        GWD_PLUGIN_ENTRY(api, out, err, err_len) {
            GWD_PLUGIN_INIT(api, err, err_len);
            if (api->abi_minor < 2) return GWD_ERR_UNSUPPORTED; /* typed events and GWD_SEND_AS_RECEIVED are ABI 1.2 */
            *out = &plugin;
            return GWD_OK;
        }

        """
    }

    // MARK: - Swift

    private var packageManifest: String {
        """
        // swift-tools-version:6.1
        // \(name): a gatewayd plugin in Swift (from `gatewayd plugin new swift \(name)`; see README.md).
        import PackageDescription

        /// This folder, for the linker version script (SwiftPM runs the linker elsewhere).
        let packageDirectory = String(#filePath.dropLast("/Package.swift".count))

        let package = Package(
            name: "\(name)",
            products: [
                .library(name: "\(moduleName)", type: .dynamic, targets: ["\(moduleName)"]),
            ],
            dependencies: [
                // gatewayd's GatewayPluginSDK, from a release tag or a checkout of gatewayd — change this
                // line to move between them. Build with the Swift toolchain that built the gatewayd that
                // loads the plugin: a worker refuses a plugin from another compiler, naming both.
                //   \(PackageSource.url(gatewaydURL, from: gatewaydVersion).dependency),
                //   \(PackageSource.path("/path/to/gatewayd").dependency),
                \(package.dependency),
            ],
            targets: [
                .target(
                    name: "\(moduleName)",
                    dependencies: [.product(name: "GatewayPluginSDK", package: "gatewayd")],
                    // Export the entry and the compiler stamp, nothing else (every public Swift symbol,
                    // the SDK's too, otherwise); lld because gold leaves localized symbols in .dynsym.
                    linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "--version-script=\\(packageDirectory)/exports.map"])]
                ),
            ],
            swiftLanguageModes: [.v6]
        )

        """
    }

    private var exportsMap: String {
        """
        {
            global: gwd_plugin_entry_v1; gwd_swift_compiler;
            local: *;
        };

        """
    }

    private var swiftSource: String {
        """
        // \(name): a gatewayd plugin. Clients speak typed events, JSON arrays: ["say", name, text]
        // sends ["said", name, text] to everyone; a new client gets ["hello", "\(name) <version>"];
        // any other message is echoed.
        import GatewayPluginSDK

        /// The arguments of `["say", name, text]`, decoded in order (or by name from
        /// `{"event": "say", "name": …, "text": …}`).
        struct Say: Decodable {
            let name: String
            let text: String
        }

        final class \(moduleName)Plugin: GatewayPlugin {
            static let name = "\(name)"
            static let version = "0.1.0"

            func workerStarted(_ gateway: Gateway) throws {
                try gateway.on("say") { (gateway, _, say: Say) in
                    try gateway.emit("said", to: .everyone, say.name, say.text)
                }
            }

            func clientConnected(_ gateway: Gateway, client: ClientID) {
                try? gateway.emit("hello", to: .client(client), "\\(Self.name) \\(Self.version)")
            }

            func message(_ gateway: Gateway, client: ClientID, message: Message) {
                try? gateway.reply(message)  // text as text, binary as binary
            }
        }

        @c(gwd_plugin_entry_v1)
        public func gwdPluginEntry(_ api: UnsafePointer<gwd_host_api>?, _ plugin: UnsafeMutablePointer<UnsafePointer<gwd_plugin>?>?,
                                   _ error: UnsafeMutablePointer<CChar>?, _ errorLength: Int) -> Int32 {
            GatewayPluginExport.entry(\(moduleName)Plugin.self, api, plugin, error, errorLength)
        }

        """
    }

    // MARK: - Both

    /// A chat page on the plugin's events; plain JS, no build step; user text goes in as text only.
    private var page: String {
        """
        <!doctype html>
        <!-- \(name): a chat page on the plugin's typed events. Serve this folder (python3 -m http.server)
             and open http://localhost:8000/, or http://localhost:8000/?ws=ws://host:port/ for a gatewayd
             elsewhere (default: port 7272 of the host that served the page; 127.0.0.1 for a file). -->
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(name)</title>
        <style>
          body { font: 15px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
          #log { border: 1px solid #ccc; border-radius: 4px; padding: .5rem; height: 20rem; overflow-y: auto; white-space: pre-wrap; }
          .server { color: #777; }
          form { display: flex; gap: .5rem; margin-top: .5rem; }
          #text { flex: 1; }
        </style>
        </head>
        <body>
        <h1>\(name)</h1>
        <p id="state">connecting…</p>
        <div id="log"></div>
        <form id="send">
          <input id="name" placeholder="your name" size="10" required>
          <input id="text" placeholder="say something" autocomplete="off" required>
          <button>Send</button>
        </form>
        <script>
        const $ = (id) => document.getElementById(id);
        const params = new URLSearchParams(location.search);
        const url = params.get("ws") || `ws://${location.hostname || "127.0.0.1"}:7272/`;

        function show(text, kind) {
          const line = document.createElement("div");
          line.className = kind || "";
          line.textContent = text;
          $("log").append(line);
          $("log").scrollTop = $("log").scrollHeight;
        }

        const socket = new WebSocket(url);
        socket.onopen = () => { $("state").textContent = "connected to " + url; };
        socket.onclose = (event) => { $("state").textContent = `disconnected (${event.code}): reload the page to reconnect`; };
        socket.onmessage = (event) => {
          let frame = null;
          try { frame = JSON.parse(event.data); } catch {}
          if (!Array.isArray(frame)) return show(event.data, "server");
          const [name, ...args] = frame;
          if (name === "said") return show(`${args[0]}: ${args[1]}`);
          show(`${name}: ${args.map((arg) => (typeof arg === "string" ? arg : JSON.stringify(arg))).join(" ")}`, "server");
        };
        $("send").onsubmit = (event) => {
          event.preventDefault();
          socket.send(JSON.stringify(["say", $("name").value, $("text").value]));
          $("text").value = "";
        };
        </script>
        </body>
        </html>

        """
    }

    private var readme: String {
        let build: String
        switch language {
        case .c:
            build = """
                    gatewayd plugin build . -o \(name).so      # compiles, then loads it as `plugin check` does

                or with your own build, through pkg-config (gatewayd.pc, installed with the header by
                scripts/install.sh) or the flags gatewayd itself uses:

                    cc $(pkg-config --cflags gatewayd) -std=c11 -O2 -shared -fPIC -fvisibility=hidden -pthread \(name).c -o \(name).so
                    cc $(gatewayd plugin header --cflags) \(name).c -o \(name).so
                """
        case .swift:
            build = """
                    gatewayd plugin build . -o \(name).so      # swift build -c release, then `plugin check`

                Package.swift depends on gatewayd (for GatewayPluginSDK) with the line

                    \(package.dependency)

                — a release by URL and version, or a checkout by path; change it there. Build with the
                Swift toolchain that built gatewayd (`gatewayd --version` names it): a worker refuses a
                plugin built by another compiler, naming both. exports.map keeps every symbol but the
                entry and the compiler stamp private.
                """
        }
        return """
            # \(name)

            A gatewayd plugin: a chat room. A client sending `["say", name, text]` makes every client get
            `["said", name, text]`; a new client gets `["hello", "\(name) <version>"]`; any other message
            comes back to its sender.

            ## Build

            \(build)

            ## Run

                gatewayd start --plugin \(name).so           # ws://127.0.0.1:7272/; -d to run in the background
                python3 -m http.server 8000                  # in this folder, for index.html

            Open http://localhost:8000/ in two tabs (`?ws=ws://host:port/` for another server), pick names
            and chat. After a change, build again and `gatewayd reload`: the workers are replaced by ones
            running the new plugin while every client stays connected.

            `gatewayd plugin header` prints gatewayd.h, the whole host API.

            """
    }
}

/// A Swift string literal for `text` (paths and URLs: quotes and backslashes escaped).
private func swiftLiteral(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}
