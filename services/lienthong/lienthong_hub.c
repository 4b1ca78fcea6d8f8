/*
 * lienthong_hub - the agencies' server: CURVE ROUTER, credit, windows,
 * acks, results, heartbeats (contract in lienthong.h, protocol in
 * proto/motcua/v1/agency.proto).
 *
 * Order of things, so that a crash at any point loses nothing:
 *   send a case:  claim in the store (marked sent, attempts+1) → frame out;
 *   ack/result:   frame in → commit → answer.
 * A frame lost on the way is covered by the ack timeout (the case goes
 * again, same case_id) or by the agency resending its result.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "lienthong.h"
#include "mc_curve.h"
#include "mc_log.h"
#include "mc_transport.h"
#include "motcua/v1/pipeline.pb-c.h"

#define HUB_MAX_PEERS      4096 /* connections at once (only listed keys get in) */
#define HUB_TICK_MS        100  /* longest sleep: timers are checked at least this often */
#define HUB_DRAIN          256  /* frames handled per wake before timers run again */
#define HUB_RECONNECT_MS   1000 /* least time between store reconnect attempts */
#define HUB_ZAP_DOMAIN     "motcua-lienthong"

/* a case sent on this connection and not acked yet */
typedef struct inflight {
    char    case_id[96]; /* the case */
    int64_t deadline;    /* monotonic ms: no ack by then is a timeout */
} inflight_t;

/* one connected agency (one ROUTER routing id) */
typedef struct peer {
    uint8_t     rid[256];     /* ROUTER routing id */
    size_t      rid_len;      /* bytes in rid */
    char        agency[68];   /* from ZAP: the only identity we trust */
    uint32_t    credit;       /* cases the agency still accepts */
    int         window;       /* most cases in flight now (slow open) */
    bool        ready;        /* said Ready at least once */
    bool        gone;         /* its connection closed: dropped at the next tick */
    inflight_t *inflight;     /* cases in flight */
    size_t      n_inflight;   /* entries used */
    size_t      cap_inflight; /* entries allocated */
    int64_t     last_recv;    /* monotonic ms of the last frame from it */
    int64_t     last_send;    /* monotonic ms of the last frame to it */
} peer_t;

struct lienthong_hub {
    const mc_cfg_t *cfg;          /* immutable configuration */
    mc_agencies_t  *agencies;     /* who may connect (caller's) */
    mc_zap_t       *zap;          /* ZAP handler thread */
    void           *router;       /* CURVE ROUTER for agencies */
    void           *pub;          /* PipelineEvents out */
    void           *sub;          /* PipelineEvents in (router, intake) */
    mc_store_t     *store;        /* this thread's store */
    peer_t        **peers;        /* connected agencies */
    size_t          n_peers;      /* entries used */
    int64_t         next_poll;    /* monotonic ms of the next safety-net poll */
    int64_t         store_retry;  /* monotonic ms before which the store is not retried */
};

/* lienthong_now_ms - monotonic ms */
int64_t lienthong_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* log_store_error - one line for a failed store call */
static void log_store_error(lienthong_hub_t *hub, const char *what, mc_store_rc_t rc,
                            const mc_err_t *err)
{
    char line[300], quoted[340];
    mc_log(rc == MC_STORE_UNAVAILABLE ? MC_LOG_WARNING : MC_LOG_ERR, "store_failed",
           "what=%s unavailable=%s error=%s", what, rc == MC_STORE_UNAVAILABLE ? "yes" : "no",
           mc_log_quote(mc_err_first(err, line, sizeof line), quoted, sizeof quoted));
    if (rc == MC_STORE_UNAVAILABLE)
        hub->store_retry = lienthong_now_ms() + HUB_RECONNECT_MS;
}

/* store_usable - not inside a reconnect backoff */
static bool store_usable(lienthong_hub_t *hub)
{
    return mc_store_connected(hub->store) || lienthong_now_ms() >= hub->store_retry;
}

