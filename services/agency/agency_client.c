/*
 * agency_client - the loop of motcua-agency (contract in agency.h).
 *
 * The cases are kept in memory and, with a state directory, in the journal
 * (agency_journal.c) before they are acked: a real agency keeps them in its
 * own store; the simulator keeps just enough to show the protocol's
 * guarantees (idempotent (case_id, revision), acks only for what is stored,
 * results resent until answered, resync on every new connection and every
 * new hub epoch).
 *
 * The loop is an mc_loop (the daemons' one loop, mc_loop.h): the DEALER's
 * frames, the signals (mc_daemon_signal_read: SIGHUP logged and ignored,
 * SIGTERM/SIGINT stop after the frame in hand) and three timers: the cases'
 * scan (results due, resends, holds; at once after every batch of frames),
 * the heartbeat (pushed back by every frame sent) and the hub's silence
 * (pushed back by every frame received). A loop watches one socket for its
 * life, so a reconnect ends the loop and the next connection gets a new one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "agency.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_loop.h"
#include "mc_time.h"
#include "mc_transport.h"
#include "mc_wire.h"
#include "motcua/v1/agency.pb-c.h"

#define AGENCY_SCAN_MS        50   /* the cases are scanned at least this often */
#define AGENCY_SILENT_BEATS   3    /* a hub silent this many heartbeats: reconnect */
#define AGENCY_RECONNECT      1    /* mc_loop_stop status: a new connection, a new loop */
#define AGENCY_RESEND_MS      1000 /* resend an unanswered result this often (at least) */
#define AGENCY_COMPACT_LINES  1024 /* never compact a journal shorter than this */
#define AGENCY_EXTEND_REASON  "Cần thêm thời gian xác minh hồ sơ" /* ExtensionRequest.reason */

/* where a case stands */
typedef enum work_state {
    WORK_PROCESSING  = 0, /* acked (journaled), "processing" until due */
    WORK_RESULT_SENT = 1, /* result sent, resent until the hub answers */
    WORK_ANSWERED    = 2, /* the hub accepted or refused the result */
} work_state_t;

/* where a case's extension proposal stands (--extend-days, agency.proto rule 8) */
typedef enum extension_state {
    EXTENSION_NONE     = 0, /* nothing proposed */
    EXTENSION_PROPOSED = 1, /* journaled and sent, resent until the hub answers */
    EXTENSION_ANSWERED = 2, /* ExtensionAck (accepted or not) or Refusal received */
} extension_state_t;

/* one case this agency has */
typedef struct work {
    char         case_id[AGENCY_CASE_ID_MAX]; /* idempotency key, with revision */
    uint32_t     revision;                    /* Case.revision: a new one is new work */
    int          outcome;                     /* decided on arrival, journaled */
    int          accepted;                    /* WORK_ANSWERED: 1 accepted, 0 refused */
    int64_t      due;                         /* monotonic ms when the "processing" ends */
    work_state_t state;                       /* see work_state_t */
    int64_t      last_sent;                   /* monotonic ms of the last result frame */
    extension_state_t ext_state;              /* the extension proposal, see extension_state_t */
    int64_t      ext_due;                     /* proposed new_due_at (epoch s), 0 if none */
    int64_t      ext_last_sent;               /* monotonic ms of the last ExtensionRequest */
    int64_t      hold_until;                  /* monotonic ms: no DueSoon by then, answer anyway */
} work_t;

/* the client */
typedef struct client {
    const agency_opts_t *opts;
    agency_journal_t *journal;    /* NULL: memory only */
    void    *socket;              /* DEALER, CURVE client */
    work_t  *work;                /* cases taken, in arrival order */
    size_t   n_work, cap_work;    /* entries, allocated */
    size_t   n_done;              /* entries in WORK_ANSWERED */
    char   (*dropped)[AGENCY_CASE_ID_MAX]; /* case ids whose first delivery was ignored */
    size_t   n_dropped, cap_dropped; /* entries, allocated */
    char     session[33];         /* Ready.session: 32 random hex digits, new each start */
    uint64_t hub_epoch;           /* last Heartbeat/Hello epoch seen, 0 none yet */
    uint64_t resync_epoch;        /* hub_epoch when the last resync Ready left */
    int64_t  last_resync;         /* monotonic ms of the last resync Ready */
    int      heartbeat_ms;        /* config, or what the last Hello said */
    size_t   hub;                 /* the endpoint in use (index in opts->endpoints) */
    int64_t  last_recv;           /* monotonic ms of the last frame from the hub */
    mc_loop_t *loop;              /* the loop of the connection in hand, NULL between two */
    int      signal_fd;           /* mc_daemon_signal_fd */
    bool     stopping;            /* SIGTERM or SIGINT came */
    int      scan_timer;          /* mc_loop timer ids: the cases' scan, */
    int      heartbeat_timer;     /* ... our heartbeat, */
    int      silence_timer;       /* ... the hub's silence */
    long     answered;            /* results answered (ResultAck or Refusal) in this run */
    bool     replaying;           /* reading the journal: no compaction now */
    bool     compact_due;         /* cases were forgotten while replaying */
    size_t   iter;                /* compaction: next work entry */
    bool     iter_answer;         /* compaction: its A record is next */
    bool     iter_extension;      /* compaction: its E record is next */
} client_t;

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

