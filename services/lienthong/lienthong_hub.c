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
 *
 * Batches (issue 11, "results and acks batched per poll"): a wake reads
 * every message already waiting (HUB_DRAIN at most); each ack and result is
 * checked at once (a malformed one refused alone) and kept (batch_add); at
 * the end of the run (or before a resync Ready, a Ready naming another
 * session or an ExtensionRequest, to keep order; a plain Ready only adds
 * credit and does not cut the batch) flush_batch applies them all in ONE
 * store transaction
 * (mc_store_cases_batch, pipelined), then answers each in arrival order.
 * The next steps those results queued are dispatched at the end of the same
 * pass. hub_view counts the batches and what they applied.
 *
 * Dispatch (issue 11, "no statement re-run per peer per poll"): an ack, a
 * result, an event, a timeout or the poll only marks the agency
 * (dispatch_later); at the end of the loop pass (timers) each marked agency
 * with a ready connection gets ONE store claim sized to all its
 * connections' room (dispatch), whatever the number of frames in the pass,
 * and the claims of all agencies of the pass go in ONE round trip
 * (mc_store_cases_claim_many, pipelined).
 *
 * Sessions and leases (agency.proto rules 6, 7): every frame of a
 * connection that has not sent a resync Ready may get a Hello (the first
 * always, then at most one per heartbeat to non-Ready frames); an ack is
 * recorded under the peer's session; leases are renewed for every peer
 * whose session the store knows, in one statement every lease_ms/4, and a
 * dropped peer's session is marked disconnected (its lease then runs out
 * unless the agency comes back). Lease expiry is the store's scan, run
 * every HUB_LEASE_SCAN_MS and at start.
 *
 * Latency (issue 11 point 3): every pass costs a constant number of store
 * round trips, whatever the number of agencies, cases or warnings (one
 * batch, one claim for all agencies, one read of every agency's DueSoon
 * flags and one clear of those sent, one renewal for all sessions and all
 * the drops), and beat() heartbeats every peer owed one between the store
 * calls of a pass, so a slow store never makes the hub look silent to the
 * agencies (they reconnect after 3 silent heartbeats).
 *
 * DueSoon (rule 8): sent for each case the router's scan flagged (flag
 * cleared once sent), then derived from the store again after every resync
 * Ready (that session's held cases) and every HUB_REWARN_BEATS heartbeats
 * (all held cases) while the dossier is warned for its due date, not
 * extended and the case's proposal not answered: no frame lost with a
 * connection or a dead agency leaves a case without its warning.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <sodium.h>
#include <zmq.h>

#include "lienthong.h"
#include "mc_curve.h"
#include "mc_daemon.h"
#include "mc_event.h"
#include "mc_store_extend.h"
#include "mc_events.h"
#include "mc_log.h"
#include "mc_time.h"
#include "mc_transport.h"
#include "mc_wire.h"
#include "motcua/internal/v1/pipeline.pb-c.h"
#include "mc_limits.h"

#define HUB_MAX_PEERS      4096 /* connections served at once, all agencies */
#define HUB_AGENCY_PEERS   64   /* connections served at once for one agency (one key) */
#define HUB_DROP_LOG_MS    10000 /* at most one frame_dropped line per agency this often */
#define HUB_MONITOR        "inproc://motcua-lienthong-monitor" /* the ROUTER's connection events */
#define HUB_MAX_CONNS      (2 * HUB_MAX_PEERS) /* handshaken connections kept at once */
#define HUB_UNKNOWN_CASE   "unknown case" /* the one answer for unknown, not yours, not sent */
#define HUB_TICK_MS        100  /* longest sleep: timers are checked at least this often */
#define HUB_DRAIN          256  /* frames handled per wake before timers run again */
#define HUB_RECONNECT_MS   1000 /* least time between store reconnect attempts */
#define HUB_ZAP_DOMAIN     "motcua-lienthong"
#define HUB_LEASE_SCAN_MS  1000  /* how often acked cases of lapsed sessions are looked for */
#define HUB_LEASE_BATCH    1000  /* cases a lease scan requeues at most (then it runs again at once) */
#define HUB_SUMMARY_MS     60000 /* how often the hub_view line is logged */
#define HUB_STATUS_MS      1000  /* least time between two systemd STATUS lines */
#define VIEW_CONNECTED     1     /* view flag: the agency has a live connection */
#define VIEW_READY         2     /* view flag: one of its connections said Ready */

/* a case sent on this connection and not acked yet */
typedef struct inflight {
    char    case_id[MC_CASE_ID_LEN + 1]; /* the case */
    int64_t deadline;                    /* monotonic ms: no ack by then is a timeout */
} inflight_t;

/* one CURVE connection the ROUTER accepted, until it closes: memory per
 * connection is libzmq's (~38 kB), so connections that serve no peer are cut */
typedef struct conn {
    int     fd;    /* its socket (monitor events, ZMQ_SRCFD) */
    int64_t since; /* monotonic ms of its handshake */
    bool    known; /* a peer is served on it */
} conn_t;

/* one connected agency: one connection, named by (routing id, ZAP user id) */
typedef struct peer {
    uint8_t     rid[256];                           /* ROUTER routing id (the agency may choose it: never trusted alone) */
    size_t      rid_len;                            /* bytes in rid */
    int         fd;                                 /* its connection's socket (ZMQ_SRCFD): closed = the peer is gone */
    char        agency[MC_AGENCY_CODE_LEN + 1];     /* from ZAP: the only identity we trust */
    size_t      agency_index;                       /* its entry in hub->agencies (for the view) */
    char        session[LIENTHONG_SESSION_MAX + 1]; /* Ready.session, or ours until it sends one */
    bool        session_live;                       /* the store has the session (Ready or ack): renewed with the rest */
    bool        resynced;                           /* sent a resync Ready on this connection (and it was reconciled) */
    int64_t     last_hello;                         /* monotonic ms of the last Hello sent to it, 0 = none yet */
    uint32_t    credit;                             /* cases the agency still accepts */
    int         window;                             /* most cases in flight now (slow open) */
    bool        ready;                              /* said Ready at least once */
    bool        gone;                               /* its connection closed: dropped at the next tick */
    inflight_t *inflight;                           /* cases in flight */
    size_t      n_inflight;                         /* entries used */
    size_t      cap_inflight;                       /* entries allocated */
    int64_t     last_recv;                          /* monotonic ms of the last frame from it */
    int64_t     last_send;                          /* monotonic ms of the last frame to it */
} peer_t;

/* an ack or result read in this loop pass: checked at once, applied with the
 * others of the pass in one store transaction (flush_batch), answered after it */
typedef struct pending {
    peer_t                  *peer; /* who sent it (peers are freed only by timers, after the flush) */
    Motcua__V1__AgencyToHub *msg;  /* the frame, unpacked: an ack or a result (flush_batch frees it) */
} pending_t;

/* what the hub sees of one agency, for the agency_view line */
typedef struct view {
    uint8_t logged;    /* VIEW_* flags as last logged */
    uint8_t now;       /* VIEW_* flags now */
    size_t  peers;     /* live connections */
    long    credit;    /* their credit, summed */
    long    in_flight; /* their unacked cases, summed */
    long    dropped;   /* frames not served (over the limits) since the last frame_dropped line */
    int64_t drop_logged; /* monotonic ms of the last frame_dropped line, 0 = none */
    int64_t rewarn_after; /* the periodic DueSoon pass goes on after this agency_case.id */
    bool    dispatch;  /* its connections are dispatched at the end of this loop pass */
} view_t;

struct lienthong_hub {
    const mc_cfg_t *cfg;          /* immutable configuration */
    mc_agencies_t  *agencies;     /* who may connect (caller's) */
    mc_zap_t       *zap;          /* ZAP handler thread */
    void           *router;       /* CURVE ROUTER for agencies */
    void           *pub;          /* PipelineEvents out */
    void           *sub;          /* PipelineEvents in (router, intake) */
    void           *monitor;      /* the ROUTER's accepted/closed connections (fds) */
    conn_t         *conns;        /* handshaken connections, HUB_MAX_CONNS at most */
    size_t          n_conns;      /* entries used */
    long            cut;          /* connections cut since the last connections_cut line */
    int64_t         cut_logged;   /* monotonic ms of the last connections_cut line */
    mc_store_t     *store;        /* this thread's store */
    peer_t        **peers;        /* connected agencies */
    size_t          n_peers;      /* entries used */
    int64_t         next_poll;    /* monotonic ms of the next safety-net poll */
    int             tick_timer;   /* mc_loop timer running timers() */
    int64_t         store_retry;  /* monotonic ms before which the store is not retried */
    uint64_t        epoch;        /* this incarnation (agency.proto rule 6): random, non-zero */
    uint32_t        sessions_made; /* per-connection sessions made for clients without one */
    int64_t         next_renew;   /* monotonic ms of the next lease renewal */
    int64_t         next_expire;  /* monotonic ms of the next lease scan */
    int64_t         next_summary; /* monotonic ms of the next hub_view line */
    view_t         *view;         /* one per agency, in agencies.yaml order */
    size_t          status_agencies; /* agencies with a live connection, for STATUS */
    size_t          status_peers; /* live peers, for STATUS */
    size_t          status_ready; /* ready peers, for STATUS */
    bool            status_dirty; /* the counts changed since the last STATUS */
    int64_t         next_status;  /* monotonic ms before which no STATUS is sent */
    int64_t         next_rewarn;  /* monotonic ms of the next periodic DueSoon pass */
    long            claims;       /* case claims run (limit > 0) since the last hub_view line */
    long            dead_passes;  /* claim calls with no room (dead letters only) since then */
    int64_t         counted_from; /* monotonic ms the two counts start from */
    pending_t       pending[HUB_DRAIN]; /* acks and results of this pass, not applied yet */
    size_t          n_pending;    /* entries used */
    long            batches;      /* store transactions of acks and results since the last hub_view */
    long            batched;      /* acks and results they applied */
};

/* log_store_error - one line for a failed store call */
static void log_store_error(lienthong_hub_t *hub, const char *what, mc_store_rc_t rc,
                            const mc_err_t *err)
{
    mc_log_error(rc == MC_STORE_UNAVAILABLE ? MC_LOG_WARNING : MC_LOG_ERR, "store_failed", err,
                 "what=%s unavailable=%s", what, rc == MC_STORE_UNAVAILABLE ? "yes" : "no");
    if (rc == MC_STORE_UNAVAILABLE) {
        hub->store_retry = mc_time_mono_ms() + HUB_RECONNECT_MS;
        mc_daemon_store_down(true);
    }
}

/* store_usable - not inside a reconnect backoff */
static bool store_usable(lienthong_hub_t *hub)
{
    return mc_store_connected(hub->store) || mc_time_mono_ms() >= hub->store_retry;
}

/* conn_find - the entry of connection fd, or NULL */
static conn_t *conn_find(lienthong_hub_t *hub, int fd)
{
    for (size_t i = 0; i < hub->n_conns; i++)
        if (hub->conns[i].fd == fd)
            return &hub->conns[i];
    return NULL;
}

/* conn_forget - drop the entry of connection fd, if any */
static void conn_forget(lienthong_hub_t *hub, int fd)
{
    conn_t *c = conn_find(hub, fd);
    if (c)
        *c = hub->conns[--hub->n_conns];
}

/* conn_cut - end a connection that serves no peer (over its agency's limit,
 * silent since its handshake, or its peer went silent): a ROUTER cannot
 * close one chosen connection, so shut its socket down under libzmq, which
 * then sees the end and frees it. Bounded memory under a flood of
 * connections from one key rests on this. Logged at most every 10 s. */
static void conn_cut(lienthong_hub_t *hub, int fd, const char *why)
{
    if (fd < 0)
        return;
    conn_forget(hub, fd);
    shutdown(fd, SHUT_RDWR);
    hub->cut++;
    int64_t now = mc_time_mono_ms();
    if (now - hub->cut_logged >= 10000) {
        mc_log(MC_LOG_WARNING, "connections_cut", "count=%ld last_why=%s connections=%zu",
               hub->cut, why, hub->n_conns);
        hub->cut = 0;
        hub->cut_logged = now;
    }
}

/* conn_seen - a handshaken connection (known: a peer is served on it) */
static void conn_seen(lienthong_hub_t *hub, int fd, bool known)
{
    if (fd < 0)
        return;
    conn_t *c = conn_find(hub, fd);
    if (c) {
        c->known = c->known || known;
        return;
    }
    if (hub->n_conns >= HUB_MAX_CONNS) {
        conn_cut(hub, fd, "too_many_connections");
        return;
    }
    hub->conns[hub->n_conns++] = (conn_t){fd, mc_time_mono_ms(), known};
}

/* watch_connections - the ROUTER's connection events: a peer whose socket
 * was closed is gone at once, so nothing more is sent to its routing id,
 * which another connection, maybe another agency's, may take next. (A late
 * event for a reused fd number costs a live peer a Hello and a resync.) */
static void watch_connections(lienthong_hub_t *hub)
{
    for (;;) {
        zmq_msg_t ev, where;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, hub->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        uint16_t event = 0;
        uint32_t fd = 0;
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&event, zmq_msg_data(&ev), sizeof event);
            memcpy(&fd, (const uint8_t *)zmq_msg_data(&ev) + 2, sizeof fd);
        }
        if (zmq_msg_more(&ev)) { /* the endpoint frame: not needed */
            zmq_msg_init(&where);
            zmq_msg_recv(&where, hub->monitor, 0);
            zmq_msg_close(&where);
        }
        zmq_msg_close(&ev);
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            /* this event may come after the connection's first frames */
            bool known = false;
            for (size_t i = 0; i < hub->n_peers && !known; i++)
                known = hub->peers[i]->fd == (int)fd && !hub->peers[i]->gone;
            conn_seen(hub, (int)fd, known);
            continue;
        }
        conn_forget(hub, (int)fd);
        for (size_t i = 0; i < hub->n_peers; i++)
            if (hub->peers[i]->fd == (int)fd)
                hub->peers[i]->gone = true; /* dropped, with its log line, at the next tick */
    }
}

