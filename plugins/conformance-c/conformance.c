/*
 * conformance-c — the C conformance plugin. TEST FIXTURE, UNFIT FOR REAL USERS: `crash:` kills
 * the worker process and `sleep:` blocks its plugin thread; it exists for the end-to-end tests,
 * the benchmarks and outside checks, which drive it with the messages of the conformance
 * protocol (shared/design/conformance-protocol.md; plugins/README.md lists them).
 *
 * Build (from the repository root):
 *   cc -std=c99 -O2 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden -I include \
 *      plugins/conformance-c/conformance.c -o conformance-c.so
 *
 * Behaviour beyond the table:
 *  - Messages are parsed as bytes with lengths, never as C strings, so any payload is safe.
 *  - Binary messages are parsed like text ones; every reply is a text frame.
 *  - The plugin replies only as the table says. When a host call fails it logs
 *    "conformance-c: <command> failed: <status text>" at warning level and sends nothing,
 *    with two exceptions: `online:` reads NOT_FOUND and INVALID_ARGUMENT as offline
 *    (`online:0`), and `getsess:` reads NOT_FOUND as unset (`sess:<k>=`).
 *  - A command whose arguments do not parse (`group:` without a second colon, `sess:` without
 *    `=`, `sleep:` without a number) is ignored like an unknown message.
 *
 * The same behaviour in Swift: plugins/conformance-swift.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gatewayd.h"

/* The version `ver:` answers. Tests rewrite this exact line with sed: keep it on one line. */
#define CONFORMANCE_VERSION "1"

#define PLUGIN_NAME "conformance-c"
#define CLIENT_ID_LEN 20

/* The size of an ABI 1.0 host table: every entry up to and including `free`. */
#define GWD_ABI_1_0_TABLE_SIZE (offsetof(gwd_host_api, free) + sizeof(((gwd_host_api *)0)->free))

GWD_PLUGIN_API;

/* ======================================================================================
 * Byte views
 * ====================================================================================== */

/* A borrowed (pointer, length) view into the message being handled. */
typedef struct view {
    const char *p;
    size_t n;
} view;

static view view_of(const char *s) {
    view v = { s, strlen(s) };
    return v;
}

static const view no_view = { NULL, 0 };

static int view_equals(view v, const char *s) {
    size_t n = strlen(s);
    return v.n == n && (n == 0 || memcmp(v.p, s, n) == 0);
}

/* True when `m` starts with `prefix`; `rest` is then what follows it. */
static int starts_with(view m, const char *prefix, view *rest) {
    size_t n = strlen(prefix);
    if (m.n < n || memcmp(m.p, prefix, n) != 0) return 0;
    rest->p = m.p + n;
    rest->n = m.n - n;
    return 1;
}

/* Splits `v` at its first `sep` into `head` and `tail`; 0 when `v` has no `sep`. */
static int split_at(view v, char sep, view *head, view *tail) {
    const char *at = v.n > 0 ? memchr(v.p, sep, v.n) : NULL;
    if (at == NULL) return 0;
    head->p = v.p;
    head->n = (size_t)(at - v.p);
    tail->p = at + 1;
    tail->n = v.n - head->n - 1;
    return 1;
}

/* Copies a client id out of a message as the NUL-terminated string the host functions take.
 * 0 unless it is 20 bytes without a NUL; the host checks that they are lowercase hex. */
static int copy_client_id(view v, char out[CLIENT_ID_LEN + 1]) {
    if (v.n != CLIENT_ID_LEN || memchr(v.p, '\0', v.n) != NULL) return 0;
    memcpy(out, v.p, CLIENT_ID_LEN);
    out[CLIENT_ID_LEN] = '\0';
    return 1;
}

/* Parses a millisecond count of 1 to 9 decimal digits. */
static int parse_ms(view v, long *out) {
    long ms = 0;
    size_t i;
    if (v.n == 0 || v.n > 9) return 0;
    for (i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9') return 0;
        ms = ms * 10 + (v.p[i] - '0');
    }
    *out = ms;
    return 1;
}

