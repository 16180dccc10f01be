// What one ffi_call costs on this machine, beside a direct call of the same function: the
// floor under the typed-event dispatch (issue 13), which calls every handler through libffi
// with a call interface prepared once. Prints the median of 7 runs of 5 M calls each.
#include <ffi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

volatile int64_t sink;

__attribute__((noinline)) static int32_t on_say(void *ctx, const char *client_id, const char *room, int64_t count,
                                                double score) {
    sink += room[0] + count + (int64_t)score + (client_id != NULL) + (ctx != NULL);
    return 0;
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    enum { calls = 5000000, runs = 7 };
    ffi_cif cif;
    ffi_type *types[5] = {&ffi_type_pointer, &ffi_type_pointer, &ffi_type_pointer, &ffi_type_sint64, &ffi_type_double};
    if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, 5, &ffi_type_sint32, types) != FFI_OK) {
        fprintf(stderr, "ffi_floor: ffi_prep_cif failed\n");
        return 1;
    }
    void *ctx = (void *)0x1000;
    const char *client_id = "7f0000010b5400000001", *room = "room1";
    int64_t count = 42;
    double score = 0.5;
    void *values[5] = {&ctx, &client_id, &room, &count, &score};
    int32_t (*volatile direct)(void *, const char *, const char *, int64_t, double) = on_say;
    double through_ffi[runs], straight[runs];
    for (int run = 0; run < runs; run++) {
        ffi_arg result;
        double start = now_ns();
        for (int i = 0; i < calls; i++) ffi_call(&cif, FFI_FN(on_say), &result, values);
        double middle = now_ns();
        for (int i = 0; i < calls; i++) result = (ffi_arg)direct(ctx, client_id, room, count, score);
        through_ffi[run] = (middle - start) / calls;
        straight[run] = (now_ns() - middle) / calls;
    }
    qsort(through_ffi, runs, sizeof(double), by_value);
    qsort(straight, runs, sizeof(double), by_value);
    printf("ffi_call (p s s i d): %.1f ns per call; direct call: %.1f ns (medians of %d runs)\n", through_ffi[runs / 2],
           straight[runs / 2], runs);
    return 0;
}
