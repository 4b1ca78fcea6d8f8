/*
 * notify_loop - claim, render, send, record; wake on events or the poll.
 *
 * Contract (notify.h): one notification per store transaction (batch 1),
 * so a crash resends at most the one message in flight, and SIGTERM waits
 * for at most one message. The events only shorten the wait; every wake
 * re-reads the store, and a lost event costs at most poll_ms.
 */
#include "notify.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "mc_log.h"
#include "mc_store.h"
#include "mc_store_notify.h"
#include "mc_transport.h"
#include "motcua/v1/dossier.pb-c.h"

#define NOTIFY_BATCH 1       /* notifications per transaction: see the contract */
#define NOTIFY_SUBS 3        /* intake, router, lienthong */
#define EVENT_MAX_BYTES 4096 /* a PipelineEvent is tiny */

struct notify {
    const mc_cfg_t           *cfg;
    const notify_templates_t *templates;
    notify_channels_t        *channels;
    mc_store_t               *store;
    void                     *subs[NOTIFY_SUBS];
    bool                      store_down; /* logged once per outage */
    bool                      stopping;
};

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
    const char *endpoints[NOTIFY_SUBS] = {cfg->intake.events_endpoint,
                                          cfg->router.events_endpoint,
                                          cfg->lienthong.events_endpoint};
    mc_socket_opts_t opts = {.max_message_bytes = EVENT_MAX_BYTES, .recv_hwm = 100,
                             .linger_ms = 0};
    for (int i = 0; i < NOTIFY_SUBS; i++) {
        /* connecting to a publisher that is not up yet is fine: ZeroMQ retries */
        n->subs[i] = mc_transport_connect(ZMQ_SUB, endpoints[i], &opts, err);
        if (!n->subs[i] || zmq_setsockopt(n->subs[i], ZMQ_SUBSCRIBE, "", 0) != 0) {
            mc_err_add(err, "cannot subscribe to %s", endpoints[i]);
            notify_destroy(&n);
            return NULL;
        }
    }
    return n;
}

/* notify_destroy - close and free */
void notify_destroy(notify_t **notify)
{
    if (!notify || !*notify)
        return;
    for (int i = 0; i < NOTIFY_SUBS; i++)
        mc_transport_close(&(*notify)->subs[i]);
    mc_store_destroy(&(*notify)->store);
    free(*notify);
    *notify = NULL;
}

/* check_stop - consume pending signals; true once TERM or INT arrived */
static bool check_stop(notify_t *n, int stop_fd)
{
    struct pollfd p = {stop_fd, POLLIN, 0};
    while (poll(&p, 1, 0) == 1) {
        struct signalfd_siginfo si;
        if (read(stop_fd, &si, sizeof si) != (ssize_t)sizeof si)
            break;
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            n->stopping = true;
        else
            mc_log(MC_LOG_INFO, "signal_ignored", "signal=%u", si.ssi_signo);
    }
    return n->stopping;
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

/* log_error - a short quoted reason */
static const char *quoted(const char *text, char *buf, unsigned size)
{
    return mc_log_quote(text, buf, size);
}

/* process - send one claimed notice on its channels and record it */
static mc_store_rc_t process(notify_t *n, const mc_notice_t *m, mc_err_t *err)
{
    Motcua__V1__Dossier *d = motcua__v1__dossier__unpack(NULL, m->payload_len, m->payload);
    const Motcua__V1__Applicant *a = d ? d->applicant : NULL;
    notify_recipient_t to = {"", "", ""};
    if (a) {
        to.phone = a->phone ? a->phone : "";
        to.email = a->email ? a->email : "";
        if (a->kind_case == MOTCUA__V1__APPLICANT__KIND_PERSON && a->person && a->person->full_name)
            to.name = a->person->full_name;
        else if (a->kind_case == MOTCUA__V1__APPLICANT__KIND_ORGANIZATION && a->organization &&
                 a->organization->name)
            to.name = a->organization->name;
    }
    const mc_procedure_t *proc = mc_catalog_find(n->cfg->catalog, m->procedure_code);
    const mc_ward_t *ward = mc_cfg_ward(n->cfg, m->ward_code);
    char due[32] = "", new_due[128], link[1536];
    if (m->due_at > 0)
        format_date(m->due_at, due, sizeof due);
    new_due_text(m->new_due, new_due, sizeof new_due);
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
        .name = to.name,
        .ward = ward ? ward->name : m->ward_code,
        .unit = ward ? ward->unit_name : m->ward_code,
        .address = ward ? ward->address : "",
        .missing = m->missing,
        .reason = m->reason,
        .new_due = new_due,
        .rating_link = rating,
    };

    mc_notice_try_t tries[3];
    char errors[3][256];
    size_t n_tries = 0;
    char wanted[64] = "spool";
    notify_message_t msg;
    memset(&msg, 0, sizeof msg);
    if (!d) {
        tries[n_tries++] = (mc_notice_try_t){"spool", false, "dossier payload unreadable"};
    } else if (notify_render(n->templates, m->kind, &v, &msg) != 0) {
        tries[n_tries++] = (mc_notice_try_t){"spool", false, "no template for this kind"};
    } else {
        bool sms = notify_sms_enabled(n->channels) && to.phone[0];
        bool email = notify_email_enabled(n->channels) && to.email[0];
        snprintf(wanted, sizeof wanted, "spool%s%s", sms ? ",sms" : "", email ? ",email" : "");
        static const char *const names[3] = {"spool", "sms", "email"};
        bool use[3] = {true, sms, email};
        for (int c = 0; c < 3; c++) {
            if (!use[c])
                continue;
            /* a channel that already took this message in an earlier attempt is
             * not asked again: a retry for a failed e-mail resends no SMS.
             * The spool is rewritten anyway (idempotent by file name) only if
             * it had failed before. */
            char pattern[72];
            snprintf(pattern, sizeof pattern, ",%s,", names[c]);
            char have[72];
            snprintf(have, sizeof have, ",%s,", m->done_channels);
            if (strstr(have, pattern))
                continue;
            int rc;
            errors[n_tries][0] = '\0';
            if (c == 0)
                rc = notify_spool_write(n->channels, m->id, m->kind, m->code, &to, &msg,
                                        errors[n_tries], sizeof errors[n_tries]);
            else if (c == 1)
                rc = notify_sms_send(n->channels, &to, &msg, errors[n_tries],
                                     sizeof errors[n_tries]);
            else
                rc = notify_email_send(n->channels, m->id, &to, &msg, errors[n_tries],
                                       sizeof errors[n_tries]);
            tries[n_tries] = (mc_notice_try_t){names[c], rc == 0, rc == 0 ? NULL : errors[n_tries]};
            n_tries++;
        }
    }
    notify_message_clear(&msg);
    if (d)
        motcua__v1__dossier__free_unpacked(d, NULL);

    mc_notice_policy_t policy = {n->cfg->notify.retry_initial_ms, n->cfg->notify.retry_max_ms,
                                 n->cfg->notify.max_attempts};
    mc_notice_outcome_t outcome = MC_NOTICE_RETRY;
    int delay_ms = 0;
    mc_store_rc_t rc = mc_store_notify_record(n->store, m, tries, n_tries, wanted, &policy,
                                              &outcome, &delay_ms, err);
    if (rc != MC_STORE_OK)
        return rc;
    char q[300];
    for (size_t i = 0; i < n_tries; i++)
        if (!tries[i].ok)
            mc_log(MC_LOG_WARNING, "channel_failed", "id=%" PRId64 " code=%s kind=%s channel=%s error=%s",
                   m->id, m->code, m->kind, tries[i].channel, quoted(tries[i].error, q, sizeof q));
    if (outcome == MC_NOTICE_SENT)
        mc_log(MC_LOG_INFO, "notification_sent", "id=%" PRId64 " code=%s kind=%s channels=%s attempt=%d",
               m->id, m->code, m->kind, wanted, m->attempts + 1);
    else if (outcome == MC_NOTICE_FAILED)
        mc_log(MC_LOG_ERR, "notification_failed", "id=%" PRId64 " code=%s kind=%s attempts=%d",
               m->id, m->code, m->kind, m->attempts + 1);
    else
        mc_log(MC_LOG_NOTICE, "notification_retry", "id=%" PRId64 " code=%s kind=%s attempt=%d delay_ms=%d",
               m->id, m->code, m->kind, m->attempts + 1, delay_ms);
    return MC_STORE_OK;
}