/* ======================================================================================
 * Replies and failures
 * ====================================================================================== */

static void log_failure(gwd_ctx *ctx, const char *command, int32_t status) {
    char line[192];
    const char *text = gwd_api->status_string(status);
    int n = snprintf(line, sizeof line, PLUGIN_NAME ": %s failed: %s (%d)", command,
                     text != NULL ? text : "unknown status", (int)status);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
    gwd_api->log(ctx, GWD_LOG_WARNING, line, (size_t)n);
}

/* Sends a + b + c to the current client as one text frame. */
static void reply3(gwd_ctx *ctx, const char *command, view a, view b, view c) {
    char small[512];
    size_t len = a.n + b.n + c.n;
    char *buf = len <= sizeof small ? small : malloc(len);
    int32_t status;
    if (buf == NULL) {
        log_failure(ctx, command, GWD_ERR_NO_MEMORY);
        return;
    }
    if (a.n > 0) memcpy(buf, a.p, a.n);
    if (b.n > 0) memcpy(buf + a.n, b.p, b.n);
    if (c.n > 0) memcpy(buf + a.n + b.n, c.p, c.n);
    status = gwd_api->send_to_current_client(ctx, buf, len, 0);
    if (buf != small) free(buf);
    if (status != GWD_OK) log_failure(ctx, command, status);
}

static void reply2(gwd_ctx *ctx, const char *command, const char *prefix, view body) {
    reply3(ctx, command, view_of(prefix), body, no_view);
}

/* Logs a failed host call; true when it succeeded. */
static int ok(gwd_ctx *ctx, const char *command, int32_t status) {
    if (status == GWD_OK) return 1;
    log_failure(ctx, command, status);
    return 0;
}

/* ======================================================================================
 * Echo connections: the client ids whose handshake asked for /raw-echo.
 *
 * A chained hash set keyed by the 20-character id. Touched only on the plugin thread.
 * ====================================================================================== */

#define ECHO_BUCKETS 256u /* a power of two */

typedef struct echo_node {
    struct echo_node *next;
    char id[CLIENT_ID_LEN];
} echo_node;

static echo_node *echo_buckets[ECHO_BUCKETS];

static echo_node **echo_slot(const char *client_id) {
    uint32_t hash = 2166136261u; /* FNV-1a */
    echo_node **link;
    size_t i;
    for (i = 0; i < CLIENT_ID_LEN; i++) hash = (hash ^ (unsigned char)client_id[i]) * 16777619u;
    link = &echo_buckets[hash & (ECHO_BUCKETS - 1)];
    while (*link != NULL && memcmp((*link)->id, client_id, CLIENT_ID_LEN) != 0) link = &(*link)->next;
    return link; /* the link that points at the id's node, or the NULL end of its chain */
}

static int echo_contains(const char *client_id) {
    return *echo_slot(client_id) != NULL;
}

static void echo_add(gwd_ctx *ctx, const char *client_id) {
    echo_node **link = echo_slot(client_id);
    echo_node *node;
    if (*link != NULL) return;
    node = malloc(sizeof *node);
    if (node == NULL) {
        log_failure(ctx, "raw-echo", GWD_ERR_NO_MEMORY);
        return;
    }
    memcpy(node->id, client_id, CLIENT_ID_LEN);
    node->next = NULL;
    *link = node;
}

static void echo_remove(const char *client_id) {
    echo_node **link = echo_slot(client_id);
    echo_node *node = *link;
    if (node == NULL) return;
    *link = node->next;
    free(node);
}

/* ======================================================================================
 * Commands
 * ====================================================================================== */

/* Writes through a null pointer: SIGSEGV. The pointer is volatile, so the compiler cannot prove
 * it null, and so is the int it points at, so the store is not dead before abort(). */
static void crash(void) {
    volatile int *volatile target = NULL;
    *target = 1;
    abort(); /* not reached, unless page zero is mapped */
}

