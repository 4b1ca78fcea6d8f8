/*
 * agency_journal - motcua-agency's state directory: the lock that keeps a
 * second agency out and the append-only journal of the cases it took
 * (format and rules in agency.h).
 *
 * Only the tail of the file can be torn: records are appended by one
 * process, and an append that fails half way is cut off again at once
 * (ftruncate to the old size), so a later record never follows garbage
 * except after a crash, which replay then truncates.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agency.h"
#include "mc_file.h"
#include "mc_log.h"

#define JOURNAL_LINE_MAX 200 /* longest valid line, '\n' included */

/* an open state directory */
struct agency_journal {
    char  dir[400];  /* the state directory */
    char  path[450]; /* DIR/journal */
    int   lock_fd;   /* DIR/lock, flock()ed */
    int   fd;        /* DIR/journal, O_APPEND */
    off_t size;      /* bytes of good records in the file */
    long  lines;     /* good records in the file */
};

/* crc32 - CRC-32 (IEEE, reflected, as zlib's crc32) of n bytes */
static uint32_t crc32(const char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= (unsigned char)p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

/* agency_case_id_ok - 1..95 printable ASCII bytes without spaces */
bool agency_case_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= AGENCY_CASE_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

/* record_ok - fields a line may carry */
static bool record_ok(const agency_record_t *r)
{
    if (!agency_case_id_ok(r->case_id) || r->revision < 1)
        return false;
    if (r->kind == AGENCY_RECORD_TAKEN)
        return r->value >= 1 && r->value <= 3;
    if (r->kind == AGENCY_RECORD_REDECIDED) /* only ever to approved or rejected */
        return r->value == 1 || r->value == 2;
    if (r->kind == AGENCY_RECORD_EXTENSION)
        return r->new_due_at > 0;
    return r->kind == AGENCY_RECORD_ANSWERED && (r->value == 0 || r->value == 1);
}

/* format_line - the journal line of r into buf (JOURNAL_LINE_MAX); its length, -1 if r is bad */
static int format_line(const agency_record_t *r, char *buf)
{
    if (!record_ok(r))
        return -1;
    int64_t field = r->kind == AGENCY_RECORD_EXTENSION ? r->new_due_at : (int64_t)r->value;
    int n = snprintf(buf, JOURNAL_LINE_MAX, "%c %s %" PRIu32 " %" PRId64, (char)r->kind,
                     r->case_id, r->revision, field);
    if (n < 0 || n + 10 >= JOURNAL_LINE_MAX)
        return -1;
    return n + snprintf(buf + n, JOURNAL_LINE_MAX - (size_t)n, " %08" PRIx32 "\n",
                        crc32(buf, (size_t)n));
}

/* parse_line - one line without its '\n' into r; false if torn or garbled */
static bool parse_line(const char *text, size_t len, agency_record_t *r)
{
    char line[JOURNAL_LINE_MAX];
    if (len < 11 || len >= sizeof line)
        return false;
    memcpy(line, text, len);
    line[len] = '\0';
    char *crc_text = line + len - 8;
    if (crc_text[-1] != ' ')
        return false;
    char *end = NULL;
    unsigned long want = strtoul(crc_text, &end, 16);
    if (*end || strspn(crc_text, "0123456789abcdef") != 8 ||
        crc32(line, (size_t)(crc_text - 1 - line)) != (uint32_t)want)
        return false;
    crc_text[-1] = '\0';
    char kind = 0;
    unsigned long revision = 0;
    long long field = 0;
    int consumed = -1;
    memset(r, 0, sizeof *r);
    if (sscanf(line, "%c %95s %lu %lld%n", &kind, r->case_id, &revision, &field, &consumed) != 4 ||
        consumed != (int)strlen(line) || revision > UINT32_MAX)
        return false;
    r->kind = (agency_record_kind_t)kind;
    r->revision = (uint32_t)revision;
    if (r->kind == AGENCY_RECORD_EXTENSION)
        r->new_due_at = (int64_t)field;
    else if (field >= INT32_MIN && field <= INT32_MAX) /* T and A carry a small int */
        r->value = (int)field;
    else
        return false;
    return record_ok(r);
}

/* fsync_dir - make a directory's entries (a new or renamed file) durable */
static int fsync_dir(const char *dir, mc_err_t *err)
{
    if (mc_file_fsync_dir(dir) != 0) {
        mc_err_add(err, "agency: cannot sync directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* take_lock - DIR/lock, flock()ed for our life, holding our pid for the next one's message */
static agency_journal_status_t take_lock(agency_journal_t *j, mc_err_t *err)
{
    char path[450];
    snprintf(path, sizeof path, "%s/lock", j->dir);
    j->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (j->lock_fd < 0) {
        mc_err_add(err, "agency: cannot open %s: %s", path, strerror(errno));
        return AGENCY_JOURNAL_ERROR;
    }
    if (flock(j->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        char pid[32] = "";
        ssize_t n = pread(j->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        mc_err_add(err, busy ? "agency: state directory %s is in use by another motcua-agency (pid %s)"
                             : "agency: cannot lock %s: %s",
                   j->dir, busy ? (*pid ? pid : "?") : strerror(errno));
        return busy ? AGENCY_JOURNAL_BUSY : AGENCY_JOURNAL_ERROR;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(j->lock_fd, 0) != 0 || pwrite(j->lock_fd, pid, (size_t)n, 0) != n) {
        mc_err_add(err, "agency: cannot write %s: %s", path, strerror(errno));
        return AGENCY_JOURNAL_ERROR;
    }
    return AGENCY_JOURNAL_OK;
}

/* agency_journal_open - directory, lock, journal file */
agency_journal_status_t agency_journal_open(const char *dir, agency_journal_t **out, mc_err_t *err)
{
    *out = NULL;
    agency_journal_t *j = calloc(1, sizeof *j);
    if (!j) {
        mc_err_add(err, "agency: out of memory");
        return AGENCY_JOURNAL_ERROR;
    }
    j->lock_fd = j->fd = -1;
    if (strlen(dir) >= sizeof j->dir) {
        mc_err_add(err, "agency: state directory path too long");
        free(j);
        return AGENCY_JOURNAL_ERROR;
    }
    snprintf(j->dir, sizeof j->dir, "%s", dir);
    snprintf(j->path, sizeof j->path, "%s/journal", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        mc_err_add(err, "agency: cannot create %s: %s", dir, strerror(errno));
        free(j);
        return AGENCY_JOURNAL_ERROR;
    }
    agency_journal_status_t st = take_lock(j, err);
    if (st == AGENCY_JOURNAL_OK) {
        j->fd = open(j->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (j->fd < 0) {
            mc_err_add(err, "agency: cannot open %s: %s", j->path, strerror(errno));
            st = AGENCY_JOURNAL_ERROR;
        } else if (fsync_dir(dir, err) != 0) {
            st = AGENCY_JOURNAL_ERROR;
        }
    }
    if (st != AGENCY_JOURNAL_OK) {
        agency_journal_close(&j);
        return st;
    }
    *out = j;
    return AGENCY_JOURNAL_OK;
}

/* read_all - the whole journal file (malloc'd, *len bytes) */
static char *read_all(agency_journal_t *j, size_t *len, mc_err_t *err)
{
    struct stat st;
    if (fstat(j->fd, &st) != 0) {
        mc_err_add(err, "agency: cannot stat %s: %s", j->path, strerror(errno));
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        mc_err_add(err, "agency: journal %s too large to read", j->path);
        return NULL;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = pread(j->fd, buf + got, (size_t)st.st_size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* shorter than fstat said: read what is there */
        got += (size_t)n;
    }
    *len = got;
    return buf;
}

/* agency_journal_replay - parse, apply, cut a torn tail */
int agency_journal_replay(agency_journal_t *j, int (*apply)(void *ctx, const agency_record_t *r),
                          void *ctx, long *dropped, mc_err_t *err)
{
    size_t len = 0;
    char *buf = read_all(j, &len, err);
    if (!buf)
        return -1;
    size_t pos = 0, good_end = 0;
    long good = 0, bad = 0;
    while (pos < len) {
        char *nl = memchr(buf + pos, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        agency_record_t r;
        if (nl && parse_line(buf + pos, line_len, &r)) {
            if (apply(ctx, &r) != 0) {
                mc_err_add(err, "agency: cannot apply journal record %ld", good + 1);
                free(buf);
                return -1;
            }
            good++;
            good_end = pos + line_len + 1;
        } else {
            bad++;
        }
        pos += line_len + (nl ? 1 : 0);
    }
    free(buf);
    *dropped = bad;
    if (good_end < len) { /* torn by a crash: later appends must start on a clean line */
        if (ftruncate(j->fd, (off_t)good_end) != 0 || fdatasync(j->fd) != 0) {
            mc_err_add(err, "agency: cannot truncate %s: %s", j->path, strerror(errno));
            return -1;
        }
        mc_log(MC_LOG_WARNING, "journal_tail_dropped", "bytes=%zu", len - good_end);
    }
    j->size = (off_t)good_end;
    j->lines = good;
    return 0;
}

/* agency_journal_append - one line; a half-written line is cut off again */
int agency_journal_append(agency_journal_t *j, const agency_record_t *r, bool sync, mc_err_t *err)
{
    char line[JOURNAL_LINE_MAX];
    int n = format_line(r, line);
    if (n < 0) {
        mc_err_add(err, "agency: record not journalable");
        return -1;
    }
    /* one write of a short line to a regular file: anything but all of it is a failure */
    if (write(j->fd, line, (size_t)n) != (ssize_t)n || (sync && fdatasync(j->fd) != 0)) {
        mc_err_add(err, "agency: cannot write %s: %s", j->path, strerror(errno));
        if (ftruncate(j->fd, j->size) != 0)
            mc_err_add(err, "agency: cannot cut %s back: %s", j->path, strerror(errno));
        return -1;
    }
    j->size += n;
    j->lines++;
    return 0;
}

/* agency_journal_lines - good records in the file */
long agency_journal_lines(const agency_journal_t *j)
{
    return j->lines;
}

/* agency_journal_rewrite - compaction: temp file, fsync, rename, fsync dir */
int agency_journal_rewrite(agency_journal_t *j, int (*next)(void *ctx, agency_record_t *r),
                           void *ctx, mc_err_t *err)
{
    char tmp[460];
    snprintf(tmp, sizeof tmp, "%s.tmp", j->path);
    FILE *f = fopen(tmp, "we");
    if (!f) {
        mc_err_add(err, "agency: cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    long lines = 0;
    off_t size = 0;
    agency_record_t r;
    char line[JOURNAL_LINE_MAX];
    int ok = 1;
    while (ok && next(ctx, &r) == 1) {
        int n = format_line(&r, line);
        ok = n > 0 && fwrite(line, 1, (size_t)n, f) == (size_t)n;
        size += n;
        lines++;
    }
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, j->path) != 0) {
        mc_err_add(err, "agency: cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* the rename is done: from here on the new file is the journal */
    int fd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0) { /* appends must fail (no acks) rather than go to the unlinked old file */
        mc_err_add(err, "agency: cannot reopen %s: %s", j->path, strerror(errno));
        close(j->fd);
        j->fd = -1;
        return -1;
    }
    close(j->fd);
    j->fd = fd;
    j->size = size;
    j->lines = lines;
    return fsync_dir(j->dir, err);
}

/* agency_journal_close - files and lock */
void agency_journal_close(agency_journal_t **jp)
{
    agency_journal_t *j = *jp;
    if (!j)
        return;
    if (j->fd >= 0)
        close(j->fd);
    if (j->lock_fd >= 0)
        close(j->lock_fd); /* releases the flock */
    free(j);
    *jp = NULL;
}
