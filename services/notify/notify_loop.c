/*
 * notify_loop - claim, send, record; wake on events or the poll.
 *
 * Contract (notify.h): one notification per claim (batch 1), because the
 * send lease covers one message's sends. No transaction is open while a
 * channel is tried: the claim commits first (attempts in progress, lease),
 * the outcomes are recorded after. Outcomes the store could not take are
 * kept (n->job) and recorded first thing when it is back; SIGTERM waits for
 * at most one message's sends. The events only shorten the wait; every
 * wake re-reads the store, and a lost event costs at most poll_ms.
 */
#include "notify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "mc_events.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_time.h"
#include "mc_store.h"
#include "mc_store_notify.h"
#include "mc_transport.h"
#include "motcua/v1/dossier.pb-c.h"

#define NOTIFY_BATCH 1       /* notifications per claim: see the contract */
#define NOTIFY_CHANNELS 3    /* spool, sms, email */
#define SEND_MIN_MS 500      /* a network channel with less of the lease left is not tried */

/* one claimed notification from its claim until its outcomes are recorded */
typedef struct notify_job {
    mc_notice_t     notice;                      /* the claimed row; attempts = this attempt */
    mc_notice_try_t tries[NOTIFY_CHANNELS];      /* channels tried, in order */
    char            errors[NOTIFY_CHANNELS][256]; /* their failure reasons (tries[].error) */
    size_t          n_tries;                     /* entries in tries */
    char            wanted[64];                  /* channels that must all succeed: "spool,sms" */
    bool            active;                      /* outcomes waiting to be recorded */
    bool            unrecorded_logged;           /* outcome_unrecorded said once */
} notify_job_t;

struct notify {
    const mc_cfg_t           *cfg;
    const notify_templates_t *templates;
    notify_channels_t        *channels;
    mc_store_t               *store;
    void                     *sub;        /* SUB: intake, router and lienthong events */
    mc_daemon_t              *daemon;     /* for its stop requests */
    int                       work_timer; /* mc_loop timer of the work */
    notify_job_t              job;        /* the notification in hand */
    bool                      store_down; /* logged once per outage */
};

static void job_clear(notify_job_t *job);

/* notify_reload - the new configuration and templates */
void notify_reload(notify_t *n, const mc_cfg_t *cfg, const notify_templates_t *templates)
{
    n->cfg = cfg;
    n->templates = templates;
    notify_channels_reload(n->channels, &cfg->notify);
}

/* notify_new - store (lazy) and event subscriptions */
notify_t *notify_new(const mc_cfg_t *cfg, const notify_templates_t *templates,
                     notify_channels_t *channels, mc_err_t *err)
{
    notify_t *n = calloc(1, sizeof *n);
    if (!n) {
        mc_err_add(err, "out of memory");
        return NULL;
    }
    n->cfg = cfg;
    n->templates = templates;
    n->channels = channels;
    n->store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms);
    if (!n->store) {
        mc_err_add(err, "out of memory");
        free(n);
        return NULL;
    }
    const char *publishers[] = {cfg->intake.events_endpoint, cfg->router.events_endpoint,
                                cfg->lienthong.events_endpoint};
    /* connecting to a publisher that is not up yet is fine: ZeroMQ retries */
    n->sub = mc_events_sub(publishers, 3, err);
    if (!n->sub) {
        notify_destroy(&n);
        return NULL;
    }
    return n;
}

/* notify_destroy - close and free */
void notify_destroy(notify_t **notify)
{
    if (!notify || !*notify)
        return;
    mc_transport_close(&(*notify)->sub);
    mc_store_destroy(&(*notify)->store);
    job_clear(&(*notify)->job);
    free(*notify);
    *notify = NULL;
}

/* format_date - DD/MM/YYYY of an instant in Vietnam time */
static void format_date(int64_t at, char *buf, size_t size)
{
    mc_date_t d = mc_date_of(at, NULL);
    snprintf(buf, size, "%02d/%02d/%04d", d.day % 100, d.month % 100, d.year % 10000);
}

/* new_due_text - data.new_due: epoch seconds become a date, other text stays */
static void new_due_text(const char *raw, char *buf, size_t size)
{
    char *end = NULL;
    errno = 0;
    long long v = raw[0] ? strtoll(raw, &end, 10) : 0;
    if (raw[0] && end && *end == '\0' && errno == 0 && v > 0)
        format_date((int64_t)v, buf, size);
    else
        snprintf(buf, size, "%s", raw);
}

/* job_clear - forget the notification in hand */
static void job_clear(notify_job_t *job)
{
    mc_notice_clear(&job->notice);
    memset(job, 0, sizeof *job);
}

