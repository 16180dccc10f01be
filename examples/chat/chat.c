/*
 * chat — the plugin of examples/chat: rooms, nicknames, private messages, who is online,
 * "typing…", and the last messages of a room. examples/chat/README.md has the protocol.
 *
 *   gatewayd plugin build examples/chat/chat.c -o examples/chat/chat.so
 *
 * Typed events in and out (docs/events.md): the host decodes what clients send and encodes
 * what event_emit sends, so there is no JSON parser here; only the lists (rooms, who is
 * online, the history) are written as JSON arguments. Who is where lives in the gateways,
 * never in this process: a room is the group "room:<name>", a nickname is the client's uid,
 * and the session written at join carries both into the client's later events and into
 * on_close. So every worker sees the same rooms, and a reload loses none of it. The history
 * is one append-only file per room that every worker appends to and reads. Only the typing
 * timers of the clients a worker serves are its own.
 */
#define _DEFAULT_SOURCE /* flock, pread, strnlen under -std=c11 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "gatewayd.h"
GWD_PLUGIN_API;

#ifndef CHAT_VERSION
#define CHAT_VERSION "1.0"
#endif
#define CHAT_GREETING "Welcome to gatewayd chat " CHAT_VERSION

#define ROOM_MAX 32                 /* bytes of [A-Za-z0-9_-] */
#define NICK_MAX_CHARS 20
#define NICK_MAX_BYTES (NICK_MAX_CHARS * 4)
#define TEXT_MAX 2000               /* bytes of one message */
#define HISTORY_KEEP 50             /* messages sent on join */
#define HISTORY_MAX_BYTES (256 * 1024) /* a room's file is cut back to HISTORY_KEEP lines past this */
#define LINE_MAX_BYTES (32 + 2 * NICK_MAX_BYTES + 2 * TEXT_MAX) /* escaping at most doubles */
#define TYPING_MS 3000              /* "typing…" ends this long after the last keystroke event */
#define SWEEP_MS 15000              /* worker 0 re-sends every room's online list this often */
#define GROUP_PREFIX "room:"
#define GROUP_MAX (sizeof GROUP_PREFIX - 1 + ROOM_MAX)
#define PATH_BYTES (4096 + ROOM_MAX + 8) /* the history directory, "/", the room, ".log" */

static char history_dir[4096];

/* ---- small helpers ------------------------------------------------------------------- */

