/*
 * chaos_load - the applicants of the chaos test: clients that hand in
 * dossiers and will not take "no answer" for an answer, and one applicant
 * thread that supplements, withdraws and rates.
 *
 * Contract: every request is built once and resent byte for byte (same
 * submission_id) after a timeout or a retryable refusal (UNAVAILABLE,
 * SHUTTING_DOWN, INTERNAL) until a final answer comes, as a ward office's
 * client must; so a receipt that was committed but whose reply was lost
 * comes back on the resend, and an acked submission is never resubmitted
 * under another id. Dossiers cover every procedure of the catalog, both
 * wards and every channel each procedure allows (mc_cli_random_dossier, with
 * the channel re-drawn from the seed).
 */
#include "mc_states.h"
#include "chaos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mc_cli_dossier.h"
#include "mc_catalog.h"
#include "mc_transport.h"

#define REQUEST_TIMEOUT_MS 4000 /* one try; a restarted intake answers the resend */
#define RESEND_PAUSE_US    150000

/* pack - an IntakeRequest as bytes (malloc'd) */
static uint8_t *pack(const Motcua__V1__IntakeRequest *req, size_t *len)
{
    *len = motcua__v1__intake_request__get_packed_size(req);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        motcua__v1__intake_request__pack(req, buf);
    return buf;
}

/* retryable - a refusal that says "try again later" */
static bool retryable(const Motcua__V1__IntakeReply *r)
{
    if (r->body_case != MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION)
        return false;
    Motcua__V1__Reason why = r->rejection->reason;
    return why == MOTCUA__V1__REASON__REASON_UNAVAILABLE ||
           why == MOTCUA__V1__REASON__REASON_SHUTTING_DOWN ||
           why == MOTCUA__V1__REASON__REASON_INTERNAL;
}

/* exchange - send bytes until a final answer (or the run stops); the reply, or NULL */
static Motcua__V1__IntakeReply *exchange(chaos_t *c, const uint8_t *bytes, size_t len, int *sends)
{
    for (;;) {
        void *out = NULL;
        size_t out_len = 0;
        mc_err_t err;
        mc_err_clear(&err);
        (*sends)++;
        if (*sends > 1)
            atomic_fetch_add(&c->resends, 1);
        if (mc_transport_request_as(c->h.endpoint, &c->h.keys[HARNESS_COUNTER], bytes, len,
                                    REQUEST_TIMEOUT_MS, 0, 1u << 22, &out, &out_len, &err) == 0) {
            Motcua__V1__IntakeReply *r = motcua__v1__intake_reply__unpack(NULL, out_len, out);
            free(out);
            if (r && !retryable(r))
                return r;
            if (r)
                motcua__v1__intake_reply__free_unpacked(r, NULL);
        }
        if (atomic_load(&c->stop))
            return NULL;
        usleep(RESEND_PAUSE_US);
    }
}

/* channel_for - a channel procedure code allows, drawn from the seed */
static Motcua__V1__Channel channel_for(const chaos_t *c, const char *procedure, int n)
{
    const mc_procedure_t *p = mc_catalog_find(c->cfg->catalog, procedure);
    Motcua__V1__Channel allowed[3];
    int k = 0;
    for (int ch = MC_CHANNEL_DIRECT; p && ch <= MC_CHANNEL_POSTAL; ch++)
        if (p->channels & MC_CHANNEL_BIT(ch))
            allowed[k++] = (Motcua__V1__Channel)ch;
    if (k == 0)
        return MOTCUA__V1__CHANNEL__CHANNEL_DIRECT;
    return allowed[chaos_mix(c->opts.seed, 3000000u + (uint64_t)n) % (uint64_t)k];
}

/* keep_pii - note the personal values of a generated dossier (the log scan looks for them) */
static void keep_pii(chaos_pii_t *p, const Motcua__V1__SubmitDossier *d)
{
    const Motcua__V1__Applicant *a = d->dossier ? d->dossier->applicant : NULL;
    const Motcua__V1__Person *who =
        a && a->kind_case == MOTCUA__V1__APPLICANT__KIND_PERSON ? a->person : NULL;
    snprintf(p->submission_id, sizeof p->submission_id, "%s", d->submission_id);
    if (!a)
        return;
    snprintf(p->phone, sizeof p->phone, "%s", a->phone ? a->phone : "");
    snprintf(p->email, sizeof p->email, "%s", a->email ? a->email : "");
    snprintf(p->address, sizeof p->address, "%s", a->address ? a->address : "");
    if (!who)
        return;
    snprintf(p->name, sizeof p->name, "%s", who->full_name ? who->full_name : "");
    snprintf(p->citizen_id, sizeof p->citizen_id, "%s", who->citizen_id ? who->citizen_id : "");
}