/* send_to - one frame to a peer; frame is cleared. false if it did not go:
 * the ROUTER is mandatory, so a closed connection shows as EHOSTUNREACH and
 * the peer is marked gone at once instead of after 3 silent heartbeats */
static bool send_to(lienthong_hub_t *hub, peer_t *p, lienthong_frame_t *frame)
{
    bool sent = false;
    if (frame->bytes && !p->gone) {
        if (zmq_send(hub->router, p->rid, p->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
            /* the routing id frame is queued only with its body: this cannot fail halfway */
            sent = zmq_send(hub->router, frame->bytes, frame->length, ZMQ_DONTWAIT) >= 0;
        } else if (errno == EHOSTUNREACH) {
            p->gone = true;
        }
    }
    if (sent)
        p->last_send = lienthong_now_ms();
    lienthong_frame_clear(frame);
    return sent;
}

/* publish - a PipelineEvent for the other daemons (losing one costs latency only) */
static void publish(lienthong_hub_t *hub, int kind, const char *code, const char *agency)
{
    lienthong_frame_t f = {0};
    if (lienthong_pack_event(kind, code, agency, &f) == 0)
        zmq_send(hub->pub, f.bytes, f.length, ZMQ_DONTWAIT);
    lienthong_frame_clear(&f);
}

/* refuse - a Refusal to a peer */
static void refuse(lienthong_hub_t *hub, peer_t *p, const char *case_id, Motcua__V1__Reason reason,
                   const char *message)
{
    lienthong_frame_t f = {0};
    if (lienthong_pack_refusal(case_id, reason, message, &f) == 0)
        send_to(hub, p, &f);
    mc_log(MC_LOG_WARNING, "frame_refused", "agency=%s reason=%d message=\"%s\"", p->agency,
           (int)reason, message);
}

/* inflight_remove - forget a case in flight; true if it was there */
static bool inflight_remove(peer_t *p, const char *case_id)
{
    for (size_t i = 0; i < p->n_inflight; i++) {
        if (strcmp(p->inflight[i].case_id, case_id) == 0) {
            p->inflight[i] = p->inflight[--p->n_inflight];
            return true;
        }
    }
    return false;
}

/* inflight_add - remember a case sent; -1 on out of memory */
static int inflight_add(peer_t *p, const char *case_id, int64_t deadline)
{
    inflight_remove(p, case_id); /* a resend replaces the old entry */
    if (p->n_inflight == p->cap_inflight) {
        size_t cap = p->cap_inflight ? p->cap_inflight * 2 : 8;
        inflight_t *grown = realloc(p->inflight, cap * sizeof *grown);
        if (!grown)
            return -1;
        p->inflight = grown;
        p->cap_inflight = cap;
    }
    inflight_t *e = &p->inflight[p->n_inflight++];
    snprintf(e->case_id, sizeof e->case_id, "%s", case_id);
    e->deadline = deadline;
    return 0;
}

/* dispatch - send a peer as many cases as its credit and window allow */
static void dispatch(lienthong_hub_t *hub, peer_t *p)
{
    const mc_cfg_lienthong_t *lc = &hub->cfg->lienthong;
    if (!p->ready || p->gone || !store_usable(hub))
        return;
    long room = (long)p->window - (long)p->n_inflight;
    if ((long)p->credit < room)
        room = (long)p->credit;
    if (room > 0) {
        /* is the connection still there? a case marked sent into a closed
         * connection would cost an attempt and an ack timeout */
        lienthong_frame_t probe = {0};
        if (lienthong_pack_heartbeat(&probe) == 0 && !send_to(hub, p, &probe))
            return;
    }
    /* limit 0 still runs the dead-letter pass for this agency */
    mc_case_t *cases = NULL;
    size_t n = 0;
    int dead = 0;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_cases_claim(hub->store, p->agency, room > 0 ? (int)room : 0,
                                            lc->ack_timeout_ms, lc->max_attempts, &cases, &n,
                                            &dead, &err);
    if (rc != MC_STORE_OK) {
        log_store_error(hub, "claim", rc, &err);
        return;
    }
    if (dead > 0)
        mc_log(MC_LOG_WARNING, "dead_letters", "agency=%s count=%d", p->agency, dead);
    int64_t now = lienthong_now_ms();
    for (size_t i = 0; i < n; i++) {
        mc_case_t *c = &cases[i];
        lienthong_frame_t f = {0};
        if (lienthong_pack_case(hub->cfg, c, &f) != 0) {
            mc_log(MC_LOG_ERR, "case_unpackable", "case=%s", c->case_id);
            continue; /* marked sent: it becomes a dead letter for an operator to see */
        }
        int shift = c->attempt - 1 < 6 ? c->attempt - 1 : 6;
        inflight_add(p, c->case_id, now + ((int64_t)lc->ack_timeout_ms << shift));
        send_to(hub, p, &f); /* lost or not, the ack timeout decides what happens next */
        if (p->credit > 0)
            p->credit--;
        mc_log(c->attempt > 1 ? MC_LOG_NOTICE : MC_LOG_INFO, "case_sent",
               "case=%s agency=%s attempt=%d window=%d credit=%" PRIu32, c->case_id, p->agency,
               c->attempt, p->window, p->credit);
    }
    mc_cases_free(&cases, n);
}

/* dispatch_agency - dispatch every connection of agency (NULL: all) */
static void dispatch_agency(lienthong_hub_t *hub, const char *agency)
{
    for (size_t i = 0; i < hub->n_peers; i++)
        if (!agency || !*agency || strcmp(hub->peers[i]->agency, agency) == 0)
            dispatch(hub, hub->peers[i]);
}

/* peer_find - the peer with this routing id, made on first sight */
static peer_t *peer_find(lienthong_hub_t *hub, const void *rid, size_t rid_len, const char *agency)
{
    for (size_t i = 0; i < hub->n_peers; i++) {
        peer_t *p = hub->peers[i];
        if (p->rid_len == rid_len && memcmp(p->rid, rid, rid_len) == 0 && !p->gone)
            return p;
    }
    if (hub->n_peers >= HUB_MAX_PEERS || rid_len > sizeof hub->peers[0]->rid)
        return NULL;
    peer_t *p = calloc(1, sizeof *p);
    peer_t **grown = realloc(hub->peers, (hub->n_peers + 1) * sizeof *grown);
    if (!p || !grown) {
        free(p);
        if (grown)
            hub->peers = grown;
        return NULL;
    }
    hub->peers = grown;
    memcpy(p->rid, rid, rid_len);
    p->rid_len = rid_len;
    snprintf(p->agency, sizeof p->agency, "%s", agency);
    p->window = 1; /* slow open: earn a wider window with acks */
    p->last_recv = p->last_send = lienthong_now_ms();
    hub->peers[hub->n_peers++] = p;
    mc_log(MC_LOG_NOTICE, "agency_connected", "agency=%s peers=%zu", agency, hub->n_peers);
    return p;
}

/* peer_drop - forget peer i (its credit with it) */
static void peer_drop(lienthong_hub_t *hub, size_t i, const char *why)
{
    peer_t *p = hub->peers[i];
    mc_log(MC_LOG_NOTICE, "agency_gone", "agency=%s why=%s in_flight=%zu", p->agency, why,
           p->n_inflight);
    free(p->inflight);
    free(p);
    hub->peers[i] = hub->peers[--hub->n_peers];
}

/* handle_ack - CaseAck */
static void handle_ack(lienthong_hub_t *hub, peer_t *p, const Motcua__V1__CaseAck *ack)
{
    if (!ack->case_id || !*ack->case_id || strlen(ack->case_id) > 95) {
        refuse(hub, p, "", MOTCUA__V1__REASON__REASON_MALFORMED, "ack without a valid case_id");
        return;
    }
    if (!store_usable(hub))
        return; /* not acked in the store: the case goes again and is acked again */
    mc_case_verdict_t verdict;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_cases_ack(hub->store, p->agency, ack->case_id, &verdict, &err);
    if (rc != MC_STORE_OK) {
        log_store_error(hub, "ack", rc, &err);
        return;
    }
    switch (verdict) {
    case MC_VERDICT_ACCEPTED:
    case MC_VERDICT_DUPLICATE:
        if (inflight_remove(p, ack->case_id) && p->window < hub->cfg->lienthong.window_max)
            p->window++; /* slow open: one more per ack */
        mc_log(MC_LOG_INFO, "case_acked", "case=%s agency=%s verdict=%s window=%d", ack->case_id,
               p->agency, mc_case_verdict_name(verdict), p->window);
        dispatch(hub, p);
        break;
    case MC_VERDICT_NOT_YOURS:
        refuse(hub, p, ack->case_id, MOTCUA__V1__REASON__REASON_FORBIDDEN, "not your case");
        break;
    default:
        refuse(hub, p, ack->case_id, MOTCUA__V1__REASON__REASON_NOT_FOUND,
               mc_case_verdict_name(verdict));
        break;
    }
}

/* handle_result - CaseResult: check, commit, answer */
static void handle_result(lienthong_hub_t *hub, peer_t *p, const Motcua__V1__CaseResult *r)
{
    const char *bad = lienthong_check_result(r);
    if (bad) {
        refuse(hub, p, r->case_id && strlen(r->case_id) < 96 ? r->case_id : "",
               MOTCUA__V1__REASON__REASON_MALFORMED, bad);
        return;
    }
    if (!store_usable(hub))
        return; /* no answer: the agency resends until it gets one */
    /* the bytes we store are our own packing of what we understood, so the
     * same result always compares equal however the agency encoded it */
    size_t n = motcua__v1__case_result__get_packed_size(r);
    uint8_t *bytes = malloc(n ? n : 1);
    mc_case_missing_t *missing = calloc(r->n_missing + 1, sizeof *missing);
    if (!bytes || !missing) {
        free(bytes);
        free(missing);
        return;
    }
    motcua__v1__case_result__pack(r, bytes);
    for (size_t i = 0; i < r->n_missing; i++) {
        missing[i].document_type = r->missing[i]->document_type;
        missing[i].name = r->missing[i]->name;
        missing[i].reason = r->missing[i]->reason;
    }
    mc_case_result_t in = {
        .agency = p->agency, .case_id = r->case_id, .outcome = (int)r->outcome,
        .result = bytes, .result_len = n, .reason = r->reason,
        .missing = missing, .n_missing = r->n_missing, .revision = (int)r->revision,
    };
    mc_case_result_out_t out;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_cases_result(hub->store, hub->cfg->calendar, &in, &out, &err);
    free(bytes);
    free(missing);
    if (rc != MC_STORE_OK) {
        log_store_error(hub, "result", rc, &err);
        return;
    }
    lienthong_frame_t f = {0};
    switch (out.verdict) {
    case MC_VERDICT_ACCEPTED:
    case MC_VERDICT_DUPLICATE:
        lienthong_pack_result_ack(r->case_id, 1, "", &f);
        break;
    case MC_VERDICT_CONFLICT:
    case MC_VERDICT_CLOSED:
        lienthong_pack_result_ack(r->case_id, 0, mc_case_verdict_name(out.verdict), &f);
        break;
    case MC_VERDICT_NOT_YOURS:
        refuse(hub, p, r->case_id, MOTCUA__V1__REASON__REASON_FORBIDDEN, "not your case");
        return;
    case MC_VERDICT_UNKNOWN:
        refuse(hub, p, r->case_id, MOTCUA__V1__REASON__REASON_NOT_FOUND, "unknown case");
        return;
    }
    send_to(hub, p, &f);
    mc_log(MC_LOG_INFO, "case_result", "case=%s agency=%s outcome=%d verdict=%s state=%d next=%s",
           r->case_id, p->agency, (int)r->outcome, mc_case_verdict_name(out.verdict),
           out.dossier_state, out.next_agency[0] ? out.next_agency : "-");
    if (out.verdict != MC_VERDICT_ACCEPTED)
        return;
    if (inflight_remove(p, r->case_id) && p->window < hub->cfg->lienthong.window_max)
        p->window++; /* a result is an ack too */
    if (out.next_agency[0]) {
        publish(hub, MOTCUA__V1__PIPELINE_EVENT__KIND__KIND_CASE_QUEUED, out.dossier_code,
                out.next_agency);
        dispatch_agency(hub, out.next_agency);
    }
    if (out.notified)
        publish(hub, MOTCUA__V1__PIPELINE_EVENT__KIND__KIND_NOTIFICATION, out.dossier_code, "");
    dispatch(hub, p);
}

/* handle_frame - one frame from an authenticated agency */
static void handle_frame(lienthong_hub_t *hub, peer_t *p, const uint8_t *data, size_t len)
{
    Motcua__V1__AgencyToHub *m = motcua__v1__agency_to_hub__unpack(NULL, len, data);
    if (!m || m->body_case == MOTCUA__V1__AGENCY_TO_HUB__BODY__NOT_SET) {
        refuse(hub, p, "", MOTCUA__V1__REASON__REASON_MALFORMED, "not an AgencyToHub frame");
        if (m)
            motcua__v1__agency_to_hub__free_unpacked(m, NULL);
        return;
    }
    switch (m->body_case) {
    case MOTCUA__V1__AGENCY_TO_HUB__BODY_READY: {
        uint32_t credit = m->ready->credit;
        if (credit < 1 || credit > 1000) {
            refuse(hub, p, "", MOTCUA__V1__REASON__REASON_MALFORMED, "credit must be 1..1000");
            break;
        }
        p->credit = p->credit + credit > 100000 ? 100000 : p->credit + credit;
        p->ready = true;
        mc_log(MC_LOG_DEBUG, "agency_ready", "agency=%s credit=%" PRIu32, p->agency, p->credit);
        dispatch(hub, p);
        break;
    }
    case MOTCUA__V1__AGENCY_TO_HUB__BODY_HEARTBEAT:
        break; /* last_recv is already updated */
    case MOTCUA__V1__AGENCY_TO_HUB__BODY_ACK:
        handle_ack(hub, p, m->ack);
        break;
    case MOTCUA__V1__AGENCY_TO_HUB__BODY_RESULT:
        handle_result(hub, p, m->result);
        break;
    default:
        refuse(hub, p, "", MOTCUA__V1__REASON__REASON_MALFORMED, "unknown body");
        break;
    }
    motcua__v1__agency_to_hub__free_unpacked(m, NULL);
}

/* read_router - one message from the ROUTER: [routing id][frame]; false when none */
static bool read_router(lienthong_hub_t *hub)
{
    zmq_msg_t rid, body;
    zmq_msg_init(&rid);
    if (zmq_msg_recv(&rid, hub->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&rid);
        return false;
    }
    zmq_msg_init(&body);
    bool have_body = zmq_msg_more(&rid) && zmq_msg_recv(&body, hub->router, 0) >= 0;
    bool extra = have_body && zmq_msg_more(&body);
    while (extra) { /* not our protocol: drain the rest of the message */
        zmq_msg_t junk;
        zmq_msg_init(&junk);
        int more = zmq_msg_recv(&junk, hub->router, 0) >= 0 && zmq_msg_more(&junk);
        zmq_msg_close(&junk);
        if (!more)
            break;
    }
    /* the ZAP handler set this from the CURVE key; nothing in the frame counts */
    const char *user = have_body ? zmq_msg_gets(&body, "User-Id") : NULL;
    const mc_agency_t *agency = user ? mc_agencies_find(hub->agencies, user) : NULL;
    if (!agency) {
        mc_log(MC_LOG_WARNING, "frame_dropped", "reason=no_identity");
    } else {
        peer_t *p = peer_find(hub, zmq_msg_data(&rid), zmq_msg_size(&rid), agency->code);
        if (p) {
            p->last_recv = lienthong_now_ms();
            if (extra)
                refuse(hub, p, "", MOTCUA__V1__REASON__REASON_MALFORMED, "one frame per message");
            else
                handle_frame(hub, p, zmq_msg_data(&body), zmq_msg_size(&body));
        }
    }
    zmq_msg_close(&body);
    zmq_msg_close(&rid);
    return true;
}

/* read_events - drain PipelineEvents; dispatch who they concern */
static void read_events(lienthong_hub_t *hub)
{
    bool all = false;
    for (int i = 0; i < HUB_DRAIN; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, hub->sub, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        Motcua__V1__PipelineEvent *e =
            motcua__v1__pipeline_event__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
        zmq_msg_close(&m);
        if (!e)
            continue;
        if (e->kind == MOTCUA__V1__PIPELINE_EVENT__KIND__KIND_CASE_QUEUED && e->agency && *e->agency)
            dispatch_agency(hub, e->agency);
        else if (e->kind == MOTCUA__V1__PIPELINE_EVENT__KIND__KIND_SUPPLEMENTED ||
                 e->kind == MOTCUA__V1__PIPELINE_EVENT__KIND__KIND_CASE_QUEUED)
            all = true;
        motcua__v1__pipeline_event__free_unpacked(e, NULL);
    }
    if (all)
        dispatch_agency(hub, NULL);
}

/* timers - ack timeouts, heartbeats, dead peers, the safety-net poll */
static void timers(lienthong_hub_t *hub)
{
    const mc_cfg_lienthong_t *lc = &hub->cfg->lienthong;
    int64_t now = lienthong_now_ms();
    for (size_t i = 0; i < hub->n_peers;) {
        peer_t *p = hub->peers[i];
        if (p->gone || now - p->last_recv > 3 * (int64_t)lc->heartbeat_ms) {
            peer_drop(hub, i, p->gone ? "closed" : "silent");
            continue;
        }
        bool timed_out = false;
        for (size_t k = 0; k < p->n_inflight;) {
            if (p->inflight[k].deadline <= now) {
                mc_log(MC_LOG_NOTICE, "ack_timeout", "case=%s agency=%s", p->inflight[k].case_id,
                       p->agency);
                p->inflight[k] = p->inflight[--p->n_inflight];
                p->credit++; /* it was not taken: the agency's credit still stands */
                timed_out = true;
                continue;
            }
            k++;
        }
        if (timed_out) {
            p->window = p->window / 2 > 1 ? p->window / 2 : 1; /* halve on timeout */
            dispatch(hub, p);                                  /* the store says what is due */
        }
        if (now - p->last_send >= lc->heartbeat_ms) {
            lienthong_frame_t f = {0};
            if (lienthong_pack_heartbeat(&f) == 0)
                send_to(hub, p, &f);
        }
        i++;
    }
    if (now >= hub->next_poll) {
        hub->next_poll = now + lc->poll_ms;
        dispatch_agency(hub, NULL);
    }
}

/* lienthong_hub_new - ZAP first, then the CURVE socket */
lienthong_hub_t *lienthong_hub_new(const mc_cfg_t *cfg, mc_agencies_t *agencies, mc_err_t *err)
{
    char secret[MC_CURVE_KEY_LEN + 1], public_key[MC_CURVE_KEY_LEN + 1];
    if (mc_curve_read_key(cfg->lienthong.server_key_file, secret, err) != 0 ||
        mc_curve_public_of(secret, public_key, err) != 0)
        return NULL;
    lienthong_hub_t *hub = calloc(1, sizeof *hub);
    if (!hub) {
        mc_err_add(err, "out of memory");
        return NULL;
    }
    hub->cfg = cfg;
    hub->agencies = agencies;
    hub->store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms);
    mc_socket_opts_t ropts = {.max_message_bytes = LIENTHONG_MAX_FRAME, .send_hwm = 10000,
                              .recv_hwm = 10000, .linger_ms = 0};
    mc_socket_opts_t popts = {.max_message_bytes = 4096, .linger_ms = 0};
    if (!hub->store || !(hub->zap = mc_zap_start(agencies, err)) ||
        !(hub->router = mc_transport_bind_curve_server(ZMQ_ROUTER, cfg->lienthong.endpoint, &ropts,
                                                       secret, HUB_ZAP_DOMAIN, err)) ||
        !(hub->pub = mc_transport_bind(ZMQ_PUB, cfg->lienthong.events_endpoint, &popts, err)) ||
        !(hub->sub = mc_transport_connect(ZMQ_SUB, cfg->router.events_endpoint, &popts, err)) ||
        zmq_connect(hub->sub, cfg->intake.events_endpoint) != 0 ||
        zmq_setsockopt(hub->sub, ZMQ_SUBSCRIBE, "", 0) != 0) {
        explicit_bzero(secret, sizeof secret);
        if (!hub->store)
            mc_err_add(err, "out of memory");
        lienthong_hub_destroy(&hub);
        return NULL;
    }
    explicit_bzero(secret, sizeof secret);
    int mandatory = 1; /* see send_to */
    zmq_setsockopt(hub->router, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory);
    mc_err_t ignored;
    mc_err_clear(&ignored);
    if (mc_store_connect(hub->store, &ignored) != MC_STORE_OK)
        log_store_error(hub, "connect", MC_STORE_UNAVAILABLE, &ignored); /* retried later */
    mc_log(MC_LOG_NOTICE, "curve_server", "endpoint=%s public_key=%s agencies=%zu",
           cfg->lienthong.endpoint, public_key, agencies->count);
    return hub;
}

