#ifndef CGATEWAYSYSTEM_H
#define CGATEWAYSYSTEM_H
#include <sys/types.h>

/* Asks the kernel to send `signal` to this process when its parent exits (prctl is variadic,
 * so Swift cannot call it directly). Returns 0 or -1 with errno. */
int gwd_sys_set_parent_death_signal(int signal);

/* Sets the process name shown by ps/top (prctl PR_SET_NAME, at most 15 bytes). */
int gwd_sys_set_process_name(const char *name);

/* Routes `signals` (count entries) to a self-pipe: the handler writes the signal number as one
 * byte to `write_fd` (non-blocking; a full pipe drops the byte, the reader still wakes up).
 * Async-signal-safe. Returns 0 or -1 with errno. */
int gwd_sys_route_signals_to_pipe(int write_fd, const int *signals, int count);

/* Restores the default action of every signal routed above, ignores SIGINT and SIGHUP (the
 * master handles those for the whole group) and unblocks all signals; called in a forked child
 * before it starts threads. */
void gwd_sys_reset_signals(void);

/* WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG are macros Swift cannot import. */
int gwd_sys_exited(int status);
int gwd_sys_exit_status(int status);
int gwd_sys_signaled(int status);
int gwd_sys_term_signal(int status);

/* accept4 (a GNU extension Swift's Glibc module leaves out): `address` may be NULL. Returns the
 * descriptor, or -1 with errno. */
int gwd_sys_accept4(int fd, void *address, unsigned int *address_length, int flags);

/* fflush(NULL): C's stdio globals are not usable from Swift 6 code. */
void gwd_sys_flush_stdio(void);

/* Sends `message` as one datagram to the service manager's notification socket (sd_notify(3)'s
 * protocol, no library): `socket_path` is $NOTIFY_SOCKET, a filesystem path or, starting with
 * '@', an abstract socket name. A socket of its own per call, nothing kept, no thread. Returns 0
 * or -1 with errno. */
int gwd_sys_notify(const char *socket_path, const char *message, size_t length);

/* What a plugin process runs now, for its crash handler: the callback (a code the handler
 * names with the table given to gwd_sys_install_crash_handler, 0 = none) and the client id of
 * the event (gateway address and connection id). Plain stores, set around every callback. */
struct gwd_sys_crash_context {
    volatile int callback;
    volatile unsigned int client_ip;
    volatile unsigned short client_port;
    volatile unsigned int client_connection;
    /* While an event callback runs: the connection of the gateway it came from (-1: none, or
     * one whose stream may end mid-frame) and the event's index on it, for the crash notice. */
    volatile int notice_fd;
    volatile unsigned long long notice_event;
};
extern struct gwd_sys_crash_context gwd_sys_crash_context;

static inline void gwd_sys_crash_context_set(int callback, unsigned int ip, unsigned short port, unsigned int connection) {
    gwd_sys_crash_context.client_ip = ip;
    gwd_sys_crash_context.client_port = port;
    gwd_sys_crash_context.client_connection = connection;
    gwd_sys_crash_context.callback = callback;
}

static inline void gwd_sys_crash_context_clear(void) {
    gwd_sys_crash_context.callback = 0;
    gwd_sys_crash_context.notice_fd = -1;
}

static inline void gwd_sys_crash_context_set_notice(int fd, unsigned long long event) {
    gwd_sys_crash_context.notice_event = event;
    gwd_sys_crash_context.notice_fd = fd;
}

/* A counter one thread writes and another reads (the worker's callback timings): relaxed
 * atomic loads and stores, which are plain moves on x86-64 and arm64 (no locked instruction);
 * with a single writer, load + store is an exact add. */
static inline unsigned long long gwd_sys_relaxed_load(const unsigned long long *counter) {
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static inline void gwd_sys_single_writer_add(unsigned long long *counter, unsigned long long amount) {
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + amount, __ATOMIC_RELAXED);
}

static inline void gwd_sys_relaxed_store(unsigned long long *counter, unsigned long long value) {
    __atomic_store_n(counter, value, __ATOMIC_RELAXED);
}

/* The crash notice (gatewayd's WORKER_CRASHED frame, encoded by the caller with a zero body):
 * when a fatal signal comes during an event callback with a notice fd set, the handler writes
 * a copy of `frame` to that fd, first putting the event index (big-endian u64) and the signal
 * (big-endian u32) at `body_offset`, so the gateway knows which event is lost. At most 64
 * bytes. Returns 0 or -1 with errno. */
int gwd_sys_set_crash_notice(const unsigned char *frame, int length, int body_offset);

/* Installs a handler for the fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP)
 * in place of the Swift runtime's backtracer, which takes seconds to write its report while the
 * process holds events it will never handle. The handler writes one log line to `fd` in
 * GatewayLogHandler's format (text, or a JSON object when `json` is non-zero) under `label`
 * (with `gw.index`), naming the signal, the callback running
 * (`callback_names[code - 1]`, `count` of them) and its client id, then lets the signal take
 * the process down with its default action, so the parent sees which signal it was.
 * Async-signal-safe. Returns 0 or -1 with errno. */
int gwd_sys_install_crash_handler(int fd, const char *label, int json, int index, const char *const *callback_names, int count);

/* Marks the calling thread as the one plugin callbacks run on: a crash on another thread (one
 * the plugin started) is not blamed on the callback running meanwhile. */
void gwd_sys_crash_context_mark_callback_thread(void);

/* Gives the calling thread an alternate signal stack, so the crash handler runs after a stack
 * overflow too (sigaltstack is per thread). Returns 0 or -1 with errno. */
int gwd_sys_use_alternate_signal_stack(void);

#endif
