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
 * only a relaxed atomic increment per call. Counts before the constructor ran, and in a child
 * between fork() and its atfork handler, go to a private fallback and are not reported.
 *
 * File layout: eight little-endian u64: magic, pid, malloc, calloc, realloc, aligned, free, bytes.
 *   bytes: the sizes asked of malloc, calloc, realloc and the aligned allocators.
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *pointer);

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
} counters;

static counters fallback;
static counters *volatile current = &fallback;

#define COUNT(field, amount) __atomic_fetch_add(&current->field, (amount), __ATOMIC_RELAXED)

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
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    COUNT(calloc_calls, 1);
    COUNT(bytes, count * size);
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    COUNT(realloc_calls, 1);
    COUNT(bytes, size);
    return __libc_realloc(pointer, size);
}

void free(void *pointer) {
    if (pointer != NULL) COUNT(free_calls, 1);
    __libc_free(pointer);
}

void *memalign(size_t alignment, size_t size) {
    COUNT(aligned_calls, 1);
    COUNT(bytes, size);
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    COUNT(aligned_calls, 1);
    COUNT(bytes, size);
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    void *pointer;
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    COUNT(aligned_calls, 1);
    COUNT(bytes, size);
    pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return ENOMEM;
    *out = pointer;
    return 0;
}
