/*
 * malloc-counter — an LD_PRELOAD library that counts heap allocations per process.
 *
 * Every process that loads it (gatewayd's master and every child it forks) keeps its counts in
 * a small file, $MALLOC_COUNTER_DIR/<pid> (default /tmp/malloc-counter), mapped shared, so
 * another process can read them at any moment without stopping or signalling the counted one:
 * gwload reads them at the start and the end of its measured window (--malloc-counters DIR)
 * and reports allocations per message per role.
 *
 * It forwards to glibc's own entry points (__libc_malloc, ...), so it needs no dlsym and adds
 * only a few relaxed atomic increments and a malloc_usable_size per call. Counts before the
 * constructor ran, and in a child between fork() and its atfork handler, go to a private
 * fallback and are not reported.
 *
 * File layout: little-endian 64-bit words: magic, pid, malloc, calloc, realloc, aligned, free,
 * bytes, live, then LIVE_BUCKETS words of live blocks by size.
 *   bytes: the sizes asked of malloc, calloc, realloc and the aligned allocators.
 *   live:  heap bytes in use now (malloc_usable_size of every block allocated and not freed
 *          since the counter was mapped), to split a process's RSS into heap and the rest.
 *   live blocks by size: bucket i counts blocks whose usable size is below 2^(i+4) bytes
 *          (16, 32, 64, ...; the last bucket takes everything larger), to see what holds it.
 *
 * Build: cc -O2 -shared -fPIC -o malloc-counter.so malloc-counter.c
 * Use:   MALLOC_COUNTER_DIR=/tmp/mc LD_PRELOAD=$PWD/malloc-counter.so gatewayd start ...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *pointer);

#define LIVE_BUCKETS 24
#define COUNTER_MAGIC 0x72746e636c6c616dULL /* "mallcntr" */

typedef struct counters {
    uint64_t magic;
    uint64_t pid;
    uint64_t malloc_calls;
    uint64_t calloc_calls;
    uint64_t realloc_calls;
    uint64_t aligned_calls;
    uint64_t free_calls;
    uint64_t bytes;
    int64_t live;
    int64_t live_blocks[LIVE_BUCKETS];
} counters;

static counters fallback;
static counters *volatile current = &fallback;

#define COUNT(field, amount) __atomic_fetch_add(&current->field, (amount), __ATOMIC_RELAXED)

/* Adds a block to `live` and its size bucket (sign -1: removes it, when it is freed). */
static void *track(void *pointer, int sign) {
    size_t size;
    int bucket = 0;
    if (pointer == NULL) return pointer;
    size = malloc_usable_size(pointer);
    while (bucket < LIVE_BUCKETS - 1 && size >= ((size_t)16 << bucket)) bucket++;
    __atomic_fetch_add(&current->live, sign * (int64_t)size, __ATOMIC_RELAXED);
    __atomic_fetch_add(&current->live_blocks[bucket], sign, __ATOMIC_RELAXED);
    return pointer;
}

/* Maps this process's counter file. Uses only system calls and a stack buffer (no malloc). */
static void map_counters(void) {
    char path[512];
    const char *dir = getenv("MALLOC_COUNTER_DIR");
    counters *mapped;
    int fd;
    pid_t pid = getpid();
    current = &fallback;
    if (dir == NULL || dir[0] == '\0') dir = "/tmp/malloc-counter";
    mkdir(dir, 0755); /* may exist already */
    if (snprintf(path, sizeof path, "%s/%d", dir, (int)pid) >= (int)sizeof path) return;
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    if (ftruncate(fd, sizeof(counters)) != 0) {
        close(fd);
        return;
    }
    mapped = mmap(NULL, sizeof(counters), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (mapped == MAP_FAILED) return;
    mapped->pid = (uint64_t)pid;
    mapped->magic = COUNTER_MAGIC;
    current = mapped;
}

/* A forked child must not keep counting into its parent's file. */
static void after_fork_in_child(void) {
    map_counters();
}

__attribute__((constructor)) static void malloc_counter_init(void) {
    map_counters();
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

void *malloc(size_t size) {
    COUNT(malloc_calls, 1);
    COUNT(bytes, size);
    return track(__libc_malloc(size), 1);
}

void *calloc(size_t count, size_t size) {
    COUNT(calloc_calls, 1);
    COUNT(bytes, count * size);
    return track(__libc_calloc(count, size), 1);
}

void *realloc(void *pointer, size_t size) {
    void *result;
    COUNT(realloc_calls, 1);
    COUNT(bytes, size);
    track(pointer, -1);
    result = __libc_realloc(pointer, size);
    if (result == NULL && size != 0) track(pointer, 1); /* the old block is still there */
    return track(result, 1);
}

void free(void *pointer) {
    if (pointer != NULL) COUNT(free_calls, 1);
    __libc_free(track(pointer, -1));
}

void *memalign(size_t alignment, size_t size) {
    COUNT(aligned_calls, 1);
    COUNT(bytes, size);
    return track(__libc_memalign(alignment, size), 1);
}

void *aligned_alloc(size_t alignment, size_t size) {
    COUNT(aligned_calls, 1);
    COUNT(bytes, size);
    return track(__libc_memalign(alignment, size), 1);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    void *pointer;
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    COUNT(aligned_calls, 1);
    COUNT(bytes, size);
    pointer = track(__libc_memalign(alignment, size), 1);
    if (pointer == NULL && size != 0) return ENOMEM;
    *out = pointer;
    return 0;
}
