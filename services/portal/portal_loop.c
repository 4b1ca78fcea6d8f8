/*
 * portal_loop - claim, push, record; wake on the poll.
 *
 * Contract (portal.h): events are claimed in batches of portal.batch (at
 * most one per dossier: mc_store_portal.h) and pushed one after another,
 * each recorded as soon as its answer is in, so the dossier's next event is
 * due at once. A push starts only with SEND_MIN_MS of the lease left; an
 * event not pushed (lease too short, SIGTERM) is released at once. Outcomes
 * the store could not take are kept and recorded first thing when it is
 * back; the lease covers the rest. SIGTERM waits for at most one push.
 */
#include "portal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_time.h"
#include "mc_store.h"

#define SEND_MIN_MS 500 /* a push with less of the lease left is not started */

/* where one claimed event is */
typedef enum push_state {
    PUSH_TODO     = 0, /* claimed, not pushed */
    PUSH_ACKED    = 1, /* the portal answered 2xx; not recorded yet */
    PUSH_FAILED   = 2, /* refused or unreachable; not recorded yet */
    PUSH_RELEASE  = 3, /* not pushed after all: make it due again */
    PUSH_RECORDED = 4, /* the store knows */
} push_state_t;

/* one claimed event and what became of it */
typedef struct push {
    mc_portal_event_t event;      /* the claimed row */
    push_state_t      state;      /* see push_state_t */
    int               status;     /* HTTP status, 0 if none */
    char              error[256]; /* why it failed (no personal data) */
} push_t;

struct portal {
    const mc_cfg_t *cfg;
    portal_http_t  *http;
    mc_store_t     *store;
    push_t         *pushes;     /* the batch in hand: cfg->portal.batch entries */
    int             n_pushes;   /* entries in use */
    bool            store_down; /* logged once per outage */
    mc_daemon_t    *daemon;     /* for its stop requests */
};

/* portal_new - store (lazy) and the batch buffer */
portal_t *portal_new(const mc_cfg_t *cfg, portal_http_t *http, mc_err_t *err)
{
    portal_t *p = calloc(1, sizeof *p);
    if (p) {
        p->pushes = calloc((size_t)cfg->portal.batch, sizeof *p->pushes);
        p->store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms);
        mc_store_set_tcp(p->store, &cfg->db_tcp);
    }
    if (!p || !p->pushes || !p->store) {
        mc_err_add(err, "out of memory");
        portal_destroy(&p);
        return NULL;
    }
    p->cfg = cfg;
    p->http = http;
    return p;
}

/* batch_clear - forget the batch in hand */
static void batch_clear(portal_t *p)
{
    for (int i = 0; i < p->n_pushes; i++)
        mc_portal_event_clear(&p->pushes[i].event);
    p->n_pushes = 0;
}

/* portal_destroy - free, NULL */
void portal_destroy(portal_t **portal)
{
    if (!portal || !*portal)
        return;
    portal_t *p = *portal;
    if (p->pushes)
        batch_clear(p);
    free(p->pushes);
    mc_store_destroy(&p->store);
    free(p);
    *portal = NULL;
}

/* stop_seen - has SIGTERM/SIGINT come (without waiting)? */
static bool stop_seen(portal_t *p)
{
    return mc_daemon_stopping(p->daemon);
}

/* backoff_ms - the delay after the attempts-th failed push: retry_initial_ms
 * doubled per earlier failure, at most retry_max_ms (portal's own policy) */
static int backoff_ms(const portal_t *p, int attempts)
{
    return mc_daemon_backoff_ms(p->cfg->portal.retry_initial_ms, p->cfg->portal.retry_max_ms,
                                attempts);
}

/* record_one - tell the store what became of one push; logs the outcome */
static mc_store_rc_t record_one(portal_t *p, push_t *u, mc_err_t *err)
{
    const mc_portal_event_t *e = &u->event;
    mc_store_rc_t rc = MC_STORE_OK;
    bool overtaken = false;
    int delay = 0;
    if (u->state == PUSH_ACKED) {
        rc = mc_store_portal_acked(p->store, e, u->status, err);
    } else if (u->state == PUSH_FAILED || u->state == PUSH_RELEASE) {
        delay = u->state == PUSH_FAILED ? backoff_ms(p, e->attempts) : 0;
        const char *why = u->state == PUSH_FAILED ? u->error : "not pushed: released";
        rc = mc_store_portal_retry(p->store, e, delay, u->status, why, &overtaken, err);
    }
    if (rc != MC_STORE_OK)
        return rc;
    char q[300];
    if (u->state == PUSH_ACKED)
        mc_daemon_count(MC_COUNT_SENT, 1); /* per event: debug, counted in the summary */
    if (u->state == PUSH_ACKED)
        mc_log(MC_LOG_DEBUG, "event_pushed", "code=%s seq=%d attempt=%d status=%d", e->code,
               e->seq, e->attempts, u->status);
    else if (u->state == PUSH_FAILED && !overtaken)
        mc_log(MC_LOG_WARNING, "push_failed", "code=%s seq=%d attempt=%d status=%d error=%s"
               " delay_ms=%d", e->code, e->seq, e->attempts, u->status,
               mc_log_quote(u->error, q, sizeof q), delay);
    else if (overtaken)
        mc_log(MC_LOG_NOTICE, "push_overtaken", "code=%s seq=%d attempt=%d"
               " what=lease_ran_out_newer_claim_decides", e->code, e->seq, e->attempts);
    u->state = PUSH_RECORDED;
    return MC_STORE_OK;
}

