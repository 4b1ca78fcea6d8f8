/*
 * router - the motcua-router daemon's internal interfaces.
 *
 * Shape: one thread, one store (one pair of PostgreSQL connections), a SUB
 * socket on intake's and lienthong's events endpoints ("look now") and a PUB
 * socket on router.events_endpoint. The loop gives PENDING_ACCEPTANCE
 * (online) dossiers their acceptance case and routes RECEIVED dossiers in
 * batches whenever an event arrives or router.poll_ms passes, and runs the
 * deadline scans (late dossiers, overdue steps, dossiers not accepted within
 * rules.acceptance_hours) every router.deadline_scan_ms. The store is the source of
 * truth; events only shorten the wait. Any number of routers may run against
 * one database: work is claimed with FOR UPDATE SKIP LOCKED
 * (mc_store_route.h), so no dossier is routed twice.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_cfg.h"
#include "mc_curve.h"
#include "mc_err.h"
#include "mc_routing.h"
#include "mc_loop.h"
#include "mc_store.h"
#include "mc_store_extend.h"
#include "mc_store_route.h"
#include "mc_limits.h"

#define ROUTER_MAX_STEPS 32 /* plan steps: the desk and up to 31 partner steps */

/* one routed or late dossier whose event is published after the commit */
typedef struct router_note {
    char code[MC_CODE_MAX]; /* dossier code */
    char agency[72];        /* for KIND_CASE_QUEUED: the desk; "" for a notification */
} router_note_t;

typedef struct router {
    const mc_cfg_t      *cfg;      /* immutable configuration */
    const mc_routing_t  *routing;  /* immutable routing table */
    mc_store_t          *store;    /* our connections */
    void                *sub;      /* SUB: intake + lienthong events, may be NULL */
    void                *pub;      /* PUB: our events, NULL if the bind failed */
    mc_zap_t            *zap;      /* ZAP handler admitting the events key (events.key_file) */
    bool                 store_ok; /* last store call succeeded (log transitions only) */
    mc_plan_step_t       steps[ROUTER_MAX_STEPS]; /* plan being written */
    char                 detail[256];             /* event detail being written */
    router_note_t       *notes;    /* events to publish after the current commit */
    int                  n_notes;  /* entries used */
    int                  cap_notes;/* entries allocated (router.batch) */
    int64_t              now;      /* the wall clock of the current pass (seconds) */
    int                  poll_timer; /* mc_loop timer of the routing pass */
} router_t;

/* router_new - store, sockets; NULL with err on failure */
router_t *router_new(const mc_cfg_t *cfg, const mc_routing_t *routing, mc_err_t *err);

/* router_start - on loop: a routing pass every router.poll_ms (at once when
 * an event comes), the deadline scans every router.deadline_scan_ms, both
 * at start; 0 or -1 with err */
int router_start(router_t *r, mc_loop_t *loop, mc_err_t *err);

/* router_destroy - close, free and NULL */
void router_destroy(router_t **r);

/* router_route_all - route batches until none is full; returns dossiers routed or -1 */
int router_route_all(router_t *r);

/* router_scan_late - the deadline scan; returns dossiers marked late or -1 */
int router_scan_late(router_t *r);

/* router_scan_unsupplemented - close dossiers whose supplement did not come in
 * time (RETURNED); returns dossiers returned or -1 */
int router_scan_unsupplemented(router_t *r);

/* router_decide_unsupplemented - mc_unsupplemented_decide_fn: the `returned` event (router_plan.c) */
int router_decide_unsupplemented(void *arg, const mc_unsupplemented_claim_t *claim,
                                 mc_unsupplemented_decision_t *decision);

/* router_scan_due_soon - the warning before lateness; returns dossiers warned or -1 */
int router_scan_due_soon(router_t *r);

/* router_due_soon_horizon - the latest due date warned now: the end of the
 * rules.warn_before_days-th working day after now (router_plan.c); -1 on a calendar error */
int64_t router_due_soon_horizon(router_t *r);

/* router_decide_due_soon - mc_due_soon_decide_fn: the `due_soon` event detail (router_plan.c) */
int router_decide_due_soon(void *arg, const mc_due_soon_claim_t *claim, const char **detail);

/* router_scan_forwarding - boundary-free reception: dossiers not forwarded
 * to their competent ward in time, each recorded once; count or -1 */
int router_scan_forwarding(router_t *r);

/* router_decide_forwarding - mc_forwarding_decide_fn: the forward_overdue event (router_plan.c) */
int router_decide_forwarding(void *arg, const mc_forwarding_claim_t *claim,
                             mc_forwarding_decision_t *decision);

/* router_decide_step_overdue - mc_step_overdue_decide_fn: the `step_overdue` detail (router_plan.c) */
int router_decide_step_overdue(void *arg, const mc_step_overdue_claim_t *claim,
                               const char **detail);

/* router_decide_route - mc_route_decide_fn: the plan of one dossier (router_plan.c) */
int router_decide_route(void *arg, const mc_route_claim_t *claim, mc_route_plan_t *plan);

/* router_decide_late - mc_late_decide_fn: the late notice, after an apology or without (router_plan.c) */
int router_decide_late(void *arg, const mc_late_claim_t *claim, mc_late_decision_t *decision);

/* router_accept_all - acceptance cases for pending online dossiers, a batch at a
 * time; returns cases created or -1 */
int router_accept_all(router_t *r);

/* router_scan_acceptance - pending online dossiers past their acceptance
 * deadline get `acceptance_overdue` once; returns dossiers flagged or -1 */
int router_scan_acceptance(router_t *r);

/* router_decide_acceptance_case - mc_route_decide_fn: the desk and task of an
 * online dossier's acceptance case (router_plan.c) */
int router_decide_acceptance_case(void *arg, const mc_route_claim_t *claim, mc_route_plan_t *plan);

/* router_decide_acceptance - mc_accept_decide_fn: the `acceptance_overdue` detail (router_plan.c) */
int router_decide_acceptance(void *arg, const mc_accept_claim_t *claim, const char **detail);

#endif
