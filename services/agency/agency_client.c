/*
 * agency_client - the loop of motcua-agency (contract in agency.h).
 *
 * All state is in memory: a real agency keeps its cases in its own store;
 * the simulator only needs enough to show the protocol's guarantees
 * (idempotent case ids, results resent until answered, reconnects).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "agency.h"
#include "mc_log.h"
#include "mc_transport.h"
#include "motcua/v1/agency.pb-c.h"

#define AGENCY_TICK_MS      50      /* longest sleep */
#define AGENCY_RESEND_MS    1000    /* resend an unanswered result this often (at least) */
#define AGENCY_MAX_CASES    100000  /* cases remembered */

/* one case this agency has */
typedef struct work {
    char     case_id[96]; /* idempotency key, with revision */
    uint32_t revision;    /* Case.revision: a new one is new work */
    int      outcome;     /* decided on arrival */
    int64_t  due;         /* monotonic ms when the "processing" ends */
    int      state;       /* 0 processing, 1 result sent, 2 answered */
    int64_t  last_sent;   /* monotonic ms of the last result frame */
    uint8_t *result;      /* packed AgencyToHub{result}, resent byte for byte */
    size_t   result_len;
} work_t;

/* the client */
typedef struct client {
    const agency_opts_t *opts;
    void   *socket;     /* DEALER, CURVE client */
    work_t *work;       /* cases seen */
    size_t  n_work, cap_work;
    char  (*dropped)[96]; /* case ids whose first delivery was ignored */
    size_t  n_dropped, cap_dropped;
    int64_t last_recv;  /* monotonic ms of the last frame from the hub */
    int64_t last_send;  /* monotonic ms of the last frame to the hub */
    long    answered;   /* results answered (ResultAck or Refusal) */
} client_t;

/* now_ms - monotonic ms */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* agency_outcome - FNV-1a of the case id, mod 100, against the split */
int agency_outcome(const agency_opts_t *opts, const char *case_id)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)case_id; *p; p++)
        h = (h ^ *p) * 16777619u;
    int bucket = (int)(h % 100);
    if (bucket < opts->pct_approved)
        return MOTCUA__V1__OUTCOME__OUTCOME_APPROVED;
    if (bucket < opts->pct_approved + opts->pct_rejected)
        return MOTCUA__V1__OUTCOME__OUTCOME_REJECTED;
    return MOTCUA__V1__OUTCOME__OUTCOME_NEEDS_DOCUMENTS;
}

/* send_msg - pack and send one AgencyToHub */
static void send_msg(client_t *c, const Motcua__V1__AgencyToHub *m)
{
    size_t n = motcua__v1__agency_to_hub__get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return;
    motcua__v1__agency_to_hub__pack(m, buf);
    if (zmq_send(c->socket, buf, n, ZMQ_DONTWAIT) >= 0)
        c->last_send = now_ms();
    free(buf);
}

/* send_ready - grant credit */
static void send_ready(client_t *c, uint32_t credit)
{
    Motcua__V1__Ready r = MOTCUA__V1__READY__INIT;
    r.credit = credit;
    r.client_version = (char *)"motcua-agency/1";
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_READY;
    m.ready = &r;
    send_msg(c, &m);
}

/* send_ack - we have the case */
static void send_ack(client_t *c, const char *case_id)
{
    Motcua__V1__CaseAck a = MOTCUA__V1__CASE_ACK__INIT;
    a.case_id = (char *)case_id;
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_ACK;
    m.ack = &a;
    send_msg(c, &m);
}

