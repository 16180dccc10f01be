/*
 * conformance-c — the C conformance plugin. TEST FIXTURE, UNFIT FOR REAL USERS: `crash:` kills
 * the worker process and `sleep:` blocks its plugin thread; it exists for the end-to-end tests,
 * the benchmarks and outside checks, which drive it with the messages of the conformance
 * protocol (shared/design/conformance-protocol.md; plugins/README.md lists them).
 *
 * Build (from the repository root):
 *   cc -std=c99 -O2 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden -pthread -I include \
 *      plugins/conformance-c/conformance.c -o conformance-c.so
 * (-pthread: `post:` runs a thread of its own. With glibc 2.34 or later the plugin also builds
 * and runs without it, since libc holds the pthread functions.)
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
 *  - `api:<function> <args…>` calls any host function by its C name and answers its result as
 *    JSON (README.md lists the arguments); `destroy:` destroys the current client. The 1.1
 *    and 1.2 functions are called only when GWD_HAS says the host has them (else UNSUPPORTED).
 *  - `tick:<ms>:<n>` (ABI 1.2; ms 1 to 9 digits, n 1 to 9 digits and not 0) adds a repeating
 *    timer (timer_add, GWD_TIMER_REPEAT) holding the asker's client id and a count; each time
 *    it fires it sends `tick:<count>` to that client, and after `tick:<n>` it deletes itself
 *    (timer_del) and frees its state. Nothing is answered at once.
 *  - `post:<x>` (ABI 1.2) hands the asker's client id and x to the plugin's own thread (one
 *    pthread: started in on_worker_start with the worker's poster, woken through a mutex and
 *    condition, stopped and joined in on_worker_stop), which calls api->post; the posted task
 *    sends `posted:<x>` to that client and frees the request. While post answers QUEUE_FULL the
 *    thread retries every millisecond for up to a second; a request refused otherwise
 *    (STOPPING) is dropped.
 *    On a host before 1.2 both commands log "<command> failed: unsupported" and send nothing.
 *  - `api:` for the 1.2 functions (conformance-c only; conformance-swift answers
 *    error:GWD_ERR_UNSUPPORTED, as for any unknown function):
 *      api:timer_add <ms> <flags> [null]   timer_add(ms, flags) → api:timer_add:<id>; the timer
 *                                          sends `api:timer:<id>` to the asker at each fire
 *                                          (a GWD_TIMER_ONCE one once). ms is a signed decimal,
 *                                          flags a decimal uint32, passed as they are (bad ones
 *                                          → error:GWD_ERR_INVALID_ARGUMENT from the host);
 *                                          `null` passes a NULL callback.
 *      api:timer_del <id>                  timer_del(id) → api:timer_del:null (the timer's state
 *                                          is freed) or error:GWD_ERR_NOT_FOUND.
 *      api:get_poster [null]               get_poster → api:get_poster:null; `null` passes a
 *                                          NULL out_poster.
 *      api:post <text…>                    post from the plugin thread itself →
 *                                          api:post:null, then the task (run after this
 *                                          callback) sends `api:posted:<text…>` to the asker.
 *      api:post_null <poster|callback>     post with a NULL poster / a NULL callback →
 *                                          error:GWD_ERR_INVALID_ARGUMENT.
 *      api:post_many <n>                   n posts (1 to 1000000) in a row from the plugin
 *                                          thread, stopping at the first refusal →
 *                                          api:post_many:{"accepted":<a>,"status":"<name>"}
 *                                          (status GWD_OK, or the refusal, e.g.
 *                                          GWD_ERR_QUEUE_FULL past 16384 waiting tasks); when
 *                                          the a tasks have run, in order, the last sends
 *                                          `api:post_many:ran:<a>` (`api:post_many:disorder`
 *                                          if they ran out of order).
 *  - Typed events (ABI 1.2, docs/events.md), declared in on_worker_start with event_on:
 *      add "i:a i:b"                        emits ["sum", a+b] to the sender; its result (for an
 *                                           acknowledgement) is the sum
 *      shout "s:text"                       emits ["shouted", text in ASCII upper case]
 *      types "s:s i:i d:d b:b j:j"          emits ["types", s, i, d, b, j] back unchanged
 *    Bad arguments are answered by the host with an error frame; other messages are commands
 *    as above (they reach on_message).
 *
 * The same behaviour in Swift: plugins/conformance-swift.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
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

/* ======================================================================================
 * tick: — a repeating timer (ABI 1.2)
 * ====================================================================================== */

typedef struct tick_timer {
    char client_id[CLIENT_ID_LEN + 1];
    long n;      /* ticks to send */
    long count;  /* ticks sent */
} tick_timer;

static void tick_fired(gwd_ctx *ctx, uint64_t timer_id, void *user_data) {
    tick_timer *t = user_data;
    char text[32];
    int len;
    int32_t status;
    t->count++;
    len = snprintf(text, sizeof text, "tick:%ld", t->count);
    ok(ctx, "tick", gwd_api->send_to_client(ctx, t->client_id, text, (size_t)len, 0));
    if (t->count < t->n) return;
    status = gwd_api->timer_del(ctx, timer_id);
    if (status == GWD_OK || status == GWD_ERR_NOT_FOUND) free(t); /* it will not fire again */
    else log_failure(ctx, "tick", status);
}

static void start_ticks(gwd_ctx *ctx, const char *client_id, long ms, long n) {
    tick_timer *t;
    if (!GWD_HAS(gwd_api, timer_add) || !GWD_HAS(gwd_api, timer_del)) {
        log_failure(ctx, "tick", GWD_ERR_UNSUPPORTED);
        return;
    }
    t = malloc(sizeof *t);
    if (t == NULL) {
        log_failure(ctx, "tick", GWD_ERR_NO_MEMORY);
        return;
    }
    memcpy(t->client_id, client_id, CLIENT_ID_LEN + 1);
    t->n = n;
    t->count = 0;
    if (!ok(ctx, "tick", gwd_api->timer_add(ctx, (int64_t)ms, GWD_TIMER_REPEAT, tick_fired, t, NULL))) free(t);
}

/* ======================================================================================
 * post: — a thread of the plugin's own posts to the plugin thread (ABI 1.2)
 *
 * The plugin thread appends requests to a queue under `post_lock` and signals `post_wake`;
 * the poster thread takes them one at a time and hands each to api->post. The task frees it.
 * ====================================================================================== */

