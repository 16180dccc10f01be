/*
 * gatewayd.h — the gatewayd plugin ABI, version 1.2.
 *
 * This is the only file a plugin author needs. It is plain C99 with no dependencies and is
 * usable from C and from Swift. A plugin is a shared library (.so) that exports exactly one
 * symbol, GWD_PLUGIN_ENTRY_SYMBOL (a Swift plugin one more, GWD_SWIFT_COMPILER_SYMBOL); a
 * BusinessWorker process loads it and calls its callbacks.
 *
 * Rules (docs/plugin-abi.md explains the reasoning):
 *  - Every extensible struct starts with `struct_size` and the ABI major/minor it was built
 *    against. A reader never touches a field beyond the `struct_size` it was given.
 *  - Tables are append-only. A host with a newer minor version has more entries; a plugin
 *    built against a newer minor must test entries it needs with GWD_HAS().
 *  - A major version mismatch is refused at load time with a message naming both versions.
 *  - Handles (gwd_ctx) are opaque. Host struct layouts are never exposed.
 *  - Borrowed views: every pointer the host passes in is valid until the callback returns.
 *    Copy what you keep. Strings are (pointer, length) bytes; where a trailing NUL is present
 *    it is a convenience, never to be relied on for binary data. The one exception is a
 *    client id, which is always 20 lowercase hex characters followed by a NUL.
 *  - One allocator rule: memory the host returns (a gwd_buffer's data, a gwd_list, a
 *    gwd_table) is one allocation, released with one api->free(). Memory the plugin passes
 *    in is copied before the call returns.
 *  - Threading: each worker process has one thread, the plugin thread, that runs its gateway
 *    links, its timers and every callback (plugin events, and since 1.2 timer callbacks and
 *    posted tasks, which have no current client), one at a time, as a GatewayWorker
 *    BusinessWorker does. Host functions may only be called on that thread while a callback
 *    runs; anywhere else they return GWD_ERR_WRONG_THREAD. The exceptions say "any thread":
 *    status_string, free, and post (1.2), which is how a thread of the plugin's own hands work
 *    to the plugin thread.
 *  - Errors are gwd_status codes (api->status_string() names each), never signals.
 *  - The host never dlclose()s a plugin. Reload starts a fresh worker process instead.
 */
#ifndef GATEWAYD_H
#define GATEWAYD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. The host reports its own at run time in
 * gwd_host_api.abi_major / abi_minor. */
#define GWD_ABI_VERSION_MAJOR 1
#define GWD_ABI_VERSION_MINOR 2

/* ======================================================================================
 * 1. Status codes
 * ====================================================================================== */

typedef enum gwd_status {
    GWD_OK = 0,
    GWD_ERR_INVALID_ARGUMENT = 1,   /* a NULL pointer, a malformed client id, bad flags */
    GWD_ERR_NOT_FOUND = 2,          /* no such client / no such session key */
    GWD_ERR_NO_CURRENT_CLIENT = 3,  /* a "current client" call outside a client event */
    GWD_ERR_UNAVAILABLE = 4,        /* the gateway that holds the client is not connected */
    GWD_ERR_TIMEOUT = 5,            /* a query got no answer in time from some gateway */
    GWD_ERR_NO_MEMORY = 6,
    GWD_ERR_WRONG_THREAD = 7,       /* called from outside the plugin thread / a callback */
    GWD_ERR_UNSUPPORTED = 8,        /* the host does not implement this on this role */
    GWD_ERR_TOO_LARGE = 9,          /* a message or name exceeds the configured limit */
    GWD_ERR_ABI_MISMATCH = 10,      /* the plugin refuses the host's ABI version */
    GWD_ERR_FAILED = 11,            /* a plugin callback reports failure */
    GWD_ERR_INTERNAL = 12,
    /* Added in 1.2 */
    GWD_ERR_QUEUE_FULL = 13,        /* post: the worker's queue of posted work is full; retry later */
    GWD_ERR_STOPPING = 14,          /* the worker is stopping (reload, stop): no new timers or posts */
    GWD_ERR_EXISTS = 15             /* event_on: an event of that name is already declared */
} gwd_status;

/* ======================================================================================
 * 2. Opaque handles
 * ====================================================================================== */

/* The context of the running callback: the worker, and the current event's client if the
 * callback is a client event. Valid only until the callback returns. */
typedef struct gwd_ctx gwd_ctx;

/* ======================================================================================
 * 3. Value types and structs
 * ====================================================================================== */

/* A borrowed byte string. gwd_bytes and gwd_pair are frozen value types (like iovec): they
 * never grow, so they carry no struct_size. */
typedef struct gwd_bytes {
    const char *data;
    size_t len;
} gwd_bytes;

/* A key/value pair of byte strings, e.g. one session entry. */
typedef struct gwd_pair {
    gwd_bytes key;
    gwd_bytes value;
} gwd_pair;

/* Memory the host allocated for the plugin; release `data` with api->free(). */
typedef struct gwd_buffer {
    char *data;
    size_t len;
} gwd_buffer;

/* ---- Query results (added in 1.1) ------------------------------------------------------
 * gwd_list, gwd_table_entry and gwd_table are frozen value types like gwd_bytes. The host
 * returns each list or table as ONE allocation: the header, its arrays and every byte they
 * point at. Release it with one api->free(result); never free the parts. Every key and item
 * is followed by a NUL that `len` does not count, so a client id taken from a result can be
 * passed straight to any function taking a `client_id`. Lists are sorted bytewise and hold
 * no duplicates; table entries are sorted by key. */

