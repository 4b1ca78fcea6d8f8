/*
 * mc_store_notify - the notification queue (tables notification and
 * notification_attempt, migrations 0002 and 0007) as motcua-notify uses it.
 *
 * Contract: no transaction is ever open while the caller sends. A batch
 * of notifications goes through three steps, each notification of it as
 * described below (the claim's transaction starts them all, one record
 * transaction, mc_store_notify_record_batch, decides them all):
 *   1. Claim (one short transaction, no network inside):
 *      mc_store_notify_claim() opens a transaction on the main connection
 *      and locks up to max due pending notifications (state 0,
 *      next_attempt_at <= now()) with FOR UPDATE SKIP LOCKED, joined with
 *      their dossier (code, contacts, due date, and the dossier's rating
 *      token for the satisfaction link). For each, mc_store_notify_start()
 *      writes one lost attempt row per channel an earlier claim left in
 *      flight (notification.sending, migration 0021), and in ONE update of
 *      the notification counts this attempt (attempts + 1: a lost attempt
 *      was counted when it started, so it counts against max_attempts),
 *      names the channels the caller is about to try (sending = "spool,sms":
 *      the attempt "in progress") and leases it: next_attempt_at = now() +
 *      lease_ms, so no other instance claims it while the caller sends.
 *      No attempt row is written before the send. If the count was already
 *      at max_attempts and that last try was lost in a crash, it is failed
 *      for good instead and nothing is to be sent (the daemon's verdict,
 *      see below). mc_store_notify_end() commits (or rolls back: then
 *      nothing was started).
 *   2. The caller sends, with no transaction open, within the lease.
 *   3. Record (one short transaction of its own): mc_store_notify_record()
 *      inserts each try's attempt row once, with its outcome (ok / failed,
 *      at = the claim's start, finished_at) and decides the notification in
 *      the same UPDATE that clears sending: sent (state 1, channel, sent_at) when every
 *      channel in `wanted` has succeeded in this or an earlier attempt;
 *      otherwise what the caller's verdict (mc_notice_retry_t) says: failed
 *      for good (state 2), or pending again with next_attempt_at = now +
 *      its delay_ms, with last_error.
 *      The verdict is written only while the claim is still this caller's
 *      (state pending and attempts as claimed): if the lease ran out and
 *      another claim took over, only the outcomes are written and the
 *      newer claim decides. Repeating a record (after a failure at COMMIT)
 *      changes nothing the first one committed.
 *   * The store decides no retry policy: when to retry and when to give
 *     up is the daemon's (services/notify/notify_decide.c
 *     notify_decide_retry); the store writes the verdict it is given.
 *   * Crash windows: a crash before the claim commits changes nothing. A
 *     crash (of notify or of PostgreSQL) after it leaves the attempt in
 *     progress (sending set); the notification is due again when the lease
 *     runs out, the next claim records those channels lost and sends them again, under the
 *     same message ids (notify.h): at-least-once per channel, one resend
 *     per crash. A channel with a committed success (done_channels) is
 *     never sent again. What that means per channel (notify.h): spool
 *     exactly once as a file (<id>.txt, replaced); SMS at-least-once to the
 *     gateway, exactly once delivered by a gateway that dedupes on the
 *     reference "motcua-<id>"; e-mail at-least-once, every copy with the
 *     Message-ID <motcua-<id>@domain>.
 *   * Never logs parameters (they hold personal data) nor the rating token.
 */
#ifndef MC_STORE_NOTIFY_H
#define MC_STORE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_store.h"
#include "mc_limits.h"

/* one claimed notification with what the templates need */
typedef struct mc_notice {
    int64_t  id;                                        /* notification.id */
    char     kind[32];                                  /* received, supplement_requested, ... */
    int      attempts;                                  /* tries so far, counting a started one (mc_store_notify_start adds this one) */
    char     code[MC_CODE_MAX];                         /* dossier code */
    char     procedure_code[MC_PROCEDURE_CODE_LEN + 1]; /* catalog code */
    char     ward_code[MC_WARD_CODE_LEN + 1];           /* receiving ward */
    int64_t  due_at;                                    /* dossier due date (epoch s) */
    uint8_t *payload;                                   /* serialized motcua.v1.Dossier (applicant's contacts) */
    size_t   payload_len;                               /* bytes in payload */
    char    *missing;                                   /* data.missing: array joined with "; ", or the string; "" if none */
    char    *reason;                                    /* data.reason or ""; */
    char    *new_due;                                   /* data.new_due as text: epoch seconds, or a free string; "" if none */
    char    *old_due;                                   /* data.old_due (apology: the appointment it replaces), epoch seconds; "" if none */
    char     done_channels[64];                         /* channels that succeeded before, "spool,sms" ("" if none) */
    char     unknown_channels[64];                      /* channels the last claim left in progress (now lost), "" if none */
    char     rating_token[40];                          /* dossier.rating_token as UUID text, for the rating link (a secret: never log it) */
    char     supplement_due[24];                        /* data.supplement_due: epoch seconds as text, "" if none */
    int64_t  accept_due_at;                             /* submitted: data.accept_due_at, the acceptance deadline (epoch s); 0 if none */
    char     started_at[48];                            /* this attempt's start (the claim's now(), text), set by mc_store_notify_start */
} mc_notice_t;

/* mc_notice_clear - free a notice's buffers, zero it */
void mc_notice_clear(mc_notice_t *notice);

