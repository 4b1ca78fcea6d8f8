/*
 * notify_loop - claim a batch, send it, record it; wake on events or the poll.
 *
 * Contract (notify.h): up to notify.batch notifications per claim, all
 * started in ONE transaction, sent together, recorded in ONE transaction.
 * No transaction is open while a channel is tried: the claim commits first
 * (attempts in progress, lease), the outcomes are recorded after. The
 * batch shares one lease, send_lease_ms, whatever its size (one that grew
 * with the batch left 64 SMS stuck for minutes after a kill -9); every transfer
 * ends within its first three quarters, and one that cannot start in time
 * is left for the next claim. Spool files are written together
 * and flushed together (one directory fsync per batch); SMS and e-mail
 * transfers run on a small fixed pool of threads, each transfer touching
 * only its own try. Outcomes the store could not take are kept (n->jobs)
 * and recorded first thing when it is back; SIGTERM waits for at most the
 * batch in hand. The events only shorten the wait; every wake re-reads the
 * store, and a lost event costs at most poll_ms.
 */
#include "notify.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
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

#define NOTIFY_CHANNELS 3    /* spool, sms, email */
#define NOTIFY_SEND_THREADS 8 /* SMS and e-mail transfers of a batch at once */
#define SEND_MIN_MS 500      /* a network channel with less of the lease left is not tried */

/* one claimed notification from its claim until its outcomes are recorded */
typedef struct notify_job {
    mc_notice_t     notice;                      /* the claimed row; attempts = this attempt */
    mc_notice_try_t tries[NOTIFY_CHANNELS];      /* channels tried, in order */
    char            errors[NOTIFY_CHANNELS][256]; /* their failure reasons (tries[].error) */
    size_t          n_tries;                     /* entries in tries */
    char            wanted[64];                  /* channels that must all succeed: "spool,sms" */
} notify_job_t;

/* what one notification is sent as: the unpacked dossier, who, the texts */
typedef struct notify_letter {
    Motcua__V1__Dossier *dossier;  /* unpacked payload; NULL if unreadable */
    notify_recipient_t   to;       /* points into dossier */
    notify_message_t     msg;      /* rendered texts */
    const char          *problem;  /* why nothing but a failed spool try is possible, or NULL */
} notify_letter_t;

struct notify {
    const mc_cfg_t           *cfg;
    const notify_templates_t *templates;
    notify_channels_t        *channels;
    mc_store_t               *store;
    void                     *sub;        /* SUB: intake, router and lienthong events */
    mc_daemon_t              *daemon;     /* for its stop requests */
    int                       work_timer; /* mc_loop timer of the work */
    int                       batch;      /* notify.batch: capacity of the arrays below */
    mc_notice_t              *claimed;    /* [batch] what the claim returned */
    notify_job_t             *jobs;       /* [batch] the batch in hand: jobs[0..n_jobs) */
    notify_letter_t          *letters;    /* [batch] their rendered letters, while sending */
    mc_notice_record_t       *records;    /* [batch] the record's items */
    size_t                    n_jobs;     /* notifications in hand */
    bool                      unsent;     /* jobs hold outcomes still to record */
    bool                      unrecorded_logged; /* outcome_unrecorded said once for them */
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
    n->batch = cfg->notify.batch > 0 ? cfg->notify.batch : 1;
    n->claimed = calloc((size_t)n->batch, sizeof *n->claimed);
    n->jobs = calloc((size_t)n->batch, sizeof *n->jobs);
    n->letters = calloc((size_t)n->batch, sizeof *n->letters);
    n->records = calloc((size_t)n->batch, sizeof *n->records);
    if (!n->claimed || !n->jobs || !n->letters || !n->records) {
        mc_err_add(err, "out of memory");
        notify_destroy(&n);
        return NULL;
    }
    n->store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms);
    mc_store_set_tcp(n->store, &cfg->db_tcp);
    if (!n->store) {
        mc_err_add(err, "out of memory");
        notify_destroy(&n);
        return NULL;
    }
    /* connecting to a publisher that is not up yet is fine: ZeroMQ retries */
    n->sub = mc_events_listen(cfg, MC_EVENTS_FROM_INTAKE | MC_EVENTS_FROM_ROUTER |
                                       MC_EVENTS_FROM_LIENTHONG, err);
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
    notify_t *n = *notify;
    mc_transport_close(&n->sub);
    mc_store_destroy(&n->store);
    for (size_t i = 0; n->jobs && i < n->n_jobs; i++)
        job_clear(&n->jobs[i]);
    free(n->claimed);
    free(n->jobs);
    free(n->letters);
    free(n->records);
    free(n);
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
    bool spool = notify_spool_enabled(n->channels);
    bool sms = notify_sms_enabled(n->channels) && l->to.phone[0];
    bool email = notify_email_enabled(n->channels) && l->to.email[0];
    /* spool off and no phone or e-mail to use: nowhere to deliver, a failure
     * (retried, then failed for good), never "sent" to no channel */
    if (!l->problem && !spool && !sms && !email)
        l->problem = "no channel: spool off, no SMS or e-mail for this recipient";
    if (l->problem) {
        job->tries[job->n_tries++] = (mc_notice_try_t){.channel = "spool"};
        return;
    }
    static const char *const names[NOTIFY_CHANNELS] = {"spool", "sms", "email"};
    const bool use[NOTIFY_CHANNELS] = {spool, sms, email};
    char have[72];
    snprintf(have, sizeof have, ",%s,", m->done_channels);
    size_t len = 0;
    for (int c = 0; c < NOTIFY_CHANNELS; c++) {
        if (!use[c])
            continue;
        len += (size_t)snprintf(job->wanted + len, sizeof job->wanted - len, "%s%s",
                                len ? "," : "", names[c]);
        /* a channel that took this message in a committed earlier attempt is
         * not asked again: a retry for a failed e-mail resends no SMS */
        char pattern[72];
        snprintf(pattern, sizeof pattern, ",%s,", names[c]);
        if (!strstr(have, pattern))
            job->tries[job->n_tries++] = (mc_notice_try_t){.channel = names[c]};
    }
}

