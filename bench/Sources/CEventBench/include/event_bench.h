// What the typed-event benchmark calls: a handler with a natural C signature, and the
// hand-written path a C plugin would have without typed events (parse the JSON, call the
// handler directly).
#ifndef GATEWAYD_EVENT_BENCH_H
#define GATEWAYD_EVENT_BENCH_H
#include <stddef.h>
#include <stdint.h>

/* The handler of ["say", "<room>", <count>, <score>]: "s:room i:count d:score". */
int32_t bench_on_say(void *ctx, const char *client_id, const char *room, int64_t count, double score);

/* The same message parsed by hand (no escapes in the room name, as a hand-written parser
 * would assume), then bench_on_say called directly. Returns its status, or -1. */
int32_t bench_handwritten(const char *json, size_t len, void *ctx, const char *client_id);

/* What the handler saw, so the work cannot be optimised away. */
extern volatile int64_t bench_sink;

#endif