/* what one notification is sent as: the unpacked dossier, who, the texts */
typedef struct notify_letter {
    Motcua__V1__Dossier *dossier;  /* unpacked payload; NULL if unreadable */
    notify_recipient_t   to;       /* points into dossier */
    notify_message_t     msg;      /* rendered texts */
    const char          *problem;  /* why nothing but a failed spool try is possible, or NULL */
} notify_letter_t;

/* letter_clear - free the dossier and the texts */
static void letter_clear(notify_letter_t *l)
{
    notify_message_clear(&l->msg);
    if (l->dossier)
        motcua__v1__dossier__free_unpacked(l->dossier, NULL);
    l->dossier = NULL;
}

/* prepare - unpack and render the claimed notice, choose the channels still to do */
static void prepare(notify_t *n, notify_job_t *job, notify_letter_t *l)
{
    const mc_notice_t *m = &job->notice;
    memset(l, 0, sizeof *l);
    l->to = (notify_recipient_t){"", "", ""};
    l->dossier = motcua__v1__dossier__unpack(NULL, m->payload_len, m->payload);
    const Motcua__V1__Applicant *a = l->dossier ? l->dossier->applicant : NULL;
    if (a) {
        l->to.phone = a->phone ? a->phone : "";
        l->to.email = a->email ? a->email : "";
        if (a->kind_case == MOTCUA__V1__APPLICANT__KIND_PERSON && a->person && a->person->full_name)
            l->to.name = a->person->full_name;
        else if (a->kind_case == MOTCUA__V1__APPLICANT__KIND_ORGANIZATION && a->organization &&
                 a->organization->name)
            l->to.name = a->organization->name;
    }
    const mc_procedure_t *proc = mc_catalog_find(n->cfg->catalog, m->procedure_code);
    const mc_ward_t *ward = mc_cfg_ward(n->cfg, m->ward_code);
    char due[32] = "", new_due[128], old_due[128], link[1536], accept_due[80] = "";
    if (m->accept_due_at > 0)
        mc_format_local(m->accept_due_at, accept_due, sizeof accept_due);
    if (m->due_at > 0)
        format_date(m->due_at, due, sizeof due);
    new_due_text(m->new_due, new_due, sizeof new_due);
    char supplement_due[128];
    new_due_text(m->supplement_due, supplement_due, sizeof supplement_due);
    new_due_text(m->old_due, old_due, sizeof old_due);
    /* the link carries the dossier's secret: only the kinds that invite a rating get it */
    const char *rating = NULL;
    if (m->rating_token[0] &&
        (strcmp(m->kind, "result_ready") == 0 || strcmp(m->kind, "refused") == 0))
        rating = notify_rating_link(n->cfg->notify.rating_url, m->code, m->rating_token, link,
                                    sizeof link);
    notify_values_t v = {
        .code = m->code,
        .procedure = proc ? proc->name : m->procedure_code,
        .due = due,
        .name = l->to.name,
        .ward = ward ? ward->name : m->ward_code,
        .unit = ward ? ward->unit_name : m->ward_code,
        .address = ward ? ward->address : "",
        .missing = m->missing,
        .reason = m->reason,
        .new_due = new_due,
        .supplement_due = supplement_due,
        .old_due = old_due,
        .rating_link = rating,
        /* the secret is given once, on the receipt and in the received notice: an
         * applicant who filed online has no printed receipt to read it from */
        .secret = (strcmp(m->kind, "received") == 0 || strcmp(m->kind, "submitted") == 0) &&
                          m->rating_token[0] ? m->rating_token : NULL,
        .accept_due = accept_due,
    };
    snprintf(job->wanted, sizeof job->wanted, "spool");
    job->n_tries = 0;
    if (!l->dossier)
        l->problem = "dossier payload unreadable";
    else if (notify_render(n->templates, m->kind, &v, &l->msg) != 0)
        l->problem = "no template for this kind";
    if (l->problem) {
        job->tries[job->n_tries++] = (mc_notice_try_t){.channel = "spool"};
        return;
    }
    bool sms = notify_sms_enabled(n->channels) && l->to.phone[0];
    bool email = notify_email_enabled(n->channels) && l->to.email[0];
    snprintf(job->wanted, sizeof job->wanted, "spool%s%s", sms ? ",sms" : "", email ? ",email" : "");
    static const char *const names[NOTIFY_CHANNELS] = {"spool", "sms", "email"};
    const bool use[NOTIFY_CHANNELS] = {true, sms, email};
    char have[72];
    snprintf(have, sizeof have, ",%s,", m->done_channels);
    for (int c = 0; c < NOTIFY_CHANNELS; c++) {
        /* a channel that took this message in a committed earlier attempt is
         * not asked again: a retry for a failed e-mail resends no SMS */
        char pattern[72];
        snprintf(pattern, sizeof pattern, ",%s,", names[c]);
        if (use[c] && !strstr(have, pattern))
            job->tries[job->n_tries++] = (mc_notice_try_t){.channel = names[c]};
    }
}

