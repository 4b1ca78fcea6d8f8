/*
 * router_loop - the router's event loop, batches and publishing (see router.h).
 *
 * Events are published only after the commit they announce, and are
 * best effort: a PUB socket drops what nobody takes, and every consumer
 * polls the store anyway.
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "mc_events.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_transport.h"
#include "motcua/internal/v1/pipeline.pb-c.h"

/* router_new - store and sockets; a failed PUB bind only costs latency, so it is not fatal */
router_t *router_new(const mc_cfg_t *cfg, const mc_routing_t *routing, mc_err_t *err)
{
    router_t *r = calloc(1, sizeof *r);
    if (!r) {
        mc_err_add(err, "router: out of memory");
        return NULL;
    }
    r->cfg = cfg;
    r->routing = routing;
    r->store_ok = true;
    r->cap_notes = cfg->router.batch > 0 ? cfg->router.batch : 1;
    r->notes = calloc((size_t)r->cap_notes, sizeof *r->notes);
    r->store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms);
    mc_store_set_tcp(r->store, &cfg->db_tcp);
    if (!r->notes || !r->store) {
        mc_err_add(err, "router: out of memory");
        router_destroy(&r);
        return NULL;
    }
    /* a failed PUB bind only costs latency (mc_events) */
    r->pub = mc_events_pub(cfg->router.events_endpoint, cfg->events.key_file, &r->zap);
    r->sub = mc_events_listen(cfg, MC_EVENTS_FROM_INTAKE | MC_EVENTS_FROM_LIENTHONG, err);
    if (!r->sub) {
        router_destroy(&r);
        return NULL;
    }
    mc_err_t cerr;
    mc_err_clear(&cerr);
    if (mc_store_connect(r->store, &cerr) != MC_STORE_OK) {
        mc_log_error(MC_LOG_WARNING, "store_unavailable", &cerr, NULL);
        mc_daemon_store_down(true);
        r->store_ok = false;
    }
    return r;
}

/* router_destroy - close and free */
void router_destroy(router_t **rp)
{
    if (!rp || !*rp)
        return;
    router_t *r = *rp;
    mc_transport_close(&r->sub);
    mc_transport_close(&r->pub);
    mc_zap_stop(&r->zap); /* after the PUB it admitted listeners to */
    mc_store_destroy(&r->store);
    free(r->notes);
    free(r);
    *rp = NULL;
}

/* publish - one PipelineEvent, never blocking */
static void publish(router_t *r, Motcua__Internal__V1__PipelineEvent__Kind kind, const char *code,
                    const char *agency)
{
    mc_events_publish(r->pub, (int)kind, code, agency);
}

/* store_trouble - log a failed store call once per outage */
static void store_trouble(router_t *r, const char *what, mc_store_rc_t rc, const mc_err_t *err)
{
    if (!r->store_ok && rc == MC_STORE_UNAVAILABLE)
        return;
    mc_log_error(rc == MC_STORE_UNAVAILABLE ? MC_LOG_WARNING : MC_LOG_ERR, "store_error", err,
                 "what=%s rc=%d", what, (int)rc);
    r->store_ok = false;
}

/* store_back - note the store works again */
static void store_back(router_t *r)
{
    if (!r->store_ok)
        mc_log(MC_LOG_NOTICE, "store_connected", "daemon=router");
    mc_daemon_store_down(false);
    r->store_ok = true;
}

/* router_route_all - full batches mean more may be waiting */
int router_route_all(router_t *r)
{
    int total = 0;
    for (;;) {
        mc_daemon_keepalive(); /* a long backlog is work, not a hang */
        mc_err_t err;
        mc_err_clear(&err);
        int claimed = 0, routed = 0;
        r->n_notes = 0;
        r->now = (int64_t)time(NULL);
        mc_store_rc_t rc = mc_store_route_batch(r->store, r->cfg->router.batch,
                                                router_decide_route, r, &claimed, &routed, &err);
        if (rc != MC_STORE_OK) {
            store_trouble(r, "route", rc, &err);
            return -1;
        }
        store_back(r);
        for (int i = 0; i < r->n_notes; i++) {
            mc_daemon_count(MC_COUNT_ROUTED, 1); /* per dossier: debug, counted in the summary */
            mc_log(MC_LOG_DEBUG, "routed", "code=%s department=%s", r->notes[i].code,
                   r->notes[i].agency);
            publish(r, MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_CASE_QUEUED, r->notes[i].code,
                    r->notes[i].agency);
        }
        total += routed;
        if (claimed < r->cfg->router.batch || routed == 0)
            return total; /* a full batch of skipped dossiers must not spin */
    }
}