/* A message for the posted task to send: `text` to `client_id`. */
typedef struct post_request {
    struct post_request *next;
    char client_id[CLIENT_ID_LEN + 1];
    size_t len;
    char text[];
} post_request;

static pthread_mutex_t post_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t post_wake = PTHREAD_COND_INITIALIZER;
static post_request *post_head, *post_tail; /* under post_lock */
static int post_stop;                       /* under post_lock */
static int post_thread_running;             /* plugin thread only */
static pthread_t post_thread;
static gwd_poster *worker_poster;           /* set before the thread starts */

/* `prefix` + `body` for `client_id`, or NULL when out of memory. */
static post_request *new_post_request(const char *client_id, const char *prefix, view body) {
    size_t prefix_len = strlen(prefix);
    post_request *r = malloc(sizeof *r + prefix_len + body.n);
    if (r == NULL) return NULL;
    r->next = NULL;
    memcpy(r->client_id, client_id, CLIENT_ID_LEN + 1);
    memcpy(r->text, prefix, prefix_len);
    if (body.n > 0) memcpy(r->text + prefix_len, body.p, body.n);
    r->len = prefix_len + body.n;
    return r;
}

/* The posted task: on the plugin thread, after the callback that was running. */
static void posted_task(gwd_ctx *ctx, void *user_data) {
    post_request *r = user_data;
    if (r == NULL) return;
    ok(ctx, "post", gwd_api->send_to_client(ctx, r->client_id, r->text, r->len, 0));
    free(r);
}

/* On the poster thread: post `r`, retrying while the queue is full; drop it otherwise. */
static void hand_over(post_request *r) {
    int tries;
    for (tries = 0; tries < 1000; tries++) {
        int32_t status = gwd_api->post(worker_poster, posted_task, r);
        if (status == GWD_OK) return; /* the task owns r now */
        if (status != GWD_ERR_QUEUE_FULL) break;
        sleep_ms(1);
    }
    free(r);
}

static void *poster_main(void *unused) {
    (void)unused;
    pthread_mutex_lock(&post_lock);
    for (;;) {
        post_request *r;
        while (post_head == NULL && !post_stop) pthread_cond_wait(&post_wake, &post_lock);
        if (post_stop) break;
        r = post_head;
        post_head = r->next;
        if (post_head == NULL) post_tail = NULL;
        pthread_mutex_unlock(&post_lock);
        hand_over(r);
        pthread_mutex_lock(&post_lock);
    }
    pthread_mutex_unlock(&post_lock);
    return NULL;
}

/* ---- Typed events ---------------------------------------------------------------------- */

static int32_t emit_back(gwd_ctx *ctx, const char *client_id, const char *name, const gwd_arg *args, size_t count) {
    return gwd_api->event_emit(ctx, GWD_EMIT_CLIENT, client_id, 20, name, args, count);
}

static int32_t event_add(gwd_ctx *ctx, const char *client_id, int64_t a, int64_t b) {
    char result[24];
    int64_t sum = (int64_t)((uint64_t)a + (uint64_t)b); /* wraps like the Swift plugin's &+ */
    gwd_arg args[1];
    args[0] = gwd_arg_int(sum);
    gwd_api->event_result(ctx, result, (size_t)snprintf(result, sizeof result, "%lld", (long long)sum));
    return emit_back(ctx, client_id, "sum", args, 1);
}

static int32_t event_shout(gwd_ctx *ctx, const char *client_id, const char *text) {
    size_t len = strlen(text);
    char *upper = malloc(len + 1);
    int32_t status;
    gwd_arg args[1];
    if (upper == NULL) return GWD_ERR_NO_MEMORY;
    for (size_t i = 0; i <= len; i++) upper[i] = (text[i] >= 'a' && text[i] <= 'z') ? (char)(text[i] - 32) : text[i];
    args[0] = gwd_arg_string(upper);
    status = emit_back(ctx, client_id, "shouted", args, 1);
    free(upper);
    return status;
}

static int32_t event_types(gwd_ctx *ctx, const char *client_id, const char *s, int64_t i, double d, bool b,
                           const char *j, size_t j_len) {
    gwd_arg args[5];
    args[0] = gwd_arg_string(s);
    args[1] = gwd_arg_int(i);
    args[2] = gwd_arg_double(d);
    args[3] = gwd_arg_bool(b);
    args[4] = gwd_arg_json(j, j_len);
    return emit_back(ctx, client_id, "types", args, 5);
}

static void declare_events(gwd_ctx *ctx) {
    if (!GWD_HAS(gwd_api, event_on)) return; /* before 1.2 */
    ok(ctx, "event_on add", gwd_api->event_on(ctx, "add", "i:a i:b", GWD_EVENT_FN(event_add)));
    ok(ctx, "event_on shout", gwd_api->event_on(ctx, "shout", "s:text", GWD_EVENT_FN(event_shout)));
    ok(ctx, "event_on types", gwd_api->event_on(ctx, "types", "s:s i:i d:d b:b j:j", GWD_EVENT_FN(event_types)));
}

static int32_t on_worker_start(gwd_ctx *ctx) {
    int error;
    declare_events(ctx);
    if (!GWD_HAS(gwd_api, get_poster) || !GWD_HAS(gwd_api, post)) return GWD_OK; /* before 1.2 */
    if (post_thread_running) return GWD_OK;
    if (!ok(ctx, "post", gwd_api->get_poster(ctx, &worker_poster))) return GWD_OK;
    post_stop = 0;
    error = pthread_create(&post_thread, NULL, poster_main, NULL);
    if (error != 0) {
        log_failure(ctx, "post", error == EAGAIN ? GWD_ERR_NO_MEMORY : GWD_ERR_INTERNAL);
        return GWD_OK; /* `post:` answers UNSUPPORTED; everything else works */
    }
    post_thread_running = 1;
    return GWD_OK;
}

static void on_worker_stop(gwd_ctx *ctx) {
    post_request *r;
    (void)ctx;
    if (!post_thread_running) return;
    pthread_mutex_lock(&post_lock);
    post_stop = 1;
    pthread_cond_signal(&post_wake);
    pthread_mutex_unlock(&post_lock);
    pthread_join(post_thread, NULL);
    post_thread_running = 0;
    while ((r = post_head) != NULL) { /* never handed over: posts are refused from now on */
        post_head = r->next;
        free(r);
    }
    post_tail = NULL;
    worker_poster = NULL;
}