/* lienthong_hub_run - the loop */
int lienthong_hub_run(lienthong_hub_t *hub, int stop_fd)
{
    hub->next_poll = lienthong_now_ms();
    for (;;) {
        zmq_pollitem_t items[3] = {
            {hub->router, 0, ZMQ_POLLIN, 0},
            {hub->sub, 0, ZMQ_POLLIN, 0},
            {NULL, stop_fd, ZMQ_POLLIN, 0},
        };
        int64_t wait = hub->next_poll - lienthong_now_ms();
        if (wait > HUB_TICK_MS)
            wait = HUB_TICK_MS;
        if (wait < 0)
            wait = 0;
        int rc = zmq_poll(items, 3, (long)wait);
        if (rc < 0 && errno != EINTR) {
            mc_log(MC_LOG_ERR, "poll_failed", "error=\"%s\"", zmq_strerror(errno));
            return -1;
        }
        if (rc > 0 && (items[2].revents & ZMQ_POLLIN)) {
            struct signalfd_siginfo si;
            if (read(stop_fd, &si, sizeof si) == (ssize_t)sizeof si)
                mc_log(MC_LOG_NOTICE, "stopping", "signal=%u", si.ssi_signo);
            return 0; /* nothing in flight is lost: the store has it all */
        }
        if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
            for (int i = 0; i < HUB_DRAIN && read_router(hub); i++)
                ;
        if (rc > 0 && (items[1].revents & ZMQ_POLLIN))
            read_events(hub);
        timers(hub);
    }
}

/* lienthong_hub_destroy - close sockets (ZAP last: it may be serving them), free */
void lienthong_hub_destroy(lienthong_hub_t **hub_p)
{
    if (!hub_p || !*hub_p)
        return;
    lienthong_hub_t *hub = *hub_p;
    for (size_t i = 0; i < hub->n_peers; i++) {
        free(hub->peers[i]->inflight);
        free(hub->peers[i]);
    }
    free(hub->peers);
    mc_transport_close(&hub->router);
    mc_transport_close(&hub->pub);
    mc_transport_close(&hub->sub);
    mc_zap_stop(&hub->zap);
    mc_store_destroy(&hub->store);
    free(hub);
    *hub_p = NULL;
}