/*
 * mc_store_notify_claim - BEGIN, then lock up to max due notifications into
 * notices[0..*count). The transaction stays open (even when *count is 0)
 * until mc_store_notify_end(); nothing in it may wait on the network.
 */
mc_store_rc_t mc_store_notify_claim(mc_store_t *store, int max, mc_notice_t *notices,
                                    int *count, mc_err_t *err);

/*
 * The state of one attempt on one channel (notification_attempt, see
 * migration 0007 for how the columns name it).
 */
typedef enum mc_attempt_state {
    MC_ATTEMPT_IN_PROGRESS = 0, /* being sent, outcome not recorded yet: notification.sending names it
                                   (0021; before it, a row with ok NULL and finished_at NULL) */
    MC_ATTEMPT_OK          = 1, /* ok true: the channel took the message */
    MC_ATTEMPT_FAILED      = 2, /* ok false: refused or unreachable */
    MC_ATTEMPT_LOST        = 3, /* ok NULL, finished_at set: never recorded (crash); maybe delivered */
} mc_attempt_state_t;

/* one channel tried in this attempt */
typedef struct mc_notice_try {
    const char        *channel; /* "spool", "sms", "email" */
    mc_attempt_state_t state;   /* IN_PROGRESS until sent, then OK or FAILED */
    const char        *error;   /* why not, no personal data; NULL when ok */
} mc_notice_try_t;

/* the daemon's verdict for a notification not sent by every channel it wants */
typedef struct mc_notice_retry {
    bool give_up;  /* failed for good: no attempt is left */
    int  delay_ms; /* otherwise pending again, due after this many ms */
} mc_notice_retry_t;

typedef enum mc_notice_outcome {
    MC_NOTICE_RETRY     = 0, /* pending again, after the verdict's delay_ms */
    MC_NOTICE_SENT      = 1, /* every wanted channel succeeded */
    MC_NOTICE_FAILED    = 2, /* failed for good */
    MC_NOTICE_SENDING   = 3, /* started: leased, the caller sends now */
    MC_NOTICE_OVERTAKEN = 4, /* recorded, but the claim was no longer ours (lease ran out, another
                                claim decides) or the notification was already decided */
} mc_notice_outcome_t;

/*
 * mc_store_notify_start - inside the claim's transaction: start one attempt
 * of a claimed notice (see the contract). tries[0..n_tries) name the
 * channels about to be tried (written as notification.sending); their state (IN_PROGRESS) is
 * filled in, and notice->attempts becomes this attempt's number. if_lost
 * is the daemon's verdict on the attempts counted so far (as claimed):
 * *outcome is SENDING, or FAILED when if_lost->give_up and the last attempt
 * was lost (unknown_channels): then nothing is sent.
 */
mc_store_rc_t mc_store_notify_start(mc_store_t *store, mc_notice_t *notice,
                                    mc_notice_try_t *tries, size_t n_tries, int lease_ms,
                                    const mc_notice_retry_t *if_lost,
                                    mc_notice_outcome_t *outcome, mc_err_t *err);

/* mc_store_notify_end - COMMIT if ok, else ROLLBACK; returns the commit's result */
mc_store_rc_t mc_store_notify_end(mc_store_t *store, bool ok, mc_err_t *err);

/*
 * mc_store_notify_record - in a transaction of its own, record the tries of
 * a started notice (state OK or FAILED; one left IN_PROGRESS is not
 * written) and decide it (see the contract). wanted: comma-separated
 * channels that must all have succeeded ("spool,sms"). if_unsent: the
 * daemon's verdict for this attempt's number, written when not every
 * wanted channel has succeeded. *outcome says what was written (RETRY:
 * after if_unsent->delay_ms). On anything but MC_STORE_OK nothing was
 * committed, or the commit's fate is unknown: the caller may simply call
 * it again.
 */
mc_store_rc_t mc_store_notify_record(mc_store_t *store, const mc_notice_t *notice,
                                     const mc_notice_try_t *tries, size_t n_tries,
                                     const char *wanted, const mc_notice_retry_t *if_unsent,
                                     mc_notice_outcome_t *outcome, mc_err_t *err);

/* one started notice's outcomes, for mc_store_notify_record_batch */
typedef struct mc_notice_record {
    const mc_notice_t     *notice;    /* as started (attempts = this attempt) */
    const mc_notice_try_t *tries;     /* its tries, OK or FAILED (IN_PROGRESS ones are not written) */
    size_t                 n_tries;   /* entries in tries */
    const char            *wanted;    /* channels that must all have succeeded: "spool,sms" */
    mc_notice_retry_t      if_unsent; /* the daemon's verdict if not every wanted channel did */
    mc_notice_outcome_t    outcome;   /* out: what was written (valid on MC_STORE_OK) */
} mc_notice_record_t;

/*
 * mc_store_notify_record_batch - mc_store_notify_record for items[0..n) in
 * ONE transaction (one commit for the whole batch). Rows are locked in
 * notification id order, so two instances never deadlock on them. A
 * notification deleted meanwhile is reported OVERTAKEN and holds back none
 * of the others. On anything but MC_STORE_OK nothing was committed, or the
 * commit's fate is unknown: the caller may simply call it again with the
 * same items (a repeat changes nothing the first one committed).
 */
mc_store_rc_t mc_store_notify_record_batch(mc_store_t *store, mc_notice_record_t *items,
                                           size_t n, mc_err_t *err);

#endif