static void request_post(gwd_ctx *ctx, const char *client_id, view x) {
    post_request *r;
    if (!post_thread_running) {
        log_failure(ctx, "post", GWD_ERR_UNSUPPORTED);
        return;
    }
    r = new_post_request(client_id, "posted:", x);
    if (r == NULL) {
        log_failure(ctx, "post", GWD_ERR_NO_MEMORY);
        return;
    }
    pthread_mutex_lock(&post_lock);
    if (post_tail != NULL) post_tail->next = r;
    else post_head = r;
    post_tail = r;
    pthread_cond_signal(&post_wake);
    pthread_mutex_unlock(&post_lock);
}

static void api_call(gwd_ctx *ctx, view call);

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
    } else if (starts_with(m, "api:", &rest)) {
        api_call(ctx, rest);
    } else if (starts_with(m, "tick:", &rest)) {
        long ms, n;
        if (split_at(rest, ':', &a, &b) && parse_ms(a, &ms) && parse_ms(b, &n) && n > 0)
            start_ticks(ctx, client_id, ms, n);
    } else if (starts_with(m, "post:", &rest)) {
        request_post(ctx, client_id, rest);
    } else if (starts_with(m, "destroy:", &rest)) {
        if (GWD_HAS(gwd_api, destroy_current_client)) ok(ctx, "destroy", gwd_api->destroy_current_client(ctx));
        else log_failure(ctx, "destroy", GWD_ERR_UNSUPPORTED);
    }
    /* anything else: ignored */
}

/* ======================================================================================
 * api:<function> <args…> — every host function by its C name, answering
 * `api:<function>:<result as compact JSON>` or `api:<function>:error:<status name>`.
 * plugins/conformance-c/README.md gives the arguments of each function.
 * ====================================================================================== */

/* A growable output buffer for one reply. */
typedef struct out {
    char *p;
    size_t n, cap;
    int failed; /* out of memory: the reply is dropped */
} out;

static void out_bytes(out *o, const char *p, size_t n) {
    if (o->failed || n == 0) return;
    if (o->n + n > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        char *grown;
        while (cap < o->n + n) cap *= 2;
        grown = realloc(o->p, cap);
        if (grown == NULL) {
            o->failed = 1;
            return;
        }
        o->p = grown;
        o->cap = cap;
    }
    memcpy(o->p + o->n, p, n);
    o->n += n;
}

static void out_text(out *o, const char *s) { out_bytes(o, s, strlen(s)); }

static void out_u64(out *o, unsigned long long value) {
    char text[24];
    snprintf(text, sizeof text, "%llu", value);
    out_text(o, text);
}

/* A JSON string: `"` and `\` escaped, control characters as \u00xx, every other byte as is. */
static void out_json_string(out *o, const char *p, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t i;
    out_text(o, "\"");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\') {
            char escaped[2] = { '\\', (char)c };
            out_bytes(o, escaped, 2);
        } else if (c < 0x20) {
            char escaped[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            out_bytes(o, escaped, 6);
        } else {
            out_bytes(o, (const char *)&c, 1);
        }
    }
    out_text(o, "\"");
}

static void out_json_strings(out *o, const gwd_bytes *items, size_t count) {
    size_t i;
    out_text(o, "[");
    for (i = 0; i < count; i++) {
        if (i > 0) out_text(o, ",");
        out_json_string(o, items[i].data, items[i].len);
    }
    out_text(o, "]");
}

/* A gwd_table as a JSON object: lists as arrays, numbers as numbers (or true/false). */
static void out_json_table(out *o, const gwd_table *table, int as_bool) {
    size_t i;
    out_text(o, "{");
    for (i = 0; i < table->count; i++) {
        const gwd_table_entry *entry = &table->entries[i];
        if (i > 0) out_text(o, ",");
        out_json_string(o, entry->key.data, entry->key.len);
        out_text(o, ":");
        if (entry->items != NULL) out_json_strings(o, entry->items, entry->count);
        else if (as_bool) out_text(o, entry->count ? "true" : "false");
        else out_u64(o, (unsigned long long)entry->count);
    }
    out_text(o, "}");
}

/* The arguments after the function name: single-space separated; `present` is 0 once none is
 * left. */
typedef struct args {
    view rest;
    int present;
} args;

/* The next argument. */
static int arg(args *a, view *v) {
    view tail;
    if (!a->present) return 0;
    if (split_at(a->rest, ' ', v, &tail)) {
        a->rest = tail;
    } else {
        *v = a->rest;
        a->present = 0;
    }
    return 1;
}

/* Everything left, spaces included (a message, JSON). */
static int arg_rest(args *a, view *v) {
    if (!a->present) return 0;
    *v = a->rest;
    a->present = 0;
    return 1;
}

/* Lists: comma-separated items, `-` for none. Heap copies, freed with free_list. */
typedef struct list_arg {
    size_t count;
    gwd_bytes *names;  /* the items as views into the message */
    char (*ids)[CLIENT_ID_LEN + 1];
    const char **id_pointers; /* the items as client ids, when parsed with ids = 1 */
} list_arg;

static void free_list(list_arg *l) {
    free(l->names);
    free(l->ids);
    free((void *)l->id_pointers);
}

/* Parses `v`; with `ids`, every item must be a 20-byte client id. GWD_OK or a status. */
static int32_t parse_list(view v, int ids, list_arg *l) {
    view item, tail, rest = v;
    size_t i = 0, count = 1, k;
    memset(l, 0, sizeof *l);
    if (view_equals(v, "-")) return GWD_OK;
    for (k = 0; k < v.n; k++) count += v.p[k] == ',';
    l->names = calloc(count, sizeof *l->names);
    if (ids) {
        l->ids = calloc(count, sizeof *l->ids);
        l->id_pointers = calloc(count, sizeof *l->id_pointers);
    }
    if (l->names == NULL || (ids && (l->ids == NULL || l->id_pointers == NULL))) {
        free_list(l);
        return GWD_ERR_NO_MEMORY;
    }
    l->count = count;
    for (i = 0; i < count; i++) {
        if (!split_at(rest, ',', &item, &tail)) {
            item = rest;
            tail = no_view;
        }
        l->names[i].data = item.p;
        l->names[i].len = item.n;
        if (ids) {
            if (!copy_client_id(item, l->ids[i])) {
                free_list(l);
                return GWD_ERR_INVALID_ARGUMENT;
            }
            l->id_pointers[i] = l->ids[i];
        }
        rest = tail;
    }
    return GWD_OK;
}