/* one network transfer of the batch: a try of a job and its letter */
typedef struct notify_transfer {
    notify_t              *n;      /* channels */
    notify_job_t          *job;    /* whose try */
    size_t                 i;      /* which try */
    const notify_letter_t *letter; /* what to send */
} notify_transfer_t;

/* the transfers of a batch, shared by the pool's threads */
typedef struct notify_pool {
    notify_transfer_t *items;    /* [count] */
    size_t             count;    /* transfers */
    atomic_size_t      next;     /* the next one to take */
    int64_t            deadline; /* monotonic ms every transfer must end by */
} notify_pool_t;

/* try_set - the outcome of try i of job: rc 0 is OK, else FAILED with its error */
static void try_set(notify_job_t *job, size_t i, int rc)
{
    job->tries[i].state = rc == 0 ? MC_ATTEMPT_OK : MC_ATTEMPT_FAILED;
    job->tries[i].error = rc == 0 ? NULL : job->errors[i];
}

/* pool_run - take transfers until none is left; each writes only its own try */
static void *pool_run(void *arg)
{
    notify_pool_t *pool = arg;
    for (size_t k; (k = atomic_fetch_add(&pool->next, 1)) < pool->count;) {
        notify_transfer_t *x = &pool->items[k];
        const mc_notice_t *m = &x->job->notice;
        mc_notice_try_t *t = &x->job->tries[x->i];
        char *error = x->job->errors[x->i];
        size_t size = sizeof x->job->errors[x->i];
        int64_t left = pool->deadline - mc_time_mono_ms();
        int rc = -1;
        if (left < SEND_MIN_MS)
            snprintf(error, size, "%s: not tried, the send lease is nearly over", t->channel);
        else if (strcmp(t->channel, "sms") == 0)
            rc = notify_sms_send(x->n->channels, m->id, &x->letter->to, &x->letter->msg, (int)left,
                                 error, size);
        else
            rc = notify_email_send(x->n->channels, m->id, &x->letter->to, &x->letter->msg, (int)left,
                                   error, size);
        try_set(x->job, x->i, rc);
    }
    return NULL;
}

/* send_batch - try every started channel of the batch, no transaction open:
 * the network transfers on up to NOTIFY_SEND_THREADS threads while this one
 * writes and flushes the spool files; every network send ends by deadline
 * (monotonic ms), inside the lease. -1 only without memory (nothing tried) */
