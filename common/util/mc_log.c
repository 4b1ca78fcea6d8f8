/*
 * mc_log - one line per event, key=value, for journald (see mc_log.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "mc_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION /* CODE_FILE= would be mc_log.c for every line */
#include <systemd/sd-journal.h>

static char           log_ident[64] = "motcua"; /* program name on each line */
static atomic_int     log_level = MC_LOG_INFO;  /* most verbose level written (a reload changes it) */
static atomic_long    log_problems;             /* lines at WARNING or worse, written or not */
static pthread_once_t log_once = PTHREAD_ONCE_INIT; /* guards log_journal's first look */
static bool           log_journal;              /* stderr is journald's stream: no time */
static bool           log_structured;           /* and lines go as fields (sd_journal_sendv) */

/* detect_journal - is stderr the stream JOURNAL_STREAM=dev:ino names? */
static void detect_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev = 0, ino = 0;
    struct stat st;
    log_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
                  fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
                  (unsigned long long)st.st_ino == ino;
    /* sd_journal_sendv drops lines silently when journald's socket is missing */
    const char *plain = getenv("MOTCUA_LOG_PLAIN");
    log_structured = log_journal && !(plain && strcmp(plain, "1") == 0) &&
                     access("/run/systemd/journal/socket", W_OK) == 0;
}

/* timestamp - "2026-11-30T22:20:46.123Z " into buf, or "" under journald */
static const char *timestamp(char *buf, size_t size)
{
    pthread_once(&log_once, detect_journal);
    buf[0] = '\0';
    if (log_journal)
        return buf;
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (!gmtime_r(&ts.tv_sec, &tm))
        return buf;
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0 || n + 6 > size) {
        buf[0] = '\0';
        return buf;
    }
    int ms = (int)(ts.tv_nsec / 1000000L);
    buf[n++] = '.';
    buf[n++] = (char)('0' + ms / 100);
    buf[n++] = (char)('0' + ms / 10 % 10);
    buf[n++] = (char)('0' + ms % 10);
    buf[n++] = 'Z';
    buf[n++] = ' ';
    buf[n] = '\0';
    return buf;
}

/* mc_log_init - set the program name and level */
void mc_log_init(const char *ident, mc_log_level_t level)
{
    snprintf(log_ident, sizeof log_ident, "%s", ident ? ident : "motcua");
    atomic_store(&log_level, (int)level);
}

/* mc_log_set_level - change the level */
void mc_log_set_level(mc_log_level_t level)
{
    atomic_store(&log_level, (int)level);
}

/* mc_log_take_problems - the count of WARNING-or-worse lines, reset to 0 */
long mc_log_take_problems(void)
{
    return atomic_exchange(&log_problems, 0);
}

/* field_name - a journal field name for key: code DOSSIER_CODE, case CASE_ID,
 * others in capitals; names journald or mc_log set themselves get X_ */
static void field_name(const char *key, size_t n, char *out, size_t size)
{
    static const struct { const char *key, *field; } renamed[] = {
        {"code", "DOSSIER_CODE"}, {"case", "CASE_ID"}, {"case_id", "CASE_ID"},
    };
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
        if (strlen(renamed[i].key) == n && strncmp(key, renamed[i].key, n) == 0) {
            snprintf(out, size, "%s", renamed[i].field);
            return;
        }
    size_t o = 0;
    static const char *const own[] = {"MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "EVENT"};
    char upper[64];
    for (size_t i = 0; i < n && i + 1 < sizeof upper; i++) {
        char c = key[i];
        upper[i] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : (c >= 'A' && c <= 'Z') ||
                                                                 (c >= '0' && c <= '9') ? c : '_');
        upper[i + 1] = '\0';
    }
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (strcmp(upper, own[i]) == 0 || upper[0] == '_' || (upper[0] >= '0' && upper[0] <= '9'))
            o = (size_t)snprintf(out, size, "X_");
    snprintf(out + o, size - o, "%s", upper);
}

/* mc_log_fields - the journal fields of a key=value text (see mc_log.h) */
int mc_log_fields(const char *pairs, char *buf, size_t size, struct iovec *iov, int max)
{
    int n = 0;
    size_t used = 0;
    const char *p = pairs;
    while (p && *p && n < max) {
        while (*p == ' ')
            p++;
        const char *eq = p;
        while (*eq && *eq != '=' && *eq != ' ')
            eq++;
        if (*eq != '=' || eq == p) { /* not a pair: skip the word */
            p = strchr(p, ' ');
            continue;
        }
        char name[80], value[1024];
        field_name(p, (size_t)(eq - p), name, sizeof name);
        const char *v = eq + 1;
        size_t k = 0;
        if (*v == '"') { /* mc_log_quote's text: \" and \\ undone, \xNN kept */
            for (v++; *v && *v != '"'; v++) {
                if (*v == '\\' && (v[1] == '"' || v[1] == '\\'))
                    v++;
                if (k + 1 < sizeof value)
                    value[k++] = *v;
            }
            if (*v == '"')
                v++;
        } else {
            for (; *v && *v != ' '; v++)
                if (k + 1 < sizeof value)
                    value[k++] = *v;
        }
        value[k] = '\0';
        p = v;
        int w = snprintf(buf + used, size - used, "%s=%s", name, value);
        if (w < 0 || (size_t)w >= size - used)
            break;
        iov[n].iov_base = buf + used;
        iov[n].iov_len = (size_t)w;
        used += (size_t)w + 1;
        n++;
    }
    return n;
}

