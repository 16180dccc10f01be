/* events-c: typed events in C (docs/events.md). The host decodes each event's arguments and
 * encodes what event_emit sends: no JSON code here. gatewayd plugin build plugins/events-c/events.c -o events.so */
#include <stdbool.h>
#include <string.h>
#include "gatewayd.h"
GWD_PLUGIN_API;

static int32_t reply(gwd_ctx *ctx, const char *client_id, const char *name, const gwd_arg *args, size_t count) {
    return gwd_api->event_emit(ctx, GWD_EMIT_CLIENT, client_id, strlen(client_id), name, args, count);
}
static int32_t on_add(gwd_ctx *ctx, const char *client_id, int64_t a, int64_t b) {
    gwd_arg sum = gwd_arg_int((int64_t)((uint64_t)a + (uint64_t)b)); /* wraps around, never overflows */
    return reply(ctx, client_id, "sum", &sum, 1);
}
static int32_t on_shout(gwd_ctx *ctx, const char *client_id, const char *text) {
    static char upper[GWD_EVENT_MAX_ARG_BYTES + 1]; /* one plugin thread; an 's' argument fits */
    size_t k = 0;
    for (; text[k] && k < GWD_EVENT_MAX_ARG_BYTES; k++) upper[k] = (char)(text[k] >= 'a' && text[k] <= 'z' ? text[k] - 32 : text[k]);
    upper[k] = 0;
    gwd_arg shouted = gwd_arg_string(upper);
    return reply(ctx, client_id, "shouted", &shouted, 1);
}
static int32_t on_types(gwd_ctx *ctx, const char *client_id, const char *s, int64_t i, double d, bool b, const char *j, size_t j_len) {
    gwd_arg args[] = {gwd_arg_string(s), gwd_arg_int(i), gwd_arg_double(d), gwd_arg_bool(b), gwd_arg_json(j, j_len)};
    return reply(ctx, client_id, "types", args, 5);
}
static const gwd_event_decl events[] = {
    {"add", "i:a i:b", GWD_EVENT_FN(on_add)},
    {"shout", "s:text", GWD_EVENT_FN(on_shout)},
    {"types", "s:s i:i d:d b:b j:j", GWD_EVENT_FN(on_types)},
};
static int32_t on_worker_start(gwd_ctx *ctx) { return gwd_event_on_table(gwd_api, ctx, events, sizeof events / sizeof events[0]); }
static const gwd_plugin plugin = {GWD_PLUGIN_HEADER, .name = "events-c", .version = "1", .on_worker_start = on_worker_start};
GWD_PLUGIN_ENTRY(api, out, err, err_len) {
    GWD_PLUGIN_INIT(api, err, err_len);
    *out = &plugin;
    return GWD_OK;
}
