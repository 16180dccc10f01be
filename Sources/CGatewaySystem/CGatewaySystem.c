#define _GNU_SOURCE
#include "CGatewaySystem.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/prctl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
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

int gwd_sys_notify(const char *socket_path, const char *message, size_t length) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    size_t path_length = strlen(socket_path);
    /* Only what sd_notify(3) calls AF_UNIX: a path, or an abstract name written with '@'. */
    if ((socket_path[0] != '/' && socket_path[0] != '@') || path_length < 2 || path_length >= sizeof address.sun_path) {
        errno = EINVAL;
        return -1;
    }
    memcpy(address.sun_path, socket_path, path_length);
    if (socket_path[0] == '@') address.sun_path[0] = '\0';
    /* An abstract name is exactly its bytes: no terminating NUL in the length. */
    socklen_t address_length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_length);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    ssize_t sent;
    do {
        sent = sendto(fd, message, length, MSG_NOSIGNAL, (struct sockaddr *)&address, address_length);
    } while (sent < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    errno = saved;
    return sent == (ssize_t)length ? 0 : -1;
}

int gwd_sys_accept4(int fd, void *address, unsigned int *address_length, int flags) {
    return accept4(fd, (struct sockaddr *)address, (socklen_t *)address_length, flags);
}

/* ---- Crash handler ------------------------------------------------------------------------ */

struct gwd_sys_crash_context gwd_sys_crash_context = {.notice_fd = -1};

static unsigned char crash_notice[64];
static int crash_notice_length;
static int crash_notice_body;

static int crash_fd = 2;
static char crash_label[64];
static char crash_role[64];
static int crash_json;
static const char *crash_callbacks[16];
static int crash_callback_count;
static int crash_index;
static pthread_t crash_callback_thread;
static volatile int crash_callback_thread_set;

static const char *crash_signal_name(int signo) {
    switch (signo) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    default: return "signal";
    }
}

/* A line built in a fixed buffer with nothing but stores: printf and malloc are not safe in a
 * signal handler. */
struct crash_line {
    char text[512];
    size_t length;
};

static void put_text(struct crash_line *line, const char *text) {
    while (*text && line->length < sizeof line->text - 1) line->text[line->length++] = *text++;
}

static void put_number(struct crash_line *line, unsigned long value, int base, int width) {
    char digits[32];
    int count = 0;
    do {
        digits[count++] = "0123456789abcdef"[value % (unsigned long)base];
        value /= (unsigned long)base;
    } while (value > 0 && count < (int)sizeof digits);
    while (count < width && count < (int)sizeof digits) digits[count++] = '0';
    while (count > 0 && line->length < sizeof line->text - 1) line->text[line->length++] = digits[--count];
}