/* journal_send - the line as structured fields; 0 sent, -1 (write it to stderr instead) */
static int journal_send(mc_log_level_t level, const char *event, const char *message,
                        const char *pairs)
{
    enum { MAX_FIELDS = 40 };
    struct iovec iov[MAX_FIELDS];
    char head[2400], fields[4096];
    int n = 0;
    size_t used = 0;
    const char *fixed[4][2] = {{"MESSAGE", message}, {"SYSLOG_IDENTIFIER", log_ident},
                               {"EVENT", event}, {"PRIORITY", NULL}};
    char prio[4];
    snprintf(prio, sizeof prio, "%d", (int)level);
    fixed[3][1] = prio;
    for (int i = 0; i < 4; i++) {
        int w = snprintf(head + used, sizeof head - used, "%s=%s", fixed[i][0], fixed[i][1]);
        if (w < 0 || (size_t)w >= sizeof head - used)
            return -1;
        iov[n].iov_base = head + used;
        iov[n++].iov_len = (size_t)w;
        used += (size_t)w + 1;
    }
    n += mc_log_fields(pairs, fields, sizeof fields, iov + n, MAX_FIELDS - n);
    return sd_journal_sendv(iov, n) < 0 ? -1 : 0;
}

/* mc_log_level_parse - level name to level */
int mc_log_level_parse(const char *name, mc_log_level_t *level)
{
    static const struct { const char *name; mc_log_level_t level; } names[] = {
        {"error", MC_LOG_ERR},   {"warning", MC_LOG_WARNING}, {"notice", MC_LOG_NOTICE},
        {"info", MC_LOG_INFO},   {"debug", MC_LOG_DEBUG},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name && strcasecmp(name, names[i].name) == 0) {
            *level = names[i].level;
            return 0;
        }
    return -1;
}

/* mc_log_enabled - would this level be written */
bool mc_log_enabled(mc_log_level_t level)
{
    return (int)level <= atomic_load(&log_level);
}

/* mc_log - format and write one line with a single write(2) */
void mc_log(mc_log_level_t level, const char *event, const char *fmt, ...)
{
    if (level <= MC_LOG_WARNING)
        atomic_fetch_add(&log_problems, 1);
    if (!mc_log_enabled(level))
        return;
    char line[2048], when[40];
    int n = snprintf(line, sizeof line, "<%d>%s%s: event=%s", (int)level,
                     timestamp(when, sizeof when), log_ident, event);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (fmt && *fmt && len < sizeof line - 2) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
        va_end(ap);
        if (m > 0)
            len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
    }
    /* a line is a line: newlines inside values would forge events */
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len] = '\0';
    if (log_structured) { /* MESSAGE is the line after "<P>IDENT: " */
        const char *message = strstr(line, ": event=");
        message = message ? message + 2 : line;
        const char *pairs = strchr(message, ' ');
        if (journal_send(level, event, message, pairs ? pairs + 1 : "") == 0)
            return;
    }
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* nowhere to report a failed log write */
}

/* mc_log_error - the caller's pairs, then error="<err's first problem>" */
void mc_log_error(mc_log_level_t level, const char *event, const mc_err_t *err,
                  const char *fmt, ...)
{
    if (!mc_log_enabled(level)) {
        if (level <= MC_LOG_WARNING)
            atomic_fetch_add(&log_problems, 1);
        return;
    }
    char pairs[1024] = "", first[300], quoted[340];
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pairs, sizeof pairs, fmt, ap);
        va_end(ap);
    }
    mc_log(level, event, "%s%serror=%s", pairs, pairs[0] ? " " : "",
           mc_log_quote(err ? mc_err_first(err, first, sizeof first) : "", quoted, sizeof quoted));
}

/* mc_log_quote - quote and escape a free-text value */
const char *mc_log_quote(const char *value, char *buf, unsigned size)
{
    if (size < 3) {
        if (size)
            buf[0] = '\0';
        return buf;
    }
    unsigned o = 0;
    buf[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)(value ? value : ""); *p; p++) {
        if (o + 5 >= size)
            break;
        if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            o += (unsigned)snprintf(buf + o, size - o, "\\x%02x", *p);
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