/* one deadline batch of the store, with the router's decision */
typedef mc_store_rc_t (*scan_batch_fn)(router_t *r, int *marked, mc_err_t *err);

/* scan_batches - run batch until one is not full; each noted dossier is logged
 * as event and, with notify, published as a notification nudge; count or -1 */
static int scan_batches(router_t *r, const char *what, scan_batch_fn batch, const char *event,
                        bool notify)
{
    int total = 0;
    for (;;) {
        mc_daemon_keepalive(); /* a long backlog is work, not a hang */
        mc_err_t err;
        mc_err_clear(&err);
        int marked = 0;
        r->n_notes = 0;
        r->now = (int64_t)time(NULL);
        mc_store_rc_t rc = batch(r, &marked, &err);
        if (rc != MC_STORE_OK) {
            store_trouble(r, what, rc, &err);
            return -1;
        }
        store_back(r);
        for (int i = 0; i < r->n_notes; i++) {
            mc_log(MC_LOG_NOTICE, event, "code=%s", r->notes[i].code);
            if (notify)
                publish(r, MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_NOTIFICATION, r->notes[i].code,
                        "");
        }
        total += marked;
        if (marked < r->cfg->router.batch)
            return total;
    }
}

/* late_batch - scan_batch_fn: overdue dossiers and their late notices */
static mc_store_rc_t late_batch(router_t *r, int *marked, mc_err_t *err)
{
    return mc_store_late_batch(r->store, r->cfg->router.batch, router_decide_late, r, marked,
                               err);
}

/* router_scan_late - overdue dossiers, a batch at a time */
int router_scan_late(router_t *r)
{
    int total = scan_batches(r, "deadline_scan", late_batch, "late", true);
    if (total < 0)
        return -1;
    /* each agency step against its own limit: an event for the desk's staff */
    for (;;) {
        mc_daemon_keepalive(); /* a long backlog is work, not a hang */
        mc_err_t err;
        mc_err_clear(&err);
        int steps = 0;
        mc_store_rc_t rc = mc_store_step_overdue_batch(r->store, r->cfg->router.batch,
                                                       router_decide_step_overdue, r, &steps, &err);
        if (rc != MC_STORE_OK) {
            store_trouble(r, "step_overdue_scan", rc, &err);
            return -1;
        }
        if (steps > 0)
            mc_log(MC_LOG_NOTICE, "steps_overdue", "count=%d", steps);
        total += steps;
        if (steps < r->cfg->router.batch)
            return total;
    }
}

/* unsupplemented_batch - scan_batch_fn: dossiers past their supplement deadline */
static mc_store_rc_t unsupplemented_batch(router_t *r, int *marked, mc_err_t *err)
{
    return mc_store_unsupplemented_batch(r->store, r->cfg->router.batch,
                                         router_decide_unsupplemented, r, marked, err);
}

/* router_scan_unsupplemented - dossiers past their supplement deadline are
 * returned, a batch at a time; each gets its `returned` notice */
int router_scan_unsupplemented(router_t *r)
{
    return scan_batches(r, "unsupplemented_scan", unsupplemented_batch, "returned", true);
}

/* one batch of a store scan: *claimed rows locked, *done rows written; the
 * decide callbacks leave their notes in r */
typedef mc_store_rc_t (*router_batch_fn)(router_t *r, int *claimed, int *done, mc_err_t *err);

/* run_batches - batch after batch while they come back full (and wrote
 * something: a full batch of skipped rows must not spin); after each commit
 * notes() logs and publishes what the batch noted. Returns rows done or -1 */
static int run_batches(router_t *r, const char *what, router_batch_fn batch,
                       void (*notes)(router_t *r))
{
    int total = 0;
    for (;;) {
        mc_daemon_keepalive(); /* a long backlog is work, not a hang */
        mc_err_t err;
        mc_err_clear(&err);
        int claimed = 0, done = 0;
        r->n_notes = 0;
        r->now = (int64_t)time(NULL);
        mc_store_rc_t rc = batch(r, &claimed, &done, &err);
        if (rc != MC_STORE_OK) {
            store_trouble(r, what, rc, &err);
            return -1;
        }
        store_back(r);
        notes(r);
        total += done;
        if (claimed < r->cfg->router.batch || done == 0)
            return total;
    }
}

/* due_soon_batch - scan_batch_fn: dossiers due within rules.warn_before_days
 * working days of now (the horizon is computed for each batch) */
static mc_store_rc_t due_soon_batch(router_t *r, int *marked, mc_err_t *err)
{
    int64_t horizon = router_due_soon_horizon(r);
    if (horizon < 0) {
        mc_err_add(err, "calendar: no horizon for rules.warn_before_days");
        return MC_STORE_FAILED;
    }
    return mc_store_due_soon_batch(r->store, r->cfg->router.batch, horizon,
                                   router_decide_due_soon, r, marked, err);
}