static void sleep_ms(long ms) {
    struct timespec left;
    left.tv_sec = ms / 1000;
    left.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

static void handle_command(gwd_ctx *ctx, const char *client_id, view m) {
    view rest, a, b;

    if (starts_with(m, "echo:", &rest)) {
        reply3(ctx, "echo", m, no_view, no_view);
    } else if (starts_with(m, "all:", &rest)) {
        ok(ctx, "all", gwd_api->send_to_all(ctx, rest.p, rest.n, 0, NULL, 0));
    } else if (starts_with(m, "join:", &rest)) {
        if (ok(ctx, "join", gwd_api->join_group(ctx, client_id, rest.p, rest.n)))
            reply2(ctx, "join", "joined:", rest);
    } else if (starts_with(m, "leave:", &rest)) {
        if (ok(ctx, "leave", gwd_api->leave_group(ctx, client_id, rest.p, rest.n)))
            reply2(ctx, "leave", "left:", rest);
    } else if (starts_with(m, "group:", &rest)) {
        if (split_at(rest, ':', &a, &b))
            ok(ctx, "group", gwd_api->send_to_group(ctx, a.p, a.n, b.p, b.n, 0, NULL, 0));
    } else if (starts_with(m, "id:", &rest)) {
        reply2(ctx, "id", "id:", view_of(client_id));
    } else if (starts_with(m, "count:", &rest)) {
        uint64_t count = 0;
        char text[32];
        if (ok(ctx, "count", gwd_api->get_all_client_count(ctx, &count))) {
            snprintf(text, sizeof text, "%llu", (unsigned long long)count);
            reply2(ctx, "count", "count:", view_of(text));
        }
    } else if (starts_with(m, "ver:", &rest)) {
        int32_t pid = 0, index = 0;
        char text[64];
        if (ok(ctx, "ver", gwd_api->worker_info(ctx, &pid, &index))) {
            snprintf(text, sizeof text, "%s:%ld", CONFORMANCE_VERSION, (long)pid);
            reply2(ctx, "ver", "ver:", view_of(text));
        }
    } else if (starts_with(m, "uid:", &rest)) {
        if (ok(ctx, "uid", gwd_api->bind_uid(ctx, client_id, rest.p, rest.n)))
            reply2(ctx, "uid", "uid:", rest);
    } else if (starts_with(m, "touid:", &rest)) {
        if (split_at(rest, ':', &a, &b))
            ok(ctx, "touid", gwd_api->send_to_uid(ctx, a.p, a.n, b.p, b.n, 0));
    } else if (starts_with(m, "to:", &rest)) {
        char target[CLIENT_ID_LEN + 1];
        if (split_at(rest, ':', &a, &b)) {
            if (copy_client_id(a, target))
                ok(ctx, "to", gwd_api->send_to_client(ctx, target, b.p, b.n, 0));
            else
                log_failure(ctx, "to", GWD_ERR_INVALID_ARGUMENT);
        }
    } else if (starts_with(m, "online:", &rest)) {
        char target[CLIENT_ID_LEN + 1];
        int32_t online = 0;
        int32_t status = copy_client_id(rest, target) ? gwd_api->is_online(ctx, target, &online)
                                                      : GWD_ERR_INVALID_ARGUMENT;
        if (status == GWD_ERR_NOT_FOUND || status == GWD_ERR_INVALID_ARGUMENT) {
            online = 0;
            status = GWD_OK;
        }
        if (ok(ctx, "online", status)) reply2(ctx, "online", online ? "online:1" : "online:0", no_view);
    } else if (starts_with(m, "sess:", &rest)) {
        gwd_pair pair;
        if (split_at(rest, '=', &a, &b)) {
            pair.key.data = a.p;
            pair.key.len = a.n;
            pair.value.data = b.p;
            pair.value.len = b.n;
            if (ok(ctx, "sess", gwd_api->update_session(ctx, NULL, &pair, 1)))
                reply2(ctx, "sess", "sess:ok", no_view);
        }
    } else if (starts_with(m, "getsess:", &rest)) {
        gwd_bytes value = { NULL, 0 };
        int32_t status = gwd_api->session_get(ctx, rest.p, rest.n, &value);
        view v = { value.data, value.len };
        if (status == GWD_ERR_NOT_FOUND) {
            v = no_view;
            status = GWD_OK;
        }
        if (ok(ctx, "getsess", status)) {
            view sess_key = { m.p + 3, m.n - 3 }; /* "sess:<k>": the tail of "getsess:<k>" */
            reply3(ctx, "getsess", sess_key, view_of("="), v);
        }
    } else if (starts_with(m, "kick:", &rest)) {
        ok(ctx, "kick", gwd_api->close_current_client(ctx, NULL, 0, 0));
    } else if (starts_with(m, "sleep:", &rest)) {
        long ms;
        if (parse_ms(rest, &ms)) {
            sleep_ms(ms);
            reply2(ctx, "sleep", "slept:", rest);
        }
    } else if (starts_with(m, "crash:", &rest)) {
        crash();
    }
    /* anything else: ignored */
}

/* ======================================================================================
 * Callbacks
 * ====================================================================================== */

/* True when the query string has the parameter `reject=1`. */
static int query_rejects(view query) {
    view param, tail;
    while (split_at(query, '&', &param, &tail)) {
        if (view_equals(param, "reject=1")) return 1;
        query = tail;
    }
    return view_equals(query, "reject=1");
}

#define HANDSHAKE_HAS(request, field) \
    ((request)->struct_size >= offsetof(gwd_handshake, field) + sizeof((request)->field))

static int32_t on_websocket_handshake(gwd_ctx *ctx, const char *client_id, const gwd_handshake *request) {
    view path = no_view, query = no_view;
    if (request == NULL) return 0;
    if (HANDSHAKE_HAS(request, path)) {
        path.p = request->path.data;
        path.n = request->path.len;
    }
    if (HANDSHAKE_HAS(request, query)) {
        query.p = request->query.data;
        query.n = request->query.len;
    }
    if (query_rejects(query)) return 403;
    if (client_id != NULL && view_equals(path, "/raw-echo")) echo_add(ctx, client_id);
    return 0;
}

static void on_message(gwd_ctx *ctx, const char *client_id, const void *data, size_t len, uint32_t kind) {
    view m = { (const char *)data, len };
    if (client_id == NULL) return;
    if (echo_contains(client_id)) {
        uint32_t flags = kind == GWD_MESSAGE_BINARY ? GWD_SEND_BINARY : 0;
        ok(ctx, "raw-echo", gwd_api->send_to_current_client(ctx, data, len, flags));
        return;
    }
    handle_command(ctx, client_id, m);
}

static void on_close(gwd_ctx *ctx, const char *client_id) {
    (void)ctx;
    if (client_id != NULL) echo_remove(client_id);
}

static const gwd_plugin conformance_plugin = {
    GWD_PLUGIN_HEADER,
    .name = PLUGIN_NAME,
    .version = CONFORMANCE_VERSION,
    .on_websocket_handshake = on_websocket_handshake,
    .on_message = on_message,
    .on_close = on_close,
};

GWD_PLUGIN_ENTRY(api, out, err, err_len) {
    GWD_PLUGIN_INIT(api, err, err_len);
    /* Every 1.x table has all 1.0 entries; a shorter one is broken. */
    if (api->struct_size < GWD_ABI_1_0_TABLE_SIZE) {
        if (err != NULL && err_len > 0)
            snprintf(err, err_len, PLUGIN_NAME " needs the ABI 1.0 host table (%u bytes), the host's has %u bytes",
                     (unsigned)GWD_ABI_1_0_TABLE_SIZE, (unsigned)api->struct_size);
        return GWD_ERR_ABI_MISMATCH;
    }
    if (out == NULL) return GWD_ERR_INVALID_ARGUMENT;
    *out = &conformance_plugin;
    return GWD_OK;
}
