/*
 * lienthong - the motcua-lienthong daemon's internal interfaces.
 *
 * Shape: one thread owns everything but the ZAP handler: a CURVE ROUTER for
 * the agencies, a PUB for PipelineEvents, a SUB on the router's and
 * intake's events, and one mc_store_t. The store is the source of truth:
 * a case is marked sent in the store before its frame leaves, acks and
 * results are committed before anything is answered (those that arrive
 * together in one transaction: mc_store_cases_batch), and a restart (even
 * kill -9) loses nothing but the in-memory credit and windows.
 *
 * Sessions (agency.proto rules 6 and 7): the hub picks a random non-zero
 * epoch at start and puts it in every Heartbeat and Hello. A connection it
 * does not know (ZeroMQ reconnects a DEALER to a restarted hub silently)
 * gets a Hello asking for a resync unless its first frame is a resync
 * Ready; the resync Ready replaces the credit and reconciles the cases the
 * agency holds against the store. Acks record the agency's session; the
 * hub renews the leases of the sessions it hears from every lease_ms/4 (one
 * statement; a dropped peer makes it due at once, and it marks the sessions
 * it no longer lists disconnected), and every second
 * (and at start) queues again the acked cases whose lease ran out.
 *
 * Per connected agency (a "peer", one per connection: routing id, ZAP user
 * id and socket; at most 64 per agency and 4096 in all, so one key cannot
 * take the others' places) the hub keeps
 * the agency code from ZAP, its session, the credit the agency granted, a
 * Postfix-style concurrency window (starts at 1, +1 per ack up to
 * window_max, halved on an ack timeout) and the cases in flight. A peer
 * silent for 3 heartbeat intervals is forgotten; its unacked cases go again
 * at their ack timeout, its acked ones when its session's lease runs out.
 * The hub's view is logged without debug: `agency_view` (NOTICE) when an
 * agency's connected/ready changes, `hub_view` every 60 s, and the systemd
 * STATUS line.
 */
#ifndef LIENTHONG_H
#define LIENTHONG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_agencies.h"
#include "mc_cfg.h"
#include "mc_loop.h"
#include "mc_err.h"
#include "mc_store_cases.h"
#include "motcua/v1/agency.pb-c.h"

#define LIENTHONG_MAX_FRAME   (4 * 1024 * 1024) /* largest frame an agency may send */
#define LIENTHONG_MAX_HOLDING 100000            /* most HeldCase entries in a resync Ready */
#define LIENTHONG_SESSION_MIN 16                /* shortest Ready.session */
#define LIENTHONG_SESSION_MAX 64                /* longest Ready.session */
/* ResultAck.reason of a refused second NEEDS_DOCUMENTS (code REASON_SUPPLEMENT_ALREADY_REQUESTED) */
#define LIENTHONG_SUPPLEMENT_REFUSED_TEXT                                                         \
    "Hồ sơ đã được yêu cầu bổ sung một lần; không yêu cầu bổ sung lần thứ hai (Nghị định "      \
    "118/2025/NĐ-CP). Đề nghị trả lời lại hồ sơ này: giải quyết (APPROVED) hoặc từ chối "       \
    "(REJECTED)."

/* --- lienthong_msg.c: frames ---------------------------------------------- */

/* a packed frame: malloc'd bytes */
typedef struct lienthong_frame {
    uint8_t *bytes;  /* serialized HubToAgency */
    size_t   length; /* bytes used */
} lienthong_frame_t;

/* lienthong_frame_clear - free the bytes */
void lienthong_frame_clear(lienthong_frame_t *frame);

/* lienthong_pack_case - a claimed case as a HubToAgency{case} (catalog fills the names) */
int lienthong_pack_case(const mc_cfg_t *cfg, const mc_case_t *c, lienthong_frame_t *frame);

/* lienthong_pack_heartbeat - HubToAgency{heartbeat} with the hub's epoch */
int lienthong_pack_heartbeat(uint64_t epoch, lienthong_frame_t *frame);

