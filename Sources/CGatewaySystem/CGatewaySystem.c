#define _GNU_SOURCE
#include "CGatewaySystem.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int gwd_sys_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0); }
int gwd_sys_set_process_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

static volatile int signal_pipe_fd = -1;
static int routed_signals[32];
static int routed_count = 0;

static void route_signal(int signo) {
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    if (signal_pipe_fd >= 0) { ssize_t ignored = write(signal_pipe_fd, &byte, 1); (void)ignored; }
    errno = saved;
}

int gwd_sys_route_signals_to_pipe(int write_fd, const int *signals, int count) {
    if (count < 0 || count > 32) { errno = EINVAL; return -1; }
    signal_pipe_fd = write_fd;
    routed_count = 0;
    for (int i = 0; i < count; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = route_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        if (sigaction(signals[i], &action, NULL) != 0) return -1;
        routed_signals[routed_count++] = signals[i];
    }
    return 0;
}

void gwd_sys_reset_signals(void) {
    for (int i = 0; i < routed_count; i++) signal(routed_signals[i], SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    /* Ctrl-C and a closed terminal reach the whole foreground process group: children leave
     * them to the master, which stops everyone in order. */
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal_pipe_fd = -1;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int gwd_sys_exited(int status) { return WIFEXITED(status); }
int gwd_sys_exit_status(int status) { return WEXITSTATUS(status); }
int gwd_sys_signaled(int status) { return WIFSIGNALED(status); }
int gwd_sys_term_signal(int status) { return WTERMSIG(status); }

void gwd_sys_flush_stdio(void) { fflush(NULL); }

int gwd_sys_accept4(int fd, void *address, unsigned int *address_length, int flags) {
    return accept4(fd, (struct sockaddr *)address, (socklen_t *)address_length, flags);
}