/* agency_outcome_decided - the same hash, split between approved and rejected only */
int agency_outcome_decided(const agency_opts_t *opts, const char *case_id)
{
    int decided = opts->pct_approved + opts->pct_rejected;
    if (decided <= 0)
        return MOTCUA__V1__OUTCOME__OUTCOME_APPROVED;
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)case_id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (int)(h % (uint32_t)decided) < opts->pct_approved
               ? MOTCUA__V1__OUTCOME__OUTCOME_APPROVED
               : MOTCUA__V1__OUTCOME__OUTCOME_REJECTED;
}

/* send_bytes - one frame to the hub, never blocking */
static void send_bytes(client_t *c, const uint8_t *buf, size_t n)
{
    if (zmq_send(c->socket, buf, n, ZMQ_DONTWAIT) >= 0 && c->loop) /* not idle: no heartbeat yet */
        mc_loop_timer_reset(c->loop, c->heartbeat_timer, c->heartbeat_ms);
}

/* send_msg - pack and send one AgencyToHub */
static void send_msg(client_t *c, const Motcua__V1__AgencyToHub *m)
{
    size_t n = motcua__v1__agency_to_hub__get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return;
    motcua__v1__agency_to_hub__pack(m, buf);
    send_bytes(c, buf, n);
    free(buf);
}

/* send_ready - a Ready: plain (adds credit) or resync (replaces it, lists holding) */
static void send_ready(client_t *c, uint32_t credit, bool resync, Motcua__V1__HeldCase **holding,
                       size_t n_holding)
{
    Motcua__V1__Ready r = MOTCUA__V1__READY__INIT;
    r.credit = credit;
    r.client_version = (char *)"motcua-agency/2";
    r.session = c->session;
    r.resync = resync;
    r.hub_epoch = c->hub_epoch;
    r.holding = holding;
    r.n_holding = n_holding;
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_READY;
    m.ready = &r;
    send_msg(c, &m);
}

/* send_ack - the case is stored */
static void send_ack(client_t *c, const work_t *w)
{
    Motcua__V1__CaseAck a = MOTCUA__V1__CASE_ACK__INIT;
    a.case_id = (char *)w->case_id;
    a.revision = w->revision;
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_ACK;
    m.ack = &a;
    send_msg(c, &m);
}

/* send_result - the result frame for w: a function of case_id, revision, outcome and
 * --agency only, so every resend (and every restart) sends the same bytes */
static void send_result(client_t *c, work_t *w)
{
    Motcua__V1__CaseResult r = MOTCUA__V1__CASE_RESULT__INIT;
    r.case_id = w->case_id;
    r.revision = w->revision;
    r.outcome = (Motcua__V1__Outcome)w->outcome;
    char handled[120], uri[200];
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
    bool again = w->state != WORK_PROCESSING;
    send_msg(c, &m);
    w->state = WORK_RESULT_SENT;
    w->last_sent = mc_time_mono_ms();
    mc_log(again ? MC_LOG_NOTICE : MC_LOG_INFO, "result_sent", "case=%s revision=%" PRIu32
           " outcome=%d again=%s", w->case_id, w->revision, w->outcome, again ? "yes" : "no");
}

static void resend_extensions(client_t *c, bool all);

/* resync - a resync Ready (credit = --credit minus what we hold, holding = all of it),
 * then every unanswered result again at once (agency.proto rules 1, 4, 6) */
static void resync(client_t *c, const char *why)
{
    size_t held = c->n_work - c->n_done;
    Motcua__V1__HeldCase *cases = calloc(held ? held : 1, sizeof *cases);
    Motcua__V1__HeldCase **ptrs = calloc(held ? held : 1, sizeof *ptrs);
    if (!cases || !ptrs) {
        free(cases);
        free(ptrs);
        mc_log(MC_LOG_ERR, "resync_failed", "error=\"out of memory\" holding=%zu", held);
        return; /* no resync: the hub asks again (Hello) or we reconnect */
    }
    size_t n = 0;
    for (size_t i = 0; i < c->n_work && n < held; i++) {
        if (c->work[i].state == WORK_ANSWERED)
            continue;
        motcua__v1__held_case__init(&cases[n]);
        cases[n].case_id = c->work[i].case_id;
        cases[n].revision = c->work[i].revision;
        ptrs[n] = &cases[n];
        n++;
    }
    long credit = (long)c->opts->credit - (long)held;
    send_ready(c, credit > 0 ? (uint32_t)credit : 0, true, ptrs, n);
    free(ptrs);
    free(cases);
    c->last_resync = mc_time_mono_ms();
    c->resync_epoch = c->hub_epoch;
    mc_log(MC_LOG_NOTICE, "resync", "why=%s credit=%ld holding=%zu hub_epoch=%" PRIu64, why,
           credit > 0 ? credit : 0, n, c->hub_epoch);
    for (size_t i = 0; i < c->n_work; i++)
        if (c->work[i].state == WORK_RESULT_SENT)
            send_result(c, &c->work[i]);
    resend_extensions(c, true);
}