/* A list of byte strings: client ids, uids or group names. */
typedef struct gwd_list {
    size_t count;
    const gwd_bytes *items;      /* `count` items; never NULL, even when count is 0 */
} gwd_list;

/* One entry of a table. In a list table the value is a list: `count` items at `items` (never
 * NULL). In a number table the value is the number in `count`, and `items` is NULL. Each
 * function says which kind it returns. */
typedef struct gwd_table_entry {
    gwd_bytes key;
    size_t count;
    const gwd_bytes *items;
} gwd_table_entry;

/* A map from byte strings (group names, uids) to lists or numbers. */
typedef struct gwd_table {
    size_t count;
    const gwd_table_entry *entries;  /* `count` entries; never NULL, even when count is 0 */
} gwd_table;

/* Message kinds passed to on_message. NOT send flags: GWD_MESSAGE_TEXT (1) passed as send
 * flags would mean GWD_SEND_BINARY. To answer in the kind received, pass GWD_SEND_AS_RECEIVED
 * (1.2) or gwd_send_flags_for_kind(kind). */
#define GWD_MESSAGE_TEXT   1u
#define GWD_MESSAGE_BINARY 2u

/* Send flags (bit set). */
#define GWD_SEND_BINARY 0x1u  /* send a binary frame instead of a text frame */
#define GWD_SEND_RAW    0x2u  /* write the bytes to the socket as they are, no client framing */
/* Added in 1.2: binary if the message being handled (on_message) arrived binary, else text.
 * Outside on_message it means text. A 1.0 or 1.1 host ignores the bit and sends text: use it
 * only when api->abi_minor >= 2, else gwd_send_flags_for_kind(kind). */
#define GWD_SEND_AS_RECEIVED 0x4u

/* The send flags that answer a message of `kind` in the same kind (any host version). */
static inline uint32_t gwd_send_flags_for_kind(uint32_t kind) {
    return kind == GWD_MESSAGE_BINARY ? GWD_SEND_BINARY : 0u;
}

/* ---- Timers and work from other threads (added in 1.2) ---------------------------------
 * A timer callback and a posted task run on the plugin thread like every other callback,
 * with a context that has no current client: every host function that does not need one
 * works there (sends, groups, uids, sessions of a named client, every query). */

/* timer_add flags. */
#define GWD_TIMER_ONCE   0x0u  /* fire once, then the id is gone */
#define GWD_TIMER_REPEAT 0x1u  /* fire every interval until timer_del */

/* A timer fired. `timer_id` is what timer_add returned; `user_data` what was passed to it. */
typedef void (*gwd_timer_fn)(gwd_ctx *ctx, uint64_t timer_id, void *user_data);

/* Posted work, run on the plugin thread. */
typedef void (*gwd_task_fn)(gwd_ctx *ctx, void *user_data);

/* The handle through which any thread posts work to the plugin thread (api->post). Opaque. */
typedef struct gwd_poster gwd_poster;

/* ---- Typed events (added in 1.2) --------------------------------------------------------
 * A plugin declares events with natural C signatures (api->event_on); a client's message
 * ["say", "room1", "hi"] or {"event":"say", "room":"room1", "text":"hi"} then calls
 *     int32_t on_say(gwd_ctx *ctx, const char *client_id, const char *room, const char *text)
 * with the arguments decoded. docs/events.md has the wire format (acknowledgements, error
 * frames). A signature lists the handler's arguments after (ctx, client_id), separated by
 * spaces; each is a type letter, optionally followed by ':' and the field name the object form
 * uses, e.g. "s:room s:text". Types and the C parameters each becomes:
 *   s   const char *            a JSON string, NUL-terminated (one containing \u0000 is refused)
 *   S   const char *, size_t    a JSON string as (pointer, length); NULs allowed
 *   i   int64_t                 a JSON integer within int64_t (no fraction, no exponent)
 *   d   double                  any JSON number
 *   b   bool                    true or false (C99 bool)
 *   j   const char *, size_t    any JSON value, its text as sent ("raw JSON"), NUL-terminated
 * Strings are borrowed until the handler returns. */
#define GWD_EVENT_MAX_ARGS 16            /* arguments per event, after (ctx, client_id) */
#define GWD_EVENT_MAX_ARG_BYTES 65536    /* one string or raw-JSON argument, decoded */

/* An event handler, cast to this type for event_on: GWD_EVENT_FN(on_say). */
typedef void (*gwd_event_fn)(void);
#define GWD_EVENT_FN(handler) ((gwd_event_fn)(void (*)(void))(handler))

/* One argument of an event the plugin emits to clients (api->event_emit): a frozen value
 * type. Build it with gwd_arg_string() and friends below. */
typedef struct gwd_arg {
    uint32_t type;               /* 's' (and 'S': text, len), 'i', 'd', 'b', 'j' (raw JSON, len) */
    uint32_t flag;               /* 'b': 0 or 1 */
    int64_t integer;             /* 'i' */
    double number;               /* 'd' */
    const char *text;            /* 's', 'S', 'j' */
    size_t len;                  /* 'S', 'j' (for 's' the text is NUL-terminated) */
} gwd_arg;