/* A client id argument; `-` (when allowed) means NULL, the current client. */
static int32_t parse_id(view v, int dash_is_null, char out_id[CLIENT_ID_LEN + 1], const char **id) {
    if (dash_is_null && view_equals(v, "-")) {
        *id = NULL;
        return GWD_OK;
    }
    if (!copy_client_id(v, out_id)) return GWD_ERR_INVALID_ARGUMENT;
    *id = out_id;
    return GWD_OK;
}

/* Session pairs `k=v,k=v` (or `-`): views into the message. */
static int32_t parse_pairs(view v, gwd_pair **pairs, size_t *count) {
    list_arg l;
    size_t i;
    view key, value;
    int32_t status = parse_list(v, 0, &l);
    *pairs = NULL;
    *count = 0;
    if (status != GWD_OK) return status;
    if (l.count > 0) {
        *pairs = calloc(l.count, sizeof **pairs);
        if (*pairs == NULL) status = GWD_ERR_NO_MEMORY;
    }
    for (i = 0; status == GWD_OK && i < l.count; i++) {
        view item = { l.names[i].data, l.names[i].len };
        if (!split_at(item, '=', &key, &value)) {
            status = GWD_ERR_INVALID_ARGUMENT;
            break;
        }
        (*pairs)[i].key.data = key.p;
        (*pairs)[i].key.len = key.n;
        (*pairs)[i].value.data = value.p;
        (*pairs)[i].value.len = value.n;
    }
    free_list(&l);
    if (status == GWD_OK) {
        *count = l.count;
    } else {
        free(*pairs);
        *pairs = NULL;
    }
    return status;
}

#define NEED(condition) do { if (!(condition)) return GWD_ERR_INVALID_ARGUMENT; } while (0)
#define NEED_HOST(field) do { if (!GWD_HAS(gwd_api, field)) return GWD_ERR_UNSUPPORTED; } while (0)
#define TRY(expression) do { int32_t status_ = (expression); if (status_ != GWD_OK) return status_; } while (0)

/* Each handler reads its arguments, calls its host function, writes the JSON result into `o`
 * and returns the status. `*silent` set: the client is gone, nothing is answered. */
typedef int32_t (*api_handler)(gwd_ctx *ctx, args *a, out *o, int *silent);

/* The emitters take results by pointer: they run after the call that fills them (C leaves the
 * order in which a call's arguments are evaluated open). */
static int32_t emit_list(out *o, int32_t status, gwd_list *const *list) {
    if (*list != NULL) {
        if (status == GWD_OK) out_json_strings(o, (*list)->items, (*list)->count);
        gwd_api->free(*list);
    }
    return status;
}

static int32_t emit_table(out *o, int32_t status, gwd_table *const *table, int as_bool) {
    if (*table != NULL) {
        if (status == GWD_OK) out_json_table(o, *table, as_bool);
        gwd_api->free(*table);
    }
    return status;
}

/* A gwd_buffer as raw JSON (`as_string` 0) or as a JSON string. */
static int32_t emit_buffer(out *o, int32_t status, const gwd_buffer *buffer, int as_string) {
    if (buffer->data != NULL) {
        if (status == GWD_OK && as_string) out_json_string(o, buffer->data, buffer->len);
        else if (status == GWD_OK) out_bytes(o, buffer->data, buffer->len);
        gwd_api->free(buffer->data);
    }
    return status;
}

static int32_t emit_count(out *o, int32_t status, const uint64_t *count) {
    if (status == GWD_OK) out_u64(o, (unsigned long long)*count);
    return status;
}

static int32_t emit_flag(out *o, int32_t status, const int32_t *flag) {
    if (status == GWD_OK) out_text(o, *flag ? "true" : "false");
    return status;
}

static int32_t emit_sent(out *o, int32_t status) {
    if (status == GWD_OK) out_text(o, "null");
    return status;
}

/* ---- 1.0 ---- */

static int32_t api_worker_info(gwd_ctx *ctx, args *a, out *o, int *silent) {
    int32_t pid = 0, index = 0, status;
    (void)silent;
    NEED(!a->present);
    status = gwd_api->worker_info(ctx, &pid, &index);
    if (status == GWD_OK) {
        out_text(o, "{\"index\":");
        out_u64(o, (unsigned long long)index);
        out_text(o, ",\"pid\":");
        out_u64(o, (unsigned long long)pid);
        out_text(o, "}");
    }
    return status;
}

static int32_t api_current_client_id(gwd_ctx *ctx, args *a, out *o, int *silent) {
    const char *id;
    (void)silent;
    NEED(!a->present);
    id = gwd_api->current_client_id(ctx);
    if (id != NULL) out_json_string(o, id, strlen(id));
    else out_text(o, "null");
    return GWD_OK;
}

static int32_t api_send_to_client(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view id, text;
    char buffer[CLIENT_ID_LEN + 1];
    const char *target;
    (void)silent;
    NEED(arg(a, &id) && arg_rest(a, &text));
    TRY(parse_id(id, 0, buffer, &target));
    return emit_sent(o, gwd_api->send_to_client(ctx, target, text.p, text.n, 0));
}

static int32_t api_send_to_current_client(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view text;
    (void)silent;
    NEED(arg_rest(a, &text));
    return emit_sent(o, gwd_api->send_to_current_client(ctx, text.p, text.n, 0));
}

static int32_t api_send_to_all(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view exclude, text;
    list_arg l;
    int32_t status;
    (void)silent;
    NEED(arg(a, &exclude) && arg_rest(a, &text));
    TRY(parse_list(exclude, 1, &l));
    status = gwd_api->send_to_all(ctx, text.p, text.n, 0, l.id_pointers, l.count);
    free_list(&l);
    return emit_sent(o, status);
}

static int32_t api_close_client(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view id, text;
    char buffer[CLIENT_ID_LEN + 1];
    const char *target;
    int has_text;
    (void)silent;
    NEED(arg(a, &id));
    has_text = arg_rest(a, &text);
    TRY(parse_id(id, 0, buffer, &target));
    return emit_sent(o, has_text ? gwd_api->close_client(ctx, target, text.p, text.n, 0)
                                 : gwd_api->close_client(ctx, target, NULL, 0, 0));
}

static int32_t api_close_current_client(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view text;
    int32_t status = arg_rest(a, &text) ? gwd_api->close_current_client(ctx, text.p, text.n, 0)
                                        : gwd_api->close_current_client(ctx, NULL, 0, 0);
    *silent = status == GWD_OK;
    return emit_sent(o, status);
}

