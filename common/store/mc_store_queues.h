/*
 * mc_store_queues - the pipeline's backlog, stage by stage, read from the
 * store: what `motcua queues` prints and what the chaos test waits on.
 *
 * Contract:
 *   * mc_store_queues() reads, in one REPEATABLE READ READ ONLY snapshot,
 *     one line per (stage, holder, state) with work not finished: dossiers
 *     received and not yet routed (and, for information, those waiting for
 *     the applicant's documents), agency cases by agency and state (queued,
 *     sent, acked, paused, dead), notifications not sent by state and by the
 *     channel holding them up; each with its count and the age of its oldest
 *     item. It changes nothing.
 *   * When the table agency_session exists (the hub's sessions and leases),
 *     it also returns the hub's view of every agency session; otherwise
 *     has_sessions is false and the list is empty.
 *   * in_flight counts the items some daemon still has to move on its own:
 *     dossiers RECEIVED and unrouted, cases queued, sent or acked,
 *     notifications pending or being sent. Paused cases and dossiers waiting
 *     for documents wait for the applicant; dead cases and failed
 *     notifications wait for a person (`motcua requeue`): none of them is in
 *     flight. The pipeline is idle when in_flight is 0.
 *   * Each line also counts its items by age, in the buckets of
 *     mc_queue_age_bucket_name (like Postfix's qshape): 0-1m, 1-5m, 5-10m,
 *     10-30m, 30-60m, 1-4h, >4h; an item of age exactly 60 s is in 1-5m.
 *   * mc_store_queues_read() is the same read inside a snapshot the caller
 *     already holds (mc_store_stats adds its figures to the same snapshot).
 *   * mc_store_notifications_failed() lists the notifications failed for
 *     good without personal data (dossier code, kind, channel, attempts, the
 *     class of the last error, when); mc_store_notifications_retry() puts
 *     failed ones back to pending with attempts 0, in one statement that a
 *     repeat turns into a no-op (only rows still failed change).
 *   * Never logs parameters; there are none that hold personal data.
 */
#ifndef MC_STORE_QUEUES_H
#define MC_STORE_QUEUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_store.h"
#include "mc_limits.h"

/* the stage a backlog line belongs to */
typedef enum mc_queue_stage {
    MC_QUEUE_DOSSIER      = 0, /* dossiers (intake -> router) */
    MC_QUEUE_CASE         = 1, /* agency cases (router/lienthong -> agencies) */
    MC_QUEUE_NOTIFICATION = 2, /* notices to the applicant (notify) */
} mc_queue_stage_t;

/* what the items of a line are waiting for */
typedef enum mc_queue_state {
    MC_QUEUE_UNROUTED = 0,   /* dossier RECEIVED, no desk yet */
    MC_QUEUE_WAITING_DOCS,   /* dossier WAITING_SUPPLEMENT (the applicant's turn) */
    MC_QUEUE_QUEUED,         /* case ready to send */
    MC_QUEUE_SENT,           /* case sent, not acknowledged */
    MC_QUEUE_ACKED,          /* case acknowledged (leased), result awaited */
    MC_QUEUE_PAUSED,         /* case paused for documents */
    MC_QUEUE_DEAD,           /* case dead-lettered */
    MC_QUEUE_PENDING,        /* notification never tried yet */
    MC_QUEUE_RETRYING,       /* notification tried, waiting for its next attempt */
    MC_QUEUE_SENDING,        /* notification claimed by a notify instance */
    MC_QUEUE_FAILED,         /* notification failed for good */
    MC_QUEUE_PENDING_ACCEPTANCE, /* online dossier PENDING_ACCEPTANCE (holder: the desk of its acceptance case) */
    MC_QUEUE_STATES          /* count */
} mc_queue_state_t;

/* the age buckets of a line (qshape's columns); names by mc_queue_age_bucket_name */
#define MC_QUEUE_AGE_BUCKETS 7

/* one line of the backlog */
typedef struct mc_queue_line {
    mc_queue_stage_t stage;        /* which stage */
    char             holder[64];   /* agency code, notification channel ("-" before any try), "" for dossiers */
    mc_queue_state_t state;        /* what the items wait for */
    long             count;        /* how many */
    int64_t          oldest_age_s; /* age of the oldest (since received / updated / created), seconds */
    bool             in_flight;    /* counted in mc_queues_t.in_flight (see the contract) */
    long             by_age[MC_QUEUE_AGE_BUCKETS]; /* count per age bucket (they add up to count) */
} mc_queue_line_t;

