/*
 * mc_store_notify - the notification queue (tables notification and
 * notification_attempt, migration 0002) as motcua-notify uses it.
 *
 * Contract:
 *   * mc_store_notify_claim() opens a transaction on the main connection
 *     and locks up to max due pending notifications (state 0,
 *     next_attempt_at <= now()) with FOR UPDATE SKIP LOCKED, joined with
 *     their dossier (code, contacts, due date, and the dossier's rating
 *     token for the satisfaction link). The row locks are held while the caller sends, so a
 *     second notify instance skips these rows: two live instances never
 *     send the same message.
 *   * mc_store_notify_record() writes, inside that transaction, one
 *     notification_attempt row per channel tried and then decides the
 *     notification: sent (state 1, channel, sent_at) when every channel in
 *     `wanted` has succeeded in this or an earlier attempt; otherwise failed
 *     for good (state 2) once attempts reach max_attempts; otherwise pending
 *     again with attempts + 1 and next_attempt_at = now + backoff (doubling
 *     from initial_ms, at most max_ms) and last_error.
 *   * mc_store_notify_end() commits (or, after any failure, rolls back). A
 *     notification claimed but not recorded (the caller stopped early) is
 *     simply released, unchanged.
 *   * Crash window: a message is sent before its attempt commits. A crash
 *     (of notify or of its connection) between the two rolls the
 *     transaction back, the row is pending again and is sent once more by
 *     whoever claims it next: at most one resend per crash, never a loss.
 *     Channels that already succeeded in an earlier, committed attempt are
 *     listed in done_channels so a retry does not send them again.
 *   * Never logs parameters (they hold personal data) nor the rating token.
 */
#ifndef MC_STORE_NOTIFY_H
#define MC_STORE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_store.h"

/* one claimed notification with what the templates need */
typedef struct mc_notice {
    int64_t  id;                 /* notification.id */
    char     kind[32];           /* received, supplement_requested, ... */
    int      attempts;           /* tries so far (committed) */
    char     code[64];           /* dossier code */
    char     procedure_code[32]; /* catalog code */
    char     ward_code[32];      /* receiving ward */
    int64_t  due_at;             /* dossier due date (epoch s) */
    uint8_t *payload;            /* serialized motcua.v1.Dossier (applicant's contacts) */
    size_t   payload_len;        /* bytes in payload */
    char    *missing;            /* data.missing: array joined with "; ", or the string; "" if none */
    char    *reason;             /* data.reason or ""; */
    char    *new_due;            /* data.new_due as text: epoch seconds, or a free string; "" if none */
    char     done_channels[64];  /* channels that succeeded before, "spool,sms" ("" if none) */
    char     rating_token[40];   /* dossier.rating_token as UUID text, for the rating link (a secret: never log it) */
} mc_notice_t;

/* mc_notice_clear - free a notice's buffers, zero it */
void mc_notice_clear(mc_notice_t *notice);

/*
 * mc_store_notify_claim - BEGIN, then lock up to max due notifications into
 * notices[0..*count). The transaction stays open (even when *count is 0)
 * until mc_store_notify_end().
 */
mc_store_rc_t mc_store_notify_claim(mc_store_t *store, int max, mc_notice_t *notices,
                                    int *count, mc_err_t *err);

/* one channel tried in this attempt */
typedef struct mc_notice_try {
    const char *channel; /* "spool", "sms", "email" */
    bool        ok;      /* delivered to the channel */
    const char *error;   /* why not, no personal data; NULL when ok */
} mc_notice_try_t;

/* the retry policy (config notify.*) */
typedef struct mc_notice_policy {
    int retry_initial_ms; /* first backoff */
    int retry_max_ms;     /* backoff ceiling */
    int max_attempts;     /* tries before failed for good */
} mc_notice_policy_t;

typedef enum mc_notice_outcome {
    MC_NOTICE_SENT    = 1, /* every wanted channel succeeded */
    MC_NOTICE_RETRY   = 0, /* pending again, after *delay_ms */
    MC_NOTICE_FAILED  = 2, /* failed for good */
} mc_notice_outcome_t;

/*
 * mc_store_notify_record - record the tries of one claimed notice and
 * decide it (see the contract). wanted: comma-separated channels that must
 * all have succeeded ("spool,sms"). *outcome and *delay_ms say what was
 * decided (delay only for RETRY).
 */
mc_store_rc_t mc_store_notify_record(mc_store_t *store, const mc_notice_t *notice,
                                     const mc_notice_try_t *tries, size_t n_tries,
                                     const char *wanted, const mc_notice_policy_t *policy,
                                     mc_notice_outcome_t *outcome, int *delay_ms,
                                     mc_err_t *err);

/* mc_store_notify_end - COMMIT if ok, else ROLLBACK; returns the commit's result */
mc_store_rc_t mc_store_notify_end(mc_store_t *store, bool ok, mc_err_t *err);

/* mc_store_notify_backoff_ms - initial * 2^(attempts-1), capped at max (attempts >= 1) */
int mc_store_notify_backoff_ms(const mc_notice_policy_t *policy, int attempts);

#endif
