/*
 * intake - the motcua-intake daemon's internal interfaces.
 *
 * Shape: one broker thread owns the public ROUTER socket and an inproc
 * ROUTER towards N worker threads (the ZeroMQ Guide's load-balancing
 * broker). A worker owns one mc_store_t (its own PostgreSQL connections,
 * for status and follow-ups; new dossiers go through the one committer,
 * intake_commit.c, which commits those of all workers together) and
 * answers one request at a time, so a client frame is read from the
 * network only when a worker is free to take it: back-pressure, not
 * unbounded queues. Workers never touch the public socket; the broker never
 * touches the store.
 *
 * Identity: the public ROUTER is a CURVE server; mc_curve's ZAP handler
 * admits only the keys of clients.yaml (mc_clients) and stamps each frame
 * with the client's code (User-Id). The broker hands a worker
 * [client code][payload]; the worker looks the client up and the handlers
 * decide what that client may do (its wards, its role). A client of role
 * gateway names, per request, the client it acts for
 * (IntakeRequest.on_behalf_of): intake_handle then swaps ctx->client for
 * that client for the one request (intake_request.c, delegate). With
 * intake.plaintext (development only) every request comes from one
 * stand-in counter client, PLAINTEXT, acting for every ward.
 *
 * Events: after a commit a handler notes a motcua.internal.v1.PipelineEvent in its
 * context (intake_note_event); the worker sends it to the broker as a second
 * frame behind the reply, and the broker publishes it on
 * intake.events_endpoint after the reply has left. Only the broker touches
 * the PUB socket; a receipt never waits for an event.
 */
#ifndef INTAKE_H
#define INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_cfg.h"
#include "mc_loop.h"
#include "mc_clients.h"
#include "mc_err.h"
#include "mc_store.h"
#include "mc_validate.h"
#include "motcua/v1/intake.pb-c.h"
#include "mc_limits.h"

/* a reply being built: malloc'd serialized IntakeReply */
typedef struct intake_reply {
    uint8_t *bytes;  /* serialized motcua.v1.IntakeReply */
    size_t   length; /* bytes used */
} intake_reply_t;

/* intake_reply_rejection - pack a Rejection; retry_after_ms only if retryable */
int intake_reply_rejection(intake_reply_t *reply, Motcua__V1__Reason reason, const char *field,
                           const char *message, int retry_after_ms);

/* intake_reply_missing - pack the Rejection of a validation problem with its
 * Rejection.missing list (every required document absent; never retryable) */
int intake_reply_missing(intake_reply_t *reply, const mc_problem_t *problem);

/* intake_reply_pack - pack any IntakeReply */
int intake_reply_pack(intake_reply_t *reply, const Motcua__V1__IntakeReply *message);

/* intake_reply_clear - free the bytes */
void intake_reply_clear(intake_reply_t *reply);

/* intake_reason_retryable - is this reason worth a retry by the client? */
int intake_reason_retryable(Motcua__V1__Reason reason);

/*
 * The committer (intake_commit.c): group commit of new dossiers. Workers
 * prepare a dossier and hand it over; one thread with its own store
 * connection receives every dossier waiting at that moment in one
 * transaction (mc_store_create_dossiers) and wakes each worker with its
 * result after the commit. Created before the workers, destroyed after them.
 */
typedef struct intake_committer intake_committer_t;

/* intake_committer_new - start the committer thread; NULL with err */
intake_committer_t *intake_committer_new(const mc_cfg_t *cfg, mc_err_t *err);

/* intake_commit_submit - hand d over and wait until its transaction ended:
 * *r is its outcome (OK: committed; EXISTS: the key's first response, owned
 * by the caller; < 0: nothing stored). d->pack runs on the committer's thread */
void intake_commit_submit(intake_committer_t *c, mc_new_dossier_t *d, mc_new_dossier_result_t *r);

/* intake_committer_destroy - commit what still waits, stop the thread, free, NULL */
void intake_committer_destroy(intake_committer_t **committer);

/* per-worker context handed to request handlers */
typedef struct intake_ctx {
    const mc_cfg_t *cfg;                     /* immutable configuration */
    mc_store_t     *store;                   /* this worker's store (status and follow-ups) */
    intake_committer_t *committer;           /* new dossiers go through it (group commit) */
    int64_t         next_connect;            /* monotonic ms before which we do not reconnect */
    int             worker;                  /* worker number, for logs */
    const mc_client_t *client;               /* whom the request is handled as: its CURVE key's client, or the one a gateway names (on_behalf_of) */
    const mc_clients_t *clients;             /* the registry of the moment (on_behalf_of), NULL in plain-text mode */
    int             event_kind;              /* set by a handler after a commit: PipelineEvent kind to publish, 0 none */
    char            event_code[MC_CODE_MAX]; /* the dossier code of that event */
} intake_ctx_t;

/* intake_note_event - remember a PipelineEvent for the broker to publish after the reply */
void intake_note_event(intake_ctx_t *ctx, int kind, const char *code);

#define INTAKE_SECRET_LEN 36 /* a dossier's secret: lowercase UUID text (dossier.rating_token) */

/* intake_secret_equal - given == stored (a dossier's secret), in constant time */
bool intake_secret_equal(const char *given, const char *stored);

/* intake_ward_of_unit - the served ward whose one-stop unit is unit_id, or NULL */
const mc_ward_t *intake_ward_of_unit(const mc_cfg_t *cfg, const char *unit_id);

