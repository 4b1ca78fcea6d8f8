/*
 * portal - motcua-portal: synchronise every dossier status change and
 * result with the national public-service portal (docs/portal.md).
 *
 * Contract:
 *   * What is pushed is what PostgreSQL committed: the outbox rows are
 *     written by a trigger in the transaction of each dossier_event
 *     (migration 0011); the pusher only reads them.
 *   * One HTTP POST per event, JSON body frozen in the outbox, headers
 *     Idempotency-Key: <event_id> and Authorization: Bearer <token> (when
 *     portal.token_file is set). A 2xx answer acknowledges the event;
 *     anything else (or no answer) is retried with a doubling backoff
 *     (portal.retry_initial_ms .. retry_max_ms), for ever: the next event
 *     of a dossier is never pushed before this one is acknowledged.
 *   * No transaction is open across a push: events are claimed with a
 *     lease (portal.send_lease_ms; mc_store_portal.h), pushed within 3/4 of
 *     it, then recorded. After kill -9 the lease runs out and the same
 *     event (same event_id, same bytes) is pushed again: at-least-once,
 *     exactly once at a portal that dedupes on the key.
 *   * Several instances may run against one database: a claimed event is
 *     leased to one of them, and at most one event per dossier is in flight.
 *   * portal.url "" (the default): synchronisation is off; the daemon waits
 *     for SIGTERM and the outbox keeps every event for when it is turned on.
 */
#ifndef PORTAL_H
#define PORTAL_H

#include "mc_cfg.h"
#include "mc_daemon.h"
#include "mc_err.h"
#include "mc_store_portal.h"

/* --- portal_http.c: one POST per event ------------------------------------ */

typedef struct portal_http portal_http_t;

/* portal_http_new - read the token file (mc_cfg_open_secret), make a curl handle */
portal_http_t *portal_http_new(const mc_cfg_portal_t *cfg, mc_err_t *err);

/* portal_http_destroy - wipe the token, free, NULL */
void portal_http_destroy(portal_http_t **http);

/*
 * portal_http_push - POST event->body to portal.url within timeout_ms.
 * 0 when the portal answered 2xx; -1 otherwise, with the reason (no
 * personal data, no token) in error. *status: the HTTP status, 0 if none.
 */
int portal_http_push(portal_http_t *http, const mc_portal_event_t *event, int timeout_ms,
                     int *status, char *error, size_t size);

/* --- portal_loop.c: claim, push, record ----------------------------------- */

typedef struct portal portal_t;

/* portal_new - the pusher; the store connects lazily */
portal_t *portal_new(const mc_cfg_t *cfg, portal_http_t *http, mc_err_t *err);

/* portal_destroy - free, NULL */
void portal_destroy(portal_t **portal);

/* portal_start - on d's loop: push at once and every portal.poll_ms; a stop
 * (mc_daemon_stopping) is seen between two pushes. 0, or -1 with err */
int portal_start(portal_t *portal, mc_daemon_t *d, mc_err_t *err);

/* portal_finish - after the loop: settle the batch in hand (outcomes the
 * store cannot take are left to the lease); 0 */
int portal_finish(portal_t *portal);

#endif