/* router_scan_due_soon - the warning before lateness, a batch at a time (no
 * notice: the flag is for the desk or agency, which may propose an extension) */
int router_scan_due_soon(router_t *r)
{
    return scan_batches(r, "due_soon_scan", due_soon_batch, "due_soon", false);
}

/* acceptance_cases - one batch of acceptance cases for pending online dossiers */
static mc_store_rc_t acceptance_cases(router_t *r, int *claimed, int *done, mc_err_t *err)
{
    return mc_store_acceptance_case_batch(r->store, r->cfg->router.batch,
                                          router_decide_acceptance_case, r, claimed, done, err);
}

/* acceptance_queued - each new acceptance case goes to its desk at once */
static void acceptance_queued(router_t *r)
{
    for (int i = 0; i < r->n_notes; i++) {
        mc_daemon_count(MC_COUNT_ROUTED, 1); /* per dossier: debug, in the summary */
        mc_log(MC_LOG_DEBUG, "acceptance_queued", "code=%s department=%s", r->notes[i].code,
               r->notes[i].agency);
        publish(r, MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_CASE_QUEUED, r->notes[i].code,
                r->notes[i].agency);
    }
}

/* router_accept_all - acceptance cases, batch after batch while they are full */
int router_accept_all(router_t *r)
{
    return run_batches(r, "acceptance_cases", acceptance_cases, acceptance_queued);
}

/* acceptance_overdue - one batch of the acceptance scan (every row claimed is flagged or skipped) */
static mc_store_rc_t acceptance_overdue(router_t *r, int *claimed, int *done, mc_err_t *err)
{
    mc_store_rc_t rc = mc_store_acceptance_batch(r->store, r->cfg->router.batch,
                                                 router_decide_acceptance, r, done, err);
    *claimed = *done;
    return rc;
}

/* acceptance_flagged - one log line per flagged dossier (no notice: the flag is for the desk) */
static void acceptance_flagged(router_t *r)
{
    for (int i = 0; i < r->n_notes; i++)
        mc_log(MC_LOG_NOTICE, "acceptance_overdue", "code=%s department=%s", r->notes[i].code,
               r->notes[i].agency);
}

/* router_scan_acceptance - pending online dossiers past their 8 working hours */
int router_scan_acceptance(router_t *r)
{
    return run_batches(r, "acceptance_scan", acceptance_overdue, acceptance_flagged);
}

/* forwarding_batch - scan_batch_fn: dossiers not forwarded in time */
static mc_store_rc_t forwarding_batch(router_t *r, int *marked, mc_err_t *err)
{
    return mc_store_forwarding_batch(r->store, r->cfg->router.batch, router_decide_forwarding, r,
                                     marked, err);
}

/* router_scan_forwarding - overdue forwardings, a batch at a time (no notice:
 * the applicant's appointment is unchanged; the event is for both wards' staff) */
int router_scan_forwarding(router_t *r)
{
    return scan_batches(r, "forwarding_scan", forwarding_batch, "forward_overdue", false);
}

/* on_poll - mc_loop_fn: acceptance cases, then routing */
static int on_poll(mc_loop_t *loop, void *arg)
{
    (void)loop;
    router_accept_all(arg);
    router_route_all(arg);
    return 0;
}

/* on_scan - mc_loop_fn: every deadline scan */
static int on_scan(mc_loop_t *loop, void *arg)
{
    (void)loop;
    router_scan_late(arg);
    router_scan_unsupplemented(arg);
    router_scan_due_soon(arg);
    router_scan_acceptance(arg);
    router_scan_forwarding(arg);
    return 0;
}

/* on_events - mc_loop_fn: an event means "route now"; their content does not matter */
static int on_events(mc_loop_t *loop, void *arg)
{
    router_t *r = arg;
    mc_events_drain(r->sub);
    if (r->store_ok) /* while the store is down, retry at poll_ms, not per event */
        mc_loop_timer_reset(loop, r->poll_timer, 0);
    return 0;
}

/* router_start - the pass and the scans at once, then on their periods */
int router_start(router_t *r, mc_loop_t *loop, mc_err_t *err)
{
    r->poll_timer = mc_loop_every(loop, 0, r->cfg->router.poll_ms, on_poll, r);
    if (r->poll_timer < 0 ||
        mc_loop_every(loop, 0, r->cfg->router.deadline_scan_ms, on_scan, r) < 0 ||
        mc_loop_add_socket(loop, r->sub, on_events, r) != 0) {
        mc_err_add(err, "router: cannot set up the loop");
        return -1;
    }
    return 0;
}