/* UTC date of a count of days since 1970-01-01 (proleptic Gregorian; eras of 400 years). */
static void civil_date(long days, long *year, int *month, int *day) {
    days += 719468;
    long era = (days >= 0 ? days : days - 146096) / 146097;
    long day_of_era = days - era * 146097;
    long year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    long day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    long month_index = (5 * day_of_year + 2) / 153;
    *day = (int)(day_of_year - (153 * month_index + 2) / 5 + 1);
    *month = (int)(month_index < 10 ? month_index + 3 : month_index - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

static void put_timestamp(struct crash_line *line) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long seconds = (long)now.tv_sec;
    long year;
    int month, day;
    civil_date(seconds / 86400, &year, &month, &day);
    long of_day = seconds % 86400;
    put_number(line, (unsigned long)year, 10, 4);
    put_text(line, "-");
    put_number(line, (unsigned long)month, 10, 2);
    put_text(line, "-");
    put_number(line, (unsigned long)day, 10, 2);
    put_text(line, "T");
    put_number(line, (unsigned long)(of_day / 3600), 10, 2);
    put_text(line, ":");
    put_number(line, (unsigned long)(of_day / 60 % 60), 10, 2);
    put_text(line, ":");
    put_number(line, (unsigned long)(of_day % 60), 10, 2);
    put_text(line, ".");
    put_number(line, (unsigned long)(now.tv_nsec / 1000000), 10, 3);
    put_text(line, "Z");
}

/* write() until all of `length` is written or it fails (a non-blocking socket that is full):
 * async-signal-safe. */
static void write_fully(int fd, const void *bytes, size_t length) {
    size_t offset = 0;
    while (offset < length) {
        ssize_t written = write(fd, (const char *)bytes + offset, length - offset);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return;
        offset += (size_t)written;
    }
}

static void put_big_endian(unsigned char *target, unsigned long long value, int bytes) {
    for (int i = bytes - 1; i >= 0; i--) {
        target[i] = (unsigned char)(value & 0xff);
        value >>= 8;
    }
}

/* Tells the gateway of the running event which one it was, before anything else. */
static void write_crash_notice(int signo) {
    int fd = gwd_sys_crash_context.notice_fd;
    if (fd < 0 || crash_notice_length == 0) return;
    unsigned char frame[sizeof crash_notice];
    memcpy(frame, crash_notice, (size_t)crash_notice_length);
    put_big_endian(frame + crash_notice_body, gwd_sys_crash_context.notice_event, 8);
    put_big_endian(frame + crash_notice_body + 8, (unsigned long long)(unsigned int)signo, 4);
    /* Non-blocking: a full socket buffer loses the notice, and the gateway then resends the
     * event once, as for a worker killed without a word. */
    write_fully(fd, frame, (size_t)crash_notice_length);
}

int gwd_sys_set_crash_notice(const unsigned char *frame, int length, int body_offset) {
    if (length <= 0 || length > (int)sizeof crash_notice || body_offset < 0 || body_offset + 12 > length) {
        errno = EINVAL;
        return -1;
    }
    memcpy(crash_notice, frame, (size_t)length);
    crash_notice_body = body_offset;
    crash_notice_length = length;
    return 0;
}

/* One metadata field: ` key=value` in text, `"key":"value"` in JSON (keys and values here
 * are identifiers and hex digits: nothing to escape). */
static void put_field(struct crash_line *line, const char *key, const char *value, int *fields) {
    if (crash_json) {
        put_text(line, *fields > 0 ? ",\"" : "\"");
        put_text(line, key);
        put_text(line, "\":\"");
        put_text(line, value);
        put_text(line, "\"");
    } else {
        put_text(line, " ");
        put_text(line, key);
        put_text(line, "=");
        put_text(line, value);
    }
    (*fields)++;
}

static void crash_handler(int signo, siginfo_t *info, void *context) {
    (void)context;
    int saved = errno;
    struct crash_line line = {.length = 0};
    int callback = gwd_sys_crash_context.callback;
    /* A thread of the plugin's own (a poster's producer) runs no callback, whatever the plugin
     * thread is doing meanwhile. */
    int on_callback_thread = !crash_callback_thread_set || pthread_equal(pthread_self(), crash_callback_thread);
    if (!on_callback_thread) callback = 0;
    const char *callback_name = callback > 0 && callback <= crash_callback_count ? crash_callbacks[callback - 1] : NULL;
    if (callback_name) write_crash_notice(signo);
    /* The record's head, in GatewayLogHandler's text or JSON format. */
    if (crash_json) {
        put_text(&line, "{\"timestamp\":\"");
        put_timestamp(&line);
        put_text(&line, "\",\"level\":\"error\",\"role\":\"");
        put_text(&line, crash_role);
        put_text(&line, "\",\"pid\":");
        put_number(&line, (unsigned long)getpid(), 10, 1);
        put_text(&line, ",\"message\":\"fatal ");
    } else {
        put_timestamp(&line);
        put_text(&line, " ERROR   ");
        put_text(&line, crash_label);
        put_text(&line, "[");
        put_number(&line, (unsigned long)getpid(), 10, 1);
        put_text(&line, "] fatal ");
    }
    put_text(&line, crash_signal_name(signo));
    if (signo == SIGSEGV || signo == SIGBUS) {
        put_text(&line, " at address 0x");
        put_number(&line, (unsigned long)info->si_addr, 16, 1);
    }
    put_text(&line, callback_name ? " in the plugin's " : on_callback_thread ? " outside any plugin callback" : " in a thread the plugin started");
    if (callback_name) put_text(&line, callback_name);
    put_text(&line, "; the process exits now");
    if (crash_json) put_text(&line, "\",\"metadata\":{");
    /* Metadata sorted by key, as GatewayLogHandler writes it. */
    int fields = 0;
    if (callback_name) {
        put_field(&line, "gw.callback", callback_name, &fields);
        if (gwd_sys_crash_context.client_connection != 0) {
            struct crash_line id = {.length = 0};
            put_number(&id, gwd_sys_crash_context.client_ip, 16, 8);
            put_number(&id, gwd_sys_crash_context.client_port, 16, 4);
            put_number(&id, gwd_sys_crash_context.client_connection, 16, 8);
            id.text[id.length] = '\0';
            put_field(&line, "gw.client_id", id.text, &fields);
        }
    }
    struct crash_line index = {.length = 0};
    put_number(&index, (unsigned long)crash_index, 10, 1);
    index.text[index.length] = '\0';
    put_field(&line, "gw.index", index.text, &fields);
    put_field(&line, "gw.signal", crash_signal_name(signo), &fields);
    if (crash_json) put_text(&line, "}}");
    line.text[line.length++] = '\n';
    write_fully(crash_fd, line.text, line.length);
    /* SA_RESETHAND restored the default action; raised now, the signal is delivered as the
     * handler returns and ends the process — also for a trap, after which execution would
     * otherwise go on. */
    raise(signo);
    errno = saved;
}

int gwd_sys_install_crash_handler(int fd, const char *label, int json, int index, const char *const *callback_names, int count) {
    if (count < 0 || count > (int)(sizeof crash_callbacks / sizeof crash_callbacks[0])) {
        errno = EINVAL;
        return -1;
    }
    crash_fd = fd;
    crash_index = index;
    snprintf(crash_label, sizeof crash_label, "%s", label);
    /* The role, as LogRecord derives it from the label: `gatewayd.worker` -> `worker`. */
    snprintf(crash_role, sizeof crash_role, "%s", strncmp(label, "gatewayd.", 9) == 0 ? label + 9 : label);
    crash_json = json;
    for (int i = 0; i < count; i++) crash_callbacks[i] = strdup(callback_names[i]);
    crash_callback_count = count;
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = crash_handler;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
        if (sigaction(fatal[i], &action, NULL) != 0) return -1;
    }
    return 0;
}

void gwd_sys_crash_context_mark_callback_thread(void) {
    crash_callback_thread = pthread_self();
    crash_callback_thread_set = 1;
}

int gwd_sys_use_alternate_signal_stack(void) {
    stack_t stack;
    memset(&stack, 0, sizeof stack);
    stack.ss_size = 64 * 1024;
    stack.ss_sp = malloc(stack.ss_size); /* kept for the thread's life */
    if (stack.ss_sp == NULL) {
        errno = ENOMEM;
        return -1;
    }
    return sigaltstack(&stack, NULL);
}