/* connect_hub - a fresh CURVE connection and our credit */
static int connect_hub(client_t *c)
{
    mc_transport_close(&c->socket);
    mc_err_t err;
    mc_err_clear(&err);
    mc_socket_opts_t o = {.max_message_bytes = 16 << 20, .linger_ms = 0};
    c->socket = mc_transport_connect_curve_client(ZMQ_DEALER, c->opts->endpoint, &o,
                                                  c->opts->server_key, c->opts->public_key,
                                                  c->opts->secret_key, &err);
    if (!c->socket) {
        char line[300];
        mc_log(MC_LOG_ERR, "connect_failed", "error=\"%s\"", mc_err_first(&err, line, sizeof line));
        return -1;
    }
    c->last_recv = now_ms();
    /* the hub forgot our credit with the old connection; grant it afresh,
     * minus what we are still working on */
    long busy = 0;
    for (size_t i = 0; i < c->n_work; i++)
        busy += c->work[i].state != 2;
    long credit = (long)c->opts->credit - busy;
    send_ready(c, credit > 0 ? (uint32_t)credit : 1);
    mc_log(MC_LOG_NOTICE, "connected", "agency=%s endpoint=%s credit=%ld", c->opts->agency,
           c->opts->endpoint, credit > 0 ? credit : 1);
    return 0;
}

/* find_work - the case with this id, or NULL */
/* find_work - the newest work for a case id (answers carry no revision) */
static work_t *find_work(client_t *c, const char *case_id)
{
    for (size_t i = c->n_work; i-- > 0;)
        if (strcmp(c->work[i].case_id, case_id) == 0)
            return &c->work[i];
    return NULL;
}

/* find_work_rev - the work for exactly this case id and revision */
static work_t *find_work_rev(client_t *c, const char *case_id, uint32_t revision)
{
    for (size_t i = 0; i < c->n_work; i++)
        if (c->work[i].revision == revision && strcmp(c->work[i].case_id, case_id) == 0)
            return &c->work[i];
    return NULL;
}

/* build_result - the result frame for w, packed once so resends are identical */
static int build_result(client_t *c, work_t *w)
{
    Motcua__V1__CaseResult r = MOTCUA__V1__CASE_RESULT__INIT;
    r.case_id = w->case_id;
    r.revision = w->revision;
    r.outcome = (Motcua__V1__Outcome)w->outcome;
    char handled[120], uri[160];
    snprintf(handled, sizeof handled, "motcua-agency %s", c->opts->agency);
    r.handled_by = handled;
    Motcua__V1__DocumentRef doc = MOTCUA__V1__DOCUMENT_REF__INIT;
    Motcua__V1__DocumentRef *docs[1] = {&doc};
    Motcua__V1__MissingDocument miss = MOTCUA__V1__MISSING_DOCUMENT__INIT;
    Motcua__V1__MissingDocument *missing[1] = {&miss};
    if (w->outcome == MOTCUA__V1__OUTCOME__OUTCOME_APPROVED) {
        snprintf(uri, sizeof uri, "urn:motcua-agency:%s:%s", c->opts->agency, w->case_id);
        doc.document_type = (char *)"KET_QUA";
        doc.name = (char *)"Kết quả giải quyết (mô phỏng)";
        doc.media_type = (char *)"application/pdf";
        doc.uri = uri;
        doc.form = MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ELECTRONIC;
        r.n_result_documents = 1;
        r.result_documents = docs;
    } else if (w->outcome == MOTCUA__V1__OUTCOME__OUTCOME_REJECTED) {
        r.reason = (char *)"Hồ sơ không đủ điều kiện giải quyết (mô phỏng)";
    } else {
        miss.document_type = (char *)"GIAY_TO_BO_SUNG";
        miss.name = (char *)"Giấy tờ chứng minh nơi cư trú";
        miss.reason = (char *)"chưa có trong hồ sơ (mô phỏng)";
        r.n_missing = 1;
        r.missing = missing;
    }
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_RESULT;
    m.result = &r;
    w->result_len = motcua__v1__agency_to_hub__get_packed_size(&m);
    w->result = malloc(w->result_len ? w->result_len : 1);
    if (!w->result)
        return -1;
    motcua__v1__agency_to_hub__pack(&m, w->result);
    return 0;
}

