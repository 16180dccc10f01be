/* drift — a gatewayd plugin that measures how far a repeating timer (ABI 1.2) drifts.
 *
 * In on_worker_start it reads the interval from GWD_DRIFT_INTERVAL_MS (default 1000), notes
 * CLOCK_MONOTONIC and adds a GWD_TIMER_REPEAT timer of that interval. Every firing notes
 * CLOCK_MONOTONIC first thing, then logs one INFO line through the host:
 *
 *     drift start t_ns=<ns> interval_ms=<ms>      (once, the moment just before timer_add)
 *     drift n=<n> t_ns=<ns>                       (firing n = 1, 2, ...)
 *
 * bench/timer-drift/run.sh reads these lines from the cluster's log and computes the drift of
 * firing n against start + n × interval. It needs no client: nothing else happens in the worker.
 *
 * Build: gatewayd plugin build bench/timer-drift/drift.c -o drift.so
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gatewayd.h"

GWD_PLUGIN_API;

static int64_t interval_ms = 1000;
static uint64_t firings;
static uint64_t timer_id;

static uint64_t monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static void say(gwd_ctx *ctx, int32_t level, const char *line) {
    gwd_api->log(ctx, level, line, strlen(line));
}

static void on_timer(gwd_ctx *ctx, uint64_t id, void *user_data) {
    uint64_t now = monotonic_ns();  /* before anything else, logging included */
    (void)id;
    (void)user_data;
    firings++;
    char line[96];
    snprintf(line, sizeof line, "drift n=%" PRIu64 " t_ns=%" PRIu64, firings, now);
    say(ctx, GWD_LOG_INFO, line);
}

static int32_t on_worker_start(gwd_ctx *ctx) {
    char line[160];
    const char *text = getenv("GWD_DRIFT_INTERVAL_MS");
    if (text != NULL && *text != '\0') {
        char *end = NULL;
        long long value = strtoll(text, &end, 10);
        if (*end != '\0' || value <= 0) {
            snprintf(line, sizeof line, "drift: GWD_DRIFT_INTERVAL_MS=%s is not a positive number of ms", text);
            say(ctx, GWD_LOG_ERROR, line);
            return GWD_ERR_INVALID_ARGUMENT;
        }
        interval_ms = (int64_t)value;
    }
    if (!GWD_HAS(gwd_api, timer_add)) {
        snprintf(line, sizeof line, "drift: the host has ABI %u.%u, timers need 1.2",
                 (unsigned)gwd_api->abi_major, (unsigned)gwd_api->abi_minor);
        say(ctx, GWD_LOG_ERROR, line);
        return GWD_ERR_UNSUPPORTED;
    }
    uint64_t start = monotonic_ns();
    int32_t status = gwd_api->timer_add(ctx, interval_ms, GWD_TIMER_REPEAT, on_timer, NULL, &timer_id);
    if (status != GWD_OK) {
        snprintf(line, sizeof line, "drift: timer_add failed: %s", gwd_api->status_string(status));
        say(ctx, GWD_LOG_ERROR, line);
        return status;
    }
    snprintf(line, sizeof line, "drift start t_ns=%" PRIu64 " interval_ms=%" PRId64, start, interval_ms);
    say(ctx, GWD_LOG_INFO, line);
    return GWD_OK;
}

static void on_worker_stop(gwd_ctx *ctx) {
    char line[64];
    snprintf(line, sizeof line, "drift stop firings=%" PRIu64, firings);
    say(ctx, GWD_LOG_INFO, line);
}

static const gwd_plugin drift = {
    GWD_PLUGIN_HEADER,
    .name = "timer-drift",
    .version = "1.0.0",
    .on_worker_start = on_worker_start,
    .on_worker_stop = on_worker_stop,
};

GWD_PLUGIN_ENTRY(api, out, err, err_len) {
    GWD_PLUGIN_INIT(api, err, err_len);
    *out = &drift;
    return GWD_OK;
}
