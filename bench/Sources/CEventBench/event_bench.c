#include "event_bench.h"
#include <stdlib.h>
#include <string.h>

volatile int64_t bench_sink;

int32_t bench_on_say(void *ctx, const char *client_id, const char *room, int64_t count, double score) {
    bench_sink += (int64_t)room[0] + count + (int64_t)score + (client_id != NULL) + (ctx != NULL);
    return 0;
}

static const char *skip_space(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

int32_t bench_handwritten(const char *json, size_t len, void *ctx, const char *client_id) {
    const char *p = json, *end = json + len;
    char room[256], number[64];
    p = skip_space(p, end);
    if (end - p < 8 || memcmp(p, "[\"say\"", 6) != 0) return -1;
    p = skip_space(p + 6, end);
    if (p == end || *p++ != ',') return -1;
    p = skip_space(p, end);
    if (p == end || *p++ != '"') return -1;
    const char *start = p;
    while (p < end && *p != '"') p++;
    if (p == end || (size_t)(p - start) >= sizeof room) return -1;
    memcpy(room, start, (size_t)(p - start));
    room[p - start] = 0;
    p = skip_space(p + 1, end);
    if (p == end || *p++ != ',') return -1;
    p = skip_space(p, end);
    start = p;
    while (p < end && *p != ',') p++;
    if (p == end || (size_t)(p - start) >= sizeof number) return -1;
    memcpy(number, start, (size_t)(p - start));
    number[p - start] = 0;
    char *stop;
    long long count = strtoll(number, &stop, 10);
    if (*stop != 0) return -1;
    p = skip_space(p + 1, end);
    start = p;
    while (p < end && *p != ']') p++;
    if (p == end || (size_t)(p - start) >= sizeof number) return -1;
    memcpy(number, start, (size_t)(p - start));
    number[p - start] = 0;
    double score = strtod(number, &stop);
    return bench_on_say(ctx, client_id, room, count, score);
}