/* submit_one - dossier n until it has a receipt (or is refused for good) */
static void submit_one(chaos_t *c, int n)
{
    chaos_sub_t *s = &c->subs[n];
    Motcua__V1__SubmitDossier *d = NULL;
    if (mc_cli_random_dossier(c->cfg, (unsigned)n, NULL, &d) != 0) {
        s->refused = true;
        return;
    }
    char sid[64];
    snprintf(sid, sizeof sid, "chaos-%llu-%d", (unsigned long long)(c->opts.seed % 1000000007u), n);
    free(d->submission_id);
    d->submission_id = strdup(sid);
    Motcua__V1__Dossier *dos = d->dossier;
    dos->channel = channel_for(c, dos->procedure_code, n);
    bool online = dos->channel == MOTCUA__V1__CHANNEL__CHANNEL_ONLINE;
    for (size_t i = 0; i < dos->n_documents; i++)
        dos->documents[i]->form = online ? MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ELECTRONIC
                                         : MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ORIGINAL;
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_SUBMIT;
    req.submit = d;
    size_t len = 0;
    uint8_t *bytes = d->submission_id ? pack(&req, &len) : NULL;
    if (bytes)
        keep_pii(&s->pii, d);
    mc_cli_dossier_free(&d);
    if (!bytes) {
        s->refused = true;
        return;
    }
    Motcua__V1__IntakeReply *r = exchange(c, bytes, len, &s->sends);
    free(bytes);
    if (!r)
        return;
    if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT) {
        snprintf(s->code, sizeof s->code, "%s", r->receipt->dossier_code);
        snprintf(s->pii.secret, sizeof s->pii.secret, "%s", r->receipt->secret);
        atomic_store(&s->acked, true);
    } else {
        s->refused = true;
        if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION)
            printf("  chaos: submission %d refused: %s %s\n", n,
                   harness_reason_name(r->rejection->reason), r->rejection->field);
    }
    motcua__v1__intake_reply__free_unpacked(r, NULL);
}

/* submitter - take the next index, pace to spread the load over load_s */
static void *submitter(void *arg)
{
    chaos_t *c = arg;
    int total = c->opts.dossiers;
    double per_ms = (double)total / ((double)c->opts.load_s * 1000.0);
    int n;
    while (!atomic_load(&c->stop) && (n = atomic_fetch_add(&c->next_sub, 1)) < total) {
        int64_t due = c->t0 + (int64_t)((double)n / per_ms);
        int64_t now = harness_now_ms();
        if (due > now)
            usleep((useconds_t)(due - now) * 1000);
        submit_one(c, n);
    }
    atomic_fetch_sub(&c->submitting, 1);
    return NULL;
}

/* follow_up - one supplement, withdrawal or rating until acknowledged; 1 ack, 2 refused, 0 none */
static int follow_up(chaos_t *c, Motcua__V1__IntakeRequest *req)
{
    size_t len = 0;
    uint8_t *bytes = pack(req, &len);
    if (!bytes)
        return 0;
    int sends = 0;
    Motcua__V1__IntakeReply *r = exchange(c, bytes, len, &sends);
    free(bytes);
    if (!r)
        return 0;
    int result = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK ? 1 : 2;
    if (result == 1)
        atomic_fetch_add(&c->followups, 1);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return result;
}

/* supplement - the documents a waiting dossier asked for; id from its k-th request */
static int supplement(chaos_t *c, const char *code, int k)
{
    static uint8_t sha[32];
    memset(sha, 0x5a, sizeof sha);
    Motcua__V1__DocumentRef doc = MOTCUA__V1__DOCUMENT_REF__INIT;
    doc.document_type = (char *)"GIAY_TO_BO_SUNG";
    doc.name = (char *)"Giấy tờ bổ sung theo yêu cầu";
    doc.media_type = (char *)"application/pdf";
    doc.size_bytes = 2048;
    doc.sha256.data = sha;
    doc.sha256.len = 32;
    doc.uri = (char *)"https://dvc.example.vn/files/bo-sung.pdf";
    doc.form = MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ORIGINAL;
    doc.copies = 1;
    Motcua__V1__DocumentRef *docs[1] = {&doc};
    char sid[96];
    snprintf(sid, sizeof sid, "sup%d-%s", k, code);
    Motcua__V1__SupplementDossier s = MOTCUA__V1__SUPPLEMENT_DOSSIER__INIT;
    s.submission_id = sid;
    s.dossier_code = (char *)code;
    s.n_documents = 1;
    s.documents = docs;
    s.note = (char *)"Bổ sung giấy tờ";
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_SUPPLEMENT;
    req.supplement = &s;
    return follow_up(c, &req);
}

/* withdraw - the applicant no longer wants it */
static int withdraw(chaos_t *c, const char *code)
{
    char sid[96];
    snprintf(sid, sizeof sid, "wd-%s", code);
    Motcua__V1__WithdrawDossier w = MOTCUA__V1__WITHDRAW_DOSSIER__INIT;
    w.submission_id = sid;
    w.dossier_code = (char *)code;
    w.reason = (char *)"Không còn nhu cầu";
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_WITHDRAW;
    req.withdraw = &w;
    return follow_up(c, &req);
}