static void logf_(gwd_ctx *ctx, int32_t level, const char *format, ...) {
    char line[512];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n > 0) gwd_api->log(ctx, level, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static int64_t now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void emit(gwd_ctx *ctx, uint32_t kind, const char *target, size_t target_len, const char *name,
                 const gwd_arg *args, size_t count) {
    int32_t status = gwd_api->event_emit(ctx, kind, target, target_len, name, args, count);
    if (status != GWD_OK) logf_(ctx, GWD_LOG_WARNING, "chat: emitting %s failed: %s", name, gwd_api->status_string(status));
}

static void emit_to(gwd_ctx *ctx, const char *client_id, const char *name, const gwd_arg *args, size_t count) {
    emit(ctx, GWD_EMIT_CLIENT, client_id, 20, name, args, count);
}

/* "room:<name>" */
static size_t group_of(const char *room, char out[GROUP_MAX + 1]) {
    return (size_t)snprintf(out, GROUP_MAX + 1, GROUP_PREFIX "%s", room);
}

static void emit_to_room(gwd_ctx *ctx, const char *room, const char *name, const gwd_arg *args, size_t count) {
    char group[GROUP_MAX + 1];
    size_t len = group_of(room, group);
    emit(ctx, GWD_EMIT_GROUP, group, len, name, args, count);
}

/* ["refused", code, text]: what the client asked cannot be done; nothing changed. Its status
 * is the acknowledgement's, for clients that ask for one. */
static int32_t refuse(gwd_ctx *ctx, const char *client_id, const char *code, const char *text) {
    gwd_arg args[] = {gwd_arg_string(code), gwd_arg_string(text)};
    emit_to(ctx, client_id, "refused", args, 2);
    return GWD_ERR_INVALID_ARGUMENT;
}

/* A room name as the group and the history file use it: 1 to ROOM_MAX of [a-z0-9_-], upper
 * case folded, so "Lobby" is "lobby". */
static bool room_name(const char *in, char out[ROOM_MAX + 1]) {
    size_t n = 0;
    for (; in[n]; n++) {
        char c = in[n];
        if (n == ROOM_MAX) return false;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
        out[n] = c;
    }
    out[n] = 0;
    return n > 0;
}

/* Why a nickname is refused, or NULL. Any printable text; it is escaped where it is shown. */
static const char *nick_problem(const char *nick) {
    size_t bytes = strnlen(nick, NICK_MAX_BYTES + 1), chars = 0;
    if (bytes == 0) return "Choose a nickname.";
    if (bytes > NICK_MAX_BYTES) return "Nicknames are at most 20 characters.";
    for (size_t k = 0; k < bytes; k++) {
        unsigned char c = (unsigned char)nick[k];
        if (c < 0x20 || c == 0x7f) return "Nicknames cannot contain control characters.";
        if ((c & 0xC0) != 0x80) chars++;
    }
    if (chars > NICK_MAX_CHARS) return "Nicknames are at most 20 characters.";
    if (nick[0] == ' ' || nick[bytes - 1] == ' ') return "Nicknames cannot start or end with a space.";
    return NULL;
}

static bool blank(const char *text) {
    for (; *text; text++)
        if (!(*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')) return false;
    return true;
}

/* ---- who the current client is: its session ------------------------------------------ */

typedef struct member {
    char room[ROOM_MAX + 1];
    char nick[NICK_MAX_BYTES + 1];
} member;

static bool session_text(gwd_ctx *ctx, const char *key, char *out, size_t cap) {
    gwd_bytes value;
    if (gwd_api->session_get(ctx, key, strlen(key), &value) != GWD_OK || value.len == 0 || value.len >= cap) return false;
    memcpy(out, value.data, value.len);
    out[value.len] = 0;
    return true;
}

/* True when the client has joined a room: its session names the room and its nickname. */
static bool who(gwd_ctx *ctx, member *m) {
    return session_text(ctx, "room", m->room, sizeof m->room) && session_text(ctx, "nick", m->nick, sizeof m->nick);
}

static int32_t remember(gwd_ctx *ctx, const char *room, const char *nick) {
    gwd_pair pairs[] = {
        {{"room", 4}, {room, strlen(room)}},
        {{"nick", 4}, {nick, strlen(nick)}},
    };
    return gwd_api->update_session(ctx, NULL, pairs, 2);
}

/* ---- rooms and who is in them, asked of the gateways ----------------------------------- */

/* The room of a group name "room:<name>" (as a list from the gateways gives it: NUL-ended),
 * or false for a group that is no chat room. */
static bool room_of_group(const gwd_bytes *group, char room[ROOM_MAX + 1]) {
    size_t prefix = sizeof GROUP_PREFIX - 1;
    return group->len > prefix && memcmp(group->data, GROUP_PREFIX, prefix) == 0 && room_name(group->data + prefix, room)
           && strcmp(room, group->data + prefix) == 0;
}

/* ["rooms", {"lobby": 2, …}]: every room with members and how many (room names need no
 * escaping), to one client or to everyone. */
static void send_rooms(gwd_ctx *ctx, uint32_t kind, const char *client_id) {
    gwd_table *table = NULL;
    int32_t status = gwd_api->get_all_group_client_id_count(ctx, &table);
    if (table == NULL) {
        logf_(ctx, GWD_LOG_WARNING, "chat: listing rooms failed: %s", gwd_api->status_string(status));
        return;
    }
    char *json = malloc(2 + table->count * (ROOM_MAX + 32));
    if (json != NULL) {
        size_t n = 0;
        json[n++] = '{';
        for (size_t k = 0; k < table->count; k++) {
            char room[ROOM_MAX + 1];
            if (!room_of_group(&table->entries[k].key, room)) continue;
            n += (size_t)sprintf(json + n, "%s\"%s\":%zu", n > 1 ? "," : "", room, table->entries[k].count);
        }
        json[n++] = '}';
        gwd_arg arg = gwd_arg_json(json, n);
        emit(ctx, kind, client_id, client_id ? 20 : 0, "rooms", &arg, 1);
        free(json);
    }
    gwd_api->free(table);
}

/* `text` as a JSON string into `out`, which has room for 2 + 6 * strlen(text) bytes. Events
 * carry at most GWD_EVENT_MAX_ARGS arguments, so lists go out as one JSON argument ('j'). */
static size_t json_string(char *out, const char *text) {
    size_t n = 0;
    out[n++] = '"';
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\') out[n++] = '\\', out[n++] = (char)*c;
        else if (*c < 0x20) n += (size_t)sprintf(out + n, "\\u%04x", *c);
        else out[n++] = (char)*c;
    }
    out[n++] = '"';
    return n;
}

/* ["online", room, [nick, …]] to the room: the uids its members are bound to, from the
 * gateways. */
static void send_online(gwd_ctx *ctx, const char *room) {
    char group[GROUP_MAX + 1];
    size_t len = group_of(room, group);
    gwd_list *nicks = NULL;
    int32_t status = gwd_api->get_uid_list_by_group(ctx, group, len, &nicks);
    if (nicks == NULL) {
        logf_(ctx, GWD_LOG_WARNING, "chat: listing room %s failed: %s", room, gwd_api->status_string(status));
        return;
    }
    size_t size = 2;
    for (size_t k = 0; k < nicks->count; k++) size += 3 + 6 * nicks->items[k].len;
    char *json = malloc(size);
    if (json != NULL) {
        size_t n = 0;
        json[n++] = '[';
        for (size_t k = 0; k < nicks->count; k++) {
            if (k > 0) json[n++] = ',';
            n += json_string(json + n, nicks->items[k].data); /* items end in a NUL; uids hold none */
        }
        json[n++] = ']';
        gwd_arg args[] = {gwd_arg_string(room), gwd_arg_json(json, n)};
        emit(ctx, GWD_EMIT_GROUP, group, len, "online", args, 2);
        free(json);
    }
    gwd_api->free(nicks);
}

/* ["presence", room, nick, "joined" | "left"] and the room's new online list. */
static void announce(gwd_ctx *ctx, const char *room, const char *nick, const char *what) {
    gwd_arg args[] = {gwd_arg_string(room), gwd_arg_string(nick), gwd_arg_string(what)};
    emit_to_room(ctx, room, "presence", args, 3);
    send_online(ctx, room);
}

/* Worker 0's sweep: lists computed by two workers at once may arrive out of order; this puts
 * every room's list and the room counts right again. */
static void sweep(gwd_ctx *ctx, uint64_t timer_id, void *unused) {
    (void)timer_id, (void)unused;
    gwd_list *groups = NULL;
    gwd_api->get_all_group_id_list(ctx, &groups);
    if (groups == NULL) return;
    for (size_t k = 0; k < groups->count; k++) {
        char room[ROOM_MAX + 1];
        if (room_of_group(&groups->items[k], room)) send_online(ctx, room);
    }
    gwd_api->free(groups);
    send_rooms(ctx, GWD_EMIT_ALL, NULL);
}

/* ---- nicknames: uids, claimed through the gateways ---------------------------------------- */

/* Whether a client other than `client_id` is bound to `nick`. */
static int32_t taken_by_another(gwd_ctx *ctx, const char *client_id, const char *nick, bool *taken) {
    gwd_list *ids = NULL;
    int32_t status = gwd_api->get_client_id_by_uid(ctx, nick, strlen(nick), &ids);
    if (ids == NULL) return status;
    *taken = false;
    for (size_t k = 0; k < ids->count; k++)
        if (strcmp(ids->items[k].data, client_id) != 0) *taken = true;
    gwd_api->free(ids);
    return GWD_OK; /* a partial answer (a gateway timed out) is taken as it is */
}

/* Binds `nick` to the client unless another client has it (GWD_ERR_EXISTS). Two claims of one
 * name at once each bind and then look again; the later look sees both and backs off, so two
 * clients never keep one name (on one gateway; across gateways, nearly never). */
static int32_t claim_nick(gwd_ctx *ctx, const char *client_id, const char *nick, const char *previous) {
    bool taken = false;
    int32_t status = taken_by_another(ctx, client_id, nick, &taken);
    if (status != GWD_OK || taken) return taken ? GWD_ERR_EXISTS : status;
    status = gwd_api->bind_uid(ctx, client_id, nick, strlen(nick)); /* replaces the previous uid */
    if (status == GWD_OK) status = taken_by_another(ctx, client_id, nick, &taken);
    if (status == GWD_OK && !taken) return GWD_OK;
    gwd_api->unbind_uid(ctx, client_id, nick, strlen(nick));
    if (previous != NULL) gwd_api->bind_uid(ctx, client_id, previous, strlen(previous));
    return taken ? GWD_ERR_EXISTS : status;
}

/* ---- history: one append-only file per room ------------------------------------------- */

static void history_path(const char *room, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s.log", history_dir, room);
}

/* A line is "<ms>\t<nick>\t<text>\n" with \\, \n, \r and \t escaped in nick and text. */
static size_t escape(const char *in, char *out) {
    size_t n = 0;
    for (; *in; in++) {
        char c = *in;
        if (c == '\\' || c == '\n' || c == '\r' || c == '\t') {
            out[n++] = '\\';
            c = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '\\';
        }
        out[n++] = c;
    }
    return n;
}

/* In place; false for an escape this plugin never writes. */
static bool unescape(char *text) {
    char *out = text;
    for (char *in = text; *in; in++) {
        if (*in != '\\') { *out++ = *in; continue; }
        in++;
        if (*in == 'n') *out++ = '\n';
        else if (*in == 'r') *out++ = '\r';
        else if (*in == 't') *out++ = '\t';
        else if (*in == '\\') *out++ = '\\';
        else return false;
    }
    *out = 0;
    return true;
}

static bool valid_utf8(const unsigned char *s) {
    while (*s) {
        int extra = *s < 0x80 ? 0 : (*s & 0xE0) == 0xC0 ? 1 : (*s & 0xF0) == 0xE0 ? 2 : (*s & 0xF8) == 0xF0 ? 3 : -1;
        if (extra < 0) return false;
        s++;
        for (int k = 0; k < extra; k++, s++)
            if ((*s & 0xC0) != 0x80) return false;
    }
    return true;
}

static bool write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n, len -= (size_t)n;
    }
    return true;
}

