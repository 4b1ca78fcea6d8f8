/*
 * mc_err - error reports that cross module boundaries.
 *
 * Contract: a function that can fail returns 0 on success and -1 on failure
 * and, on failure, fills the caller's mc_err_t with one or more messages
 * (each "file:line:col: key 'x': what is wrong" where a place is known).
 * Messages never contain secrets or personal data. An mc_err_t lives on the
 * caller's stack; it needs no cleanup.
 * Besides its messages an mc_err_t may carry one code (mc_err_code_t) for
 * the few failures a caller must tell apart from the rest; most have none.
 */
#ifndef MC_ERR_H
#define MC_ERR_H

#include <stddef.h>

#define MC_ERR_TEXT 4096

/* the failures a caller may need to tell apart (mc_err_set_code) */
typedef enum mc_err_code {
    MC_ERR_NONE           = 0, /* nothing particular: read the messages */
    MC_ERR_UNKNOWN_COMMIT = 1, /* the store cannot tell whether a COMMIT took effect (connection
                                  lost during it, or the synchronous-replication wait cancelled):
                                  like "store unavailable": retry by idempotency key, never treat
                                  the work as done (docs/reliability.md, "Several hosts: failover") */
} mc_err_code_t;

typedef struct mc_err {
    char          text[MC_ERR_TEXT]; /* messages, one per line, NUL-terminated */
    size_t        len;               /* bytes used in text */
    int           count;             /* messages recorded (some may be truncated) */
    mc_err_code_t code;              /* MC_ERR_NONE unless a failure set one */
} mc_err_t;

/* mc_err_clear - forget every message */
void mc_err_clear(mc_err_t *err);

/* mc_err_add - append one message (printf-style); err may be NULL */
void mc_err_add(mc_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* mc_err_set_code - mark the failure as code (err may be NULL) */
void mc_err_set_code(mc_err_t *err, mc_err_code_t code);

/* mc_err_first - the first message (without its newline), "" if none */
const char *mc_err_first(const mc_err_t *err, char *buf, size_t size);

#endif