/* work_once - one transaction: claim, send, record, commit. Returns the
 * number of notifications handled, 0 when none was due, -1 on a store failure */
static int work_once(notify_t *n)
{
    mc_err_t err;
    mc_err_clear(&err);
    mc_notice_t notices[NOTIFY_BATCH];
    int count = 0;
    mc_store_rc_t rc = mc_store_notify_claim(n->store, NOTIFY_BATCH, notices, &count, &err);
    bool ok = rc == MC_STORE_OK;
    int handled = 0;
    for (int i = 0; ok && i < count; i++) {
        if (process(n, &notices[i], &err) != MC_STORE_OK)
            ok = false;
        else
            handled++;
    }
    if (rc == MC_STORE_OK) {
        mc_store_rc_t end = mc_store_notify_end(n->store, ok, &err);
        if (ok && end != MC_STORE_OK)
            ok = false;
    }
    for (int i = 0; i < count; i++)
        mc_notice_clear(&notices[i]);
    if (!ok) {
        char line[300], q[340];
        if (!n->store_down)
            mc_log(MC_LOG_WARNING, "store_unavailable", "error=%s",
                   quoted(mc_err_first(&err, line, sizeof line), q, sizeof q));
        n->store_down = true;
        return -1;
    }
    if (n->store_down)
        mc_log(MC_LOG_NOTICE, "store_available", "what=reconnected");
    n->store_down = false;
    return handled;
}

/* drain_events - read every waiting event; they only mean "look now" */
static void drain_events(notify_t *n)
{
    for (int i = 0; i < NOTIFY_SUBS; i++) {
        char buf[EVENT_MAX_BYTES];
        while (zmq_recv(n->subs[i], buf, sizeof buf, ZMQ_DONTWAIT) >= 0) {
        }
    }
}

/* notify_run - the loop */
int notify_run(notify_t *n, int stop_fd)
{
    while (!check_stop(n, stop_fd)) {
        /* work until nothing is due, checking for SIGTERM between messages */
        int r;
        while ((r = work_once(n)) > 0 && !check_stop(n, stop_fd)) {
        }
        if (n->stopping)
            break;
        zmq_pollitem_t items[NOTIFY_SUBS + 1];
        for (int i = 0; i < NOTIFY_SUBS; i++)
            items[i] = (zmq_pollitem_t){n->subs[i], 0, ZMQ_POLLIN, 0};
        items[NOTIFY_SUBS] = (zmq_pollitem_t){NULL, stop_fd, ZMQ_POLLIN, 0};
        if (zmq_poll(items, NOTIFY_SUBS + 1, n->cfg->notify.poll_ms) < 0 && errno != EINTR) {
            mc_log(MC_LOG_ERR, "poll_failed", "error=%s", zmq_strerror(errno));
            return -1;
        }
        drain_events(n);
    }
    return 0;
}