/* join_group, leave_group, bind_uid, unbind_uid: <id> <name>. */
typedef int32_t (*membership_fn)(gwd_ctx *, const char *, const char *, size_t);

static int32_t membership(gwd_ctx *ctx, args *a, out *o, membership_fn fn) {
    view id, name;
    char buffer[CLIENT_ID_LEN + 1];
    const char *target;
    NEED(arg(a, &id) && arg(a, &name) && !a->present);
    TRY(parse_id(id, 0, buffer, &target));
    return emit_sent(o, fn(ctx, target, name.p, name.n));
}

static int32_t api_join_group(gwd_ctx *ctx, args *a, out *o, int *silent) {
    (void)silent;
    return membership(ctx, a, o, gwd_api->join_group);
}

static int32_t api_leave_group(gwd_ctx *ctx, args *a, out *o, int *silent) {
    (void)silent;
    return membership(ctx, a, o, gwd_api->leave_group);
}

static int32_t api_bind_uid(gwd_ctx *ctx, args *a, out *o, int *silent) {
    (void)silent;
    return membership(ctx, a, o, gwd_api->bind_uid);
}

static int32_t api_unbind_uid(gwd_ctx *ctx, args *a, out *o, int *silent) {
    (void)silent;
    return membership(ctx, a, o, gwd_api->unbind_uid);
}

static int32_t api_ungroup(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view group;
    (void)silent;
    NEED(arg(a, &group) && !a->present);
    return emit_sent(o, gwd_api->ungroup(ctx, group.p, group.n));
}

static int32_t api_send_to_group(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view group, exclude, text;
    list_arg l;
    int32_t status;
    (void)silent;
    NEED(arg(a, &group) && arg(a, &exclude) && arg_rest(a, &text));
    TRY(parse_list(exclude, 1, &l));
    status = gwd_api->send_to_group(ctx, group.p, group.n, text.p, text.n, 0, l.id_pointers, l.count);
    free_list(&l);
    return emit_sent(o, status);
}

static int32_t api_send_to_uid(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view uid, text;
    (void)silent;
    NEED(arg(a, &uid) && arg_rest(a, &text));
    return emit_sent(o, gwd_api->send_to_uid(ctx, uid.p, uid.n, text.p, text.n, 0));
}

static int32_t api_is_online(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view id;
    char buffer[CLIENT_ID_LEN + 1];
    const char *target;
    int32_t online = 0;
    (void)silent;
    NEED(arg(a, &id) && !a->present);
    TRY(parse_id(id, 0, buffer, &target));
    return emit_flag(o, gwd_api->is_online(ctx, target, &online), &online);
}

static int32_t api_get_all_client_count(gwd_ctx *ctx, args *a, out *o, int *silent) {
    uint64_t count = 0;
    (void)silent;
    NEED(!a->present);
    return emit_count(o, gwd_api->get_all_client_count(ctx, &count), &count);
}

static int32_t api_session_get(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view key;
    gwd_bytes value = { NULL, 0 };
    int32_t status;
    (void)silent;
    NEED(arg(a, &key) && !a->present);
    status = gwd_api->session_get(ctx, key.p, key.n, &value);
    if (status == GWD_OK) out_json_string(o, value.data, value.len);
    return status;
}

static int32_t api_session_json(gwd_ctx *ctx, args *a, out *o, int *silent) {
    gwd_bytes json = { NULL, 0 };
    int32_t status;
    (void)silent;
    NEED(!a->present);
    status = gwd_api->session_json(ctx, &json);
    if (status == GWD_OK) out_bytes(o, json.data, json.len);
    return status;
}

/* set_session, update_session: <id|-> <k=v,…|->. */
typedef int32_t (*session_fn)(gwd_ctx *, const char *, const gwd_pair *, size_t);

static int32_t session_pairs(gwd_ctx *ctx, args *a, out *o, session_fn fn) {
    view id, list;
    char buffer[CLIENT_ID_LEN + 1];
    const char *target;
    gwd_pair *pairs;
    size_t count;
    int32_t status;
    NEED(arg(a, &id) && arg(a, &list) && !a->present);
    TRY(parse_id(id, 1, buffer, &target));
    TRY(parse_pairs(list, &pairs, &count));
    status = fn(ctx, target, pairs, count);
    free(pairs);
    return emit_sent(o, status);
}

static int32_t api_set_session(gwd_ctx *ctx, args *a, out *o, int *silent) {
    (void)silent;
    return session_pairs(ctx, a, o, gwd_api->set_session);
}

static int32_t api_update_session(gwd_ctx *ctx, args *a, out *o, int *silent) {
    (void)silent;
    return session_pairs(ctx, a, o, gwd_api->update_session);
}

/* set_session_json, update_session_json: <id|-> <json…>. */
typedef int32_t (*session_json_fn)(gwd_ctx *, const char *, const char *, size_t);

static int32_t session_json(gwd_ctx *ctx, args *a, out *o, session_json_fn fn) {
    view id, json;
    char buffer[CLIENT_ID_LEN + 1];
    const char *target;
    NEED(arg(a, &id) && arg_rest(a, &json));
    TRY(parse_id(id, 1, buffer, &target));
    return emit_sent(o, fn(ctx, target, json.p, json.n));
}

static int32_t api_set_session_json(gwd_ctx *ctx, args *a, out *o, int *silent) {
    (void)silent;
    return session_json(ctx, a, o, gwd_api->set_session_json);
}

static int32_t api_update_session_json(gwd_ctx *ctx, args *a, out *o, int *silent) {
    (void)silent;
    return session_json(ctx, a, o, gwd_api->update_session_json);
}

static int32_t api_get_session_json(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view id;
    char buffer[CLIENT_ID_LEN + 1];
    const char *target;
    gwd_buffer result = { NULL, 0 };
    (void)silent;
    NEED(arg(a, &id) && !a->present);
    TRY(parse_id(id, 0, buffer, &target));
    return emit_buffer(o, gwd_api->get_session_json(ctx, target, &result), &result, 0);
}

/* ---- 1.1 ---- */

static int32_t api_destroy_client(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view id;
    char buffer[CLIENT_ID_LEN + 1];
    const char *target;
    (void)silent;
    NEED_HOST(destroy_client);
    NEED(arg(a, &id) && !a->present);
    TRY(parse_id(id, 0, buffer, &target));
    return emit_sent(o, gwd_api->destroy_client(ctx, target));
}