/* connect_hub - a fresh CURVE connection to the hub in use, opened with a resync Ready */
static int connect_hub(client_t *c)
{
    const char *endpoint = c->opts->endpoints[c->hub % c->opts->n_endpoints];
    mc_transport_close(&c->socket);
    mc_err_t err;
    mc_err_clear(&err);
    mc_socket_opts_t o = {.max_message_bytes = 16 << 20, .linger_ms = 0};
    c->socket = mc_transport_connect_curve_client(ZMQ_DEALER, endpoint, &o,
                                                  c->opts->server_key, c->opts->public_key,
                                                  c->opts->secret_key, &err);
    if (!c->socket) {
        mc_log_error(MC_LOG_ERR, "connect_failed", &err, NULL);
        return -1;
    }
    c->last_recv = mc_time_mono_ms();
    mc_log(MC_LOG_NOTICE, "connected", "agency=%s endpoint=%s session=%s", c->opts->agency,
           endpoint, c->session);
    resync(c, "connect");
    return 0;
}

/* find_work_rev - the work for exactly this case id and revision */
static work_t *find_work_rev(client_t *c, const char *case_id, uint32_t revision)
{
    for (size_t i = c->n_work; i-- > 0;)
        if (c->work[i].revision == revision && strcmp(c->work[i].case_id, case_id) == 0)
            return &c->work[i];
    return NULL;
}

/* journal_next - compaction's iterator: T for every remembered case, A after answered ones */
static int journal_next(void *ctx, agency_record_t *r)
{
    client_t *c = ctx;
    if (c->iter >= c->n_work)
        return 0;
    const work_t *w = &c->work[c->iter];
    memset(r, 0, sizeof *r);
    snprintf(r->case_id, sizeof r->case_id, "%s", w->case_id);
    r->revision = w->revision;
    if (c->iter_extension) { /* after the T: the proposal, so a restart sends the same one */
        r->kind = AGENCY_RECORD_EXTENSION;
        r->new_due_at = w->ext_due;
        c->iter_extension = false;
        c->iter_answer = w->state == WORK_ANSWERED;
        c->iter += !c->iter_answer;
    } else if (c->iter_answer) {
        r->kind = AGENCY_RECORD_ANSWERED;
        r->value = w->accepted;
        c->iter_answer = false;
        c->iter++;
    } else {
        r->kind = AGENCY_RECORD_TAKEN;
        r->value = w->outcome;
        c->iter_extension = w->ext_due > 0;
        c->iter_answer = !c->iter_extension && w->state == WORK_ANSWERED;
        c->iter += !c->iter_answer && !c->iter_extension;
    }
    return 1;
}

/* compact - rewrite the journal as what we remember, when it holds much more
 * (force: after forgetting cases, which must not come back at the next start) */
static void compact(client_t *c, bool force)
{
    long live = (long)(c->n_work + c->n_done);
    long lines = c->journal ? agency_journal_lines(c->journal) : 0;
    if (!c->journal || (!force && (lines < AGENCY_COMPACT_LINES || lines <= 2 * live)))
        return;
    if (c->replaying) { /* the file is being replayed: rewrite it once that is done */
        c->compact_due = true;
        return;
    }
    c->iter = 0;
    c->iter_answer = false;
    c->iter_extension = false;
    mc_err_t err;
    mc_err_clear(&err);
    if (agency_journal_rewrite(c->journal, journal_next, c, &err) != 0)
        mc_log_error(MC_LOG_ERR, "journal_compact_failed", &err, NULL);
    else
        mc_log(MC_LOG_INFO, "journal_compacted", "lines_before=%ld lines=%ld", lines, live);
}

/* make_room - one free entry: forget the older half of the answered cases when
 * full; false when every remembered case is still held */
static bool make_room(client_t *c)
{
    if (c->n_work < AGENCY_MAX_CASES && c->n_work < c->cap_work)
        return true;
    if (c->n_work >= AGENCY_MAX_CASES) {
        if (c->n_done == 0)
            return false;
        size_t forget = c->n_done / 2 ? c->n_done / 2 : 1, kept = 0;
        for (size_t i = 0; i < c->n_work; i++) {
            if (forget > 0 && c->work[i].state == WORK_ANSWERED) {
                forget--;
                c->n_done--;
                continue;
            }
            c->work[kept++] = c->work[i];
        }
        mc_log(MC_LOG_NOTICE, "cases_forgotten", "count=%zu", c->n_work - kept);
        c->n_work = kept;
        return true;
    }
    size_t cap = c->cap_work ? c->cap_work * 2 : 64;
    work_t *grown = realloc(c->work, cap * sizeof *grown);
    if (!grown)
        return false;
    c->work = grown;
    c->cap_work = cap;
    return true;
}

