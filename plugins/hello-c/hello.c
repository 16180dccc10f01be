/* hello-c — the smallest gatewayd plugin: it sends every message back to its sender, text as
 * text and binary as binary; `later:<text>` comes back 100 ms later, through a one-shot timer.
 * Build: cc -std=c99 -O2 -shared -fPIC -fvisibility=hidden -I include plugins/hello-c/hello.c -o hello-c.so */
#include <stdlib.h>
#include <string.h>
#include "gatewayd.h"

GWD_PLUGIN_API;

/* What a timer needs after the callback that set it has returned: copies, not borrowed views. */
struct later { char client_id[21]; size_t len; char text[]; };

static void send_later(gwd_ctx *ctx, uint64_t timer_id, void *data) {
    struct later *later = data;
    gwd_api->send_to_client(ctx, later->client_id, later->text, later->len, 0);
    free(later);  /* a one-shot timer fires once */
    (void)timer_id;
}

static void on_message(gwd_ctx *ctx, const char *client_id, const void *data, size_t len, uint32_t kind) {
    if (len > 6 && memcmp(data, "later:", 6) == 0 && GWD_HAS(gwd_api, timer_add)) {
        struct later *later = malloc(sizeof *later + len - 6);
        if (later == NULL) return;
        memcpy(later->client_id, client_id, 21);
        later->len = len - 6;
        memcpy(later->text, (const char *)data + 6, len - 6);
        if (gwd_api->timer_add(ctx, 100, GWD_TIMER_ONCE, send_later, later, NULL) != GWD_OK) free(later);
        return;
    }
    /* The kind received: GWD_SEND_AS_RECEIVED on an ABI 1.2 host, the kind's flags on an older one. */
    uint32_t flags = gwd_api->abi_minor >= 2 ? GWD_SEND_AS_RECEIVED : gwd_send_flags_for_kind(kind);
    gwd_api->send_to_current_client(ctx, data, len, flags);
}

static const gwd_plugin hello = { GWD_PLUGIN_HEADER, .name = "hello-c", .version = "1.0.0", .on_message = on_message };

GWD_PLUGIN_ENTRY(api, out, err, err_len) {
    GWD_PLUGIN_INIT(api, err, err_len);
    *out = &hello;
    return GWD_OK;
}