static inline gwd_arg gwd_arg_string(const char *text) {
    gwd_arg arg = {0}; arg.type = 's'; arg.text = text; return arg;
}
static inline gwd_arg gwd_arg_bytes(const char *text, size_t len) {
    gwd_arg arg = {0}; arg.type = 'S'; arg.text = text; arg.len = len; return arg;
}
static inline gwd_arg gwd_arg_int(int64_t value) {
    gwd_arg arg = {0}; arg.type = 'i'; arg.integer = value; return arg;
}
static inline gwd_arg gwd_arg_double(double value) {
    gwd_arg arg = {0}; arg.type = 'd'; arg.number = value; return arg;
}
static inline gwd_arg gwd_arg_bool(int value) {
    gwd_arg arg = {0}; arg.type = 'b'; arg.flag = value != 0; return arg;
}
static inline gwd_arg gwd_arg_json(const char *json, size_t len) {
    gwd_arg arg = {0}; arg.type = 'j'; arg.text = json; arg.len = len; return arg;
}

/* Where event_emit sends. */
#define GWD_EMIT_CLIENT 0u   /* target: a client id */
#define GWD_EMIT_GROUP  1u   /* target: a group name */
#define GWD_EMIT_UID    2u   /* target: a uid */
#define GWD_EMIT_ALL    3u   /* target: ignored (NULL, 0): every client */

/* Log levels for api->log. */
#define GWD_LOG_DEBUG   0
#define GWD_LOG_INFO    1
#define GWD_LOG_WARNING 2
#define GWD_LOG_ERROR   3

/* One HTTP request header of a WebSocket handshake. Names keep the client's spelling. */
typedef struct gwd_header {
    gwd_bytes name;
    gwd_bytes value;
} gwd_header;

/* The WebSocket handshake request, handed to on_websocket_handshake. All views are borrowed. */
typedef struct gwd_handshake {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    /* Added in 1.0 */
    gwd_bytes method;            /* "GET" */
    gwd_bytes path;              /* the request target without the query, e.g. "/chat" */
    gwd_bytes query;             /* the query string without '?', may be empty */
    gwd_bytes remote_address;    /* the client's IP address as text */
    uint16_t remote_port;
    size_t header_count;
    const gwd_header *headers;   /* header_count entries, in request order */
} gwd_handshake;

/* ======================================================================================
 * 4. The host API — APPEND-ONLY.
 *
 * WARNING: entries are only ever added at the end, each group under an "Added in 1.x"
 * marker. Never reorder, remove or change an entry: plugins built against any 1.x header
 * index this table by offset.
 *
 * Unless noted, every function:
 *  - may be called only on the plugin thread while a callback runs (a plugin event, a timer
 *    callback or a posted task), else it returns GWD_ERR_WRONG_THREAD;
 *  - copies every byte it is given before it returns (the plugin keeps ownership);
 *  - accepts (NULL, 0) as an empty payload; a NULL name, key or client id is
 *    GWD_ERR_INVALID_ARGUMENT, and so is a malformed client id, a group or uid name that is
 *    empty or longer than 65535 bytes, or a NULL array with a count above 0;
 *  - returns GWD_OK or a gwd_status. Sends are queued and return before delivery: GWD_OK
 *    means "accepted for delivery", not "received by the client". A message (or a close
 *    message) over 64 MiB is GWD_ERR_TOO_LARGE.
 * The comment of each entry names the statuses it returns.
 * `client_id` arguments are 20-hex-character client ids (NUL-terminated).
 * "The current client" is the client of on_connect, on_websocket_handshake, on_message and
 * on_close. Every other callback (on_worker_start, on_worker_stop, a timer callback, a posted
 * task) has none: there current-client calls return GWD_ERR_NO_CURRENT_CLIENT. Sends to a
 * client that already closed (e.g. from on_close) are accepted and dropped by its gateway.
 * Every entry inside the host's struct_size is non-NULL; a host that cannot do something on
 * some role returns GWD_ERR_UNSUPPORTED rather than leaving a hole.
 *
 * Queries (is_online, get_all_client_count, get_session_json, and those added in 1.1):
 *  - They block the plugin thread, never an event loop. A query about one client asks only
 *    the gateway its client id names; any other query is sent to every gateway in parallel
 *    and the answers are merged as GatewayWorker 4.x merges them.
 *  - Results are host memory (section 3): one gwd_buffer, gwd_list or gwd_table per call,
 *    released with api->free(). A list or table result pointer is set to NULL, and a
 *    gwd_buffer to {NULL, 0}, whenever the call returns no result.
 *  - Partial results: when a query of every gateway gets no answer from some gateway — none
 *    within query_timeout_ms (GWD_ERR_TIMEOUT), or its connection is down
 *    (GWD_ERR_UNAVAILABLE; TIMEOUT wins when both happen) — the call still returns the
 *    merged answers of the gateways that did answer, with that status: the result is set
 *    and must be freed as on GWD_OK. The worker logs a warning naming the silent gateways.
 *    A query of one client's gateway has no partial result: it fails with the status.
 *  - Name lists passed in (uids, groups) are arrays of gwd_bytes; counts come out as uint64_t.
 *  - Every query returns GWD_ERR_INVALID_ARGUMENT for a NULL out pointer (or a bad argument,
 *    as above), and those handing out host memory GWD_ERR_NO_MEMORY when it cannot be had.
 * ====================================================================================== */