/* reserve - room for one more case; forgotten cases leave the journal at once */
static bool reserve(client_t *c)
{
    size_t before = c->n_work;
    if (!make_room(c))
        return false;
    if (c->n_work < before)
        compact(c, true);
    return true;
}

/* add_work - remember a taken case (not journaled here); NULL when full */
static work_t *add_work(client_t *c, const char *case_id, uint32_t revision, int outcome)
{
    if (!reserve(c))
        return NULL;
    work_t *w = &c->work[c->n_work++];
    memset(w, 0, sizeof *w);
    snprintf(w->case_id, sizeof w->case_id, "%s", case_id);
    w->revision = revision;
    w->outcome = outcome;
    w->state = WORK_PROCESSING;
    w->due = mc_time_mono_ms() + c->opts->delay_ms;
    w->hold_until = mc_time_mono_ms() + c->opts->extend_hold_ms;
    return w;
}

/* drop_first - --drop-first-ack: true the first time a case id is seen */
static bool drop_first(client_t *c, const Motcua__V1__Case *k)
{
    for (size_t i = 0; i < c->n_dropped; i++)
        if (strcmp(c->dropped[i], k->case_id) == 0)
            return false;
    if (c->n_dropped == c->cap_dropped) {
        size_t cap = c->cap_dropped ? c->cap_dropped * 2 : 16;
        char(*grown)[AGENCY_CASE_ID_MAX] = realloc(c->dropped, cap * sizeof *grown);
        if (!grown)
            return false;
        c->dropped = grown;
        c->cap_dropped = cap;
    }
    snprintf(c->dropped[c->n_dropped++], AGENCY_CASE_ID_MAX, "%s", k->case_id);
    mc_log(MC_LOG_NOTICE, "case_dropped", "case=%s attempt=%" PRIu32, k->case_id, k->attempt);
    return true;
}

/* journal_synced - r for case_id appended to the journal and fdatasync'ed (nothing
 * to do without --state-dir); 0, or -1 after logging the failure */
static int journal_synced(client_t *c, agency_record_t *r, const char *case_id)
{
    if (!c->journal)
        return 0;
    snprintf(r->case_id, sizeof r->case_id, "%s", case_id);
    mc_err_t err;
    mc_err_clear(&err);
    if (agency_journal_append(c->journal, r, true, &err) == 0)
        return 0;
    mc_log_error(MC_LOG_ERR, "journal_write_failed", &err, "case=%s", case_id);
    return -1;
}

/* on_case - a case arrived (maybe again): journal it, then ack it */
static void on_case(client_t *c, const Motcua__V1__Case *k)
{
    if (!k->case_id || !agency_case_id_ok(k->case_id)) {
        mc_log(MC_LOG_WARNING, "case_unusable", "reason=\"case_id empty, too long or with spaces\"");
        return;
    }
    uint32_t revision = k->revision ? k->revision : 1;
    work_t *w = find_work_rev(c, k->case_id, revision);
    if (w) { /* seen before: our ack was lost or a lease ran out; ack again, do nothing twice */
        mc_log(MC_LOG_INFO, "case_again", "case=%s attempt=%" PRIu32 " revision=%" PRIu32
               " answered=%s", k->case_id, k->attempt, revision, w->state == WORK_ANSWERED ? "yes" : "no");
        send_ack(c, w);
        if (w->state == WORK_ANSWERED) { /* the hub lost our answer: the same one again */
            c->n_done--;
            send_result(c, w);
        }
        return;
    }
    if (c->opts->drop_first_ack && drop_first(c, k))
        return;
    /* a resumed step (revision > 1) is judged again: the outcome hashes the revision too */
    char judged[128];
    if (revision > 1)
        snprintf(judged, sizeof judged, "%s#%" PRIu32, k->case_id, revision);
    else
        snprintf(judged, sizeof judged, "%s", k->case_id);
    int outcome = agency_outcome(c->opts, judged);
    if (!reserve(c)) {
        mc_log(MC_LOG_WARNING, "case_not_taken", "case=%s reason=full held=%zu", k->case_id,
               c->n_work - c->n_done);
        return; /* not acked: the hub keeps it for later */
    }
    agency_record_t taken = {.kind = AGENCY_RECORD_TAKEN, .revision = revision, .value = outcome};
    if (journal_synced(c, &taken, k->case_id) != 0)
        return; /* not stored, so not acked: the hub sends it again */
    w = add_work(c, k->case_id, revision, outcome); /* reserved above */
    if (!w)
        return;
    send_ack(c, w);
    mc_log(MC_LOG_INFO, "case_received", "case=%s attempt=%" PRIu32 " revision=%" PRIu32
           " step=%" PRIu32 "/%" PRIu32 " previous=%zu outcome=%d kind=%s", k->case_id, k->attempt,
           revision, k->step, k->steps_total, k->n_previous, w->outcome,
           k->kind == MOTCUA__V1__CASE_KIND__CASE_KIND_ACCEPTANCE ? "acceptance" : "process");
    compact(c, false);
}

