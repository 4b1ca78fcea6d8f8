/*
 * mc_log - one line per event, key=value, for journald.
 *
 * Contract: every line goes to stderr as
 *     <P>IDENT: event=NAME key=value key="value with spaces" ...
 * where <P> is the syslog priority (journald reads it when the unit has
 * SyslogLevelPrefix=yes, the default) and IDENT the program name. When
 * stderr is not journald's stream (a terminal, a file, a test's log) the
 * line carries its time after <P>, ISO-8601 UTC with milliseconds:
 *     <P>2026-11-30T22:20:46.123Z IDENT: event=NAME ...
 * Under journald (JOURNAL_STREAM names stderr's device and inode, as
 * sd_journal_stream_fd(3) describes) the time is left out: the journal
 * stamps every line itself, and each line goes to the journal with
 * sd_journal_sendv as structured fields instead: MESSAGE (the line after
 * "IDENT: "), PRIORITY, SYSLOG_IDENTIFIER, EVENT, and one field per pair
 * (mc_log_fields: code= as DOSSIER_CODE, case= as CASE_ID, agency= as
 * AGENCY, any other key in capitals), so `journalctl DOSSIER_CODE=...`
 * finds a dossier's lines; the stderr line is the fallback when that fails,
 * and is kept when MOTCUA_LOG_PLAIN=1 or journald's socket is missing.
 * Per-dossier and per-case lines are DEBUG (a daemon's minute summary
 * carries their counts); the level changes at run time (a reload). Values are quoted and escaped by
 * mc_log_kv(); callers must never pass secrets or raw personal data
 * (citizen ID numbers, phone numbers, e-mail addresses, names): log the
 * dossier code, the procedure, the ward, the reason instead.
 * Thread-safe: each line is written with one write(2).
 */
#ifndef MC_LOG_H
#define MC_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "mc_err.h"

typedef enum mc_log_level {
    MC_LOG_ERR     = 3,
    MC_LOG_WARNING = 4,
    MC_LOG_NOTICE  = 5,
    MC_LOG_INFO    = 6,
    MC_LOG_DEBUG   = 7,
} mc_log_level_t;

/* mc_log_init - set the program name and the most verbose level written */
void mc_log_init(const char *ident, mc_log_level_t level);

/* mc_log_set_level - change the level at run time */
void mc_log_set_level(mc_log_level_t level);

/* mc_log_level_parse - "error|warning|notice|info|debug" to a level; -1 if unknown */
int mc_log_level_parse(const char *name, mc_log_level_t *level);

/* mc_log_enabled - would a line at this level be written? */
bool mc_log_enabled(mc_log_level_t level);

/*
 * mc_log - write one event line. fmt holds the key=value pairs after the
 * event name, e.g. mc_log(MC_LOG_INFO, "receipt", "code=%s ms=%d", code, ms).
 * Use %s only with values that cannot contain spaces or quotes; for free text
 * use mc_log_quote().
 */
void mc_log(mc_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * mc_log_error - mc_log with the first problem of err appended, quoted, as
 * the last pair: mc_log_error(MC_LOG_ERR, "store_error", &err, "what=%s", w)
 * writes `event=store_error what=... error="..."`. fmt may be NULL or "".
 * The one way every daemon logs a failure it got as an mc_err_t.
 */
void mc_log_error(mc_log_level_t level, const char *event, const mc_err_t *err,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* mc_log_take_problems - how many WARNING-or-worse lines were logged (also
 * those the level filtered out) since the last call; resets the count */
long mc_log_take_problems(void);

struct iovec;

/*
 * mc_log_fields - the journal fields of a key=value text as mc_log writes
 * it ("code=X case=\"a b\""): "DOSSIER_CODE=X", "CASE_ID=a b", ... in buf,
 * one iov each (at most max); quoted values unquoted. Returns the count.
 */
int mc_log_fields(const char *pairs, char *buf, size_t size, struct iovec *iov, int max);

/*
 * mc_log_quote - render a free-text value safely for a key=value line:
 * wrapped in double quotes, with quotes, backslashes and control bytes
 * escaped, truncated to fit. Returns buf.
 */
const char *mc_log_quote(const char *value, char *buf, unsigned size);

#endif