/* The last complete lines of an open history file: reads its tail into *buffer (free it) and
 * points lines[] at up to HISTORY_KEEP lines, oldest first, each without its newline. */
static size_t read_tail(int fd, char **buffer, char *lines[HISTORY_KEEP]) {
    struct stat st;
    *buffer = NULL;
    if (fstat(fd, &st) != 0 || st.st_size == 0) return 0;
    off_t want = (HISTORY_KEEP + 1) * (off_t)LINE_MAX_BYTES, start = st.st_size > want ? st.st_size - want : 0;
    size_t len = (size_t)(st.st_size - start), got = 0;
    char *text = malloc(len + 1);
    if (text == NULL) return 0;
    while (got < len) {
        ssize_t n = pread(fd, text + got, len - got, start + (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    text[got] = 0;
    /* Only whole lines: drop a partial first line (we started mid-file) and anything after the
     * last newline (a line being written now). */
    char *begin = text, *end = memchr(text, 0, got + 1);
    if (start > 0) {
        char *newline = memchr(begin, '\n', got);
        begin = newline ? newline + 1 : end;
    }
    while (end > begin && end[-1] != '\n') end--;
    size_t count = 0;
    for (char *line = begin; line < end;) {
        char *newline = memchr(line, '\n', (size_t)(end - line));
        *newline = 0;
        if (count == HISTORY_KEEP) memmove(lines, lines + 1, (HISTORY_KEEP - 1) * sizeof *lines), count--;
        lines[count++] = line;
        line = newline + 1;
    }
    *buffer = text;
    return count;
}

/* Cuts the file (held with LOCK_EX) back to its last HISTORY_KEEP lines: written beside it
 * and renamed over it, so a reader sees the old file or the new one. Appenders waiting for the
 * lock notice the rename and append to the new file. */
static void compact(gwd_ctx *ctx, int fd, const char *path) {
    char *buffer, *lines[HISTORY_KEEP], temporary[PATH_BYTES + 24];
    size_t count = read_tail(fd, &buffer, lines);
    if (count == 0) { /* unreadable: leave the file as it is rather than empty it */
        free(buffer);
        return;
    }
    snprintf(temporary, sizeof temporary, "%s.%d.tmp", path, (int)getpid());
    int out = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = out >= 0;
    for (size_t k = 0; ok && k < count; k++) ok = write_all(out, lines[k], strlen(lines[k])) && write_all(out, "\n", 1);
    if (out >= 0) close(out);
    if (ok && rename(temporary, path) != 0) ok = false;
    if (!ok) {
        unlink(temporary);
        logf_(ctx, GWD_LOG_WARNING, "chat: cutting back %s failed: %s", path, strerror(errno));
    }
    free(buffer);
}

/* Appends one message under an exclusive lock (workers append to the same files). */
static void history_append(gwd_ctx *ctx, const char *room, int64_t at, const char *nick, const char *text) {
    char path[PATH_BYTES];
    history_path(room, path, sizeof path);
    int fd = -1;
    for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) break;
        struct stat held, named;
        if (flock(fd, LOCK_EX) != 0 || fstat(fd, &held) != 0 || stat(path, &named) != 0 || held.st_ino != named.st_ino
            || held.st_dev != named.st_dev) {
            close(fd); /* cut back while we waited: append to the file that has the name now */
            fd = -1;
        }
    }
    if (fd < 0) {
        logf_(ctx, GWD_LOG_WARNING, "chat: cannot append to %s: %s", path, strerror(errno));
        return;
    }
    char *line = malloc(LINE_MAX_BYTES + 2);
    if (line != NULL) {
        struct stat st = {0};
        char last = '\n';
        size_t n = 0;
        /* A line cut short (disk full) must not swallow this one. */
        if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') line[n++] = '\n';
        n += (size_t)sprintf(line + n, "%lld\t", (long long)at);
        n += escape(nick, line + n);
        line[n++] = '\t';
        n += escape(text, line + n);
        line[n++] = '\n';
        if (!write_all(fd, line, n)) logf_(ctx, GWD_LOG_WARNING, "chat: writing %s failed: %s", path, strerror(errno));
        else if (st.st_size + (off_t)n > HISTORY_MAX_BYTES) compact(ctx, fd, path);
        free(line);
    }
    close(fd); /* and the lock with it */
}

/* ["history", room, [[at, nick, text], …]] to the client: the room's last messages, oldest
 * first. A line that does not parse (the file was edited) is skipped. */
static void send_history(gwd_ctx *ctx, const char *client_id, const char *room) {
    char path[PATH_BYTES], *buffer = NULL, *lines[HISTORY_KEEP];
    size_t count = 0;
    history_path(room, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        count = read_tail(fd, &buffer, lines);
        close(fd);
    } else if (errno != ENOENT) {
        logf_(ctx, GWD_LOG_WARNING, "chat: cannot read %s: %s", path, strerror(errno));
    }
    size_t size = 2;
    for (size_t k = 0; k < count; k++) size += 32 + 6 * strlen(lines[k]); /* unescaping only shrinks */
    char *json = malloc(size);
    if (json == NULL) {
        free(buffer);
        return;
    }
    size_t n = 0;
    json[n++] = '[';
    for (size_t k = 0; k < count; k++) {
        char *nick = strchr(lines[k], '\t'), *text = nick ? strchr(nick + 1, '\t') : NULL, *digits_end;
        if (text == NULL || strchr(text + 1, '\t') != NULL) continue;
        *nick++ = 0, *text++ = 0;
        long long at = strtoll(lines[k], &digits_end, 10);
        if (digits_end == lines[k] || *digits_end != 0 || !unescape(nick) || !unescape(text)
            || !valid_utf8((unsigned char *)nick) || !valid_utf8((unsigned char *)text))
            continue;
        n += (size_t)sprintf(json + n, "%s[%lld,", n > 1 ? "," : "", at);
        n += json_string(json + n, nick);
        json[n++] = ',';
        n += json_string(json + n, text);
        json[n++] = ']';
    }
    json[n++] = ']';
    gwd_arg args[] = {gwd_arg_string(room), gwd_arg_json(json, n)};
    emit_to(ctx, client_id, "history", args, 2);
    free(json);
    free(buffer);
}

/* ---- typing: a one-shot timer per typing client, on the worker that serves it ----------- */

typedef struct typist {
    struct typist *next;
    uint64_t timer;
    char client_id[21];
    member who;
} typist;

static typist *typists;

static void show_typing(gwd_ctx *ctx, const typist *t, bool typing) {
    gwd_arg args[] = {gwd_arg_string(t->who.room), gwd_arg_string(t->who.nick), gwd_arg_bool(typing)};
    emit_to_room(ctx, t->who.room, "typing", args, 3);
}

static typist *unlink_typist(const char *client_id) {
    for (typist **at = &typists; *at; at = &(*at)->next) {
        if (strcmp((*at)->client_id, client_id) == 0) {
            typist *found = *at;
            *at = found->next;
            return found;
        }
    }
    return NULL;
}

static void typing_expired(gwd_ctx *ctx, uint64_t timer_id, void *data) {
    typist *t = unlink_typist(((typist *)data)->client_id);
    (void)timer_id;
    if (t == NULL) return;
    show_typing(ctx, t, false);
    free(t);
}

/* The client stopped typing: it sent its message, left, or closed. */
static void typing_stop(gwd_ctx *ctx, const char *client_id) {
    typist *t = unlink_typist(client_id);
    if (t == NULL) return;
    gwd_api->timer_del(ctx, t->timer);
    show_typing(ctx, t, false);
    free(t);
}

/* ---- events ---------------------------------------------------------------------------- */

/* ["hello"] → ["welcome", greeting, version] and the rooms. */
static int32_t on_hello(gwd_ctx *ctx, const char *client_id) {
    gwd_arg args[] = {gwd_arg_string(CHAT_GREETING), gwd_arg_string(CHAT_VERSION)};
    emit_to(ctx, client_id, "welcome", args, 2);
    send_rooms(ctx, GWD_EMIT_CLIENT, client_id);
    return GWD_OK;
}

static int32_t on_rooms(gwd_ctx *ctx, const char *client_id) {
    send_rooms(ctx, GWD_EMIT_CLIENT, client_id);
    return GWD_OK;
}

/* The client leaves its room (to join another, or for good). */
static void depart(gwd_ctx *ctx, const char *client_id, const member *was) {
    char group[GROUP_MAX + 1];
    size_t len = group_of(was->room, group);
    typing_stop(ctx, client_id);
    gwd_api->leave_group(ctx, client_id, group, len);
    announce(ctx, was->room, was->nick, "left");
}

/* ["join", room, nick] → ["joined", room, nick], the room's history, and to the room
 * ["presence", room, nick, "joined"] and its online list; everyone gets the new room counts. */
static int32_t on_join(gwd_ctx *ctx, const char *client_id, const char *room_asked, const char *nick) {
    char room[ROOM_MAX + 1], group[GROUP_MAX + 1];
    if (!room_name(room_asked, room))
        return refuse(ctx, client_id, "bad_room", "Room names are 1 to 32 letters, digits, '-' or '_'.");
    const char *problem = nick_problem(nick);
    if (problem != NULL) return refuse(ctx, client_id, "bad_nick", problem);

    member was;
    bool joined = who(ctx, &was), same_nick = joined && strcmp(was.nick, nick) == 0;
    if (!same_nick) {
        int32_t status = claim_nick(ctx, client_id, nick, joined ? was.nick : NULL);
        if (status == GWD_ERR_EXISTS) {
            char text[160];
            snprintf(text, sizeof text, "The nickname \"%s\" is taken; choose another.", nick);
            return refuse(ctx, client_id, "nick_taken", text);
        }
        if (status != GWD_OK) return refuse(ctx, client_id, "unavailable", "The server could not check the nickname; try again.");
    }
    bool rejoin = joined && same_nick && strcmp(was.room, room) == 0;
    if (joined && !rejoin) depart(ctx, client_id, &was);

    size_t len = group_of(room, group);
    int32_t status = gwd_api->join_group(ctx, client_id, group, len);
    if (status == GWD_OK) status = remember(ctx, room, nick);
    if (status != GWD_OK) {
        logf_(ctx, GWD_LOG_WARNING, "chat: joining %s failed: %s", room, gwd_api->status_string(status));
        return refuse(ctx, client_id, "unavailable", "The server could not join the room; try again.");
    }
    gwd_arg args[] = {gwd_arg_string(room), gwd_arg_string(nick)};
    emit_to(ctx, client_id, "joined", args, 2);
    send_history(ctx, client_id, room);
    if (rejoin) send_online(ctx, room);
    else announce(ctx, room, nick, "joined");
    send_rooms(ctx, GWD_EMIT_ALL, NULL);
    return GWD_OK;
}

/* ["leave"] → ["left", room]; the nickname is free again. */
static int32_t on_leave(gwd_ctx *ctx, const char *client_id) {
    member was;
    if (!who(ctx, &was)) return refuse(ctx, client_id, "not_joined", "Join a room first.");
    depart(ctx, client_id, &was);
    gwd_api->unbind_uid(ctx, client_id, was.nick, strlen(was.nick));
    remember(ctx, "", "");
    gwd_arg room = gwd_arg_string(was.room);
    emit_to(ctx, client_id, "left", &room, 1);
    send_rooms(ctx, GWD_EMIT_ALL, NULL);
    return GWD_OK;
}

static const char *text_problem(const char *text, char *why, size_t cap) {
    size_t len = strnlen(text, TEXT_MAX + 1);
    if (blank(text)) return "Type a message first.";
    if (len > TEXT_MAX) {
        snprintf(why, cap, "Messages are at most %d bytes; this one has %zu.", TEXT_MAX, strlen(text));
        return why;
    }
    return NULL;
}

/* ["say", text] → ["said", room, nick, text, at] to the room, and into its history. */
static int32_t on_say(gwd_ctx *ctx, const char *client_id, const char *text) {
    member m;
    char why[96];
    if (!who(ctx, &m)) return refuse(ctx, client_id, "not_joined", "Join a room first.");
    const char *problem = text_problem(text, why, sizeof why);
    if (problem != NULL) return refuse(ctx, client_id, strlen(text) > TEXT_MAX ? "too_long" : "empty", problem);
    typing_stop(ctx, client_id);
    int64_t at = now_ms();
    history_append(ctx, m.room, at, m.nick, text);
    gwd_arg args[] = {gwd_arg_string(m.room), gwd_arg_string(m.nick), gwd_arg_string(text), gwd_arg_int(at)};
    emit_to_room(ctx, m.room, "said", args, 4);
    return GWD_OK;
}

/* ["pm", to, text] → ["private", from, to, text, at] to both nicknames (every tab of each). */
static int32_t on_pm(gwd_ctx *ctx, const char *client_id, const char *to, const char *text) {
    member m;
    char why[96];
    if (!who(ctx, &m)) return refuse(ctx, client_id, "not_joined", "Join a room first.");
    const char *problem = text_problem(text, why, sizeof why);
    if (problem != NULL) return refuse(ctx, client_id, strlen(text) > TEXT_MAX ? "too_long" : "empty", problem);
    if (strcmp(to, m.nick) == 0) return refuse(ctx, client_id, "no_such_user", "That is you.");
    int32_t online = 0;
    if (nick_problem(to) == NULL) gwd_api->is_uid_online(ctx, to, strlen(to), &online);
    if (!online) {
        char nobody[160];
        snprintf(nobody, sizeof nobody, "Nobody called \"%.80s\" is online.", to);
        return refuse(ctx, client_id, "no_such_user", nobody);
    }
    gwd_arg args[] = {gwd_arg_string(m.nick), gwd_arg_string(to), gwd_arg_string(text), gwd_arg_int(now_ms())};
    emit(ctx, GWD_EMIT_UID, to, strlen(to), "private", args, 4);
    emit(ctx, GWD_EMIT_UID, m.nick, strlen(m.nick), "private", args, 4);
    return GWD_OK;
}

/* ["typing"] while the user types (the page sends one a second at most) → ["typing", room,
 * nick, true] to the room once, and ["typing", room, nick, false] TYPING_MS after the last. */
static int32_t on_typing(gwd_ctx *ctx, const char *client_id) {
    member m;
    if (!who(ctx, &m)) return refuse(ctx, client_id, "not_joined", "Join a room first.");
    typist *t = unlink_typist(client_id);
    if (t != NULL && (strcmp(t->who.room, m.room) != 0 || strcmp(t->who.nick, m.nick) != 0)) {
        gwd_api->timer_del(ctx, t->timer);
        show_typing(ctx, t, false);
        free(t);
        t = NULL;
    }
    bool fresh = t == NULL;
    if (fresh) {
        t = calloc(1, sizeof *t);
        if (t == NULL) return GWD_ERR_NO_MEMORY;
        memcpy(t->client_id, client_id, 21);
        t->who = m;
    } else {
        gwd_api->timer_del(ctx, t->timer); /* renewed: the old deadline no longer counts */
    }
    int32_t status = gwd_api->timer_add(ctx, TYPING_MS, GWD_TIMER_ONCE, typing_expired, t, &t->timer);
    if (status != GWD_OK) { /* stopping (a reload): say it ended rather than leave it shown */
        if (!fresh) show_typing(ctx, t, false);
        free(t);
        return status;
    }
    t->next = typists;
    typists = t;
    if (fresh) show_typing(ctx, t, true);
    return GWD_OK;
}

/* Not an event: answer with what the page understands. */
static void on_message(gwd_ctx *ctx, const char *client_id, const void *data, size_t len, uint32_t kind) {
    (void)data, (void)len, (void)kind;
    refuse(ctx, client_id, "not_an_event", "Send typed events, e.g. [\"say\", \"hello\"] (examples/chat/README.md).");
}

/* Gone: the gateway has already taken it out of its room and freed its nickname; its session
 * still says where it was. */
static void on_close(gwd_ctx *ctx, const char *client_id) {
    member was;
    if (!who(ctx, &was)) return;
    typing_stop(ctx, client_id);
    announce(ctx, was.room, was.nick, "left");
    send_rooms(ctx, GWD_EMIT_ALL, NULL);
}

static const gwd_event_decl events[] = {
    {"hello", "", GWD_EVENT_FN(on_hello)},
    {"rooms", "", GWD_EVENT_FN(on_rooms)},
    {"join", "s:room s:nick", GWD_EVENT_FN(on_join)},
    {"leave", "", GWD_EVENT_FN(on_leave)},
    {"say", "s:text", GWD_EVENT_FN(on_say)},
    {"pm", "s:to s:text", GWD_EVENT_FN(on_pm)},
    {"typing", "", GWD_EVENT_FN(on_typing)},
};

static int32_t on_worker_start(gwd_ctx *ctx) {
    if (!GWD_HAS(gwd_api, timer_add) || !GWD_HAS(gwd_api, event_on)) return GWD_ERR_UNSUPPORTED;
    const char *dir = getenv("CHAT_HISTORY_DIR");
    int n = dir != NULL && *dir ? snprintf(history_dir, sizeof history_dir, "%s", dir)
                                : snprintf(history_dir, sizeof history_dir, "/tmp/gatewayd-chat-%d", (int)getuid());
    if (n < 0 || (size_t)n >= sizeof history_dir) {
        logf_(ctx, GWD_LOG_ERROR, "chat: CHAT_HISTORY_DIR is too long");
        return GWD_ERR_FAILED;
    }
    if (mkdir(history_dir, 0700) != 0 && errno != EEXIST) {
        logf_(ctx, GWD_LOG_ERROR, "chat: cannot create the history directory %s: %s", history_dir, strerror(errno));
        return GWD_ERR_FAILED;
    }
    int32_t index = 0, status = gwd_event_on_table(gwd_api, ctx, events, sizeof events / sizeof events[0]);
    gwd_api->worker_info(ctx, NULL, &index);
    if (status == GWD_OK && index == 0) status = gwd_api->timer_add(ctx, SWEEP_MS, GWD_TIMER_REPEAT, sweep, NULL, NULL);
    return status;
}

/* A reload or stop: this worker's typing timers will not fire, so end what they showed. */
static void on_worker_stop(gwd_ctx *ctx) {
    while (typists != NULL) {
        typist *t = typists;
        typists = t->next;
        show_typing(ctx, t, false);
        free(t);
    }
}

static const gwd_plugin plugin = {
    GWD_PLUGIN_HEADER,
    .name = "chat",
    .version = CHAT_VERSION,
    .on_worker_start = on_worker_start,
    .on_worker_stop = on_worker_stop,
    .on_message = on_message,
    .on_close = on_close,
};

GWD_PLUGIN_ENTRY(api, out, err, err_len) {
    GWD_PLUGIN_INIT(api, err, err_len);
    *out = &plugin;
    return GWD_OK;
}