typedef struct gwd_host_api {
    uint32_t struct_size;        /* sizeof(gwd_host_api) of the host */
    uint16_t abi_major;          /* the host's GWD_ABI_VERSION_MAJOR */
    uint16_t abi_minor;          /* the host's GWD_ABI_VERSION_MINOR */

    /* ---- Added in 1.0 ---------------------------------------------------------------- */

    /* A static, NUL-terminated English description of a status code ("unknown status" for a
     * code the host does not know). Any thread. Never NULL. */
    const char *(*status_string)(int32_t status);

    /* Writes one line to the worker's log (level GWD_LOG_*). No status: a call off the plugin
     * thread, outside a callback or with a NULL message is dropped. */
    void (*log)(gwd_ctx *ctx, int32_t level, const char *message, size_t len);

    /* The pid and process index (0..count-1) of this worker; either out pointer may be NULL.
     * Returns GWD_OK; GWD_ERR_WRONG_THREAD. */
    int32_t (*worker_info)(gwd_ctx *ctx, int32_t *out_pid, int32_t *out_index);

    /* The client id of the current event, or NULL outside a client event (and off the plugin
     * thread). Borrowed. */
    const char *(*current_client_id)(gwd_ctx *ctx);

    /* Sends a message to one client / the current client. flags: GWD_SEND_*. Returns GWD_OK;
     * GWD_ERR_INVALID_ARGUMENT (client id); GWD_ERR_NO_CURRENT_CLIENT (send_to_current_client
     * outside a client event); GWD_ERR_TOO_LARGE; GWD_ERR_WRONG_THREAD. */
    int32_t (*send_to_client)(gwd_ctx *ctx, const char *client_id,
                              const void *data, size_t len, uint32_t flags);
    int32_t (*send_to_current_client)(gwd_ctx *ctx, const void *data, size_t len, uint32_t flags);

    /* Sends a message to every client of every gateway except the `exclude_count` client ids
     * in `exclude` (may be NULL when exclude_count is 0). The frame is encoded once per
     * gateway and written to every connection. Returns GWD_OK; GWD_ERR_INVALID_ARGUMENT (an
     * exclude id); GWD_ERR_TOO_LARGE; GWD_ERR_WRONG_THREAD. */
    int32_t (*send_to_all)(gwd_ctx *ctx, const void *data, size_t len, uint32_t flags,
                           const char *const *exclude, size_t exclude_count);

    /* Closes a client / the current client. If `message` is not NULL it is sent first
     * (flags as for sends). Returns GWD_OK; GWD_ERR_INVALID_ARGUMENT (client id);
     * GWD_ERR_NO_CURRENT_CLIENT (close_current_client); GWD_ERR_TOO_LARGE; GWD_ERR_WRONG_THREAD. */
    int32_t (*close_client)(gwd_ctx *ctx, const char *client_id,
                            const void *message, size_t len, uint32_t flags);
    int32_t (*close_current_client)(gwd_ctx *ctx, const void *message, size_t len, uint32_t flags);

    /* Groups. A client leaves every group when it disconnects. ungroup dissolves a group.
     * Returns GWD_OK; GWD_ERR_INVALID_ARGUMENT (client id, group name, an exclude id);
     * GWD_ERR_TOO_LARGE (send_to_group); GWD_ERR_WRONG_THREAD. */
    int32_t (*join_group)(gwd_ctx *ctx, const char *client_id, const char *group, size_t group_len);
    int32_t (*leave_group)(gwd_ctx *ctx, const char *client_id, const char *group, size_t group_len);
    int32_t (*ungroup)(gwd_ctx *ctx, const char *group, size_t group_len);
    int32_t (*send_to_group)(gwd_ctx *ctx, const char *group, size_t group_len,
                             const void *data, size_t len, uint32_t flags,
                             const char *const *exclude, size_t exclude_count);

    /* uids. A client has at most one uid; a uid may have many clients. Returns GWD_OK;
     * GWD_ERR_INVALID_ARGUMENT (client id, uid); GWD_ERR_TOO_LARGE (send_to_uid);
     * GWD_ERR_WRONG_THREAD. */
    int32_t (*bind_uid)(gwd_ctx *ctx, const char *client_id, const char *uid, size_t uid_len);
    int32_t (*unbind_uid)(gwd_ctx *ctx, const char *client_id, const char *uid, size_t uid_len);
    int32_t (*send_to_uid)(gwd_ctx *ctx, const char *uid, size_t uid_len,
                           const void *data, size_t len, uint32_t flags);

    /* Queries (see "Queries" above): is_online asks the client's gateway (isOnline),
     * get_all_client_count every gateway (getAllClientIdCount). Since 1.2 is_online answers
     * 0 with GWD_OK for a client whose gateway this worker is not connected to, as
     * GatewayWorker's isOnline does (a 1.1 host returned GWD_ERR_UNAVAILABLE).
     * is_online returns GWD_OK; GWD_ERR_INVALID_ARGUMENT; GWD_ERR_TIMEOUT (no result);
     * GWD_ERR_WRONG_THREAD. get_all_client_count: GWD_OK; GWD_ERR_INVALID_ARGUMENT;
     * GWD_ERR_TIMEOUT / GWD_ERR_UNAVAILABLE with the partial count; GWD_ERR_WRONG_THREAD. */
    int32_t (*is_online)(gwd_ctx *ctx, const char *client_id, int32_t *out_online);
    int32_t (*get_all_client_count)(gwd_ctx *ctx, uint64_t *out_count);

    /* Sessions. A session is a map from string keys to values, stored on the gateway and
     * delivered with every event of its client.
     *
     * session_get reads one top-level entry of the current client's session as delivered with
     * this event (and changed by this callback's own set/update calls). Scalars read as text
     * ("42", "1" for true, "" for false and null); a nested map reads as JSON.
     * The view is borrowed until the callback returns or the session is changed again.
     * Returns GWD_OK; GWD_ERR_NOT_FOUND when the key is not set (also outside a client event,
     * where there is no session); GWD_ERR_INVALID_ARGUMENT (NULL key or out_value);
     * GWD_ERR_WRONG_THREAD. */
    int32_t (*session_get)(gwd_ctx *ctx, const char *key, size_t key_len, gwd_bytes *out_value);

    /* The whole current session as a JSON object (borrowed, like session_get). Returns GWD_OK;
     * GWD_ERR_INVALID_ARGUMENT (NULL out_json); GWD_ERR_NO_CURRENT_CLIENT; GWD_ERR_WRONG_THREAD. */
    int32_t (*session_json)(gwd_ctx *ctx, gwd_bytes *out_json);

    /* Replaces (set) or merges into (update: recursive, new values win) the session of a
     * client. `client_id` NULL means the current client. Values are strings. Returns GWD_OK;
     * GWD_ERR_INVALID_ARGUMENT (client id, a NULL or empty key); GWD_ERR_NO_CURRENT_CLIENT
     * (NULL client_id outside a client event); GWD_ERR_WRONG_THREAD. */
    int32_t (*set_session)(gwd_ctx *ctx, const char *client_id, const gwd_pair *pairs, size_t count);
    int32_t (*update_session)(gwd_ctx *ctx, const char *client_id, const gwd_pair *pairs, size_t count);

    /* The same with a JSON object, for nested values. Returns the same statuses, and
     * GWD_ERR_INVALID_ARGUMENT if `json` is NULL or not a JSON object. */
    int32_t (*set_session_json)(gwd_ctx *ctx, const char *client_id, const char *json, size_t len);
    int32_t (*update_session_json)(gwd_ctx *ctx, const char *client_id, const char *json, size_t len);

    /* Reads any client's session from its gateway as a JSON object into host memory
     * (release out->data with api->free). A query: blocks the plugin thread. An empty session
     * reads {}. Returns GWD_OK; GWD_ERR_NOT_FOUND when the client is not online;
     * GWD_ERR_INVALID_ARGUMENT; GWD_ERR_TIMEOUT / GWD_ERR_UNAVAILABLE (no result);
     * GWD_ERR_NO_MEMORY; GWD_ERR_WRONG_THREAD. */
    int32_t (*get_session_json)(gwd_ctx *ctx, const char *client_id, gwd_buffer *out);

    /* Releases memory the host returned (gwd_buffer.data, a gwd_list, a gwd_table). NULL is
     * ignored. Any thread. No status. */
    void (*free)(void *ptr);

    /* ---- Added in 1.1 ---------------------------------------------------------------- */
    /* Check with GWD_HAS(api, name) before calling: a 1.0 host's table ends before these. */

    /* Closes a client / the current client at once: nothing more is written to it, no
     * WebSocket close frame, sends still queued on its gateway are dropped (destroyClient).
     * Returns GWD_OK; GWD_ERR_INVALID_ARGUMENT (client id); GWD_ERR_NO_CURRENT_CLIENT
     * (destroy_current_client); GWD_ERR_WRONG_THREAD. */
    int32_t (*destroy_client)(gwd_ctx *ctx, const char *client_id);
    int32_t (*destroy_current_client)(gwd_ctx *ctx);

    /* Sends a message to exactly the `count` clients listed, each reached through its own
     * gateway (sendToAll with a client id list). count 0 sends nothing. Returns GWD_OK;
     * GWD_ERR_INVALID_ARGUMENT (a client id); GWD_ERR_TOO_LARGE; GWD_ERR_WRONG_THREAD. */
    int32_t (*send_to_clients)(gwd_ctx *ctx, const char *const *client_ids, size_t count,
                               const void *data, size_t len, uint32_t flags);

    /* Sends a message to every client bound to any of the `count` uids (sendToUid with a
     * list). A client bound to one of them gets it once. count 0 sends nothing. Returns
     * GWD_OK; GWD_ERR_INVALID_ARGUMENT (a uid); GWD_ERR_TOO_LARGE; GWD_ERR_WRONG_THREAD. */
    int32_t (*send_to_uids)(gwd_ctx *ctx, const gwd_bytes *uids, size_t count,
                            const void *data, size_t len, uint32_t flags);

    /* Sends a message to every member of any of the `group_count` groups except the
     * `exclude_count` client ids in `exclude` (sendToGroup with a list). A client in several of
     * the groups gets it once. group_count 0 sends nothing. Returns GWD_OK;
     * GWD_ERR_INVALID_ARGUMENT (a group name, an exclude id); GWD_ERR_TOO_LARGE;
     * GWD_ERR_WRONG_THREAD. */
    int32_t (*send_to_groups)(gwd_ctx *ctx, const gwd_bytes *groups, size_t group_count,
                              const void *data, size_t len, uint32_t flags,
                              const char *const *exclude, size_t exclude_count);

    /* Queries about uids. is_uid_online: whether some client is bound to the uid.
     * get_client_id_by_uid: the client ids bound to it (a list). Both ask every gateway and
     * return GWD_OK; GWD_ERR_INVALID_ARGUMENT; GWD_ERR_TIMEOUT / GWD_ERR_UNAVAILABLE with a
     * partial result; GWD_ERR_NO_MEMORY (the list); GWD_ERR_WRONG_THREAD.
     * get_uid_by_client_id: the client's uid in a gwd_buffer (asks only the client's gateway):
     * GWD_OK; GWD_ERR_NOT_FOUND when the client is offline or has no uid;
     * GWD_ERR_INVALID_ARGUMENT; GWD_ERR_TIMEOUT / GWD_ERR_UNAVAILABLE (no result);
     * GWD_ERR_NO_MEMORY; GWD_ERR_WRONG_THREAD. */
    int32_t (*is_uid_online)(gwd_ctx *ctx, const char *uid, size_t uid_len, int32_t *out_online);
    int32_t (*get_client_id_by_uid)(gwd_ctx *ctx, const char *uid, size_t uid_len, gwd_list **out);
    int32_t (*get_uid_by_client_id)(gwd_ctx *ctx, const char *client_id, gwd_buffer *out);

    /* Queries about one group: its number of clients, their ids, their sessions (a JSON object
     * {client_id: session object} in a gwd_buffer, as get_session_json gives one session), the
     * distinct uids bound to its members, and their number. Each asks every gateway and returns
     * GWD_OK; GWD_ERR_INVALID_ARGUMENT; GWD_ERR_TIMEOUT / GWD_ERR_UNAVAILABLE with a partial
     * result; GWD_ERR_NO_MEMORY (lists, buffers); GWD_ERR_WRONG_THREAD. */
    int32_t (*get_client_count_by_group)(gwd_ctx *ctx, const char *group, size_t group_len, uint64_t *out_count);
    int32_t (*get_client_id_list_by_group)(gwd_ctx *ctx, const char *group, size_t group_len, gwd_list **out);
    int32_t (*get_client_sessions_by_group)(gwd_ctx *ctx, const char *group, size_t group_len, gwd_buffer *out);
    int32_t (*get_uid_list_by_group)(gwd_ctx *ctx, const char *group, size_t group_len, gwd_list **out);
    int32_t (*get_uid_count_by_group)(gwd_ctx *ctx, const char *group, size_t group_len, uint64_t *out_count);

    /* Queries about everyone: every client id, every session (JSON object as above), every
     * group with at least one member, every bound uid (distinct) and their number. Statuses as
     * for the group queries above. */
    int32_t (*get_all_client_id_list)(gwd_ctx *ctx, gwd_list **out);
    int32_t (*get_all_client_sessions)(gwd_ctx *ctx, gwd_buffer *out);
    int32_t (*get_all_group_id_list)(gwd_ctx *ctx, gwd_list **out);
    int32_t (*get_all_uid_list)(gwd_ctx *ctx, gwd_list **out);
    int32_t (*get_all_uid_count)(gwd_ctx *ctx, uint64_t *out_count);

    /* Every group with members: its distinct uids (list table) or their number (number table);
     * its client ids (list table) or their number (number table). Members without a uid count
     * only in the client id forms. Statuses as for the group queries above. */
    int32_t (*get_all_group_uid_list)(gwd_ctx *ctx, gwd_table **out);
    int32_t (*get_all_group_uid_count)(gwd_ctx *ctx, gwd_table **out);
    int32_t (*get_all_group_client_id_list)(gwd_ctx *ctx, gwd_table **out);
    int32_t (*get_all_group_client_id_count)(gwd_ctx *ctx, gwd_table **out);

    /* Batch forms; the result has one entry for every name asked (duplicates once), also for
     * names with no clients. batch_get_client_id_by_uid: uid -> client ids (list table).
     * batch_get_client_count_by_group: group -> number of clients (number table).
     * is_uids_online: uid -> 1 or 0 (number table). Statuses as for the group queries above
     * (GWD_ERR_INVALID_ARGUMENT also for a bad name in the list). */
    int32_t (*batch_get_client_id_by_uid)(gwd_ctx *ctx, const gwd_bytes *uids, size_t count, gwd_table **out);
    int32_t (*batch_get_client_count_by_group)(gwd_ctx *ctx, const gwd_bytes *groups, size_t count, gwd_table **out);
    int32_t (*is_uids_online)(gwd_ctx *ctx, const gwd_bytes *uids, size_t count, gwd_table **out);

    /* ---- Added in 1.2 ---------------------------------------------------------------- */
    /* Check with GWD_HAS(api, name) before calling: a 1.0 or 1.1 host's table ends before these. */

    /* Timers (Workerman's Timer::add / Timer::del). Calls `callback(ctx, id, user_data)` on the
     * plugin thread `interval_ms` milliseconds from now, and with GWD_TIMER_REPEAT every
     * `interval_ms` after that, on a fixed schedule (no drift). A timer never fires early: when
     * the plugin thread is busy past a deadline it fires once, late, as soon as it is free, and
     * the schedule moves on from then (missed intervals are skipped, never fired in a burst).
     * The id (never 0, never reused) is written to `out_timer_id` (may be NULL).
     * Returns GWD_OK; GWD_ERR_INVALID_ARGUMENT for interval_ms <= 0 or > 10^12, a NULL callback
     * or unknown flags; GWD_ERR_TOO_LARGE past 65536 live timers; GWD_ERR_STOPPING once the
     * worker is stopping (its timers no longer fire); GWD_ERR_WRONG_THREAD. */
    int32_t (*timer_add)(gwd_ctx *ctx, int64_t interval_ms, uint32_t flags,
                         gwd_timer_fn callback, void *user_data, uint64_t *out_timer_id);
    /* Cancels a timer; it does not fire again (allowed inside its own callback). Returns GWD_OK;
     * GWD_ERR_NOT_FOUND for an id that is unknown, deleted, or a GWD_TIMER_ONCE timer that has
     * already fired; GWD_ERR_WRONG_THREAD. */
    int32_t (*timer_del)(gwd_ctx *ctx, uint64_t timer_id);

    /* The worker's poster: hand it to a thread of your own (a queue consumer, a database
     * listener) to post work to the plugin thread. Call it in on_worker_start (or any callback);
     * the handle is valid until on_worker_stop returns. Returns GWD_OK;
     * GWD_ERR_INVALID_ARGUMENT for a NULL out_poster; GWD_ERR_WRONG_THREAD. */
    int32_t (*get_poster)(gwd_ctx *ctx, gwd_poster **out_poster);
    /* ANY THREAD. Queues `callback(ctx, user_data)` to run on the plugin thread, after the
     * callback running now; tasks run in the order they were posted. Never blocks. Every
     * task accepted with GWD_OK runs exactly once (unless the process crashes), also when the
     * worker begins to stop: queued tasks run before on_worker_stop, so `user_data` can be
     * freed in the task. Returns GWD_OK; GWD_ERR_QUEUE_FULL when 16384 tasks are already
     * waiting (the plugin thread is not keeping up: retry later or drop the work);
     * GWD_ERR_STOPPING once the worker is stopping; GWD_ERR_INVALID_ARGUMENT for a NULL
     * poster or callback. The task is not queued on any error: `user_data` is still yours. */
    int32_t (*post)(gwd_poster *poster, gwd_task_fn callback, void *user_data);

    /* Typed events (see "Typed events" in section 3). Declares event `name` (1 to 64 bytes of
     * UTF-8): a client message naming it calls `handler` with the arguments `signature`
     * describes. Declare events in on_worker_start; a message naming no declared event goes to
     * on_message as before. Returns GWD_OK; GWD_ERR_INVALID_ARGUMENT for a NULL or empty name,
     * a NULL handler or signature, an unknown type letter, a malformed field name or more than
     * GWD_EVENT_MAX_ARGS arguments; GWD_ERR_EXISTS for a name declared before; the worker logs
     * a line naming the event and the reason for each refusal; GWD_ERR_WRONG_THREAD. */
    int32_t (*event_on)(gwd_ctx *ctx, const char *name, const char *signature, gwd_event_fn handler);
    /* Inside an event handler whose message asked for an acknowledgement: `json` (a JSON
     * value, copied) becomes the acknowledgement's "result". Returns GWD_OK;
     * GWD_ERR_INVALID_ARGUMENT when `json` is not one JSON value; GWD_ERR_NO_CURRENT_CLIENT
     * outside an event handler; GWD_ERR_WRONG_THREAD. Without an acknowledgement it is accepted
     * and unused. */
    int32_t (*event_result)(gwd_ctx *ctx, const char *json, size_t len);
    /* Sends the event ["name", args…] (a JSON array, text frame) to a client, a group, a uid or
     * everyone (GWD_EMIT_*). Returns what the matching send returns; also
     * GWD_ERR_INVALID_ARGUMENT for an unknown target kind or argument type, an 's' argument that
     * is NULL or a 'j' argument that is not one JSON value. */
    int32_t (*event_emit)(gwd_ctx *ctx, uint32_t target_kind, const char *target, size_t target_len,
                          const char *name, const gwd_arg *args, size_t count);
} gwd_host_api;