/* settle - record every outcome in hand and release what was not pushed;
 * the batch is forgotten once all is recorded */
static mc_store_rc_t settle(portal_t *p, mc_err_t *err)
{
    for (int i = 0; i < p->n_pushes; i++) {
        push_t *u = &p->pushes[i];
        if (u->state == PUSH_TODO)
            u->state = PUSH_RELEASE;
        mc_store_rc_t rc = record_one(p, u, err);
        if (rc != MC_STORE_OK)
            return rc;
    }
    batch_clear(p);
    return MC_STORE_OK;
}

/* store_failed - log the first failure of an outage; -1 */
static int store_failed(portal_t *p, mc_err_t *err)
{
    if (!p->store_down)
        mc_log_error(MC_LOG_WARNING, "store_unavailable", err, NULL);
    mc_daemon_store_down(true);
    p->store_down = true;
    return -1;
}

/* store_back - the store answered: end an outage */
static void store_back(portal_t *p)
{
    if (p->store_down)
        mc_log(MC_LOG_NOTICE, "store_available", "what=reconnected");
    mc_daemon_store_down(false);
    p->store_down = false;
}

/* push_one - one POST, its outcome in u */
static void push_one(portal_t *p, push_t *u, int64_t deadline)
{
    int64_t left = deadline - mc_time_mono_ms();
    if (left < SEND_MIN_MS || stop_seen(p)) {
        u->state = PUSH_RELEASE;
        return;
    }
    u->error[0] = '\0';
    int rc = portal_http_push(p->http, &u->event, (int)left, &u->status, u->error, sizeof u->error);
    u->state = rc == 0 ? PUSH_ACKED : PUSH_FAILED;
}

/* work_once - settle what is in hand, claim a batch, push and record each.
 * The number of events claimed, 0 when none was due, -1 on a store failure */
static int work_once(portal_t *p)
{
    mc_err_t err;
    mc_err_clear(&err);
    if (settle(p, &err) != MC_STORE_OK)
        return store_failed(p, &err);
    /* the lease is counted from before the claim: our deadline falls before
     * the store's, whatever the claim statement takes */
    int64_t deadline = mc_time_mono_ms() + (int64_t)p->cfg->portal.send_lease_ms * 3 / 4;
    mc_portal_event_t *events = calloc((size_t)p->cfg->portal.batch, sizeof *events);
    if (!events) {
        mc_err_add(&err, "out of memory");
        return store_failed(p, &err);
    }
    int count = 0;
    mc_store_rc_t rc = mc_store_portal_claim(p->store, p->cfg->portal.batch,
                                             p->cfg->portal.send_lease_ms, events, &count, &err);
    if (rc != MC_STORE_OK) {
        free(events);
        return store_failed(p, &err);
    }
    store_back(p);
    for (int i = 0; i < count; i++)
        p->pushes[i] = (push_t){.event = events[i], .state = PUSH_TODO};
    p->n_pushes = count;
    free(events);
    for (int i = 0; i < count; i++) {
        push_t *u = &p->pushes[i];
        push_one(p, u, deadline);
        if (record_one(p, u, &err) != MC_STORE_OK)
            return store_failed(p, &err);
    }
    batch_clear(p);
    return count;
}

/* on_work - mc_loop_fn: work until nothing is due, checking for SIGTERM between batches */
static int on_work(mc_loop_t *loop, void *arg)
{
    (void)loop;
    portal_t *p = arg;
    while (!stop_seen(p) && work_once(p) > 0) {
    }
    return 0;
}

/* portal_start - the work timer */
int portal_start(portal_t *p, mc_daemon_t *d, mc_err_t *err)
{
    p->daemon = d;
    if (mc_loop_every(d->loop, 0, p->cfg->portal.poll_ms, on_work, p) < 0) {
        mc_err_add(err, "portal: cannot set up the loop");
        return -1;
    }
    return 0;
}

/* portal_finish - settle what the batch in hand left */
int portal_finish(portal_t *p)
{
    if (p->n_pushes > 0) {
        mc_err_t err;
        mc_err_clear(&err);
        if (settle(p, &err) != MC_STORE_OK) {
            /* the store is still down: the leases run out and the events are
             * pushed again under the same event ids */
            mc_log(MC_LOG_WARNING, "outcome_abandoned", "events=%d", p->n_pushes);
            batch_clear(p);
        }
    }
    return 0;
}
