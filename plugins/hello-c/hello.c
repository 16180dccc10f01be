/* hello-c — the smallest gatewayd plugin: it sends every message back to its sender, text as
 * text and binary as binary.
 * Build: cc -std=c99 -O2 -shared -fPIC -fvisibility=hidden -I include plugins/hello-c/hello.c -o hello-c.so */
#include "gatewayd.h"

GWD_PLUGIN_API;

static void on_message(gwd_ctx *ctx, const char *client_id, const void *data, size_t len, uint32_t kind) {
    /* The kind received: GWD_SEND_AS_RECEIVED on an ABI 1.2 host, the kind's flags on an older one. */
    uint32_t flags = gwd_api->abi_minor >= 2 ? GWD_SEND_AS_RECEIVED : gwd_send_flags_for_kind(kind);
    (void)client_id;
    gwd_api->send_to_current_client(ctx, data, len, flags);
}

static const gwd_plugin hello = { GWD_PLUGIN_HEADER, .name = "hello-c", .version = "1.0.0", .on_message = on_message };

GWD_PLUGIN_ENTRY(api, out, err, err_len) {
    GWD_PLUGIN_INIT(api, err, err_len);
    *out = &hello;
    return GWD_OK;
}