/* True when the host's table has `field` (for plugins built against a newer minor). */
#define GWD_HAS(api, field) \
    ((api)->struct_size >= offsetof(gwd_host_api, field) + sizeof((api)->field) && (api)->field != NULL)

/* Typed events declared from a static table, in one call from on_worker_start:
 *     static const gwd_event_decl events[] = {
 *         {"add", "i:a i:b", GWD_EVENT_FN(on_add)},
 *         {"shout", "s:text", GWD_EVENT_FN(on_shout)},
 *     };
 *     return gwd_event_on_table(gwd_api, ctx, events, sizeof events / sizeof events[0]);
 * Declares them in order with event_on and stops at the first refusal, returning its status
 * (the worker has logged which event and why). GWD_ERR_UNSUPPORTED from a host before 1.2.
 * Header only: nothing here crosses the ABI. */
typedef struct gwd_event_decl {
    const char *name;
    const char *signature;
    gwd_event_fn handler;
} gwd_event_decl;

static inline int32_t gwd_event_on_table(const gwd_host_api *api, gwd_ctx *ctx, const gwd_event_decl *table,
                                         size_t count) {
    if (!GWD_HAS(api, event_on)) return GWD_ERR_UNSUPPORTED;
    for (size_t index = 0; index < count; index++) {
        int32_t status = api->event_on(ctx, table[index].name, table[index].signature, table[index].handler);
        if (status != GWD_OK) return status;
    }
    return GWD_OK;
}