/* send_to - one frame to a peer; frame is cleared. false if it did not go:
 * the ROUTER is mandatory, so a closed connection shows as EHOSTUNREACH and
 * the peer is marked gone at once instead of after 3 silent heartbeats */
static bool send_to(lienthong_hub_t *hub, peer_t *p, lienthong_frame_t *frame)
{
    bool sent = false;
    watch_connections(hub); /* a closed connection's routing id may be someone else's now */
    if (frame->bytes && !p->gone) {
        if (zmq_send(hub->router, p->rid, p->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
            /* the routing id frame is queued only with its body: this cannot fail halfway */
            sent = zmq_send(hub->router, frame->bytes, frame->length, ZMQ_DONTWAIT) >= 0;
        } else if (errno == EHOSTUNREACH) {
            p->gone = true;
        }
    }
    if (sent)
        p->last_send = mc_time_mono_ms();
    lienthong_frame_clear(frame);
    return sent;
}

/* beat - a Heartbeat to every peer that has had no frame for heartbeat_ms.
 * Called between the store calls of a pass, not only once per pass: a slow
 * store (latency, a long batch) must never make the hub look silent to the
 * agencies, which reconnect after 3 silent heartbeats */
static void beat(lienthong_hub_t *hub)
{
    int64_t now = mc_time_mono_ms();
    for (size_t i = 0; i < hub->n_peers; i++) {
        peer_t *p = hub->peers[i];
        if (p->gone || now - p->last_send < hub->cfg->lienthong.heartbeat_ms)
            continue;
        lienthong_frame_t f = {0};
        if (lienthong_pack_heartbeat(hub->epoch, &f) == 0)
            send_to(hub, p, &f);
    }
}

/* publish - a PipelineEvent for the other daemons (losing one costs latency only) */
static void publish(lienthong_hub_t *hub, int kind, const char *code, const char *agency)
{
    lienthong_frame_t f = {0};
    if (lienthong_pack_event(kind, code, agency, &f) == 0)
        mc_events_send(hub->pub, f.bytes, f.length);
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

/* refuse_unknown - the same Refusal whether the case does not exist, is
 * another agency's or was never sent to this one (the log tells them apart) */
static void refuse_unknown(lienthong_hub_t *hub, peer_t *p, const char *case_id,
                           mc_case_verdict_t verdict)
{
    mc_log(MC_LOG_NOTICE, "case_refused", "case=%s agency=%s verdict=%s", case_id, p->agency,
           mc_case_verdict_name(verdict));
    refuse(hub, p, case_id, MOTCUA__V1__REASON__REASON_NOT_FOUND, HUB_UNKNOWN_CASE);
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

/* room - how many cases p takes now (its credit, its window less what is in
 * flight), probing its connection first when that is more than none; -1 if
 * it takes nothing at all (not ready, gone, or the probe did not leave) */
static long room(lienthong_hub_t *hub, peer_t *p)
{
    if (!p->ready || p->gone)
        return -1;
    long r = (long)p->window - (long)p->n_inflight;
    if ((long)p->credit < r)
        r = (long)p->credit;
    if (r <= 0)
        return 0;
    /* is the connection still there? a case marked sent into a closed
     * connection would cost an attempt and an ack timeout */
    lienthong_frame_t probe = {0};
    if (lienthong_pack_heartbeat(hub->epoch, &probe) == 0 && !send_to(hub, p, &probe))
        return -1;
    return r;
}

/* send_case - one claimed case to p, in flight until its ack or its timeout */
static void send_case(lienthong_hub_t *hub, peer_t *p, const mc_case_t *c, int64_t now)
{
    const mc_cfg_lienthong_t *lc = &hub->cfg->lienthong;
    lienthong_frame_t f = {0};
    if (lienthong_pack_case(hub->cfg, c, &f) != 0) {
        mc_log(MC_LOG_ERR, "case_unpackable", "case=%s", c->case_id);
        return; /* marked sent: it becomes a dead letter for an operator to see */
    }
    /* the same delay the store gave next_attempt_at */
    inflight_add(p, c->case_id, now + lienthong_resend_delay_ms(lc->ack_timeout_ms, c->attempt));
    send_to(hub, p, &f); /* lost or not, the ack timeout decides what happens next */
    if (p->credit > 0)
        p->credit--;
    mc_daemon_count(MC_COUNT_ROUTED, 1); /* per case: debug (a resend: notice), in the summary */
    mc_log(c->attempt > 1 ? MC_LOG_NOTICE : MC_LOG_DEBUG, "case_sent",
           "case=%s agency=%s attempt=%d window=%d credit=%" PRIu32, c->case_id, p->agency,
           c->attempt, p->window, p->credit);
}

/* one agency's part of a dispatch pass: its ready connections and their room */
typedef struct share {
    size_t  a;                        /* the agency (index in hub->agencies) */
    peer_t *to[HUB_AGENCY_PEERS];     /* its ready connections */
    long    rooms[HUB_AGENCY_PEERS];  /* the room of each */
    size_t  n_to;                     /* entries used */
    long    total;                    /* their room, summed */
} share_t;

/* share_fill - agency a's ready connections and their room (probed); false if none */
static bool share_fill(lienthong_hub_t *hub, size_t a, share_t *sh)
{
    sh->a = a;
    sh->n_to = 0;
    sh->total = 0;
    for (size_t i = 0; i < hub->n_peers && sh->n_to < HUB_AGENCY_PEERS; i++) {
        peer_t *p = hub->peers[i];
        long r = p->agency_index == a ? room(hub, p) : -1;
        if (r < 0)
            continue;
        sh->to[sh->n_to] = p;
        sh->rooms[sh->n_to++] = r;
        sh->total += r;
    }
    return sh->n_to > 0;
}

/* share_send - the cases claimed for sh's agency, oldest first, the first connection
 * filled first */
static void share_send(lienthong_hub_t *hub, share_t *sh, const mc_case_t *cases, size_t n)
{
    int64_t now = mc_time_mono_ms();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        while (k < sh->n_to && sh->rooms[k] == 0)
            k++;
        if (k == sh->n_to) /* never: the store returns at most total; the ack timeout covers it */
            break;
        send_case(hub, sh->to[k], &cases[i], now);
        sh->rooms[k]--;
    }
}

/* dispatch - every marked agency's ready connections get as many cases as their
 * credit and windows allow, from ONE claim per agency sized to the room of all
 * its connections, and all these claims in ONE round trip
 * (mc_store_cases_claim_many); with no room anywhere an agency's claim still runs
 * its dead-letter pass; an agency with no ready connection is skipped */
static void dispatch(lienthong_hub_t *hub, const size_t *marked, size_t n_marked)
{
    const mc_cfg_lienthong_t *lc = &hub->cfg->lienthong;
    share_t *shares = calloc(n_marked + 1, sizeof *shares);
    mc_claim_req_t *reqs = calloc(n_marked + 1, sizeof *reqs);
    size_t n = 0;
    for (size_t m = 0; shares && reqs && m < n_marked; m++) {
        if (!share_fill(hub, marked[m], &shares[n]))
            continue;
        long total = shares[n].total;
        reqs[n] = (mc_claim_req_t){.agency = hub->agencies->items[marked[m]].code,
                                   .limit = total > INT32_MAX ? INT32_MAX : (int)total};
        if (total > 0)
            hub->claims++;
        else
            hub->dead_passes++;
        n++;
    }
    mc_err_t err;
    mc_err_clear(&err);
    int64_t resend_ms[LIENTHONG_RESEND_STEPS];
    lienthong_resend_delays(lc->ack_timeout_ms, resend_ms);
    mc_store_rc_t rc = n == 0 ? MC_STORE_OK
                              : mc_store_cases_claim_many(hub->store, reqs, n, resend_ms,
                                                          LIENTHONG_RESEND_STEPS,
                                                          lc->max_attempts, &err);
    if (rc != MC_STORE_OK)
        log_store_error(hub, "claim", rc, &err);
    for (size_t k = 0; k < n && rc == MC_STORE_OK; k++) {
        if (reqs[k].dead > 0)
            mc_log(MC_LOG_WARNING, "dead_letters", "agency=%s count=%d", reqs[k].agency,
                   reqs[k].dead);
        share_send(hub, &shares[k], reqs[k].cases, reqs[k].n);
        mc_cases_free(&reqs[k].cases, reqs[k].n);
    }
    free(shares);
    free(reqs);
}

/* dispatch_later - agency's connections (NULL or "": every agency's) are
 * dispatched at the end of this loop pass (dispatch_pending), once however
 * many acks, results and events asked for it */
static void dispatch_later(lienthong_hub_t *hub, const char *agency)
{
    for (size_t i = 0; i < hub->n_peers; i++) {
        const peer_t *p = hub->peers[i];
        if (p->agency_index < hub->agencies->count &&
            (!agency || !*agency || strcmp(p->agency, agency) == 0))
            hub->view[p->agency_index].dispatch = true;
    }
}

/* dispatch_pending - one dispatch for the agencies asked for in this pass */
static void dispatch_pending(lienthong_hub_t *hub)
{
    if (!store_usable(hub))
        return; /* they stay marked: the next pass after the backoff */
    size_t *marked = calloc(hub->agencies->count + 1, sizeof *marked), n = 0;
    if (!marked)
        return; /* they stay marked */
    for (size_t a = 0; a < hub->agencies->count; a++) {
        if (!hub->view[a].dispatch)
            continue;
        hub->view[a].dispatch = false;
        marked[n++] = a;
    }
    dispatch(hub, marked, n);
    free(marked);
}

/* up_changed - remember how many agencies are connected; true if that changed */
static bool up_changed(lienthong_hub_t *hub, size_t agencies_up)
{
    bool changed = agencies_up != hub->status_agencies;
    hub->status_agencies = agencies_up;
    return changed;
}

/* view_update - recount what the hub sees; log each agency whose connected or
 * ready changed (NOTICE, so it shows without debug) and keep systemd's STATUS
 * current */
static void view_update(lienthong_hub_t *hub)
{
    size_t na = hub->agencies->count, peers = 0, ready = 0, agencies_up = 0;
    long unacked = 0;
    for (size_t a = 0; a < na; a++) {
        view_t *v = &hub->view[a];
        v->now = 0;
        v->peers = 0;
        v->credit = v->in_flight = 0;
    }
    for (size_t i = 0; i < hub->n_peers; i++) {
        const peer_t *p = hub->peers[i];
        if (p->gone || p->agency_index >= na)
            continue;
        view_t *v = &hub->view[p->agency_index];
        v->now |= VIEW_CONNECTED | (p->ready ? VIEW_READY : 0);
        v->peers++;
        v->credit += (long)p->credit;
        v->in_flight += (long)p->n_inflight;
        unacked += (long)p->n_inflight;
        peers++;
        ready += p->ready;
    }
    mc_daemon_set_waiting(unacked); /* the summary's waiting: sent, not yet acknowledged */
    for (size_t a = 0; a < na; a++) {
        view_t *v = &hub->view[a];
        agencies_up += v->now != 0;
        if (v->now == v->logged)
            continue;
        v->logged = v->now;
        mc_log(MC_LOG_NOTICE, "agency_view",
               "agency=%s connected=%s ready=%s peers=%zu credit=%ld in_flight=%ld",
               hub->agencies->items[a].code, v->now & VIEW_CONNECTED ? "yes" : "no",
               v->now & VIEW_READY ? "yes" : "no", v->peers, v->credit, v->in_flight);
    }
    if (peers != hub->status_peers || ready != hub->status_ready || up_changed(hub, agencies_up)) {
        hub->status_peers = peers;
        hub->status_ready = ready;
        hub->status_dirty = true; /* sent by status_send, at most once per HUB_STATUS_MS */
    }
}

/* status_send - systemd's STATUS line, when the view changed since the last one */
static void status_send(lienthong_hub_t *hub, int64_t now)
{
    if (!hub->status_dirty || now < hub->next_status)
        return;
    hub->status_dirty = false;
    hub->next_status = now + HUB_STATUS_MS;
    /* never sd_notify here: it blocks the loop when the supervisor does not read */
    mc_daemon_status("%zu/%zu agencies connected, %zu connections, %zu ready",
                     hub->status_agencies, hub->agencies->count, hub->status_peers,
                     hub->status_ready);
}

/* view_summary - the hub_view line: the whole picture in one line, with the
 * store calls the dispatches made since the last one (issue 11: claims per
 * second, each an index range read and a commit) */
static void view_summary(lienthong_hub_t *hub)
{
    size_t up = 0, ready = 0;
    for (size_t a = 0; a < hub->agencies->count; a++) {
        up += (hub->view[a].now & VIEW_CONNECTED) != 0;
        ready += (hub->view[a].now & VIEW_READY) != 0;
    }
    int64_t now = mc_time_mono_ms(), span = now - hub->counted_from;
    mc_log(MC_LOG_NOTICE, "hub_view",
           "epoch=%016" PRIx64 " agencies=%zu connected=%zu ready=%zu peers=%zu ready_peers=%zu"
           " claims=%ld dead_passes=%ld claims_per_s=%.1f batches=%ld batched=%ld",
           hub->epoch, hub->agencies->count, up, ready, hub->status_peers, hub->status_ready,
           hub->claims, hub->dead_passes,
           span > 0 ? (double)hub->claims * 1000.0 / (double)span : 0.0, hub->batches,
           hub->batched);
    hub->claims = hub->dead_passes = hub->batches = hub->batched = 0;
    hub->counted_from = now;
}

/* drop_note - a frame of agency a was not served: counted, and logged at
 * most once per HUB_DROP_LOG_MS per agency (drops_flush logs the rest) */
static void drop_note(lienthong_hub_t *hub, size_t a, const char *why, int64_t now)
{
    view_t *v = &hub->view[a];
    v->dropped++;
    if (v->drop_logged && now - v->drop_logged < HUB_DROP_LOG_MS)
        return;
    mc_log(MC_LOG_WARNING, "frame_dropped", "agency=%s reason=%s count=%ld agency_limit=%d"
           " limit=%d peers=%zu", hub->agencies->items[a].code, why, v->dropped, HUB_AGENCY_PEERS,
           HUB_MAX_PEERS, hub->n_peers);
    v->dropped = 0;
    v->drop_logged = now;
}

/* drops_flush - the counts of drops not logged yet, once their interval is over */
static void drops_flush(lienthong_hub_t *hub, int64_t now)
{
    for (size_t a = 0; a < hub->agencies->count; a++) {
        view_t *v = &hub->view[a];
        if (v->dropped > 0 && now - v->drop_logged >= HUB_DROP_LOG_MS) {
            v->dropped--; /* drop_note counts it again */
            drop_note(hub, a, "over_limit", now);
        }
    }
}

/*
 * peer_find - the peer for (routing id, agency) on connection fd, made on
 * first sight. A routing id is chosen by the agency's software, so it names
 * nothing alone: the same routing id under another key, or on another
 * connection, means the old connection is closed (ZeroMQ routes a routing
 * id to one connection) and its peer is gone, never reused. New peers are
 * refused (NULL, counted in frame_dropped) beyond HUB_AGENCY_PEERS for the
 * agency or HUB_MAX_PEERS in all: one key cannot take the others' places.
 */
static peer_t *peer_find(lienthong_hub_t *hub, const void *rid, size_t rid_len,
                         const mc_agency_t *agency, int fd)
{
    size_t a = (size_t)(agency - hub->agencies->items), mine = 0, live = 0;
    for (size_t i = 0; i < hub->n_peers; i++) {
        peer_t *p = hub->peers[i];
        if (p->gone)
            continue;
        if (p->rid_len == rid_len && memcmp(p->rid, rid, rid_len) == 0) {
            if (p->agency_index == a && p->fd == fd)
                return p;
            mc_log(MC_LOG_WARNING, "routing_id_reused", "agency=%s was=%s",
                   agency->code, p->agency); /* the old connection is closed: forget it */
            p->gone = true;
            continue;
        }
        live++;
        mine += p->agency_index == a;
    }
    int64_t now = mc_time_mono_ms();
    if (mine >= HUB_AGENCY_PEERS || live >= HUB_MAX_PEERS || rid_len > sizeof hub->peers[0]->rid) {
        drop_note(hub, a, mine >= HUB_AGENCY_PEERS ? "agency_limit" : "limit", now);
        conn_cut(hub, fd, mine >= HUB_AGENCY_PEERS ? "agency_limit" : "limit");
        return NULL;
    }
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
    p->fd = fd;
    snprintf(p->agency, sizeof p->agency, "%s", agency->code);
    p->agency_index = a;
    /* until it names its own (older clients never do): one per connection,
     * so such a client's leases end with its connection */
    snprintf(p->session, sizeof p->session, "hub-%016" PRIx64 "-%08" PRIx32, hub->epoch,
             ++hub->sessions_made);
    p->window = 1; /* slow open: earn a wider window with acks */
    p->last_recv = p->last_send = now;
    hub->peers[hub->n_peers++] = p;
    conn_seen(hub, fd, true);
    mc_log(MC_LOG_NOTICE, "agency_connected", "agency=%s peers=%zu agency_peers=%zu",
           agency->code, hub->n_peers, mine + 1);
    view_update(hub);
    return p;
}

/* session_ref - how store calls name p's session */
static mc_session_ref_t session_ref(const lienthong_hub_t *hub, const peer_t *p)
{
    mc_session_ref_t ref = {.agency = p->agency, .session = p->session,
                            .hub_epoch = (int64_t)hub->epoch,
                            .lease_ms = hub->cfg->lienthong.lease_ms};
    return ref;
}

/* session_release - p no longer speaks for its session: unless another live
 * connection does, mark it disconnected so its lease runs out (rule 7) */
static void session_release(lienthong_hub_t *hub, const peer_t *p)
{
    if (!p->session_live)
        return;
    for (size_t i = 0; i < hub->n_peers; i++) {
        const peer_t *o = hub->peers[i];
        if (o != p && !o->gone && o->session_live && strcmp(o->session, p->session) == 0 &&
            strcmp(o->agency, p->agency) == 0)
            return;
    }
    /* the renewal marks every session of ours it does not list as disconnected:
     * due now, it runs once at the end of this pass however many peers went
     * (no round trip per dropped connection) */
    hub->next_renew = mc_time_mono_ms();
}

/* peer_drop - forget peer i (its credit with it; its session's lease runs on) */
static void peer_drop(lienthong_hub_t *hub, size_t i, const char *why)
{
    peer_t *p = hub->peers[i];
    mc_log(MC_LOG_NOTICE, "agency_gone", "agency=%s why=%s in_flight=%zu", p->agency, why,
           p->n_inflight);
    p->gone = true;
    session_release(hub, p);
    free(p->inflight);
    free(p);
    hub->peers[i] = hub->peers[--hub->n_peers];
    view_update(hub);
}

/* hello - a Hello asking p to resync, at most once per heartbeat interval */
static void hello(lienthong_hub_t *hub, peer_t *p)
{
    const mc_cfg_lienthong_t *lc = &hub->cfg->lienthong;
    int64_t now = mc_time_mono_ms();
    if (p->last_hello && now - p->last_hello < lc->heartbeat_ms)
        return;
    lienthong_frame_t f = {0};
    if (lienthong_pack_hello(hub->epoch, lc->heartbeat_ms, lc->lease_ms, &f) == 0 &&
        send_to(hub, p, &f)) {
        p->last_hello = now;
        mc_log(MC_LOG_INFO, "hello_sent", "agency=%s epoch=%016" PRIx64, p->agency, hub->epoch);
    }
}

/* renew_leases - one statement renewing every session a live peer speaks for */
static void renew_leases(lienthong_hub_t *hub)
{
    mc_session_state_t *live = calloc(hub->n_peers + 1, sizeof *live);
    if (!live)
        return; /* the next renewal tries again; leases outlast several misses */
    size_t n = 0;
    for (size_t i = 0; i < hub->n_peers; i++) {
        const peer_t *p = hub->peers[i];
        if (p->gone || !p->session_live)
            continue;
        live[n++] = (mc_session_state_t){.agency = p->agency, .session = p->session,
                                         .ready = p->ready, .credit = (int)p->credit,
                                         .in_flight = (int)p->n_inflight};
    }
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_sessions_renew(hub->store, (int64_t)hub->epoch,
                                               hub->cfg->lienthong.lease_ms, live, n, &err);
    free(live);
    if (rc != MC_STORE_OK)
        log_store_error(hub, "lease_renew", rc, &err);
}

/* expire_leases - acked cases of lapsed sessions back to the queue, then offered */
static void expire_leases(lienthong_hub_t *hub)
{
    int expired = 0;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_sessions_expire(hub->store, HUB_LEASE_BATCH, &expired, &err);
    if (rc != MC_STORE_OK) {
        log_store_error(hub, "lease_expire", rc, &err);
        return;
    }
    mc_daemon_store_down(false); /* every second: the store answers again */
    if (expired == 0)
        return;
    mc_log(MC_LOG_NOTICE, "leases_expired", "cases=%d", expired);
    if (expired >= HUB_LEASE_BATCH)
        hub->next_expire = mc_time_mono_ms(); /* more are waiting */
    dispatch_later(hub, NULL);
}

/* ack_usable - a CaseAck the store may judge; refused (or, with the store in
 * its backoff, dropped: the case goes again and is acked again) otherwise */
static bool ack_usable(lienthong_hub_t *hub, peer_t *p, const Motcua__V1__CaseAck *ack)
{
    if (!lienthong_case_id_ok(ack->case_id)) { /* never echoed: it may not be text */
        refuse(hub, p, "", MOTCUA__V1__REASON__REASON_MALFORMED, "ack without a valid case_id");
        return false;
    }
    if (ack->revision > INT32_MAX) {
        refuse(hub, p, ack->case_id, MOTCUA__V1__REASON__REASON_MALFORMED, "revision out of range");
        return false;
    }
    return store_usable(hub);
}

/* answer_ack - what the store decided about p's ack (after the commit) */
static void answer_ack(lienthong_hub_t *hub, peer_t *p, const mc_case_ack_item_t *a)
{
    switch (a->verdict) {
    case MC_VERDICT_STALE: /* rule: an ack for another revision is answered by nothing */
        mc_log(MC_LOG_INFO, "ack_stale", "case=%s agency=%s revision=%" PRIu32, a->case_id,
               p->agency, a->revision);
        break;
    case MC_VERDICT_ACCEPTED:
    case MC_VERDICT_DUPLICATE:
        p->session_live = true; /* the ack made or renewed the session's row */
        if (inflight_remove(p, a->case_id) && p->window < hub->cfg->lienthong.window_max)
            p->window++; /* slow open: one more per ack */
        mc_log(MC_LOG_DEBUG, "case_acked", "case=%s agency=%s verdict=%s window=%d", a->case_id,
               p->agency, mc_case_verdict_name(a->verdict), p->window);
        dispatch_later(hub, p->agency);
        break;
    default: /* unknown, not yours, never sent, closed: one answer, nothing to enumerate */
        refuse_unknown(hub, p, a->case_id, a->verdict);
        break;
    }
}

/* result_usable - a CaseResult the store may judge (*revision: its round); refused
 * (or, with the store in its backoff, dropped: the agency resends) otherwise */
static bool result_usable(lienthong_hub_t *hub, peer_t *p, const Motcua__V1__CaseResult *r,
                          int *revision)
{
    if (!lienthong_case_id_ok(r->case_id)) { /* never echoed, logged or sent to SQL */
        refuse(hub, p, "", MOTCUA__V1__REASON__REASON_MALFORMED, "case_id missing or invalid");
        return false;
    }
    const char *bad = lienthong_check_result(r);
    if (!bad && mc_wire_u32_to_int(r->revision, revision) != 0)
        bad = "revision out of range"; /* 4294967295 is not 1 */
    if (bad) {
        refuse(hub, p, r->case_id, MOTCUA__V1__REASON__REASON_MALFORMED, bad);
        return false;
    }
    return store_usable(hub);
}

/* what one result of a batch needs until the batch is answered */
typedef struct result_buf {
    uint8_t                *bytes;   /* our own packing of the CaseResult (what is stored) */
    mc_case_missing_t      *missing; /* its missing documents */
    lienthong_result_ctx_t *ctx;     /* the plan's texts (9 KB) */
} result_buf_t;

/* result_buf_clear - free what result_item allocated */
static void result_buf_clear(result_buf_t *b)
{
    free(b->bytes);
    free(b->missing);
    free(b->ctx);
    memset(b, 0, sizeof *b);
}

/* result_item - p's result r as a store batch item; -1 when out of memory (then no
 * answer: the agency resends) */
static int result_item(lienthong_hub_t *hub, peer_t *p, const Motcua__V1__CaseResult *r,
                       mc_case_result_item_t *item, result_buf_t *b)
{
    int revision = 0;
    (void)mc_wire_u32_to_int(r->revision, &revision); /* checked by result_usable */
    /* the bytes we store are our own packing of what we understood, so the
     * same result always compares equal however the agency encoded it */
    size_t n = motcua__v1__case_result__get_packed_size(r);
    b->bytes = malloc(n ? n : 1);
    b->missing = calloc(r->n_missing + 1, sizeof *b->missing);
    b->ctx = calloc(1, sizeof *b->ctx);
    if (!b->bytes || !b->missing || !b->ctx) {
        result_buf_clear(b);
        return -1;
    }
    b->ctx->cfg = hub->cfg;
    motcua__v1__case_result__pack(r, b->bytes);
    for (size_t i = 0; i < r->n_missing; i++) {
        b->missing[i].document_type = r->missing[i]->document_type;
        b->missing[i].name = r->missing[i]->name;
        b->missing[i].reason = r->missing[i]->reason;
    }
    item->in = (mc_case_result_t){
        .agency = p->agency, .case_id = r->case_id, .outcome = (int)r->outcome,
        .result = b->bytes, .result_len = n, .reason = r->reason,
        .missing = b->missing, .n_missing = r->n_missing, .revision = revision,
        .decide = lienthong_decide_result, .decide_arg = b->ctx,
    };
    return 0;
}

/* answer_result - what the store decided about p's result r (after the commit) */
static void answer_result(lienthong_hub_t *hub, peer_t *p, const Motcua__V1__CaseResult *r,
                          const mc_case_result_item_t *item)
{
    const mc_case_result_out_t *out = &item->out;
    if (item->rc != MC_STORE_OK) { /* this one alone failed: no answer, the agency resends */
        mc_log(MC_LOG_ERR, "result_failed", "case=%s agency=%s", r->case_id, p->agency);
        return;
    }
    lienthong_frame_t f = {0};
    switch (out->verdict) {
    case MC_VERDICT_ACCEPTED:
    case MC_VERDICT_DUPLICATE:
        lienthong_pack_result_ack(r->case_id, 1, "", &f);
        break;
    case MC_VERDICT_CONFLICT:
    case MC_VERDICT_CLOSED:
    case MC_VERDICT_STALE:
        lienthong_pack_result_ack(r->case_id, 0, mc_case_verdict_name(out->verdict), &f);
        break;
    case MC_VERDICT_SUPPLEMENT_REFUSED:
        /* one request per dossier: the case stays with the agency, which answers again */
        lienthong_pack_result_ack_code(r->case_id, 0, LIENTHONG_SUPPLEMENT_REFUSED_TEXT,
                                       MOTCUA__V1__REASON__REASON_SUPPLEMENT_ALREADY_REQUESTED, &f);
        mc_log(MC_LOG_NOTICE, "supplement_refused", "case=%s agency=%s", r->case_id, p->agency);
        break;
    case MC_VERDICT_NOT_YOURS:
    case MC_VERDICT_UNKNOWN:
    case MC_VERDICT_NOT_SENT:
        refuse_unknown(hub, p, r->case_id, out->verdict);
        return;
    }
    send_to(hub, p, &f);
    mc_daemon_count(MC_COUNT_RECEIVED, 1); /* per case: debug, counted in the summary */
    mc_log(MC_LOG_DEBUG, "case_result", "case=%s agency=%s outcome=%d verdict=%s state=%d next=%s",
           r->case_id, p->agency, (int)r->outcome, mc_case_verdict_name(out->verdict),
           out->dossier_state, out->next_agency[0] ? out->next_agency : "-");
    if (out->verdict != MC_VERDICT_ACCEPTED)
        return;
    if (inflight_remove(p, r->case_id) && p->window < hub->cfg->lienthong.window_max)
        p->window++; /* a result is an ack too */
    if (out->next_agency[0]) { /* dispatched at the end of this very pass */
        publish(hub, MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_CASE_QUEUED, out->dossier_code,
                out->next_agency);
        dispatch_later(hub, out->next_agency);
    }
    if (out->notified)
        publish(hub, MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_NOTIFICATION, out->dossier_code, "");
    if (out->accepted) /* the router routes it at once (it polls too) */
        publish(hub, MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_ACCEPTED, out->dossier_code, "");
    dispatch_later(hub, p->agency);
}

/* flush_batch - this pass's acks and results in ONE store transaction
 * (mc_store_cases_batch: one commit, a few pipelined round trips), then each
 * answered in arrival order; nothing is answered before the commit. With the
 * store unavailable nothing is answered: acks come again with the case,
 * results are resent. */
static void flush_batch(lienthong_hub_t *hub)
{
    size_t n = hub->n_pending, na = 0, nr = 0;
    if (n == 0)
        return;
    hub->n_pending = 0;
    mc_case_ack_item_t *acks = calloc(n, sizeof *acks);
    mc_case_result_item_t *results = calloc(n, sizeof *results);
    result_buf_t *bufs = calloc(n, sizeof *bufs);
    long *slot = calloc(n, sizeof *slot); /* pending i's entry in acks or results, -1: none */
    bool ok = acks && results && bufs && slot;
    for (size_t i = 0; i < n && ok; i++) {
        peer_t *p = hub->pending[i].peer;
        const Motcua__V1__AgencyToHub *m = hub->pending[i].msg;
        slot[i] = -1;
        if (m->body_case == MOTCUA__V1__AGENCY_TO_HUB__BODY_ACK) {
            acks[na] = (mc_case_ack_item_t){.who = session_ref(hub, p),
                                            .case_id = m->ack->case_id,
                                            .revision = m->ack->revision};
            slot[i] = (long)na++;
        } else if (result_item(hub, p, m->result, &results[nr], &bufs[nr]) == 0) {
            slot[i] = (long)nr++;
        }
    }
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = ok ? mc_store_cases_batch(hub->store, acks, na, results, nr, &err)
                          : MC_STORE_FAILED;
    if (rc != MC_STORE_OK && ok)
        log_store_error(hub, "cases_batch", rc, &err);
    else if (!ok) /* nothing answered: acks come again with their cases, results are resent */
        mc_log(MC_LOG_ERR, "batch_dropped", "reason=out_of_memory frames=%zu", n);
    if (rc == MC_STORE_OK) {
        hub->batches++;
        hub->batched += (long)(na + nr);
    }
    for (size_t i = 0; i < n; i++) {
        peer_t *p = hub->pending[i].peer;
        Motcua__V1__AgencyToHub *m = hub->pending[i].msg;
        if (rc == MC_STORE_OK && slot[i] >= 0 && m->body_case == MOTCUA__V1__AGENCY_TO_HUB__BODY_ACK) {
            if (acks[slot[i]].rc == MC_STORE_OK)
                answer_ack(hub, p, &acks[slot[i]]);
        } else if (rc == MC_STORE_OK && slot[i] >= 0) {
            answer_result(hub, p, m->result, &results[slot[i]]);
        }
        motcua__v1__agency_to_hub__free_unpacked(m, NULL);
    }
    for (size_t i = 0; i < nr; i++)
        result_buf_clear(&bufs[i]);
    free(acks);
    free(results);
    free(bufs);
    free(slot);
    beat(hub); /* a batch is a few round trips: the agencies hear from us in between */
}

/* batch_add - keep p's checked ack or result m for this pass's flush (it owns m now) */
static void batch_add(lienthong_hub_t *hub, peer_t *p, Motcua__V1__AgencyToHub *m)
{
    if (hub->n_pending == HUB_DRAIN) /* never: on_router flushes every HUB_DRAIN frames */
        flush_batch(hub);
    hub->pending[hub->n_pending++] = (pending_t){p, m};
}

#define HUB_WARN_BATCH   32 /* DueSoon frames read from the store at once */
#define HUB_REWARN_PAGES 32 /* batches one DueSoon pass sends at most (the next pass goes on) */
#define HUB_REWARN_BEATS 15 /* heartbeats between two periodic DueSoon passes (agency.proto rule 8) */

/* holder - the ready connection of agency whose session is session, NULL if none */
static peer_t *holder(lienthong_hub_t *hub, const char *agency, const char *session)
{
    peer_t *to = NULL;
    for (size_t k = 0; k < hub->n_peers; k++) {
        peer_t *q = hub->peers[k];
        if (q->ready && !q->gone && strcmp(q->agency, agency) == 0 &&
            strcmp(q->session, session) == 0)
            to = q;
    }
    return to;
}

/* send_due_soon - the DueSoon of w, with its Vietnamese text, to `to`; true if it left */
static bool send_due_soon(lienthong_hub_t *hub, peer_t *to, const mc_case_warning_t *w)
{
    char due[80], message[400];
    snprintf(message, sizeof message,
             "Hồ sơ sắp đến hạn trả kết quả (%s). Nếu không kịp, đề xuất gia hạn "
             "(ExtensionRequest) trước hạn ít nhất %d ngày làm việc để gửi văn bản xin lỗi "
             "và hẹn lại; chỉ được hẹn lại một lần.",
             mc_format_local(w->dossier_due_at, due, sizeof due),
             hub->cfg->rules.apology_before_days);
    lienthong_frame_t f = {0};
    return lienthong_pack_due_soon(w->case_id, w->revision, w->due_at, w->dossier_due_at,
                                   message, &f) == 0 && send_to(hub, to, &f);
}

/* ready_agencies - the first ready connection of each agency that has one, into
 * firsts (hub->agencies->count entries at most); how many */
static size_t ready_agencies(lienthong_hub_t *hub, peer_t **firsts)
{
    size_t n = 0;
    for (size_t i = 0; i < hub->n_peers; i++) {
        peer_t *p = hub->peers[i];
        if (!p->ready || p->gone || p->agency_index >= hub->agencies->count)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = firsts[k]->agency_index == p->agency_index;
        if (!seen)
            firsts[n++] = p;
    }
    return n;
}

/* warn_reqs_new - one mc_warn_req_t per ready agency (to[i] its first ready connection),
 * each with HUB_WARN_BATCH entries; NULL when none or out of memory */
static mc_warn_req_t *warn_reqs_new(lienthong_hub_t *hub, peer_t **to, size_t *n)
{
    *n = ready_agencies(hub, to);
    mc_warn_req_t *reqs = *n ? calloc(*n, sizeof *reqs) : NULL;
    mc_case_warning_t *w = reqs ? calloc(*n * HUB_WARN_BATCH, sizeof *w) : NULL;
    if (!w) {
        free(reqs);
        return NULL;
    }
    for (size_t i = 0; i < *n; i++)
        reqs[i] = (mc_warn_req_t){.agency = to[i]->agency, .out = w + i * HUB_WARN_BATCH,
                                  .max = HUB_WARN_BATCH};
    return reqs;
}

/* warn_reqs_free - what warn_reqs_new allocated */
static void warn_reqs_free(mc_warn_req_t **reqs)
{
    if (*reqs)
        free((*reqs)[0].out);
    free(*reqs);
    *reqs = NULL;
}

/* warn_agencies - DueSoon for the acked cases of every ready agency that the
 * due_soon scan flagged, each to the connection whose session holds the case
 * (else to the agency's first ready one), the flags of those sent cleared
 * after (a frame lost after that is covered by rewarn: after the holder's
 * next resync, and periodically). Two round trips whatever the number of
 * agencies and cases: one read for all, one clear for all. */
static void warn_agencies(lienthong_hub_t *hub)
{
    peer_t **to = calloc(hub->agencies->count + 1, sizeof *to);
    size_t n = 0;
    mc_warn_req_t *reqs = to ? warn_reqs_new(hub, to, &n) : NULL;
    const char **sent = reqs ? calloc(n * HUB_WARN_BATCH, sizeof *sent) : NULL;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = sent ? mc_store_cases_warnings(hub->store, reqs, n, &err) : MC_STORE_OK;
    if (rc != MC_STORE_OK)
        log_store_error(hub, "warnings", rc, &err);
    size_t n_sent = 0;
    for (size_t a = 0; sent && a < n; a++) {
        for (size_t i = 0; i < reqs[a].n; i++) {
            const mc_case_warning_t *w = &reqs[a].out[i];
            peer_t *p = holder(hub, reqs[a].agency, w->session);
            if (!send_due_soon(hub, p ? p : to[a], w))
                continue; /* stays flagged: the next pass tries again */
            sent[n_sent++] = w->case_id;
            mc_log(MC_LOG_NOTICE, "due_soon_sent", "case=%s agency=%s", w->case_id,
                   reqs[a].agency);
        }
    }
    rc = mc_store_cases_warned(hub->store, sent, n_sent, &err);
    if (rc != MC_STORE_OK) /* they stay flagged: sent again at the next poll */
        log_store_error(hub, "warned", rc, &err);
    free(sent);
    warn_reqs_free(&reqs);
    free(to);
}

/* rewarn - DueSoon again (agency.proto rule 8) for the held cases of every req's
 * agency that were warned for their due date and are neither extended nor
 * answered (mc_store_cases_rewarnings): those of its session only, or of any
 * session when none, each to the ready connection of its session (none:
 * skipped). At most HUB_REWARN_PAGES round trips, each reading the next batch
 * of every req not done; each req's after_id is left where its next pass goes
 * on (0: all were seen). Reads the store only. */
static void rewarn(lienthong_hub_t *hub, mc_warn_req_t *reqs, size_t n, const char *why)
{
    mc_warn_req_t **left = calloc(n + 1, sizeof *left);
    size_t n_left = 0;
    for (size_t i = 0; left && i < n; i++)
        left[n_left++] = &reqs[i];
    for (int page = 0; left && page < HUB_REWARN_PAGES && n_left > 0; page++) {
        mc_warn_req_t *round = calloc(n_left, sizeof *round);
        if (!round)
            break;
        for (size_t i = 0; i < n_left; i++)
            round[i] = *left[i];
        mc_err_t err;
        mc_err_clear(&err);
        mc_store_rc_t rc = mc_store_cases_rewarnings(hub->store, round, n_left, &err);
        if (rc != MC_STORE_OK) {
            log_store_error(hub, "rewarnings", rc, &err);
            free(round);
            break; /* the next pass tries again from where each is */
        }
        size_t kept = 0;
        for (size_t i = 0; i < n_left; i++) {
            for (size_t k = 0; k < round[i].n; k++) {
                const mc_case_warning_t *w = &round[i].out[k];
                left[i]->after_id = w->id;
                peer_t *to = holder(hub, round[i].agency, w->session);
                if (to && send_due_soon(hub, to, w))
                    mc_log(MC_LOG_INFO, "due_soon_resent", "case=%s agency=%s why=%s",
                           w->case_id, round[i].agency, why);
            }
            if (round[i].n < round[i].max)
                left[i]->after_id = 0; /* all seen */
            else
                left[kept++] = left[i];
        }
        n_left = kept;
        free(round);
        beat(hub); /* a long pass must not silence the hub */
    }
    free(left);
}

/* rewarn_agencies - the periodic DueSoon pass of every ready agency, going on where
 * its last one stopped */
static void rewarn_agencies(lienthong_hub_t *hub)
{
    peer_t **to = calloc(hub->agencies->count + 1, sizeof *to);
    size_t n = 0;
    mc_warn_req_t *reqs = to ? warn_reqs_new(hub, to, &n) : NULL;
    for (size_t i = 0; reqs && i < n; i++)
        reqs[i].after_id = hub->view[to[i]->agency_index].rewarn_after;
    if (reqs)
        rewarn(hub, reqs, n, "period");
    for (size_t i = 0; reqs && i < n; i++)
        hub->view[to[i]->agency_index].rewarn_after = reqs[i].after_id;
    warn_reqs_free(&reqs);
    free(to);
}

/* what an extension request is decided with (decide_extension's arg) */
typedef struct extension_ctx {
    lienthong_hub_t                        *hub;     /* for the configuration */
    const char                             *agency;  /* who asks */
    const Motcua__V1__ExtensionRequest     *req;     /* the request */
    lienthong_frame_t                       answer;  /* the ExtensionAck decided */
    char                                    detail[300];  /* `extended` / `extension_refused` detail */
    char                                    apology[300]; /* `apology` detail */
} extension_ctx_t;

/* round_up_day - the end of working hours of the working day that holds t,
 * or of the next one when t is after them (mc_calendar: N = 0 is "that day") */
static int round_up_day(const mc_calendar_t *cal, int64_t t, int64_t *out)
{
    int64_t counted = 0;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_calendar_due(cal, t, 0, MC_TIME_WORKING_DAYS, 24 * 60, &counted, out, &err) != 0)
        return -1;
    if (*out >= t)
        return 0;
    return mc_calendar_due(cal, t, 1, MC_TIME_WORKING_DAYS, 24 * 60, &counted, out, &err);
}

/* decide_extension - mc_extension_decide_fn: agency.proto rule 8, in its order */
static int decide_extension(void *arg, const mc_extension_row_t *row, mc_extension_change_t *ch)
{
    extension_ctx_t *x = arg;
    const mc_cfg_t *cfg = x->hub->cfg;
    Motcua__V1__Reason code = MOTCUA__V1__REASON__REASON_WRONG_STATE;
    const char *why = NULL;
    int64_t new_due = 0, latest = 0, counted = 0, now = (int64_t)time(NULL);
    mc_err_t err;
    mc_err_clear(&err);
    if (row->dossier_state != MC_DOSSIER_RECEIVED && row->dossier_state != MC_DOSSIER_ROUTED &&
        row->dossier_state != MC_DOSSIER_IN_PROGRESS) {
        why = "hồ sơ không còn trong thời gian giải quyết";
    } else if (row->extended) {
        why = "hồ sơ đã được hẹn lại một lần; không hẹn lại lần thứ hai";
    } else if (round_up_day(cfg->calendar, x->req->new_due_at, &new_due) != 0) {
        code = MOTCUA__V1__REASON__REASON_INVALID_FORMAT;
        why = "ngày hẹn mới nằm ngoài lịch làm việc đã biết";
    } else if (new_due <= row->due_at) {
        code = MOTCUA__V1__REASON__REASON_INVALID_FORMAT;
        why = "ngày hẹn mới phải sau ngày hẹn trả kết quả hiện tại";
    } else if (mc_calendar_due(cfg->calendar, now, cfg->rules.apology_before_days,
                               MC_TIME_WORKING_DAYS, 24 * 60, &counted, &latest, &err) != 0 ||
               latest > row->due_at) {
        /* the apology must reach the applicant at least apology_before_days
         * working days before the due date: too late now, the dossier will
         * be late and is reported late without apology */
        why = "quá thời điểm gửi văn bản xin lỗi (chậm nhất trước hạn 1 ngày làm việc); "
              "hồ sơ sẽ bị ghi nhận quá hạn không có văn bản xin lỗi";
    }
    ch->accepted = why == NULL;
    if (ch->accepted) {
        ch->new_due_at = new_due;
        mc_event_extended(x->detail, sizeof x->detail, x->agency, row->step, row->due_at, new_due);
        ch->apology = mc_event_apology(x->apology, sizeof x->apology, row->due_at, new_due);
    } else {
        mc_event_extension_refused(x->detail, sizeof x->detail, x->agency, why);
    }
    ch->detail = x->detail;
    if (lienthong_pack_extension_ack(x->req->case_id, ch->accepted, new_due, code,
                                     why ? why : "", &x->answer) != 0)
        return -1;
    ch->response = x->answer.bytes;
    ch->response_len = x->answer.length;
    return 0;
}

/* handle_extension - ExtensionRequest: check, decide under the store's lock, answer */
static void handle_extension(lienthong_hub_t *hub, peer_t *p,
                             const Motcua__V1__ExtensionRequest *r)
{
    const char *bad = lienthong_check_extension(r);
    if (bad) { /* the case_id is echoed only when it is printable */
        refuse(hub, p, lienthong_case_id_ok(r->case_id) ? r->case_id : "",
               MOTCUA__V1__REASON__REASON_MALFORMED, bad);
        return;
    }
    if (!store_usable(hub))
        return; /* no answer: the agency resends */
    /* the fingerprint is our own packing of what we understood */
    size_t n = motcua__v1__extension_request__get_packed_size(r);
    uint8_t *bytes = malloc(n ? n : 1);
    if (!bytes)
        return;
    motcua__v1__extension_request__pack(r, bytes);
    uint8_t sha[32];
    crypto_hash_sha256(sha, bytes, n);
    free(bytes);
    extension_ctx_t x = {.hub = hub, .agency = p->agency, .req = r};
    mc_extension_req_t req = {.agency = p->agency, .case_id = r->case_id,
                              .revision = (int)r->revision, .reason = r->reason,
                              .request_sha256 = sha, .decide = decide_extension, .arg = &x};
    mc_stored_response_t existing = {0};
    mc_case_verdict_t verdict;
    bool notified = false;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_extension(hub->store, &req, &existing, &verdict, &notified, &err);
    if (rc != MC_STORE_OK) {
        log_store_error(hub, "extension", rc, &err);
        lienthong_frame_clear(&x.answer);
        return;
    }
    lienthong_frame_t f = {0};
    switch (verdict) {
    case MC_VERDICT_DUPLICATE: /* the stored answer, byte for byte */
        f.bytes = existing.bytes;
        f.length = existing.length;
        existing.bytes = NULL;
        break;
    case MC_VERDICT_ACCEPTED:
    case MC_VERDICT_CONFLICT:
        f = x.answer;
        x.answer = (lienthong_frame_t){0};
        break;
    case MC_VERDICT_UNKNOWN:
    case MC_VERDICT_NOT_YOURS:
        refuse_unknown(hub, p, r->case_id, verdict);
        return;
    case MC_VERDICT_NOT_SENT: /* offered again, not acked yet: no answer, the agency
                               * resends its proposal and it is decided once acked */
        mc_log(MC_LOG_INFO, "extension_deferred", "case=%s agency=%s", r->case_id, p->agency);
        return;
    default: /* closed or another revision: not stored, may succeed later */
        lienthong_pack_extension_ack(r->case_id, false, 0, MOTCUA__V1__REASON__REASON_WRONG_STATE,
                                     "hồ sơ chưa được nhận (chưa ack), đã xong hoặc khác lượt "
                                     "(revision)", &f);
        break;
    }
    mc_stored_response_clear(&existing);
    lienthong_frame_clear(&x.answer);
    send_to(hub, p, &f);
    mc_log(MC_LOG_NOTICE, "extension", "case=%s agency=%s verdict=%s", r->case_id, p->agency,
           mc_case_verdict_name(verdict));
    if (notified) {
        char code[96];
        snprintf(code, sizeof code, "%s", r->case_id);
        char *slash = strrchr(code, '/');
        if (slash)
            *slash = '\0';
        publish(hub, MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_NOTIFICATION, code, "");
    }
}

/* what reconciling a resync Ready came to */
typedef enum resync_rc {
    RESYNC_DONE,    /* reconciled */
    RESYNC_LATER,   /* the store could not: the peer stays un-resynced and gets a Hello again */
    RESYNC_REFUSED, /* the session is another agency's: refused, nothing changes */
} resync_rc_t;

/* resync - a resync Ready's holding against the store (*reoffered: cases queued again) */
static resync_rc_t resync(lienthong_hub_t *hub, peer_t *p, const Motcua__V1__Ready *r,
                          const char *session, int *reoffered)
{
    *reoffered = 0;
    if (!store_usable(hub))
        return RESYNC_LATER;
    mc_held_case_t *held = calloc(r->n_holding + 1, sizeof *held);
    if (!held)
        return RESYNC_LATER;
    for (size_t i = 0; i < r->n_holding; i++)
        held[i] = (mc_held_case_t){r->holding[i]->case_id, r->holding[i]->revision};
    mc_session_ref_t who = session_ref(hub, p);
    who.session = session;
    int kept = 0;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_sessions_resync(hub->store, &who, held, r->n_holding, reoffered,
                                                &kept, &err);
    free(held);
    char quoted[2 * LIENTHONG_SESSION_MAX + 8];
    if (rc == MC_STORE_EXISTS) {
        refuse(hub, p, "", MOTCUA__V1__REASON__REASON_FORBIDDEN,
               "session belongs to another agency: pick a new one");
        return RESYNC_REFUSED;
    }
    if (rc != MC_STORE_OK) {
        log_store_error(hub, "resync", rc, &err);
        return RESYNC_LATER;
    }
    mc_log(MC_LOG_NOTICE, "agency_resync",
           "agency=%s session=%s credit=%" PRIu32 " holding=%zu kept=%d reoffered=%d"
           " their_epoch=%016" PRIx64 " epoch=%016" PRIx64,
           p->agency, mc_log_quote(session, quoted, sizeof quoted), r->credit, r->n_holding, kept,
           *reoffered, r->hub_epoch, hub->epoch);
    return RESYNC_DONE;
}

/* handle_ready - Ready: plain adds credit, resync replaces it and reconciles */
static void handle_ready(lienthong_hub_t *hub, peer_t *p, const Motcua__V1__Ready *r)
{
    const char *bad = lienthong_check_ready(r);
    if (bad) {
        refuse(hub, p, "", MOTCUA__V1__REASON__REASON_MALFORMED, bad);
        return;
    }
    const char *session = r->session && *r->session ? r->session : p->session;
    int reoffered = 0;
    if (r->resync) {
        resync_rc_t done = resync(hub, p, r, session, &reoffered);
        if (done == RESYNC_REFUSED)
            return;
        p->resynced = done == RESYNC_DONE;
        p->credit = r->credit; /* rule 1: replaces, 0 allowed */
    } else {
        p->credit = p->credit + r->credit > 100000 ? 100000 : p->credit + r->credit;
    }
    if (strcmp(session, p->session) != 0) {
        session_release(hub, p); /* the old one: its lease runs out unless used elsewhere */
        snprintf(p->session, sizeof p->session, "%s", session);
    }
    p->session_live = true;
    mc_log(MC_LOG_DEBUG, "agency_ready", "agency=%s credit=%" PRIu32 " resync=%s", p->agency,
           p->credit, r->resync ? "yes" : "no");
    if (!p->ready) {
        p->ready = true;
        view_update(hub);
    }
    dispatch_later(hub, p->agency); /* and what it queued again (reoffered), to any connection */
    if (r->resync && p->resynced && store_usable(hub)) { /* rule 8: a lost DueSoon comes again */
        mc_case_warning_t w[HUB_WARN_BATCH];
        mc_warn_req_t req = {.agency = p->agency, .session = p->session, .out = w,
                             .max = HUB_WARN_BATCH};
        rewarn(hub, &req, 1, "resync");
    }
}

/* ready_keeps_session - r names no session or p's own (a plain Ready then only adds credit) */
static bool ready_keeps_session(const peer_t *p, const Motcua__V1__Ready *r)
{
    return !r->session || !*r->session || strcmp(r->session, p->session) == 0;
}

/* handle_frame - one frame from an authenticated agency */
static void handle_frame(lienthong_hub_t *hub, peer_t *p, const uint8_t *data, size_t len)
{
    /* strict: unknown fields, NULs and bad UTF-8 are refused before anything
     * reads the frame; why names the field, never its value */
    ProtobufCMessage *msg = NULL;
    char why[256];
    if (mc_wire_unpack(&motcua__v1__agency_to_hub__descriptor, data, len, &msg, why,
                       sizeof why) != 0) {
        refuse(hub, p, "", MOTCUA__V1__REASON__REASON_MALFORMED, why);
        return;
    }
    Motcua__V1__AgencyToHub *m = (Motcua__V1__AgencyToHub *)msg;
    if (m->body_case == MOTCUA__V1__AGENCY_TO_HUB__BODY__NOT_SET) {
        refuse(hub, p, "", MOTCUA__V1__REASON__REASON_MALFORMED, "not an AgencyToHub frame");
        motcua__v1__agency_to_hub__free_unpacked(m, NULL);
        return;
    }
    bool is_ready = m->body_case == MOTCUA__V1__AGENCY_TO_HUB__BODY_READY;
    /* rule 6: a connection we do not know resyncs first; ZeroMQ reconnected
     * it to us silently, so the agency may not know we are new */
    if (!p->resynced && !(is_ready && m->ready->resync) && (!is_ready || p->last_hello == 0))
        hello(hub, p);
    int revision = 0;
    switch (m->body_case) {
    case MOTCUA__V1__AGENCY_TO_HUB__BODY_READY:
        /* a plain Ready of the same session only adds credit: no store, no
         * order to keep (the batch's acks are recorded under the session it
         * leaves unchanged), so it does not cut the batch (one transaction
         * per answered case otherwise: the agency sends one per result) */
        if (m->ready->resync || !ready_keeps_session(p, m->ready))
            flush_batch(hub); /* what came before it is applied before it */
        handle_ready(hub, p, m->ready);
        if (m->ready->resync)
            beat(hub); /* its store calls took a while: many agencies may resync at once */
        break;
    case MOTCUA__V1__AGENCY_TO_HUB__BODY_HEARTBEAT:
        break; /* last_recv is already updated */
    case MOTCUA__V1__AGENCY_TO_HUB__BODY_ACK:
        if (!ack_usable(hub, p, m->ack))
            break;
        batch_add(hub, p, m); /* applied with the others of this pass */
        return;
    case MOTCUA__V1__AGENCY_TO_HUB__BODY_RESULT:
        if (!result_usable(hub, p, m->result, &revision))
            break;
        batch_add(hub, p, m);
        return;
    case MOTCUA__V1__AGENCY_TO_HUB__BODY_EXTENSION:
        flush_batch(hub);
        handle_extension(hub, p, m->extension);
        beat(hub); /* one transaction of its own */
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
    watch_connections(hub); /* closed connections first: their routing ids are free again */
    /* the ZAP handler set this from the CURVE key; nothing in the frame counts */
    const char *user = have_body ? zmq_msg_gets(&body, "User-Id") : NULL;
    const mc_agency_t *agency = user ? mc_agencies_find(hub->agencies, user) : NULL;
    if (!agency) {
        mc_log(MC_LOG_WARNING, "frame_dropped", "reason=no_identity");
    } else {
        int fd = zmq_msg_get(&body, ZMQ_SRCFD); /* which connection: -1 if unknown */
        peer_t *p = peer_find(hub, zmq_msg_data(&rid), zmq_msg_size(&rid), agency, fd);
        if (p) {
            p->last_recv = mc_time_mono_ms();
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
        Motcua__Internal__V1__PipelineEvent *e =
            motcua__internal__v1__pipeline_event__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
        zmq_msg_close(&m);
        if (!e)
            continue;
        if (e->kind == MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_CASE_QUEUED && e->agency && *e->agency)
            dispatch_later(hub, e->agency);
        else if (e->kind == MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_SUPPLEMENTED ||
                 e->kind == MOTCUA__INTERNAL__V1__PIPELINE_EVENT__KIND__KIND_CASE_QUEUED)
            all = true;
        motcua__internal__v1__pipeline_event__free_unpacked(e, NULL);
    }
    if (all)
        dispatch_later(hub, NULL);
}

/* timers - ack timeouts, heartbeats, dead peers, the safety-net poll */
static void timers(lienthong_hub_t *hub)
{
    const mc_cfg_lienthong_t *lc = &hub->cfg->lienthong;
    /* read the connection events here too, not only around a send or a frame:
     * a connection the ROUTER ignores (its routing id was still held by a
     * closing one) sends us nothing and we may have no one to send to, yet it
     * must be seen to be cut, so its agency reconnects */
    watch_connections(hub);
    int64_t now = mc_time_mono_ms();
    /* a connection that has said nothing within 3 heartbeats of its
     * handshake serves nobody: a conforming agency speaks at once */
    for (size_t i = 0; i < hub->n_conns;) {
        conn_t *c = &hub->conns[i];
        if (!c->known && now - c->since > 3 * (int64_t)lc->heartbeat_ms)
            conn_cut(hub, c->fd, "silent_connection"); /* moves the last entry here */
        else
            i++;
    }
    for (size_t i = 0; i < hub->n_peers;) {
        peer_t *p = hub->peers[i];
        if (p->gone || now - p->last_recv > 3 * (int64_t)lc->heartbeat_ms) {
            int fd = p->gone ? -1 : p->fd;
            peer_drop(hub, i, p->gone ? "closed" : "silent");
            conn_cut(hub, fd, "peer_silent"); /* half-open: the agency reconnects anyway */
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
            dispatch_later(hub, p->agency); /* the store says what is due */
        }
        i++;
    }
    beat(hub);
    if (now >= hub->next_renew && store_usable(hub)) {
        hub->next_renew = now + lc->lease_ms / 4; /* a lease outlives three missed renewals */
        renew_leases(hub);
        beat(hub);
    }
    if (now >= hub->next_expire && store_usable(hub)) {
        hub->next_expire = now + HUB_LEASE_SCAN_MS;
        expire_leases(hub);
        beat(hub);
    }
    status_send(hub, now);
    drops_flush(hub, now);
    if (now >= hub->next_summary) {
        hub->next_summary = now + HUB_SUMMARY_MS;
        view_summary(hub);
    }
    if (now >= hub->next_poll) {
        hub->next_poll = now + lc->poll_ms;
        dispatch_later(hub, NULL);
        if (store_usable(hub))
            warn_agencies(hub); /* DueSoon for what the router's scan flagged */
        beat(hub);
    }
    if (now >= hub->next_rewarn) { /* rule 8: DueSoon again while unanswered */
        hub->next_rewarn = now + HUB_REWARN_BEATS * (int64_t)lc->heartbeat_ms;
        if (store_usable(hub))
            rewarn_agencies(hub);
        beat(hub);
    }
    dispatch_pending(hub); /* what the frames, events and timers of this pass asked for */
    beat(hub);
}

/* lienthong_hub_reload - the new table in the ZAP handler, the views and the peers */
int lienthong_hub_reload(lienthong_hub_t *hub, const mc_cfg_t *cfg, mc_agencies_t *agencies,
                         mc_err_t *err)
{
    view_t *view = calloc(agencies->count + 1, sizeof *view);
    if (!view) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    size_t kept = 0, dropped = 0;
    for (size_t a = 0; a < hub->agencies->count; a++) {
        const mc_agency_t *n = mc_agencies_find(agencies, hub->agencies->items[a].code);
        if (n && strcmp(n->public_key, hub->agencies->items[a].public_key) == 0) {
            view[n - agencies->items] = hub->view[a];
            kept++;
        }
    }
    for (size_t i = 0; i < hub->n_peers; i++) {
        peer_t *p = hub->peers[i];
        const mc_agency_t *old = mc_agencies_find(hub->agencies, p->agency);
        const mc_agency_t *n = mc_agencies_find(agencies, p->agency);
        if (n && old && strcmp(n->public_key, old->public_key) == 0) {
            p->agency_index = (size_t)(n - agencies->items);
        } else { /* its key no longer admits it: dropped, with its log line, at the next tick,
                  * and its connection ended, so a reconnect meets the new table in ZAP */
            p->agency_index = agencies->count;
            p->gone = true;
            conn_cut(hub, p->fd, "agency_reloaded");
            dropped++;
        }
    }
    mc_zap_set_table(hub->zap, agencies);
    free(hub->view);
    hub->view = view;
    hub->cfg = cfg;
    hub->agencies = agencies;
    hub->status_dirty = true;
    mc_log(MC_LOG_NOTICE, "agencies_reloaded", "agencies=%zu kept=%zu new=%zu peers_dropped=%zu",
           agencies->count, kept, agencies->count - kept, dropped);
    return 0;
}

/* lienthong_hub_new - ZAP first, then the CURVE socket */
lienthong_hub_t *lienthong_hub_new(const mc_cfg_t *cfg, mc_agencies_t *agencies, mc_err_t *err)
{
    char secret[MC_CURVE_KEY_LEN + 1], public_key[MC_CURVE_KEY_LEN + 1];
    if (mc_curve_read_secret_key(cfg->lienthong.server_key_file, secret, err) != 0 ||
        mc_curve_public_of(secret, public_key, err) != 0)
        return NULL;
    lienthong_hub_t *hub = calloc(1, sizeof *hub);
    if (!hub) {
        mc_err_add(err, "out of memory");
        return NULL;
    }
    hub->cfg = cfg;
    hub->agencies = agencies;
    /* rule 6: a new epoch at every start tells connected agencies to resync */
    for (int i = 0; i < 8 && hub->epoch == 0; i++)
        if (getrandom(&hub->epoch, sizeof hub->epoch, 0) != (ssize_t)sizeof hub->epoch)
            hub->epoch = 0;
    hub->view = calloc(agencies->count + 1, sizeof *hub->view);
    if (hub->epoch == 0 || !hub->view) {
        mc_err_add(err, hub->view ? "no randomness for the hub epoch" : "out of memory");
        explicit_bzero(secret, sizeof secret);
        lienthong_hub_destroy(&hub);
        return NULL;
    }
    hub->store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms);
    mc_store_set_tcp(hub->store, &cfg->db_tcp);
    mc_socket_opts_t ropts = {.max_message_bytes = LIENTHONG_MAX_FRAME, .send_hwm = 10000,
                              .recv_hwm = 10000, .linger_ms = 0};
    if (!hub->store || !(hub->zap = mc_zap_start(agencies, err)) ||
        !(hub->router = mc_transport_bind_curve_server(ZMQ_ROUTER, cfg->lienthong.endpoint, &ropts,
                                                       secret, HUB_ZAP_DOMAIN, err)) ||
        !(hub->sub = mc_events_listen(cfg, MC_EVENTS_FROM_ROUTER | MC_EVENTS_FROM_INTAKE, err)) ||
        mc_transport_router_mandatory(hub->router, true, err) != 0) { /* see send_to */
        explicit_bzero(secret, sizeof secret);
        if (!hub->store)
            mc_err_add(err, "out of memory");
        lienthong_hub_destroy(&hub);
        return NULL;
    }
    explicit_bzero(secret, sizeof secret);
    /* NULL: latency only; hub->zap (the agencies') admits the events key too */
    hub->pub = mc_events_pub(cfg->lienthong.events_endpoint, cfg->events.key_file, &hub->zap);
    /* handshakes (to cut connections that serve no peer) and closes; an event
     * may reach us after the frames that followed it, so a handshake may name
     * a connection we already serve (watch_connections checks the peers) */
    hub->conns = calloc(HUB_MAX_CONNS, sizeof *hub->conns);
    if (!hub->conns ||
        !(hub->monitor = mc_transport_monitor(hub->router, HUB_MONITOR,
                                              ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                                  ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED,
                                              err))) {
        mc_err_add(err, "cannot watch the agencies' connections");
        lienthong_hub_destroy(&hub);
        return NULL;
    }
    mc_err_t ignored;
    mc_err_clear(&ignored);
    if (mc_store_connect(hub->store, &ignored) != MC_STORE_OK)
        log_store_error(hub, "connect", MC_STORE_UNAVAILABLE, &ignored); /* retried later */
    mc_log(MC_LOG_NOTICE, "curve_server",
           "endpoint=%s public_key=%s agencies=%zu epoch=%016" PRIx64 " lease_ms=%d",
           cfg->lienthong.endpoint, public_key, agencies->count, hub->epoch, cfg->lienthong.lease_ms);
    return hub;
}

/* on_tick - mc_loop_fn: the hub's timers; due again at the next poll, at most HUB_TICK_MS away */
static int on_tick(mc_loop_t *loop, void *arg)
{
    lienthong_hub_t *hub = arg;
    timers(hub);
    int64_t wait = hub->next_poll - mc_time_mono_ms();
    mc_loop_timer_reset(loop, hub->tick_timer, wait > HUB_TICK_MS ? HUB_TICK_MS : wait);
    return 0;
}

/* on_router - mc_loop_fn: a bounded run of agency frames (every message already
 * waiting, HUB_DRAIN at most), their acks and results in one transaction, then the
 * timers (and the dispatch they asked for) */
static int on_router(mc_loop_t *loop, void *arg)
{
    lienthong_hub_t *hub = arg;
    for (int i = 0; i < HUB_DRAIN && read_router(hub); i++)
        ;
    flush_batch(hub); /* then the timers dispatch what it freed and queued, in this pass */
    return on_tick(loop, hub);
}

/* on_events - mc_loop_fn: PipelineEvents, then the timers */
static int on_events(mc_loop_t *loop, void *arg)
{
    lienthong_hub_t *hub = arg;
    read_events(hub);
    return on_tick(loop, hub);
}

/* lienthong_hub_start - every timer due at start; nothing in flight is lost
 * at a stop: the store has it all */
int lienthong_hub_start(lienthong_hub_t *hub, mc_loop_t *loop, mc_err_t *err)
{
    hub->next_poll = hub->next_renew = hub->next_expire = mc_time_mono_ms(); /* all at start */
    hub->next_summary = hub->next_poll + HUB_SUMMARY_MS;
    hub->counted_from = hub->next_poll;
    hub->tick_timer = mc_loop_every(loop, 0, HUB_TICK_MS, on_tick, hub);
    if (hub->tick_timer < 0 || mc_loop_add_socket(loop, hub->router, on_router, hub) != 0 ||
        mc_loop_add_socket(loop, hub->sub, on_events, hub) != 0) {
        mc_err_add(err, "lienthong: cannot set up the loop");
        return -1;
    }
    return 0;
}

/* lienthong_hub_destroy - close sockets (ZAP last: it may be serving them), free */
void lienthong_hub_destroy(lienthong_hub_t **hub_p)
{
    if (!hub_p || !*hub_p)
        return;
    lienthong_hub_t *hub = *hub_p;
    if (hub->counted_from)
        view_summary(hub); /* the counts of the last period */
    for (size_t i = 0; i < hub->n_pending; i++) /* never applied nor answered: resent */
        motcua__v1__agency_to_hub__free_unpacked(hub->pending[i].msg, NULL);
    for (size_t i = 0; i < hub->n_peers; i++) {
        free(hub->peers[i]->inflight);
        free(hub->peers[i]);
    }
    free(hub->peers);
    free(hub->conns);
    free(hub->view);
    mc_transport_close(&hub->pub);
    mc_transport_close(&hub->sub);
    mc_transport_monitor_stop(hub->router);
    mc_transport_close(&hub->monitor);
    mc_transport_close(&hub->router);
    mc_zap_stop(&hub->zap);
    mc_store_destroy(&hub->store);
    free(hub);
    *hub_p = NULL;
}