/* lienthong_pack_hello - HubToAgency{hello}: epoch, resync_requested, heartbeat and lease */
int lienthong_pack_hello(uint64_t epoch, int heartbeat_ms, int lease_ms, lienthong_frame_t *frame);

/* lienthong_pack_result_ack - HubToAgency{result_ack} */
int lienthong_pack_result_ack(const char *case_id, int accepted, const char *reason,
                              lienthong_frame_t *frame);

/* lienthong_pack_result_ack_code - HubToAgency{result_ack} with ResultAck.code (a Reason:
 * REASON_SUPPLEMENT_ALREADY_REQUESTED when a second NEEDS_DOCUMENTS was refused) */
int lienthong_pack_result_ack_code(const char *case_id, int accepted, const char *reason,
                                   Motcua__V1__Reason code, lienthong_frame_t *frame);

/* lienthong_pack_refusal - HubToAgency{refusal} */
int lienthong_pack_refusal(const char *case_id, Motcua__V1__Reason reason, const char *message,
                           lienthong_frame_t *frame);

/* lienthong_pack_due_soon - HubToAgency{due_soon} (agency.proto rule 8) */
int lienthong_pack_due_soon(const char *case_id, int revision, int64_t due_at,
                            int64_t dossier_due_at, const char *message, lienthong_frame_t *frame);

/* lienthong_pack_extension_ack - HubToAgency{extension_ack}: accepted with the new date kept,
 * or refused with code and reason */
int lienthong_pack_extension_ack(const char *case_id, bool accepted, int64_t new_due_at,
                                 Motcua__V1__Reason code, const char *reason,
                                 lienthong_frame_t *frame);

/* lienthong_check_extension - is an ExtensionRequest usable? NULL if so, else a reason:
 * case_id valid, revision <= INT32_MAX, new_due_at > 0, reason 1..2000 bytes UTF-8 */
const char *lienthong_check_extension(const Motcua__V1__ExtensionRequest *r);

/* lienthong_pack_event - a PipelineEvent for the PUB socket */
int lienthong_pack_event(int kind, const char *dossier_code, const char *agency,
                         lienthong_frame_t *frame);

/*
 * lienthong_check_result - is a CaseResult usable? NULL if so, else a
 * short reason for the Refusal (bounds of agency.proto, UTF-8, outcome).
 */
const char *lienthong_check_result(const Motcua__V1__CaseResult *r);

/*
 * lienthong_check_ready - is a Ready usable? NULL if so, else a reason:
 * credit 1..1000 (0 allowed in a resync), client_version, session (empty
 * or valid), holding only in a resync, at most LIENTHONG_MAX_HOLDING
 * entries each with a case_id (1..95 bytes UTF-8) and revision <= INT32_MAX.
 */
const char *lienthong_check_ready(const Motcua__V1__Ready *r);

/* lienthong_case_id_ok - 1..95 printable ASCII bytes (case ids are "<code>/<step>"):
 * only such a case_id is echoed, logged or passed to the store */
bool lienthong_case_id_ok(const char *case_id);

/* lienthong_session_ok - LIENTHONG_SESSION_MIN..MAX printable ASCII bytes */
bool lienthong_session_ok(const char *session);

/* --- lienthong_decide.c: resends ------------------------------------------- */

/* sends with a delay of their own: the delay doubles from the first send to the 7th
 * (64 x ack_timeout_ms) and stays there */
#define LIENTHONG_RESEND_STEPS 7

/* lienthong_resend_delay_ms - how long the attempt-th send of a case (1, 2, ...)
 * waits for its ack before the case is due again: ack_timeout_ms * 2^(attempt-1),
 * at most ack_timeout_ms * 2^(LIENTHONG_RESEND_STEPS-1) */
int64_t lienthong_resend_delay_ms(int ack_timeout_ms, int attempt);