/* ======================================================================================
 * 5. The plugin descriptor
 *
 * The plugin returns a pointer to a static descriptor from its entry function. The host
 * reads only the first `struct_size` bytes, so a plugin built against an older 1.x header
 * simply has fewer callbacks. Any callback may be NULL.
 * ====================================================================================== */

typedef struct gwd_plugin {
    uint32_t struct_size;        /* sizeof(gwd_plugin) as the plugin was compiled */
    uint16_t abi_major;          /* GWD_ABI_VERSION_MAJOR the plugin was compiled against */
    uint16_t abi_minor;

    /* ---- Added in 1.0 ---------------------------------------------------------------- */
    const char *name;            /* static, NUL-terminated, e.g. "chat" */
    const char *version;         /* static, NUL-terminated, e.g. "1.4.2" */

    /* Once per worker process, before any client event. Return GWD_OK, or any other status
     * to refuse to start (the worker exits and, on reload, the new plugin is refused). */
    int32_t (*on_worker_start)(gwd_ctx *ctx);
    /* Once when the worker stops gracefully (not after a crash). Since 1.2: after every task
     * still posted has run; timers no longer fire, and posts are refused (GWD_ERR_STOPPING). */
    void (*on_worker_stop)(gwd_ctx *ctx);
    /* A client connected (TCP accepted; for WebSocket before the handshake). */
    void (*on_connect)(gwd_ctx *ctx, const char *client_id);
    /* A WebSocket client sent its handshake request. Return 0 to accept it, or an HTTP status
     * (400..599) to refuse it with that status; the connection is then closed. Any other
     * value refuses with 500 and is logged. Runs after on_connect, before any on_message. */
    int32_t (*on_websocket_handshake)(gwd_ctx *ctx, const char *client_id, const gwd_handshake *request);
    /* A whole message (all fragments joined). kind: GWD_MESSAGE_TEXT or GWD_MESSAGE_BINARY. */
    void (*on_message)(gwd_ctx *ctx, const char *client_id, const void *data, size_t len, uint32_t kind);
    /* A client disconnected, whoever closed it. Sends to it are dropped from now on. */
    void (*on_close)(gwd_ctx *ctx, const char *client_id);
} gwd_plugin;