static int send_batch(notify_t *n, int64_t deadline)
{
    size_t cap = n->n_jobs * NOTIFY_CHANNELS;
    notify_transfer_t *net = malloc((cap ? cap : 1) * sizeof *net);
    notify_spool_item_t *spool = malloc((cap ? cap : 1) * sizeof *spool);
    size_t *spool_of = malloc((cap ? cap : 1) * sizeof *spool_of); /* spool item -> job */
    size_t *spool_try = malloc((cap ? cap : 1) * sizeof *spool_try);
    if (!net || !spool || !spool_of || !spool_try) {
        free(net);
        free(spool);
        free(spool_of);
        free(spool_try);
        return -1;
    }
    size_t n_net = 0, n_spool = 0;
    for (size_t j = 0; j < n->n_jobs; j++) {
        notify_job_t *job = &n->jobs[j];
        const notify_letter_t *l = &n->letters[j];
        const mc_notice_t *m = &job->notice;
        for (size_t i = 0; i < job->n_tries; i++) {
            job->errors[i][0] = '\0';
            if (l->problem) {
                snprintf(job->errors[i], sizeof job->errors[i], "%s", l->problem);
                try_set(job, i, -1);
            } else if (strcmp(job->tries[i].channel, "spool") == 0) {
                spool_of[n_spool] = j;
                spool_try[n_spool] = i;
                spool[n_spool++] = (notify_spool_item_t){m->id, m->kind, m->code, &l->to, &l->msg,
                                                         job->errors[i], sizeof job->errors[i], -1};
            } else {
                net[n_net++] = (notify_transfer_t){n, job, i, l};
            }
        }
    }
    notify_pool_t pool = {.items = net, .count = n_net, .deadline = deadline};
    atomic_init(&pool.next, 0);
    pthread_t threads[NOTIFY_SEND_THREADS];
    size_t started = 0;
    /* threads may fail to start: whatever they leave, this thread takes below */
    while (started < NOTIFY_SEND_THREADS && started < n_net &&
           pthread_create(&threads[started], NULL, pool_run, &pool) == 0)
        started++;
    if (n_spool > 0)
        notify_spool_write_batch(n->channels, spool, n_spool);
    for (size_t k = 0; k < n_spool; k++)
        try_set(&n->jobs[spool_of[k]], spool_try[k], spool[k].rc);
    pool_run(&pool);
    for (size_t t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    free(net);
    free(spool);
    free(spool_of);
    free(spool_try);
    return 0;
}

/* log_outcome - one line for the decision recorded for job */
static void log_outcome(const notify_job_t *job, mc_notice_outcome_t outcome, int delay_ms)
{
    const mc_notice_t *m = &job->notice;
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
               m->id, m->code, m->kind, m->attempts, delay_ms);
}

/* jobs_clear - forget the batch in hand */
static void jobs_clear(notify_t *n)
{
    for (size_t j = 0; j < n->n_jobs; j++)
        job_clear(&n->jobs[j]);
    n->n_jobs = 0;
    n->unsent = false;
    n->unrecorded_logged = false;
}

/* record - the outcomes of the batch in hand into the store, one
 * transaction; logs each decision */
static mc_store_rc_t record(notify_t *n, mc_err_t *err)
{
    for (size_t j = 0; j < n->n_jobs; j++) {
        const notify_job_t *job = &n->jobs[j];
        n->records[j] = (mc_notice_record_t){
            .notice = &job->notice,
            .tries = job->tries,
            .n_tries = job->n_tries,
            .wanted = job->wanted,
            .if_unsent = notify_decide_retry(&n->cfg->notify, job->notice.attempts),
            .outcome = MC_NOTICE_RETRY,
        };
    }
    mc_store_rc_t rc = mc_store_notify_record_batch(n->store, n->records, n->n_jobs, err);
    if (rc != MC_STORE_OK) {
        if (!n->unrecorded_logged)
            mc_log(MC_LOG_WARNING, "outcome_unrecorded", "notifications=%zu first_id=%" PRId64
                   " what=kept_until_the_store_is_back", n->n_jobs, n->jobs[0].notice.id);
        n->unrecorded_logged = true;
        return rc;
    }
    for (size_t j = 0; j < n->n_jobs; j++)
        log_outcome(&n->jobs[j], n->records[j].outcome, n->records[j].if_unsent.delay_ms);
    jobs_clear(n);
    return MC_STORE_OK;
}

/* letters_clear - free the letters of the batch in hand */
static void letters_clear(notify_t *n)
{
    for (size_t j = 0; j < n->n_jobs; j++)
        letter_clear(&n->letters[j]);
}

/* claim - the claim transaction: lock up to a batch of due notices, choose
 * their channels, start their attempts and lease them, commit. Jobs and
 * letters of what is to be sent are left in n->jobs[0..n_jobs), leased for
 * notify.send_lease_ms. Returns the number handled (started or failed for good),
 * 0 when none was due, -1 on a store failure (nothing in hand then) */