/* lienthong_resend_delays - table[i] = lienthong_resend_delay_ms(ack_timeout_ms, i + 1);
 * every later send waits table[LIENTHONG_RESEND_STEPS - 1] (what mc_store_cases_claim binds) */
void lienthong_resend_delays(int ack_timeout_ms, int64_t table[LIENTHONG_RESEND_STEPS]);

/* --- lienthong_decide.c: results ------------------------------------------ */

/* what lienthong_decide_result needs and where its plan's texts live (one per call) */
typedef struct lienthong_result_ctx {
    const mc_cfg_t *cfg;          /* calendar, catalog, rules.supplement_days */
    char            before[256];  /* plan.before.detail */
    char            detail[256];  /* plan.event.detail */
    char            dedupe[160];  /* plan.notice_dedupe */
    char            data[8192];   /* plan.notice_data: a JSON object */
} lienthong_result_ctx_t;

/*
 * lienthong_decide_result - mc_result_decide_fn (arg: a lienthong_result_ctx_t)
 * for an agency's accepted result (docs/pipeline.md, docs/rules.md):
 *   NEEDS_DOCUMENTS when the dossier was asked once already (Nghị định
 *     118/2025): refused, a `supplement_refused` event only;
 *   APPROVED of an acceptance case (step 0): case done, dossier RECEIVED,
 *     the procedure's processing time counted from claim->now
 *     (mc_calendar_due with the procedure's unit and cut-off), `accepted`
 *     event, `received` notice ("<code>/received", data {});
 *   APPROVED, not last: case done, `step_done`, the next step queued due
 *     mc_calendar_due(now, its limit, its unit, no cut-off);
 *   APPROVED, last: case done, `step_done`, dossier RESULT_READY,
 *     `result_ready` event and notice ({"agency"});
 *   REJECTED: case done, later steps cancelled, dossier REFUSED, `refused`
 *     event and notice ({"agency","reason"});
 *   NEEDS_DOCUMENTS, the one request: case paused, dossier WAITING_SUPPLEMENT
 *     with supplement_due_at = mc_calendar_due(now, rules.supplement_days
 *     working days, or 15), `supplement_requested` event and notice
 *     "<code>/supplement_requested/<n>" ({"supplement_due","agency","missing"}).
 * -1 (logged) when the procedure is unknown or the calendar cannot count.
 */
int lienthong_decide_result(void *arg, const mc_result_claim_t *claim, mc_result_plan_t *plan);

/* --- lienthong_hub.c: the server ------------------------------------------ */

typedef struct lienthong_hub lienthong_hub_t;

/* lienthong_hub_new - ZAP handler, sockets, store; NULL with err on failure */
lienthong_hub_t *lienthong_hub_new(const mc_cfg_t *cfg, mc_agencies_t *agencies, mc_err_t *err);

/* lienthong_hub_start - on loop: the agencies' ROUTER, the events, and the
 * hub's timers at once, then at least every 100 ms; 0, or -1 with err */
int lienthong_hub_start(lienthong_hub_t *hub, mc_loop_t *loop, mc_err_t *err);

/*
 * lienthong_hub_reload - serve cfg and agencies from now on (SIGHUP, between
 * two loop handlers): the ZAP handler answers from the new table at once, an
 * agency's view follows its code, a connection of an agency no longer listed
 * (or whose key changed) is dropped at the next tick and its connection
 * ended, so it must authenticate again (its cases go again: nothing in
 * flight is lost, the store has them). The old cfg and agencies
 * are no longer read once this returns 0 (the caller frees them); -1 (err,
 * out of memory) changes nothing.
 */
int lienthong_hub_reload(lienthong_hub_t *hub, const mc_cfg_t *cfg, mc_agencies_t *agencies,
                         mc_err_t *err);

/* lienthong_hub_destroy - close everything, free, NULL the pointer (agencies are the caller's) */
void lienthong_hub_destroy(lienthong_hub_t **hub);

#endif
