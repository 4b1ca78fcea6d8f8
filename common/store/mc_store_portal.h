/*
 * mc_store_portal - the portal outbox (table portal_outbox, migration
 * 0011) as motcua-portal uses it.
 *
 * Contract: no transaction is ever open while the caller pushes. The rows
 * are written by a trigger in the transaction of each dossier_event, so an
 * event is in the outbox exactly when it is committed. One push goes
 * through three steps, mirroring mc_store_notify's claim / send / record:
 *   1. Claim (one statement, its own transaction): mc_store_portal_claim()
 *      takes up to max due pending rows that are the oldest pending row of
 *      their dossier (so at most one row per dossier is ever in flight, and
 *      row n+1 is never claimed while row n is pending), with FOR UPDATE
 *      SKIP LOCKED, counts the attempt and leases them: next_attempt_at =
 *      now() + lease_ms, so no other instance claims them meanwhile.
 *   2. The caller pushes, with no transaction open, within the lease.
 *   3. Record (one statement each): mc_store_portal_acked() marks a row
 *      acknowledged (the portal answered 2xx): a fact, recorded even when
 *      the lease had run out meanwhile. mc_store_portal_retry() makes it due
 *      again after a delay, only while the claim is still this caller's
 *      (pending, attempts as claimed); otherwise *overtaken and nothing
 *      changes. Repeating either (after a failure at COMMIT) is harmless.
 *   * Crash windows: a crash (of the pusher or of PostgreSQL) after the
 *     claim leaves the row pending and leased; when the lease runs out it
 *     is claimed again and pushed with the same event id and body:
 *     at-least-once, one resend per crash, idempotent at a portal that
 *     dedupes on the Idempotency-Key.
 *   * Never logs parameters; the bodies hold no personal data anyway.
 */
#ifndef MC_STORE_PORTAL_H
#define MC_STORE_PORTAL_H

#include <stdbool.h>
#include <stdint.h>

#include "mc_err.h"
#include "mc_store.h"
#include "mc_limits.h"

/* one claimed outbox row */
typedef struct mc_portal_event {
    int64_t id;                /* portal_outbox.id */
    char    event_id[96];      /* "<dossier code>/<seq>": the Idempotency-Key */
    char    code[MC_CODE_MAX]; /* dossier code */
    int     seq;               /* 1, 2, ... within the dossier */
    int     attempts;          /* pushes so far, counting this one */
    char   *body;              /* the JSON to push (malloc'd) */
} mc_portal_event_t;

/* mc_portal_event_clear - free the body, zero the struct */
void mc_portal_event_clear(mc_portal_event_t *event);

/*
 * mc_store_portal_claim - claim and lease up to max due heads of their
 * dossiers into events[0..*count), oldest first (see the contract).
 */
mc_store_rc_t mc_store_portal_claim(mc_store_t *store, int max, int lease_ms,
                                    mc_portal_event_t *events, int *count, mc_err_t *err);

/* mc_store_portal_acked - the portal took the event (HTTP status): acknowledged */
mc_store_rc_t mc_store_portal_acked(mc_store_t *store, const mc_portal_event_t *event,
                                    int status, mc_err_t *err);

/*
 * mc_store_portal_retry - due again after delay_ms, with the failure
 * (status 0 when no answer came; error without personal data). *overtaken:
 * the claim was no longer ours (the lease ran out and another claim took
 * the row, or it is acknowledged already): nothing written.
 */
mc_store_rc_t mc_store_portal_retry(mc_store_t *store, const mc_portal_event_t *event,
                                    int delay_ms, int status, const char *error,
                                    bool *overtaken, mc_err_t *err);

#endif