/* ======================================================================================
 * 6. The entry symbol
 *
 * The host calls the entry once, on the plugin thread, right after dlopen:
 *   - `api` is the host table; keep the pointer, it lives as long as the process.
 *   - store a pointer to your static gwd_plugin in *out_plugin and return GWD_OK;
 *   - or return a gwd_status and, optionally, write a NUL-terminated reason into `error`
 *     (at most `error_len` bytes including the NUL).
 * ====================================================================================== */

#define GWD_PLUGIN_ENTRY_SYMBOL "gwd_plugin_entry_v1"

/* A plugin written in Swift exports one more symbol, `const char gwd_swift_compiler[]`: the
 * Swift compiler that built it, major.minor ("6.3"; GatewayPluginSDK defines it, the plugin's
 * version script must list it). Swift has no stable ABI on Linux, so the host reads it before
 * calling the entry and refuses a plugin built by another compiler than its own, or a plugin
 * linked to the Swift runtime that does not name its compiler. C plugins do not define it. */
#define GWD_SWIFT_COMPILER_SYMBOL "gwd_swift_compiler"

typedef int32_t (*gwd_plugin_entry_fn)(const gwd_host_api *api, const gwd_plugin **out_plugin,
                                       char *error, size_t error_len);

#if defined(__GNUC__) || defined(__clang__)
#define GWD_EXPORT __attribute__((visibility("default")))
#else
#define GWD_EXPORT
#endif

