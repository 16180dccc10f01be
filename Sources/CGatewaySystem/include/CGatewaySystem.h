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

#endif