static int claim(notify_t *n, mc_err_t *err)
{
    int count = 0;
    if (mc_store_notify_claim(n->store, n->batch, n->claimed, &count, err) != MC_STORE_OK)
        return -1;
    for (int j = 0; j < count; j++) {
        n->jobs[j].notice = n->claimed[j]; /* the buffers move to the job */
        memset(&n->claimed[j], 0, sizeof n->claimed[j]);
        prepare(n, &n->jobs[j], &n->letters[j]);
    }
    n->n_jobs = (size_t)count;
    mc_store_rc_t rc = MC_STORE_OK;
    /* the record items are free until the sends are over: they hold the starts' outcomes */
    for (int j = 0; j < count && rc == MC_STORE_OK; j++) {
        notify_job_t *job = &n->jobs[j];
        /* on the attempts counted so far: is a lost last attempt the end? */
        mc_notice_retry_t if_lost = notify_decide_retry(&n->cfg->notify, job->notice.attempts);
        n->records[j].outcome = MC_NOTICE_SENDING;
        rc = mc_store_notify_start(n->store, &job->notice, job->tries, job->n_tries,
                                   n->cfg->notify.send_lease_ms,
                                   &if_lost, &n->records[j].outcome, err);
    }
    mc_store_rc_t end = mc_store_notify_end(n->store, rc == MC_STORE_OK, err);
    if (rc != MC_STORE_OK || end != MC_STORE_OK) {
        letters_clear(n);
        jobs_clear(n);
        return -1;
    }
    /* keep what is to be sent, in claim order */
    size_t kept = 0;
    for (int j = 0; j < count; j++) {
        notify_job_t *job = &n->jobs[j];
        const mc_notice_t *m = &job->notice;
        if (n->records[j].outcome == MC_NOTICE_FAILED) {
            mc_log(MC_LOG_ERR, "notification_failed", "id=%" PRId64 " code=%s kind=%s attempts=%d"
                   " what=last_attempt_lost", m->id, m->code, m->kind, m->attempts);
            letter_clear(&n->letters[j]);
            job_clear(job);
            continue;
        }
        if (m->unknown_channels[0])
            mc_log(MC_LOG_NOTICE, "notification_resend", "id=%" PRId64 " code=%s kind=%s attempt=%d"
                   " unknown=%s", m->id, m->code, m->kind, m->attempts, m->unknown_channels);
        if (kept != (size_t)j) {
            n->jobs[kept] = *job; /* buffers and letter move down */
            n->letters[kept] = n->letters[j];
            memset(job, 0, sizeof *job);
            memset(&n->letters[j], 0, sizeof n->letters[j]);
        }
        kept++;
    }
    n->n_jobs = kept;
    return count;
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

/* work_once - record what is in hand, then claim, send, record one batch.
 * Returns the number of notifications handled, 0 when none was due, -1 on
 * a store failure */
static int work_once(notify_t *n)
{
    mc_err_t err;
    mc_err_clear(&err);
    if (n->unsent) {
        if (record(n, &err) != MC_STORE_OK)
            return store_failed(n, &err);
        store_ok(n);
    }
    /* the lease is counted from before the claim: notify's deadline falls
     * before the store's, whatever the claim transaction takes */
    int64_t t0 = mc_time_mono_ms();
    int handled = claim(n, &err);
    if (handled < 0)
        return store_failed(n, &err);
    store_ok(n);
    if (n->n_jobs == 0)
        return handled;
    if (send_batch(n, t0 + (int64_t)n->cfg->notify.send_lease_ms * 3 / 4) != 0) {
        /* nothing was tried: the tries stay in progress, the lease runs out
         * and the next claim sends them (same message ids) */
        mc_log(MC_LOG_ERR, "batch_not_sent", "notifications=%zu what=out_of_memory", n->n_jobs);
        letters_clear(n);
        jobs_clear(n);
        return -1;
    }
    letters_clear(n);
    n->unsent = true;
    if (record(n, &err) != MC_STORE_OK)
        return store_failed(n, &err);
    return handled;
}

/* on_work - mc_loop_fn: work until nothing is due, checking for SIGTERM between batches */
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

/* notify_finish - the outcomes in hand, if the store never took them */
int notify_finish(notify_t *n)
{
    if (n->unsent) {
        /* the store is still down: the lease runs out and these notifications
         * are sent again, under the same message ids (notify.h) */
        for (size_t j = 0; j < n->n_jobs; j++)
            mc_log(MC_LOG_WARNING, "outcome_abandoned", "id=%" PRId64 " code=%s kind=%s attempt=%d",
                   n->jobs[j].notice.id, n->jobs[j].notice.code, n->jobs[j].notice.kind,
                   n->jobs[j].notice.attempts);
        jobs_clear(n);
    }
    return 0;
}