/* on_case - a case arrived (maybe again) */
static void on_case(client_t *c, const Motcua__V1__Case *k)
{
    if (!k->case_id || !*k->case_id || strlen(k->case_id) >= 96)
        return;
    uint32_t revision = k->revision ? k->revision : 1;
    work_t *w = find_work_rev(c, k->case_id, revision);
    if (w) { /* seen before: our ack was lost; ack again, do nothing twice */
        mc_log(MC_LOG_INFO, "case_again", "case=%s attempt=%" PRIu32, k->case_id, k->attempt);
        send_ack(c, k->case_id);
        return;
    }
    if (c->opts->drop_first_ack) {
        bool seen = false;
        for (size_t i = 0; i < c->n_dropped && !seen; i++)
            seen = strcmp(c->dropped[i], k->case_id) == 0;
        if (!seen) {
            if (c->n_dropped == c->cap_dropped) {
                size_t cap = c->cap_dropped ? c->cap_dropped * 2 : 16;
                char(*grown)[96] = realloc(c->dropped, cap * sizeof *grown);
                if (!grown)
                    return;
                c->dropped = grown;
                c->cap_dropped = cap;
            }
            snprintf(c->dropped[c->n_dropped++], 96, "%s", k->case_id);
            mc_log(MC_LOG_NOTICE, "case_dropped", "case=%s attempt=%" PRIu32, k->case_id,
                   k->attempt);
            return;
        }
    }
    if (c->n_work >= AGENCY_MAX_CASES)
        return; /* unacked: the hub keeps it for later */
    if (c->n_work == c->cap_work) {
        size_t cap = c->cap_work ? c->cap_work * 2 : 64;
        work_t *grown = realloc(c->work, cap * sizeof *grown);
        if (!grown)
            return;
        c->work = grown;
        c->cap_work = cap;
    }
    w = &c->work[c->n_work];
    memset(w, 0, sizeof *w);
    snprintf(w->case_id, sizeof w->case_id, "%s", k->case_id);
    w->revision = revision;
    /* a resumed step (revision > 1) is judged again: the outcome hashes the revision too */
    char judged[128];
    if (revision > 1)
        snprintf(judged, sizeof judged, "%s#%" PRIu32, k->case_id, revision);
    else
        snprintf(judged, sizeof judged, "%s", k->case_id);
    w->outcome = agency_outcome(c->opts, judged);
    w->due = now_ms() + c->opts->delay_ms;
    if (build_result(c, w) != 0)
        return;
    c->n_work++;
    send_ack(c, k->case_id);
    mc_log(MC_LOG_INFO, "case_received", "case=%s attempt=%" PRIu32 " step=%" PRIu32 "/%" PRIu32
           " previous=%zu outcome=%d", k->case_id, k->attempt, k->step, k->steps_total,
           k->n_previous, w->outcome);
}

/* on_answer - the hub answered a result (ResultAck or Refusal) */
static void on_answer(client_t *c, const char *case_id, bool accepted, const char *why)
{
    work_t *w = case_id ? find_work(c, case_id) : NULL;
    if (!w || w->state == 2)
        return;
    w->state = 2;
    free(w->result);
    w->result = NULL;
    c->answered++;
    mc_log(accepted ? MC_LOG_INFO : MC_LOG_WARNING, "result_answered",
           "case=%s accepted=%s reason=\"%s\" answered=%ld", case_id, accepted ? "yes" : "no",
           why ? why : "", c->answered);
    send_ready(c, 1); /* one slot free again */
}