static int32_t api_destroy_current_client(gwd_ctx *ctx, args *a, out *o, int *silent) {
    int32_t status;
    NEED_HOST(destroy_current_client);
    NEED(!a->present);
    status = gwd_api->destroy_current_client(ctx);
    *silent = status == GWD_OK;
    return emit_sent(o, status);
}

static int32_t api_send_to_clients(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view ids, text;
    list_arg l;
    int32_t status;
    (void)silent;
    NEED_HOST(send_to_clients);
    NEED(arg(a, &ids) && arg_rest(a, &text));
    TRY(parse_list(ids, 1, &l));
    status = gwd_api->send_to_clients(ctx, l.id_pointers, l.count, text.p, text.n, 0);
    free_list(&l);
    return emit_sent(o, status);
}

static int32_t api_send_to_uids(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view uids, text;
    list_arg l;
    int32_t status;
    (void)silent;
    NEED_HOST(send_to_uids);
    NEED(arg(a, &uids) && arg_rest(a, &text));
    TRY(parse_list(uids, 0, &l));
    status = gwd_api->send_to_uids(ctx, l.names, l.count, text.p, text.n, 0);
    free_list(&l);
    return emit_sent(o, status);
}

static int32_t api_send_to_groups(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view groups, exclude, text;
    list_arg g, x;
    int32_t status;
    (void)silent;
    NEED_HOST(send_to_groups);
    NEED(arg(a, &groups) && arg(a, &exclude) && arg_rest(a, &text));
    TRY(parse_list(groups, 0, &g));
    status = parse_list(exclude, 1, &x);
    if (status == GWD_OK) {
        status = gwd_api->send_to_groups(ctx, g.names, g.count, text.p, text.n, 0, x.id_pointers, x.count);
        free_list(&x);
    }
    free_list(&g);
    return emit_sent(o, status);
}

static int32_t api_is_uid_online(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view uid;
    int32_t online = 0;
    (void)silent;
    NEED_HOST(is_uid_online);
    NEED(arg(a, &uid) && !a->present);
    return emit_flag(o, gwd_api->is_uid_online(ctx, uid.p, uid.n, &online), &online);
}

static int32_t api_get_uid_by_client_id(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view id;
    char buffer[CLIENT_ID_LEN + 1];
    const char *target;
    gwd_buffer result = { NULL, 0 };
    (void)silent;
    NEED_HOST(get_uid_by_client_id);
    NEED(arg(a, &id) && !a->present);
    TRY(parse_id(id, 0, buffer, &target));
    return emit_buffer(o, gwd_api->get_uid_by_client_id(ctx, target, &result), &result, 1);
}

/* Queries of one name (uid or group) answering a list, a count or a JSON buffer. */
#define NAME_QUERY(function, result_type, init, emit) \
    static int32_t api_##function(gwd_ctx *ctx, args *a, out *o, int *silent) { \
        view name; \
        result_type result = init; \
        (void)silent; \
        NEED_HOST(function); \
        NEED(arg(a, &name) && !a->present); \
        return emit; \
    }

NAME_QUERY(get_client_id_by_uid, gwd_list *, NULL,
           emit_list(o, gwd_api->get_client_id_by_uid(ctx, name.p, name.n, &result), &result))
NAME_QUERY(get_client_count_by_group, uint64_t, 0,
           emit_count(o, gwd_api->get_client_count_by_group(ctx, name.p, name.n, &result), &result))
NAME_QUERY(get_client_id_list_by_group, gwd_list *, NULL,
           emit_list(o, gwd_api->get_client_id_list_by_group(ctx, name.p, name.n, &result), &result))
NAME_QUERY(get_client_sessions_by_group, gwd_buffer, {0},
           emit_buffer(o, gwd_api->get_client_sessions_by_group(ctx, name.p, name.n, &result), &result, 0))
NAME_QUERY(get_uid_list_by_group, gwd_list *, NULL,
           emit_list(o, gwd_api->get_uid_list_by_group(ctx, name.p, name.n, &result), &result))
NAME_QUERY(get_uid_count_by_group, uint64_t, 0,
           emit_count(o, gwd_api->get_uid_count_by_group(ctx, name.p, name.n, &result), &result))

/* Queries of everyone (no arguments). */
#define ALL_QUERY(function, result_type, init, emit) \
    static int32_t api_##function(gwd_ctx *ctx, args *a, out *o, int *silent) { \
        result_type result = init; \
        (void)silent; \
        NEED_HOST(function); \
        NEED(!a->present); \
        return emit; \
    }

ALL_QUERY(get_all_client_id_list, gwd_list *, NULL, emit_list(o, gwd_api->get_all_client_id_list(ctx, &result), &result))
ALL_QUERY(get_all_client_sessions, gwd_buffer, {0},
          emit_buffer(o, gwd_api->get_all_client_sessions(ctx, &result), &result, 0))
ALL_QUERY(get_all_group_id_list, gwd_list *, NULL, emit_list(o, gwd_api->get_all_group_id_list(ctx, &result), &result))
ALL_QUERY(get_all_uid_list, gwd_list *, NULL, emit_list(o, gwd_api->get_all_uid_list(ctx, &result), &result))
ALL_QUERY(get_all_uid_count, uint64_t, 0, emit_count(o, gwd_api->get_all_uid_count(ctx, &result), &result))
ALL_QUERY(get_all_group_uid_list, gwd_table *, NULL,
          emit_table(o, gwd_api->get_all_group_uid_list(ctx, &result), &result, 0))
ALL_QUERY(get_all_group_uid_count, gwd_table *, NULL,
          emit_table(o, gwd_api->get_all_group_uid_count(ctx, &result), &result, 0))
ALL_QUERY(get_all_group_client_id_list, gwd_table *, NULL,
          emit_table(o, gwd_api->get_all_group_client_id_list(ctx, &result), &result, 0))
ALL_QUERY(get_all_group_client_id_count, gwd_table *, NULL,
          emit_table(o, gwd_api->get_all_group_client_id_count(ctx, &result), &result, 0))

/* Batch queries: <names>. */
#define BATCH_QUERY(function, as_bool) \
    static int32_t api_##function(gwd_ctx *ctx, args *a, out *o, int *silent) { \
        view names; \
        list_arg l; \
        gwd_table *result = NULL; \
        int32_t status; \
        (void)silent; \
        NEED_HOST(function); \
        NEED(arg(a, &names) && !a->present); \
        TRY(parse_list(names, 0, &l)); \
        status = gwd_api->function(ctx, l.names, l.count, &result); \
        free_list(&l); \
        return emit_table(o, status, &result, as_bool); \
    }