/* send_all - try each started channel, no transaction open; a network send
 * must end by deadline (monotonic ms), inside the lease */
static void send_all(notify_t *n, notify_job_t *job, const notify_letter_t *l, int64_t deadline)
{
    const mc_notice_t *m = &job->notice;
    for (size_t i = 0; i < job->n_tries; i++) {
        mc_notice_try_t *t = &job->tries[i];
        char *error = job->errors[i];
        size_t size = sizeof job->errors[i];
        error[0] = '\0';
        int64_t left = deadline - mc_time_mono_ms();
        int rc = -1;
        if (l->problem)
            snprintf(error, size, "%s", l->problem);
        else if (strcmp(t->channel, "spool") == 0)
            rc = notify_spool_write(n->channels, m->id, m->kind, m->code, &l->to, &l->msg, error, size);
        else if (left < SEND_MIN_MS)
            snprintf(error, size, "%s: not tried, the send lease is nearly over", t->channel);
        else if (strcmp(t->channel, "sms") == 0)
            rc = notify_sms_send(n->channels, m->id, &l->to, &l->msg, (int)left, error, size);
        else
            rc = notify_email_send(n->channels, m->id, &l->to, &l->msg, (int)left, error, size);
        t->state = rc == 0 ? MC_ATTEMPT_OK : MC_ATTEMPT_FAILED;
        t->error = rc == 0 ? NULL : error;
    }
}

/* record - the outcomes of the job in hand into the store; logs the decision */
static mc_store_rc_t record(notify_t *n, mc_err_t *err)
{
    notify_job_t *job = &n->job;
    const mc_notice_t *m = &job->notice;
    mc_notice_retry_t verdict = notify_decide_retry(&n->cfg->notify, m->attempts);
    mc_notice_outcome_t outcome = MC_NOTICE_RETRY;
    mc_store_rc_t rc = mc_store_notify_record(n->store, m, job->tries, job->n_tries, job->wanted,
                                              &verdict, &outcome, err);
    if (rc != MC_STORE_OK) {
        if (!job->unrecorded_logged)
            mc_log(MC_LOG_WARNING, "outcome_unrecorded", "id=%" PRId64 " code=%s kind=%s attempt=%d"
                   " what=kept_until_the_store_is_back", m->id, m->code, m->kind, m->attempts);
        job->unrecorded_logged = true;
        return rc;
    }
    char q[300];
    for (size_t i = 0; i < job->n_tries; i++)
        if (job->tries[i].state == MC_ATTEMPT_FAILED)
            mc_log(MC_LOG_WARNING, "channel_failed", "id=%" PRId64 " code=%s kind=%s channel=%s error=%s",
                   m->id, m->code, m->kind, job->tries[i].channel,
                   mc_log_quote(job->tries[i].error, q, sizeof q));
    if (outcome == MC_NOTICE_SENT)
        mc_daemon_count(MC_COUNT_SENT, 1); /* per notice: debug, counted in the summary */
    if (outcome == MC_NOTICE_SENT)
        mc_log(MC_LOG_DEBUG, "notification_sent", "id=%" PRId64 " code=%s kind=%s channels=%s attempt=%d",
               m->id, m->code, m->kind, job->wanted, m->attempts);
    else if (outcome == MC_NOTICE_FAILED)
        mc_log(MC_LOG_ERR, "notification_failed", "id=%" PRId64 " code=%s kind=%s attempts=%d",
               m->id, m->code, m->kind, m->attempts);
    else if (outcome == MC_NOTICE_OVERTAKEN)
        mc_log(MC_LOG_NOTICE, "notification_overtaken", "id=%" PRId64 " code=%s kind=%s attempt=%d"
               " what=outcomes_recorded_newer_claim_decides", m->id, m->code, m->kind, m->attempts);
    else
        mc_log(MC_LOG_NOTICE, "notification_retry", "id=%" PRId64 " code=%s kind=%s attempt=%d delay_ms=%d",
               m->id, m->code, m->kind, m->attempts, verdict.delay_ms);
    job_clear(job);
    return MC_STORE_OK;
}

/* claim - the claim transaction: lock one due notice, choose its channels,
 * start the attempts and lease it, commit. *started: there is something to
 * send (job filled, letter prepared); 0 / 1 handled, -1 store failure */
