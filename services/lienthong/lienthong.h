/*
 * lienthong - the motcua-lienthong daemon's internal interfaces.
 *
 * Shape: one thread owns everything but the ZAP handler: a CURVE ROUTER for
 * the agencies, a PUB for PipelineEvents, a SUB on the router's and
 * intake's events, and one mc_store_t. The store is the source of truth:
 * a case is marked sent in the store before its frame leaves, acks and
 * results are committed before anything is answered, and a restart loses
 * nothing but the in-memory credit and windows (agencies say Ready again).
 *
 * Per connected agency (a "peer", one per ROUTER routing id) the hub keeps
 * the agency code from ZAP, the credit the agency granted, a Postfix-style
 * concurrency window (starts at 1, +1 per ack up to window_max, halved on an
 * ack timeout) and the cases in flight. A peer silent for 3 heartbeat
 * intervals is forgotten; its unacked cases go again at their ack timeout.
 */
#ifndef LIENTHONG_H
#define LIENTHONG_H

#include <stddef.h>
#include <stdint.h>

#include "mc_agencies.h"
#include "mc_cfg.h"
#include "mc_err.h"
#include "mc_store_cases.h"
#include "motcua/v1/agency.pb-c.h"

#define LIENTHONG_MAX_FRAME (4 * 1024 * 1024) /* largest frame an agency may send */

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

/* lienthong_pack_heartbeat - HubToAgency{heartbeat} */
int lienthong_pack_heartbeat(lienthong_frame_t *frame);

/* lienthong_pack_result_ack - HubToAgency{result_ack} */
int lienthong_pack_result_ack(const char *case_id, int accepted, const char *reason,
                              lienthong_frame_t *frame);

/* lienthong_pack_refusal - HubToAgency{refusal} */
int lienthong_pack_refusal(const char *case_id, Motcua__V1__Reason reason, const char *message,
                           lienthong_frame_t *frame);

/* lienthong_pack_event - a PipelineEvent for the PUB socket */
int lienthong_pack_event(int kind, const char *dossier_code, const char *agency,
                         lienthong_frame_t *frame);

/*
 * lienthong_check_result - is a CaseResult usable? NULL if so, else a
 * short reason for the Refusal (bounds of agency.proto, UTF-8, outcome).
 */
const char *lienthong_check_result(const Motcua__V1__CaseResult *r);

/* --- lienthong_hub.c: the server ------------------------------------------ */

typedef struct lienthong_hub lienthong_hub_t;

/* lienthong_hub_new - ZAP handler, sockets, store; NULL with err on failure */
lienthong_hub_t *lienthong_hub_new(const mc_cfg_t *cfg, mc_agencies_t *agencies, mc_err_t *err);

/* lienthong_hub_run - serve until a signal arrives on stop_fd (a signalfd); 0 on a clean stop */
int lienthong_hub_run(lienthong_hub_t *hub, int stop_fd);

/* lienthong_hub_destroy - close everything, free, NULL the pointer (agencies are the caller's) */
void lienthong_hub_destroy(lienthong_hub_t **hub);

/* lienthong_now_ms - monotonic milliseconds */
int64_t lienthong_now_ms(void);

#endif