/* on_answer - the hub answered a result (ResultAck or Refusal) */
static void on_answer(client_t *c, const char *case_id, bool accepted, const char *why)
{
    /* the newest sent result of that case id (answers carry no revision; a case in
     * processing has sent nothing, so a late answer to an older revision cannot end it) */
    work_t *w = NULL;
    for (size_t i = c->n_work; case_id && i-- > 0 && !w;)
        if (c->work[i].state == WORK_RESULT_SENT && strcmp(c->work[i].case_id, case_id) == 0)
            w = &c->work[i];
    if (!w)
        return;
    w->state = WORK_ANSWERED;
    w->accepted = accepted;
    c->n_done++;
    c->answered++;
    if (c->journal) { /* not synced: if lost, the result is resent and answered as a duplicate */
        agency_record_t r = {.kind = AGENCY_RECORD_ANSWERED, .revision = w->revision,
                             .value = accepted};
        snprintf(r.case_id, sizeof r.case_id, "%s", w->case_id);
        mc_err_t err;
        mc_err_clear(&err);
        if (agency_journal_append(c->journal, &r, false, &err) != 0)
            mc_log_error(MC_LOG_WARNING, "journal_write_failed", &err, "case=%s", w->case_id);
    }
    mc_log(accepted ? MC_LOG_INFO : MC_LOG_WARNING, "result_answered",
           "case=%s revision=%" PRIu32 " accepted=%s reason=\"%s\" answered=%ld", w->case_id,
           w->revision, accepted ? "yes" : "no", why ? why : "", c->answered);
    send_ready(c, 1, false, NULL, 0); /* one slot free again */
    compact(c, false);
}

/* on_redecide - the hub refused our NEEDS_DOCUMENTS because the dossier was
 * asked for documents once already: decide the same case and revision again
 * as APPROVED or REJECTED, journal that (synced, so a restart answers the
 * same) and send it at once; the case stays held until the hub answers it */
static void on_redecide(client_t *c, const char *case_id)
{
    work_t *w = NULL;
    for (size_t i = c->n_work; case_id && i-- > 0 && !w;)
        if (c->work[i].state == WORK_RESULT_SENT && strcmp(c->work[i].case_id, case_id) == 0)
            w = &c->work[i];
    if (!w || w->outcome != MOTCUA__V1__OUTCOME__OUTCOME_NEEDS_DOCUMENTS)
        return; /* a late answer to something we no longer ask */
    char judged[128];
    snprintf(judged, sizeof judged, "%s#%" PRIu32, w->case_id, w->revision);
    int outcome = agency_outcome_decided(c->opts, judged);
    agency_record_t redecided = {.kind = AGENCY_RECORD_REDECIDED, .revision = w->revision,
                                 .value = outcome};
    if (journal_synced(c, &redecided, w->case_id) != 0)
        return; /* not journaled: keep resending NEEDS_DOCUMENTS; each refusal retries this */
    w->outcome = outcome;
    mc_log(MC_LOG_NOTICE, "case_redecided", "case=%s revision=%" PRIu32 " outcome=%d"
           " reason=supplement_already_requested", w->case_id, w->revision, outcome);
    send_result(c, w);
}

/* on_epoch - a Heartbeat or Hello from the hub: a new incarnation, or a Hello
 * asking for it, gets a resync at once (agency.proto rule 6) */
static void on_epoch(client_t *c, uint64_t epoch, bool requested, const char *from)
{
    bool changed = epoch != 0 && c->hub_epoch != 0 && epoch != c->hub_epoch;
    if (epoch != 0 && epoch != c->hub_epoch) {
        mc_log(MC_LOG_NOTICE, "hub_epoch", "epoch=%" PRIu64 " was=%" PRIu64 " from=%s", epoch,
               c->hub_epoch, from);
        c->hub_epoch = epoch;
    }
    if (changed) {
        resync(c, "hub_epoch");
        return;
    }
    /* the hub says Hello to every frame of ours it got before our resync Ready:
     * one resync per half heartbeat and epoch answers them all; if that one is
     * lost, the Hello to our next frame comes after the window */
    if (requested && (c->resync_epoch != c->hub_epoch ||
                      mc_time_mono_ms() - c->last_resync >= c->heartbeat_ms / 2))
        resync(c, from);
}

/* send_extension - the ExtensionRequest of w: a function of case_id, revision and the
 * journaled new_due_at only, so every resend and restart sends the same request */
static void send_extension(client_t *c, work_t *w)
{
    Motcua__V1__ExtensionRequest x = MOTCUA__V1__EXTENSION_REQUEST__INIT;
    x.case_id = w->case_id;
    x.revision = w->revision;
    x.new_due_at = w->ext_due;
    x.reason = (char *)AGENCY_EXTEND_REASON;
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_EXTENSION;
    m.extension = &x;
    bool again = w->ext_last_sent != 0;
    send_msg(c, &m);
    w->ext_last_sent = mc_time_mono_ms();
    mc_log(again ? MC_LOG_NOTICE : MC_LOG_INFO, "extension_sent", "case=%s revision=%" PRIu32
           " new_due_at=%" PRId64 " again=%s", w->case_id, w->revision, w->ext_due,
           again ? "yes" : "no");
}