static int claim(notify_t *n, notify_letter_t *l, bool *started, mc_err_t *err)
{
    notify_job_t *job = &n->job;
    *started = false;
    int count = 0;
    if (mc_store_notify_claim(n->store, NOTIFY_BATCH, &job->notice, &count, err) != MC_STORE_OK)
        return -1;
    mc_store_rc_t rc = MC_STORE_OK;
    mc_notice_outcome_t outcome = MC_NOTICE_SENDING;
    if (count > 0) {
        prepare(n, job, l);
        /* on the attempts counted so far: is a lost last attempt the end? */
        mc_notice_retry_t if_lost = notify_decide_retry(&n->cfg->notify, job->notice.attempts);
        rc = mc_store_notify_start(n->store, &job->notice, job->tries, job->n_tries,
                                   n->cfg->notify.send_lease_ms, &if_lost, &outcome, err);
    }
    mc_store_rc_t end = mc_store_notify_end(n->store, rc == MC_STORE_OK, err);
    if (rc != MC_STORE_OK || end != MC_STORE_OK) {
        letter_clear(l);
        job_clear(job);
        return -1;
    }
    if (count == 0)
        return 0;
    const mc_notice_t *m = &job->notice;
    if (outcome == MC_NOTICE_FAILED) {
        mc_log(MC_LOG_ERR, "notification_failed", "id=%" PRId64 " code=%s kind=%s attempts=%d"
               " what=last_attempt_lost", m->id, m->code, m->kind, m->attempts);
        letter_clear(l);
        job_clear(job);
        return 1;
    }
    if (m->unknown_channels[0])
        mc_log(MC_LOG_NOTICE, "notification_resend", "id=%" PRId64 " code=%s kind=%s attempt=%d"
               " unknown=%s", m->id, m->code, m->kind, m->attempts, m->unknown_channels);
    *started = true;
    return 1;
}

/* store_failed - log the first failure of an outage; -1 */
static int store_failed(notify_t *n, mc_err_t *err)
{
    if (!n->store_down)
        mc_log_error(MC_LOG_WARNING, "store_unavailable", err, NULL);
    mc_daemon_store_down(true);
    n->store_down = true;
    return -1;
}

/* store_ok - the store answered: end an outage */
static void store_ok(notify_t *n)
{
    if (n->store_down)
        mc_log(MC_LOG_NOTICE, "store_available", "what=reconnected");
    mc_daemon_store_down(false);
    n->store_down = false;
}

/* work_once - record what is in hand, then claim, send, record one notice.
 * Returns the number of notifications handled, 0 when none was due, -1 on
 * a store failure */
static int work_once(notify_t *n)
{
    mc_err_t err;
    mc_err_clear(&err);
    if (n->job.active) {
        if (record(n, &err) != MC_STORE_OK)
            return store_failed(n, &err);
        store_ok(n);
    }
    /* the lease is counted from before the claim: notify's deadline falls
     * before the store's, whatever the claim transaction takes */
    int64_t deadline = mc_time_mono_ms() + (int64_t)n->cfg->notify.send_lease_ms * 3 / 4;
    notify_letter_t letter;
    memset(&letter, 0, sizeof letter);
    bool started = false;
    int handled = claim(n, &letter, &started, &err);
    if (handled < 0)
        return store_failed(n, &err);
    store_ok(n);
    if (!started)
        return handled;
    send_all(n, &n->job, &letter, deadline);
    letter_clear(&letter);
    n->job.active = true;
    if (record(n, &err) != MC_STORE_OK)
        return store_failed(n, &err);
    return 1;
}

/* on_work - mc_loop_fn: work until nothing is due, checking for SIGTERM between messages */
static int on_work(mc_loop_t *loop, void *arg)
{
    (void)loop;
    notify_t *n = arg;
    while (!mc_daemon_stopping(n->daemon) && work_once(n) > 0) {
    }
    return 0;
}

/* on_events - mc_loop_fn: events only mean "look now" */
static int on_events(mc_loop_t *loop, void *arg)
{
    notify_t *n = arg;
    mc_events_drain(n->sub);
    mc_loop_timer_reset(loop, n->work_timer, 0);
    return 0;
}

/* notify_start - the work timer and the events */
int notify_start(notify_t *n, mc_daemon_t *d, mc_err_t *err)
{
    n->daemon = d;
    n->work_timer = mc_loop_every(d->loop, 0, n->cfg->notify.poll_ms, on_work, n);
    if (n->work_timer < 0 || mc_loop_add_socket(d->loop, n->sub, on_events, n) != 0) {
        mc_err_add(err, "notify: cannot set up the loop");
        return -1;
    }
    return 0;
}

/* notify_finish - the outcome in hand, if the store never took it */
int notify_finish(notify_t *n)
{
    if (n->job.active) {
        /* the store is still down: the lease runs out and the notification is
         * sent again, under the same message ids (notify.h) */
        mc_log(MC_LOG_WARNING, "outcome_abandoned", "id=%" PRId64 " code=%s kind=%s attempt=%d",
               n->job.notice.id, n->job.notice.code, n->job.notice.kind, n->job.notice.attempts);
        job_clear(&n->job);
    }
    return 0;
}