/* rate - with the token of the result notice's link */
static int rate(chaos_t *c, const char *code, const char *token, int n)
{
    char sid[96];
    snprintf(sid, sizeof sid, "rt-%s", code);
    Motcua__V1__RateService rs = MOTCUA__V1__RATE_SERVICE__INIT;
    rs.submission_id = sid;
    rs.dossier_code = (char *)code;
    rs.token = (char *)token;
    rs.level = (Motcua__V1__Satisfaction)(1 + chaos_mix(0, (uint64_t)n) % 3);
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_RATE;
    req.rate = &rs;
    return follow_up(c, &req);
}

/* sub_index - the load index of a submission id "chaos-<s>-<n>", -1 if not ours */
static int sub_index(const chaos_t *c, const char *sid)
{
    const char *dash = strrchr(sid, '-');
    if (strncmp(sid, "chaos-", 6) != 0 || !dash)
        return -1;
    long n = strtol(dash + 1, NULL, 10);
    return n >= 0 && n < c->opts.dossiers ? (int)n : -1;
}

/*
 * The applicant's view of her dossiers: those waiting for documents (with
 * how many times they were asked), open ones (to withdraw), decided ones
 * not yet rated (with the token the result notice carries).
 */
static const char *const applicant_sql =
    "SELECT d.code, d.submission_id, d.state, d.rating_token::text,"
    "       (SELECT count(*) FROM dossier_event e WHERE e.dossier_id = d.id"
    "         AND e.kind = 'supplement_requested')"
    "  FROM dossier d"
    " WHERE d.submission_id LIKE 'chaos-%'"
    "   AND (d.state IN (" MC_SQL(MC_DOSSIER_RECEIVED) ", " MC_SQL(MC_DOSSIER_ROUTED) ", " MC_SQL(MC_DOSSIER_IN_PROGRESS) ", " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) ", " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) ") OR (d.state IN (" MC_SQL(MC_DOSSIER_RESULT_READY) ", " MC_SQL(MC_DOSSIER_REFUSED) ")"
    "        AND NOT EXISTS (SELECT 1 FROM rating r WHERE r.dossier_id = d.id)))";

/* chaos_applicant_round - act on what the store says the applicant must do */
void chaos_applicant_round(chaos_t *c, PGconn *conn)
{
    PGresult *res = PQexec(conn, applicant_sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return; /* PostgreSQL may be down on purpose: next round */
    }
    for (int i = 0; i < PQntuples(res) && !atomic_load(&c->stop); i++) {
        const char *code = PQgetvalue(res, i, 0);
        int n = sub_index(c, PQgetvalue(res, i, 1));
        int state = atoi(PQgetvalue(res, i, 2));
        int asked = atoi(PQgetvalue(res, i, 4));
        if (n < 0)
            continue;
        chaos_sub_t *s = &c->subs[n];
        if (s->withdraw && !s->withdrawn &&
            (state == MC_DOSSIER_RECEIVED || state == MC_DOSSIER_ROUTED || state == MC_DOSSIER_IN_PROGRESS ||
             state == MC_DOSSIER_WAITING_SUPPLEMENT || state == MC_DOSSIER_PENDING_ACCEPTANCE))
            s->withdrawn = withdraw(c, code);
        else if (state == 4 && s->supplements < asked && supplement(c, code, asked) == 1)
            s->supplements = asked;
        else if ((state == 5 || state == 8) && s->rate && !s->rated)
            s->rated = rate(c, code, PQgetvalue(res, i, 3), n);
    }
    PQclear(res);
}

/* applicant - rounds until the run stops */
static void *applicant(void *arg)
{
    chaos_t *c = arg;
    PGconn *conn = NULL;
    while (!atomic_load(&c->stop)) {
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            if (conn)
                PQfinish(conn);
            conn = chaos_conn(c);
        }
        if (conn)
            chaos_applicant_round(c, conn);
        usleep(300000);
    }
    if (conn)
        PQfinish(conn);
    return NULL;
}

/* chaos_load_start - the submitters and the applicant */
int chaos_load_start(chaos_t *c, pthread_t *threads, int *n_threads)
{
    *n_threads = 0;
    for (int i = 0; i < c->opts.dossiers; i++) {
        uint64_t r = chaos_mix(c->opts.seed, (uint64_t)i);
        c->subs[i].withdraw = r % 100 < 4;
        c->subs[i].rate = (r >> 8) % 100 < 30;
    }
    atomic_store(&c->submitting, c->opts.clients);
    for (int i = 0; i < c->opts.clients; i++) {
        if (pthread_create(&threads[*n_threads], NULL, submitter, c) != 0)
            return -1;
        (*n_threads)++;
    }
    if (pthread_create(&threads[*n_threads], NULL, applicant, c) != 0)
        return -1;
    (*n_threads)++;
    return 0;
}