/* resend_extensions - unanswered proposals of unanswered cases again: all of them
 * (after a resync) or those not sent for AGENCY_RESEND_MS (at most once a second) */
static void resend_extensions(client_t *c, bool all)
{
    int64_t now = mc_time_mono_ms();
    for (size_t i = 0; i < c->n_work; i++) {
        work_t *w = &c->work[i];
        if (w->ext_state == EXTENSION_PROPOSED && w->state == WORK_PROCESSING &&
            (all || now - w->ext_last_sent >= AGENCY_RESEND_MS))
            send_extension(c, w);
    }
}

/* on_due_soon - the hub warns that the dossier of a case we hold is due soon: with
 * --extend-days, propose (once per case_id and revision, journaled first) a new date */
static void on_due_soon(client_t *c, const Motcua__V1__DueSoon *d)
{
    uint32_t revision = d->revision ? d->revision : 1;
    work_t *w = d->case_id ? find_work_rev(c, d->case_id, revision) : NULL;
    bool usable = w && w->state == WORK_PROCESSING && d->dossier_due_at > 0;
    mc_log(MC_LOG_NOTICE, "due_soon_received", "case=%s revision=%" PRIu32 " dossier_due_at=%"
           PRId64 " held=%s", w ? w->case_id : "-", revision, d->dossier_due_at,
           usable ? "yes" : "no");
    if (!usable || c->opts->extend_days <= 0)
        return;
    if (w->ext_due > 0) { /* proposed already: the same proposal, never another */
        if (w->ext_state == EXTENSION_PROPOSED)
            send_extension(c, w);
        return;
    }
    int64_t new_due = d->dossier_due_at + (int64_t)c->opts->extend_days * 86400;
    /* synced before it leaves: a restart must send this same date */
    agency_record_t proposed = {.kind = AGENCY_RECORD_EXTENSION, .revision = w->revision,
                                .new_due_at = new_due};
    if (journal_synced(c, &proposed, w->case_id) != 0)
        return; /* nothing proposed: a later DueSoon may try again */
    w->ext_due = new_due;
    w->ext_state = EXTENSION_PROPOSED;
    send_extension(c, w);
}

/* on_extension_answer - an ExtensionAck, or a Refusal, for case_id: the proposal is
 * answered (not journaled: a restart proposes the same again and gets the same answer) */
static void on_extension_answer(client_t *c, const char *case_id, bool accepted,
                                int64_t new_due_at, int code)
{
    work_t *w = NULL;
    for (size_t i = c->n_work; case_id && i-- > 0 && !w;)
        if (c->work[i].ext_state == EXTENSION_PROPOSED && strcmp(c->work[i].case_id, case_id) == 0)
            w = &c->work[i];
    if (!w)
        return;
    w->ext_state = EXTENSION_ANSWERED;
    mc_log(accepted ? MC_LOG_NOTICE : MC_LOG_WARNING, "extension_ack", "case=%s revision=%" PRIu32
           " accepted=%s new_due_at=%" PRId64 " code=%d", w->case_id, w->revision,
           accepted ? "yes" : "no", new_due_at, code);
}

/* on_heartbeat - mc_loop_fn: nothing sent for a heartbeat, so a Heartbeat */
static int on_heartbeat(mc_loop_t *loop, void *arg)
{
    (void)loop;
    Motcua__V1__Heartbeat hb = MOTCUA__V1__HEARTBEAT__INIT;
    hb.at = (int64_t)time(NULL);
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_HEARTBEAT;
    m.heartbeat = &hb;
    send_msg(arg, &m);
    return 0;
}

/* arm_heartbeat - the heartbeat timer at the current heartbeat_ms (a Hello may
 * change it); a loop without a free timer is stopped as failed */
static void arm_heartbeat(client_t *c)
{
    if (!c->loop)
        return;
    mc_loop_cancel(c->loop, c->heartbeat_timer);
    c->heartbeat_timer = mc_loop_every(c->loop, c->heartbeat_ms, c->heartbeat_ms, on_heartbeat, c);
    if (c->heartbeat_timer < 0) {
        mc_log(MC_LOG_ERR, "loop_failed", "what=heartbeat_timer");
        mc_loop_stop(c->loop, -1);
    }
}