BATCH_QUERY(batch_get_client_id_by_uid, 0)
BATCH_QUERY(batch_get_client_count_by_group, 0)
BATCH_QUERY(is_uids_online, 1)

/* ---- 1.2 ---- */

/* A decimal int64, with an optional '-'. */
static int parse_i64(view v, int64_t *out) {
    int negative = v.n > 0 && v.p[0] == '-';
    uint64_t magnitude = 0, limit = negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    size_t i;
    if (v.n == (size_t)negative) return 0;
    for (i = (size_t)negative; i < v.n; i++) {
        unsigned digit = (unsigned)(v.p[i] - '0');
        if (v.p[i] < '0' || v.p[i] > '9' || magnitude > (limit - digit) / 10) return 0;
        magnitude = magnitude * 10 + digit;
    }
    *out = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    return 1;
}

/* A decimal uint64. */
static int parse_u64(view v, uint64_t *out) {
    uint64_t value = 0;
    size_t i;
    if (v.n == 0) return 0;
    for (i = 0; i < v.n; i++) {
        unsigned digit = (unsigned)(v.p[i] - '0');
        if (v.p[i] < '0' || v.p[i] > '9' || value > (UINT64_MAX - digit) / 10) return 0;
        value = value * 10 + digit;
    }
    *out = value;
    return 1;
}

/* An optional last argument that must be the word `null`: 1 when given, 0 when absent, -1
 * for anything else. */
static int null_arg(args *a) {
    view word;
    if (!arg(a, &word)) return 0;
    return view_equals(word, "null") && !a->present ? 1 : -1;
}

/* The timers added with api:timer_add, so api:timer_del and a one-shot fire can free them. */
typedef struct api_timer {
    struct api_timer *next;
    uint64_t id;
    int repeat;
    char client_id[CLIENT_ID_LEN + 1];
} api_timer;

static api_timer *api_timers;

static void api_timer_forget(uint64_t id) {
    api_timer **link;
    for (link = &api_timers; *link != NULL; link = &(*link)->next) {
        if ((*link)->id == id) {
            api_timer *t = *link;
            *link = t->next;
            free(t);
            return;
        }
    }
}

static void api_timer_fired(gwd_ctx *ctx, uint64_t timer_id, void *user_data) {
    api_timer *t = user_data;
    char text[48];
    int len = snprintf(text, sizeof text, "api:timer:%llu", (unsigned long long)timer_id);
    ok(ctx, "api", gwd_api->send_to_client(ctx, t->client_id, text, (size_t)len, 0));
    if (!t->repeat) api_timer_forget(timer_id); /* the host forgot it as it fired */
}

static int32_t api_timer_add(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view interval, flags_arg;
    int64_t ms;
    uint64_t flags, id = 0;
    int null_callback;
    const char *client_id = gwd_api->current_client_id(ctx);
    api_timer *t;
    int32_t status;
    (void)silent;
    NEED_HOST(timer_add);
    NEED(arg(a, &interval) && arg(a, &flags_arg));
    null_callback = null_arg(a);
    NEED(null_callback >= 0 && parse_i64(interval, &ms) && parse_u64(flags_arg, &flags) && flags <= 0xFFFFFFFFu);
    NEED(client_id != NULL);
    t = calloc(1, sizeof *t);
    if (t == NULL) return GWD_ERR_NO_MEMORY;
    t->repeat = (flags & GWD_TIMER_REPEAT) != 0;
    memcpy(t->client_id, client_id, CLIENT_ID_LEN + 1);
    status = gwd_api->timer_add(ctx, ms, (uint32_t)flags, null_callback ? NULL : api_timer_fired, t, &id);
    if (status != GWD_OK) {
        free(t);
        return status;
    }
    t->id = id;
    t->next = api_timers;
    api_timers = t;
    out_u64(o, (unsigned long long)id);
    return GWD_OK;
}

static int32_t api_timer_del(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view id_arg;
    uint64_t id;
    int32_t status;
    (void)silent;
    NEED_HOST(timer_del);
    NEED(arg(a, &id_arg) && !a->present && parse_u64(id_arg, &id));
    status = gwd_api->timer_del(ctx, id);
    if (status == GWD_OK) api_timer_forget(id);
    return emit_sent(o, status);
}

static int32_t api_get_poster(gwd_ctx *ctx, args *a, out *o, int *silent) {
    gwd_poster *poster = NULL;
    int null_out = null_arg(a);
    (void)silent;
    NEED_HOST(get_poster);
    NEED(null_out >= 0);
    return emit_sent(o, gwd_api->get_poster(ctx, null_out ? NULL : &poster));
}

static int32_t api_post(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view text;
    gwd_poster *poster = NULL;
    const char *client_id = gwd_api->current_client_id(ctx);
    post_request *r;
    int32_t status;
    (void)silent;
    NEED_HOST(get_poster);
    NEED_HOST(post);
    NEED(arg_rest(a, &text) && client_id != NULL);
    TRY(gwd_api->get_poster(ctx, &poster));
    r = new_post_request(client_id, "api:posted:", text);
    if (r == NULL) return GWD_ERR_NO_MEMORY;
    status = gwd_api->post(poster, posted_task, r);
    if (status != GWD_OK) free(r); /* not queued: still ours */
    return emit_sent(o, status);
}

static int32_t api_post_null(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view which;
    gwd_poster *poster = NULL;
    (void)silent;
    NEED_HOST(get_poster);
    NEED_HOST(post);
    NEED(arg(a, &which) && !a->present);
    if (view_equals(which, "poster")) return emit_sent(o, gwd_api->post(NULL, posted_task, NULL));
    NEED(view_equals(which, "callback"));
    TRY(gwd_api->get_poster(ctx, &poster));
    return emit_sent(o, gwd_api->post(poster, NULL, NULL));
}

/* api:post_many: the tasks of one call, each pointing at its slot. */
typedef struct post_batch post_batch;
typedef struct batch_slot {
    post_batch *batch;
    size_t index;
} batch_slot;
struct post_batch {
    char client_id[CLIENT_ID_LEN + 1];
    size_t accepted, ran;
    int disorder;
    batch_slot *slots;
};

static void batch_task(gwd_ctx *ctx, void *user_data) {
    batch_slot *slot = user_data;
    post_batch *b = slot->batch;
    char text[64];
    int len;
    if (slot->index != b->ran) b->disorder = 1;
    if (++b->ran < b->accepted) return;
    len = b->disorder ? snprintf(text, sizeof text, "api:post_many:disorder")
                      : snprintf(text, sizeof text, "api:post_many:ran:%llu", (unsigned long long)b->ran);
    ok(ctx, "api", gwd_api->send_to_client(ctx, b->client_id, text, (size_t)len, 0));
    free(b->slots);
    free(b);
}