/* Writes "plugin built against gatewayd plugin ABI <ours>, host has ABI <major>.<minor>" into
 * `error` (NUL-terminated, truncated to error_len) without needing stdio. */
static inline void gwd_abi_mismatch_reason(char *error, size_t error_len, unsigned host_major, unsigned host_minor) {
    char text[128];
    size_t n = 0;
    const char *parts[3] = {"plugin built against gatewayd plugin ABI ", ", host has ABI ", ""};
    unsigned numbers[4] = {GWD_ABI_VERSION_MAJOR, GWD_ABI_VERSION_MINOR, host_major, host_minor};
    for (int part = 0; part < 2; part++) {
        for (const char *c = parts[part]; *c && n < sizeof text - 1; c++) text[n++] = *c;
        for (int k = 0; k < 2; k++) {
            char digits[12];
            int d = 0;
            unsigned value = numbers[part * 2 + k];
            do { digits[d++] = (char)('0' + value % 10); value /= 10; } while (value && d < 11);
            while (d && n < sizeof text - 1) text[n++] = digits[--d];
            if (k == 0 && n < sizeof text - 1) text[n++] = '.';
        }
    }
    text[n] = 0;
    if (error == NULL || error_len == 0) return;
    size_t i = 0;
    for (; i + 1 < error_len && text[i]; i++) error[i] = text[i];
    error[i] = 0;
}

/* The two-line init, as sqlite3ext.h does it:
 *
 *   GWD_PLUGIN_API;                                  // at file scope: declares `gwd_api`
 *   GWD_PLUGIN_ENTRY(api, out, err, err_len) {       // defines the exported entry
 *       GWD_PLUGIN_INIT(api, err, err_len);          // checks the major version, sets gwd_api
 *       *out = &my_plugin;
 *       return GWD_OK;
 *   }
 *
 * GWD_PLUGIN_INIT returns GWD_ERR_INVALID_ARGUMENT for a NULL table and GWD_ERR_ABI_MISMATCH,
 * with the reason naming both versions written to `err`, for a host of another major version.
 */
#define GWD_PLUGIN_API static const gwd_host_api *gwd_api
#define GWD_PLUGIN_ENTRY(api, out, err, err_len) \
    GWD_EXPORT int32_t gwd_plugin_entry_v1(const gwd_host_api *api, const gwd_plugin **out, \
                                           char *err, size_t err_len)
#define GWD_PLUGIN_INIT(api, err, err_len) \
    do { \
        if ((api) == NULL) return GWD_ERR_INVALID_ARGUMENT; \
        if ((api)->abi_major != GWD_ABI_VERSION_MAJOR) { \
            gwd_abi_mismatch_reason((err), (err_len), (api)->abi_major, (api)->abi_minor); \
            return GWD_ERR_ABI_MISMATCH; \
        } \
        gwd_api = (api); \
    } while (0)

/* Fills the descriptor header fields: GWD_PLUGIN_HEADER, .name = "x", ... */
#define GWD_PLUGIN_HEADER \
    .struct_size = (uint32_t)sizeof(gwd_plugin), .abi_major = GWD_ABI_VERSION_MAJOR, \
    .abi_minor = GWD_ABI_VERSION_MINOR

#ifdef __cplusplus
}
#endif

#endif /* GATEWAYD_H */