/* on_frame - one frame from the hub */
static void on_frame(client_t *c, const uint8_t *data, size_t len)
{
    /* strict: an unknown field, a NUL or bad UTF-8 in a string is refused
     * here rather than stored in the journal (why names the field, never its value) */
    ProtobufCMessage *msg = NULL;
    char why[256];
    if (mc_wire_unpack(&motcua__v1__hub_to_agency__descriptor, data, len, &msg, why,
                       sizeof why) != 0) {
        char quoted[300];
        mc_log(MC_LOG_WARNING, "frame_garbled", "bytes=%zu why=%s", len,
               mc_log_quote(why, quoted, sizeof quoted));
        return;
    }
    Motcua__V1__HubToAgency *m = (Motcua__V1__HubToAgency *)msg;
    switch (m->body_case) {
    case MOTCUA__V1__HUB_TO_AGENCY__BODY_CASE:
        on_case(c, m->case_);
        break;
    case MOTCUA__V1__HUB_TO_AGENCY__BODY_RESULT_ACK:
        if (!m->result_ack->accepted &&
            m->result_ack->code == MOTCUA__V1__REASON__REASON_SUPPLEMENT_ALREADY_REQUESTED)
            on_redecide(c, m->result_ack->case_id); /* not an answer: the case is still ours */
        else
            on_answer(c, m->result_ack->case_id, m->result_ack->accepted, m->result_ack->reason);
        break;
    case MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL:
        mc_log(MC_LOG_WARNING, "refused", "case=%s reason=%d message=\"%s\"",
               m->refusal->case_id && *m->refusal->case_id ? m->refusal->case_id : "-",
               (int)m->refusal->reason, m->refusal->message ? m->refusal->message : "");
        on_answer(c, m->refusal->case_id, false, m->refusal->message);
        on_extension_answer(c, m->refusal->case_id, false, 0, (int)m->refusal->reason);
        break;
    case MOTCUA__V1__HUB_TO_AGENCY__BODY_DUE_SOON:
        on_due_soon(c, m->due_soon);
        break;
    case MOTCUA__V1__HUB_TO_AGENCY__BODY_EXTENSION_ACK:
        on_extension_answer(c, m->extension_ack->case_id, m->extension_ack->accepted,
                            m->extension_ack->new_due_at, (int)m->extension_ack->code);
        break;
    case MOTCUA__V1__HUB_TO_AGENCY__BODY_HELLO:
        if (m->hello->heartbeat_ms >= 10 && m->hello->heartbeat_ms <= 3600000 &&
            (int)m->hello->heartbeat_ms != c->heartbeat_ms) {
            mc_log(MC_LOG_NOTICE, "heartbeat_changed", "ms=%" PRIu32, m->hello->heartbeat_ms);
            c->heartbeat_ms = (int)m->hello->heartbeat_ms;
            arm_heartbeat(c);
        }
        on_epoch(c, m->hello->epoch, m->hello->resync_requested, "hello");
        break;
    case MOTCUA__V1__HUB_TO_AGENCY__BODY_HEARTBEAT:
        on_epoch(c, m->heartbeat->epoch, false, "heartbeat");
        break;
    default:
        break; /* unknown to this version: last_recv is updated */
    }
    motcua__v1__hub_to_agency__free_unpacked(m, NULL);
}

/* held - --extend-days: is w's result held back for its extension (agency.h: Hold)?
 * A proposal in flight holds it; no proposal holds it until hold_until only. */
static bool held(const client_t *c, const work_t *w, int64_t now)
{
    if (c->opts->extend_days <= 0)
        return false;
    return w->ext_state == EXTENSION_PROPOSED ||
           (w->ext_state == EXTENSION_NONE && now < w->hold_until);
}

/* on_scan - mc_loop_fn: results due (and holds run out), resends of results and proposals */
static int on_scan(mc_loop_t *loop, void *arg)
{
    (void)loop;
    client_t *c = arg;
    int64_t now = mc_time_mono_ms();
    int resend = c->heartbeat_ms > AGENCY_RESEND_MS ? c->heartbeat_ms : AGENCY_RESEND_MS;
    for (size_t i = 0; i < c->n_work; i++) {
        work_t *w = &c->work[i];
        if (w->state == WORK_PROCESSING && w->due <= now && !held(c, w, now)) {
            if (c->opts->extend_days > 0 && w->ext_state == EXTENSION_NONE)
                mc_log(MC_LOG_NOTICE, "extension_hold_expired", "case=%s revision=%" PRIu32
                       " hold_ms=%d", w->case_id, w->revision, c->opts->extend_hold_ms);
            send_result(c, w);
        } else if (w->state == WORK_RESULT_SENT && now - w->last_sent >= resend) {
            send_result(c, w);
        }
    }
    resend_extensions(c, false);
    return 0;
}

/* on_silent - mc_loop_fn: nothing from the hub for AGENCY_SILENT_BEATS heartbeats: a new connection */
static int on_silent(mc_loop_t *loop, void *arg)
{
    client_t *c = arg;
    mc_log(MC_LOG_NOTICE, "hub_silent", "ms=%" PRId64, mc_time_mono_ms() - c->last_recv);
    mc_loop_stop(loop, AGENCY_RECONNECT);
    return 0;
}

/* on_readable - mc_loop_fn of the DEALER: a batch of frames, then the cases'
 * scan at once, the silence pushed back, and the end once --count is reached */