/* the hub's view of one agency session (table agency_session) */
typedef struct mc_queue_session {
    char    session[MC_SESSION_LEN + 1];    /* session id */
    char    agency[MC_AGENCY_CODE_LEN + 1]; /* agency code */
    int64_t hub_epoch;                      /* the hub run that holds it */
    bool    connected;                      /* the agency's socket is there */
    bool    ready;                          /* the agency said Ready (resync done) */
    long    credit;                         /* cases it will take */
    long    in_flight;                      /* cases it holds */
    int64_t seen_age_s;                     /* since the hub last heard from it, seconds */
    int64_t lease_left_ms;                  /* until its lease runs out (negative: expired); 0 when none */
    bool    has_lease;                      /* lease_until is set */
} mc_queue_session_t;

/* the whole backlog */
typedef struct mc_queues {
    mc_queue_line_t    *lines;        /* ordered by stage, holder, state */
    size_t              n_lines;      /* entries in lines */
    bool                has_sessions; /* table agency_session exists */
    mc_queue_session_t *sessions;     /* ordered by agency, session */
    size_t              n_sessions;   /* entries in sessions */
    long                in_flight;    /* items of lines with in_flight set */
    int64_t             taken_at;     /* when the snapshot was taken (epoch s) */
} mc_queues_t;

/* mc_store_queues - the backlog in one snapshot; *out set on OK (free with mc_queues_destroy) */
mc_store_rc_t mc_store_queues(mc_store_t *store, mc_queues_t **out, mc_err_t *err);

/* mc_store_queues_read - the same into *q (zeroed by the caller) inside the caller's
 * snapshot (an mc_store_read_fn); free q's lists with mc_queues_clear */
mc_store_rc_t mc_store_queues_read(mc_store_t *store, void *q, mc_err_t *err);

/* mc_queues_clear - free q's lists (q itself stays: mc_stats_t holds one) */
void mc_queues_clear(mc_queues_t *q);

/* mc_queues_destroy - free and NULL the caller's pointer */
void mc_queues_destroy(mc_queues_t **queues);

/* mc_queue_state_name - "unrouted", "queued", ... (stable: JSON output uses them) */
const char *mc_queue_state_name(mc_queue_state_t state);

/* mc_queue_stage_name - "dossier", "case", "notification" */
const char *mc_queue_stage_name(mc_queue_stage_t stage);

/* mc_queue_age_bucket_name - "0-1m", "1-5m", "5-10m", "10-30m", "30-60m", "1-4h", ">4h" */
const char *mc_queue_age_bucket_name(int bucket);

/* one notification failed for good, as the operator sees it (no personal data) */
typedef struct mc_failed_notice {
    int64_t id;                     /* notification.id: what `notifications retry` takes */
    char    dossier_code[MC_CODE_MAX]; /* the dossier's code */
    char    kind[32];               /* received, result_ready, ... */
    char    channel[32];            /* the channel of its last failed attempt ("-": none) */
    int     attempts;               /* attempts made */
    char    error_class[48];        /* the last error without its channel prefix and details */
    int64_t failed_at;              /* when the last attempt ended (epoch s) */
} mc_failed_notice_t;

/* mc_store_notifications_failed - up to max failed notifications (channel NULL or "": every
 * channel), oldest first; *out malloc'd (free()), *n entries */
mc_store_rc_t mc_store_notifications_failed(mc_store_t *store, const char *channel, size_t max,
                                            mc_failed_notice_t **out, size_t *n, mc_err_t *err);

/* what a retry did to one notification */
typedef enum mc_failed_retry_outcome {
    MC_RETRY_REQUEUED = 0, /* was failed, now pending with attempts 0 */
    MC_RETRY_NOT_FAILED,   /* pending or sent already: nothing done (a repeated retry) */
    MC_RETRY_UNKNOWN,      /* no notification with that id */
} mc_failed_retry_outcome_t;

/* one notification a retry was asked for */
typedef struct mc_failed_retry {
    int64_t                   id;      /* notification.id */
    mc_failed_retry_outcome_t outcome; /* what happened */
} mc_failed_retry_t;

/* mc_store_notifications_retry - ids[0..n_ids) (or, all_failed, every failed one) back to
 * pending; *out (free()) gets one entry per id asked (all_failed: per one requeued) */
mc_store_rc_t mc_store_notifications_retry(mc_store_t *store, const int64_t *ids, size_t n_ids,
                                           bool all_failed, mc_failed_retry_t **out,
                                           size_t *n_out, mc_err_t *err);

#endif