/* intake_receiving_ward - boundary-free reception: the ward receiving submit
 * (its receiving_ward_code, or competent when empty), which the client must
 * act for and which must share competent's province; NULL with a
 * REASON_FORBIDDEN rejection in reply otherwise */
const mc_ward_t *intake_receiving_ward(intake_ctx_t *ctx, const Motcua__V1__SubmitDossier *submit,
                                       const mc_ward_t *competent, intake_reply_t *reply);

/* intake_forward_due - *forward_due_at = end of the rules.forward_days-th
 * working day after the deemed receipt; -1 (logged) when the calendar has no such day */
int intake_forward_due(intake_ctx_t *ctx, int64_t received_at, int cutoff_minutes,
                       int64_t *forward_due_at);

/* intake_acts_for_dossier - the client acts for ward_code or receiving_ward ("" = none) */
bool intake_acts_for_dossier(const intake_ctx_t *ctx, const char *ward_code,
                             const char *receiving_ward);

/* intake_forbidden_code - the check on a dossier code whose unit is ward's,
 * before anything else: 0 when the client acts for ward, or for another ward
 * of its province that received this very dossier (read from the store);
 * else 1 with the one REASON_FORBIDDEN of intake_forbidden, whether the code
 * exists or not (or a retryable rejection when the store cannot answer) */
int intake_forbidden_code(intake_ctx_t *ctx, const mc_ward_t *ward, const char *code,
                          intake_reply_t *reply);

/* intake_forbidden - 0 when ctx's client acts for ward; else a REASON_FORBIDDEN
 * rejection (field named) in reply and 1. A NULL ward is forbidden. */
int intake_forbidden(intake_ctx_t *ctx, const mc_ward_t *ward, const char *field,
                     intake_reply_t *reply);

/* intake_store_ready - connected, or reconnected now if the backoff allows */
int intake_store_ready(intake_ctx_t *ctx);

/* intake_handle - one request frame in, one reply frame out (never fails to answer) */
void intake_handle(intake_ctx_t *ctx, const uint8_t *frame, size_t length, intake_reply_t *reply);

/* intake_submit - SubmitDossier: validate, store, receipt */
void intake_submit(intake_ctx_t *ctx, const Motcua__V1__SubmitDossier *submit,
                   intake_reply_t *reply);

/* intake_accept_due - an online dossier's acceptance deadline: cfg->rules.acceptance_hours
 * working hours after at (mc_calendar_due); 0 or -1 with err */
int intake_accept_due(const mc_cfg_t *cfg, int64_t at, int64_t *accept_due_at, mc_err_t *err);

/* intake_status - StatusQuery: state and history */
void intake_status(intake_ctx_t *ctx, const Motcua__V1__StatusQuery *query,
                   intake_reply_t *reply);

/* intake_supplement - SupplementDossier: documents added, the clock restarts (intake_followup.c) */
void intake_supplement(intake_ctx_t *ctx, const Motcua__V1__SupplementDossier *supplement,
                       intake_reply_t *reply);

/* intake_withdraw - WithdrawDossier: the applicant withdraws (intake_followup.c) */
void intake_withdraw(intake_ctx_t *ctx, const Motcua__V1__WithdrawDossier *withdraw,
                     intake_reply_t *reply);

/* intake_catalog - CatalogQuery: the procedures and the client's wards (intake_catalog.c) */
void intake_catalog(intake_ctx_t *ctx, const Motcua__V1__CatalogQuery *query,
                    intake_reply_t *reply);

/* intake_rate - RateService: the applicant's satisfaction rating, once per dossier (intake_followup.c) */
void intake_rate(intake_ctx_t *ctx, const Motcua__V1__RateService *rate, intake_reply_t *reply);

/* the server */
typedef struct intake_server intake_server_t;

/*
 * intake_server_new - bind, start workers; NULL with err on failure. Unless
 * intake.plaintext, the public socket is a CURVE server (intake.server_key_file)
 * whose ZAP handler admits only the keys in clients (which must outlive the
 * server); each request is handled as the client its key names.
 */
intake_server_t *intake_server_new(const mc_cfg_t *cfg, const mc_clients_t *clients,
                                   mc_err_t *err);

/*
 * intake_server_start - the broker on loop: workers' replies, clients'
 * requests (read only while a worker is free); 0, or -1 with err.
 * intake_server_stop (SIGTERM/SIGINT) turns new requests away with
 * SHUTTING_DOWN, lets the workers finish what they hold, and stops the loop
 * with 0 once idle and quiet for a moment, or with -1 after
 * intake.shutdown_grace_ms (`stop_timeout`).
 */
int intake_server_start(intake_server_t *server, mc_loop_t *loop, mc_err_t *err);

/* intake_server_stop - begin the graceful stop (see intake_server_start) */
void intake_server_stop(intake_server_t *server);

/*
 * intake_server_reload - from the next request on, answer with cfg (the
 * catalog, calendar, wards and limits of a reloaded motcua.yaml: its
 * restart-only keys already hold the running values) and admit the keys of
 * clients (NULL in plain-text mode; a change of mode is refused). Waits for
 * the requests in hand, so the old configuration and registry may be freed
 * when it returns. 0, or -1 with err (nothing changed).
 */
int intake_server_reload(intake_server_t *server, const mc_cfg_t *cfg, const mc_clients_t *clients,
                         mc_err_t *err);

/* intake_server_destroy - free and NULL */
void intake_server_destroy(intake_server_t **server);

#endif