static int on_readable(mc_loop_t *loop, void *arg)
{
    client_t *c = arg;
    for (int i = 0; i < 256 && !mc_loop_stopped(loop); i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        c->last_recv = mc_time_mono_ms();
        on_frame(c, zmq_msg_data(&m), zmq_msg_size(&m));
        zmq_msg_close(&m);
    }
    mc_loop_timer_reset(loop, c->silence_timer, AGENCY_SILENT_BEATS * (int64_t)c->heartbeat_ms);
    mc_loop_timer_reset(loop, c->scan_timer, 0);
    if (c->opts->count > 0 && c->answered >= c->opts->count && !mc_loop_stopped(loop)) {
        mc_log(MC_LOG_NOTICE, "count_reached", "answered=%ld", c->answered);
        mc_loop_stop(loop, 0);
    }
    return 0;
}

/* on_signal - mc_loop_fn of the signalfd: the daemons' meanings (mc_daemon_signal_read) */
static int on_signal(mc_loop_t *loop, void *arg)
{
    client_t *c = arg;
    if (mc_daemon_signal_read(c->signal_fd, &c->stopping))
        mc_loop_stop(loop, 0);
    return 0;
}

/* serve - one loop for the connection in hand; 0 stop, AGENCY_RECONNECT, or -1 */
static int serve(client_t *c)
{
    if (!(c->loop = mc_loop_new()) ||
        mc_loop_add_fd(c->loop, c->signal_fd, on_signal, c) != 0 ||
        mc_loop_add_socket(c->loop, c->socket, on_readable, c) != 0 ||
        (c->scan_timer = mc_loop_every(c->loop, AGENCY_SCAN_MS, AGENCY_SCAN_MS, on_scan, c)) < 0 ||
        (c->silence_timer = mc_loop_after(c->loop, AGENCY_SILENT_BEATS * (int64_t)c->heartbeat_ms,
                                          on_silent, c)) < 0) {
        mc_log(MC_LOG_ERR, "loop_failed", "what=new");
        mc_loop_destroy(&c->loop);
        return -1;
    }
    c->heartbeat_timer = 0;
    arm_heartbeat(c);
    int rc = mc_loop_run(c->loop);
    mc_loop_destroy(&c->loop);
    return rc;
}

/* replay_apply - one journal record into memory (agency_journal_replay's callback) */
static int replay_apply(void *ctx, const agency_record_t *r)
{
    client_t *c = ctx;
    work_t *w = find_work_rev(c, r->case_id, r->revision);
    if (r->kind == AGENCY_RECORD_TAKEN)
        return w || add_work(c, r->case_id, r->revision, r->value) ? 0 : -1;
    if (r->kind == AGENCY_RECORD_REDECIDED) { /* the re-decided outcome replaces the taken one */
        if (w)
            w->outcome = r->value;
        return 0;
    }
    if (r->kind == AGENCY_RECORD_EXTENSION) { /* proposed: the same proposal goes again */
        if (w && w->ext_due == 0) {
            w->ext_due = r->new_due_at;
            w->ext_state = EXTENSION_PROPOSED;
        }
        return 0;
    }
    if (w && w->state != WORK_ANSWERED) { /* an A without its T was forgotten: skip it */
        w->state = WORK_ANSWERED;
        w->accepted = r->value;
        c->n_done++;
    }
    return 0;
}

/* new_session - 32 random hex digits */
static int new_session(client_t *c)
{
    uint8_t raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        mc_log(MC_LOG_ERR, "session_failed", "error=\"%s\"", strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(c->session + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

/* recover - the journal into memory: held cases are processed again, answered ones remembered */
static int recover(client_t *c)
{
    if (!c->journal)
        return 0;
    mc_err_t err;
    mc_err_clear(&err);
    long dropped = 0;
    c->replaying = true;
    int rc = agency_journal_replay(c->journal, replay_apply, c, &dropped, &err);
    c->replaying = false;
    if (rc != 0) {
        mc_log_error(MC_LOG_ERR, "journal_replay_failed", &err, NULL);
        return -1;
    }
    mc_log(MC_LOG_NOTICE, "journal_replayed", "held=%zu answered=%zu bad_lines=%ld",
           c->n_work - c->n_done, c->n_done, dropped);
    compact(c, dropped > 0 || c->compact_due);
    return 0;
}

/* agency_run - recover, connect, then a loop per connection until a stop */
int agency_run(const agency_opts_t *opts, agency_journal_t *journal, int signal_fd)
{
    client_t c;
    memset(&c, 0, sizeof c);
    c.opts = opts;
    c.journal = journal;
    c.signal_fd = signal_fd;
    c.heartbeat_ms = opts->heartbeat_ms;
    int rc = new_session(&c);
    if (rc == 0)
        rc = recover(&c);
    if (rc == 0)
        rc = connect_hub(&c);
    while (rc == 0) {
        rc = serve(&c);
        if (rc != AGENCY_RECONNECT)
            break; /* stopped (0) or failed */
        /* the hub went silent: the next one of the list (the same one when alone);
         * same session, so the resync Ready keeps our acked cases there */
        c.hub = (c.hub + 1) % opts->n_endpoints;
        rc = connect_hub(&c);
    }
    free(c.work);
    free(c.dropped);
    mc_transport_close(&c.socket);
    return rc;
}
