/* The built-in demo plugin (examples/push): every client is greeted with its client id, so a
 * backend can push to it with `gatewayd client send-to-client <id> <message>`; anything a
 * client sends is echoed back. */
#include "CDemoPlugin.h"
#include <stdio.h>
#include <string.h>

static const gwd_host_api *api;

static void on_connect(gwd_ctx *ctx, const char *client_id) {
    char greeting[96];
    int n = snprintf(greeting, sizeof greeting, "{\"type\":\"welcome\",\"client_id\":\"%s\"}", client_id);
    api->send_to_current_client(ctx, greeting, (size_t)n, 0);
}

static void on_message(gwd_ctx *ctx, const char *client_id, const void *data, size_t len, uint32_t kind) {
    (void)client_id;
    api->send_to_current_client(ctx, data, len, gwd_send_flags_for_kind(kind)); /* text as text, binary as binary */
}

static const gwd_plugin demo = {
    GWD_PLUGIN_HEADER,
    .name = "demo",
    .version = "1.0",
    .on_connect = on_connect,
    .on_message = on_message,
};

int32_t gwd_demo_plugin_entry(const gwd_host_api *host, const gwd_plugin **out, char *error, size_t error_len) {
    (void)error;
    (void)error_len;
    if (host == NULL || host->abi_major != GWD_ABI_VERSION_MAJOR) return GWD_ERR_ABI_MISMATCH;
    api = host;
    *out = &demo;
    return GWD_OK;
}