static void out_status_name(out *o, int32_t status);

static int32_t api_post_many(gwd_ctx *ctx, args *a, out *o, int *silent) {
    view count_arg;
    long n;
    size_t i;
    gwd_poster *poster = NULL;
    const char *client_id = gwd_api->current_client_id(ctx);
    post_batch *b;
    int32_t status = GWD_OK;
    (void)silent;
    NEED_HOST(get_poster);
    NEED_HOST(post);
    NEED(arg(a, &count_arg) && !a->present && parse_ms(count_arg, &n) && n >= 1 && n <= 1000000 && client_id != NULL);
    TRY(gwd_api->get_poster(ctx, &poster));
    b = calloc(1, sizeof *b);
    if (b != NULL) b->slots = calloc((size_t)n, sizeof *b->slots);
    if (b == NULL || b->slots == NULL) {
        free(b);
        return GWD_ERR_NO_MEMORY;
    }
    memcpy(b->client_id, client_id, CLIENT_ID_LEN + 1);
    for (i = 0; i < (size_t)n; i++) {
        b->slots[i].batch = b;
        b->slots[i].index = i;
        status = gwd_api->post(poster, batch_task, &b->slots[i]);
        if (status != GWD_OK) break;
        b->accepted++; /* the tasks run after this callback: `accepted` is final by then */
    }
    out_text(o, "{\"accepted\":");
    out_u64(o, (unsigned long long)b->accepted);
    out_text(o, ",\"status\":\"");
    out_status_name(o, status);
    out_text(o, "\"}");
    if (b->accepted == 0) {
        free(b->slots);
        free(b);
    }
    return GWD_OK;
}

static const struct api_function {
    const char *name;
    api_handler handler;
} api_functions[] = {
#define API(function) { #function, api_##function }
    API(worker_info), API(current_client_id), API(send_to_client), API(send_to_current_client),
    API(send_to_all), API(close_client), API(close_current_client), API(join_group), API(leave_group),
    API(ungroup), API(send_to_group), API(bind_uid), API(unbind_uid), API(send_to_uid), API(is_online),
    API(get_all_client_count), API(session_get), API(session_json), API(set_session), API(update_session),
    API(set_session_json), API(update_session_json), API(get_session_json),
    API(destroy_client), API(destroy_current_client), API(send_to_clients), API(send_to_uids),
    API(send_to_groups), API(is_uid_online), API(get_client_id_by_uid), API(get_uid_by_client_id),
    API(get_client_count_by_group), API(get_client_id_list_by_group), API(get_client_sessions_by_group),
    API(get_uid_list_by_group), API(get_uid_count_by_group), API(get_all_client_id_list),
    API(get_all_client_sessions), API(get_all_group_id_list), API(get_all_uid_list), API(get_all_uid_count),
    API(get_all_group_uid_list), API(get_all_group_uid_count), API(get_all_group_client_id_list),
    API(get_all_group_client_id_count), API(batch_get_client_id_by_uid), API(batch_get_client_count_by_group),
    API(is_uids_online),
    API(timer_add), API(timer_del), API(get_poster), API(post), API(post_null), API(post_many),
#undef API
};

/* The C name of a status, as GatewayError.Code names it in Swift. */
static void out_status_name(out *o, int32_t status) {
    static const char *const names[] = {
        "GWD_OK", "GWD_ERR_INVALID_ARGUMENT", "GWD_ERR_NOT_FOUND", "GWD_ERR_NO_CURRENT_CLIENT",
        "GWD_ERR_UNAVAILABLE", "GWD_ERR_TIMEOUT", "GWD_ERR_NO_MEMORY", "GWD_ERR_WRONG_THREAD",
        "GWD_ERR_UNSUPPORTED", "GWD_ERR_TOO_LARGE", "GWD_ERR_ABI_MISMATCH", "GWD_ERR_FAILED", "GWD_ERR_INTERNAL",
        "GWD_ERR_QUEUE_FULL", "GWD_ERR_STOPPING",
    };
    char text[32];
    if (status >= 0 && (size_t)status < sizeof names / sizeof names[0]) {
        out_text(o, names[status]);
    } else {
        snprintf(text, sizeof text, "gwd_status %ld", (long)status);
        out_text(o, text);
    }
}

/* `call` is what follows "api:": the function name, then its arguments. */
static void api_call(gwd_ctx *ctx, view call) {
    view function;
    args a;
    out result = { NULL, 0, 0, 0 }, reply = { NULL, 0, 0, 0 };
    int32_t status = GWD_ERR_UNSUPPORTED;
    int silent = 0;
    size_t i;
    if (split_at(call, ' ', &function, &a.rest)) {
        a.present = 1;
    } else {
        function = call;
        a.rest = no_view;
        a.present = 0;
    }
    for (i = 0; i < sizeof api_functions / sizeof api_functions[0]; i++) {
        if (view_equals(function, api_functions[i].name)) {
            status = api_functions[i].handler(ctx, &a, &result, &silent);
            break;
        }
    }
    if (!silent) {
        out_text(&reply, "api:");
        out_bytes(&reply, function.p, function.n);
        out_text(&reply, ":");
        if (status == GWD_OK) {
            out_bytes(&reply, result.p, result.n);
        } else {
            out_text(&reply, "error:");
            out_status_name(&reply, status);
        }
        if (reply.failed || result.failed) log_failure(ctx, "api", GWD_ERR_NO_MEMORY);
        else ok(ctx, "api", gwd_api->send_to_current_client(ctx, reply.p, reply.n, 0));
    }
    free(result.p);
    free(reply.p);
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
    .on_worker_start = on_worker_start,
    .on_worker_stop = on_worker_stop,
    .on_websocket_handshake = on_websocket_handshake,
    .on_message = on_message,
    .on_close = on_close,
};

GWD_PLUGIN_ENTRY(api, out, err, err_len) {
    GWD_PLUGIN_INIT(api, err, err_len);
    /* Every 1.x table has all 1.0 entries; a shorter one is broken. The 1.1 and 1.2 entries are
     * tested with GWD_HAS where they are used, so an older host answers `api:` calls for them
     * with UNSUPPORTED (and `tick:` / `post:` log it). */
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