/* on_frame - one frame from the hub */
static void on_frame(client_t *c, const uint8_t *data, size_t len)
{
    Motcua__V1__HubToAgency *m = motcua__v1__hub_to_agency__unpack(NULL, len, data);
    if (!m) {
        mc_log(MC_LOG_WARNING, "frame_garbled", "bytes=%zu", len);
        return;
    }
    switch (m->body_case) {
    case MOTCUA__V1__HUB_TO_AGENCY__BODY_CASE:
        on_case(c, m->case_);
        break;
    case MOTCUA__V1__HUB_TO_AGENCY__BODY_RESULT_ACK:
        on_answer(c, m->result_ack->case_id, m->result_ack->accepted, m->result_ack->reason);
        break;
    case MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL:
        mc_log(MC_LOG_WARNING, "refused", "case=%s reason=%d message=\"%s\"",
               m->refusal->case_id && *m->refusal->case_id ? m->refusal->case_id : "-",
               (int)m->refusal->reason, m->refusal->message ? m->refusal->message : "");
        on_answer(c, m->refusal->case_id, false, m->refusal->message);
        break;
    default:
        break; /* heartbeat: last_recv is updated */
    }
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
}

/* tick - results due, resends, heartbeats, a silent hub */
static int tick(client_t *c)
{
    int64_t now = now_ms();
    int resend = c->opts->heartbeat_ms > AGENCY_RESEND_MS ? c->opts->heartbeat_ms : AGENCY_RESEND_MS;
    for (size_t i = 0; i < c->n_work; i++) {
        work_t *w = &c->work[i];
        if ((w->state == 0 && w->due <= now) || (w->state == 1 && now - w->last_sent >= resend)) {
            if (zmq_send(c->socket, w->result, w->result_len, ZMQ_DONTWAIT) >= 0) {
                c->last_send = now;
                mc_log(w->state ? MC_LOG_NOTICE : MC_LOG_INFO, "result_sent",
                       "case=%s outcome=%d again=%s", w->case_id, w->outcome, w->state ? "yes" : "no");
            }
            w->state = 1;
            w->last_sent = now;
        }
    }
    if (now - c->last_recv > 3 * (int64_t)c->opts->heartbeat_ms) {
        mc_log(MC_LOG_NOTICE, "hub_silent", "ms=%" PRId64, now - c->last_recv);
        return connect_hub(c);
    }
    if (now - c->last_send >= c->opts->heartbeat_ms) {
        Motcua__V1__Heartbeat hb = MOTCUA__V1__HEARTBEAT__INIT;
        hb.at = (int64_t)time(NULL);
        Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
        m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_HEARTBEAT;
        m.heartbeat = &hb;
        send_msg(c, &m);
    }
    return 0;
}

/* agency_run - the loop */
int agency_run(const agency_opts_t *opts, int stop_fd)
{
    client_t c;
    memset(&c, 0, sizeof c);
    c.opts = opts;
    int rc = connect_hub(&c);
    while (rc == 0) {
        if (opts->count > 0 && c.answered >= opts->count) {
            mc_log(MC_LOG_NOTICE, "count_reached", "answered=%ld", c.answered);
            break;
        }
        zmq_pollitem_t items[2] = {{c.socket, 0, ZMQ_POLLIN, 0}, {NULL, stop_fd, ZMQ_POLLIN, 0}};
        int n = zmq_poll(items, 2, AGENCY_TICK_MS);
        if (n < 0 && errno != EINTR) {
            rc = -1;
            break;
        }
        if (n > 0 && (items[1].revents & ZMQ_POLLIN)) {
            struct signalfd_siginfo si;
            if (read(stop_fd, &si, sizeof si) == (ssize_t)sizeof si)
                mc_log(MC_LOG_NOTICE, "stopping", "signal=%u", si.ssi_signo);
            break;
        }
        for (int i = 0; n > 0 && (items[0].revents & ZMQ_POLLIN) && i < 256; i++) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, c.socket, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            c.last_recv = now_ms();
            on_frame(&c, zmq_msg_data(&m), zmq_msg_size(&m));
            zmq_msg_close(&m);
        }
        rc = tick(&c);
    }
    for (size_t i = 0; i < c.n_work; i++)
        free(c.work[i].result);
    free(c.work);
    free(c.dropped);
    mc_transport_close(&c.socket);
    return rc;
}
