/*
 * admin_stats - `motcua-admin stats [--format table|json|prometheus]
 * [--output FILE]`: the figures an operator watches, from one snapshot of
 * the store (mc_store_stats): dossiers by state; the backlog per stage, per
 * agency and per notification channel with the oldest item's age and the
 * items by age (Postfix qshape's buckets: 0-1m, 1-5m, 5-10m, 10-30m,
 * 30-60m, 1-4h, >4h); dead letters; receipts and results per minute.
 *
 * Contract: reads the store, changes nothing. The Prometheus text follows
 * the text exposition format 0.0.4: every metric is a gauge named motcua_*
 * with its HELP and TYPE lines, label values escaped (\\, \", \n); names and
 * labels are listed in docs/operations.md ("Monitoring"). --output FILE
 * writes FILE atomically (a temp file in the same directory, fsync, rename,
 * mode 0644), so the node exporter's textfile collector never reads half a
 * file. Exit statuses: 0 written, 1 store or file failure, 3 PostgreSQL
 * unreachable, 64 bad command line, 78 configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "mc_report.h"
#include "mc_states.h"
#include "mc_store_stats.h"

static const char stats_usage[] =
    "usage: motcua-admin [-c FILE] stats [--format table|json|prometheus] [--output FILE]\n"
    "  What the pipeline holds, from one snapshot of the database: dossiers by\n"
    "  state; the backlog per stage, per agency (waiting to be sent, sent, waiting\n"
    "  for the result, dead letters) and per notification channel, each with the\n"
    "  age of its oldest item and its items by age (0-1m 1-5m 5-10m 10-30m 30-60m\n"
    "  1-4h >4h); receipts and results in the last minute and the last 15 minutes.\n"
    "  --format prometheus   the Prometheus text format (metrics motcua_*)\n"
    "  --output FILE         write FILE atomically (temp file + rename), e.g.\n"
    "                        /var/lib/prometheus/node-exporter/motcua.prom\n"
    "exit: 0 written, 1 failed, 3 PostgreSQL unreachable, 64 usage, 78 bad configuration\n";

/* the output formats, in the order of their names */
typedef enum stats_format {
    STATS_TABLE = 0,  /* for people */
    STATS_JSON,       /* one JSON object */
    STATS_PROMETHEUS, /* Prometheus text exposition */
} stats_format_t;

/* the backlog summed over holders: one per (stage, state) */
typedef struct stats_sum {
    char             name[64];                     /* agency or channel ("" for stage sums) */
    mc_queue_stage_t stage;                        /* stage (stage sums) */
    mc_queue_state_t state;                        /* state (stage sums) */
    long             count;                        /* items */
    long             cases[MC_QUEUE_STATES];       /* per state (agency and channel sums) */
    int64_t          oldest_age_s;                 /* oldest item, seconds (-1: none) */
    long             by_age[MC_QUEUE_AGE_BUCKETS]; /* items per age bucket */
} stats_sum_t;

/* the sums of one snapshot */
typedef struct stats_view {
    const mc_stats_t *s;        /* the figures */
    stats_sum_t      *stages;   /* per (stage, state), in the lines' order */
    size_t            n_stages; /* entries in stages */
    stats_sum_t      *agencies; /* per agency: queued, sent, acked (the backlog), dead, paused */
    size_t            n_agencies; /* entries in agencies */
    stats_sum_t      *channels; /* per notification channel */
    size_t            n_channels; /* entries in channels */
} stats_view_t;

/* dossier_state_name - stable name of a dossier.state (JSON and Prometheus) */
static const char *dossier_state_name(int state)
{
    static const char *const names[MC_STATS_DOSSIER_STATES] = {
        [MC_DOSSIER_RECEIVED] = "received",
        [MC_DOSSIER_ROUTED] = "routed",
        [MC_DOSSIER_IN_PROGRESS] = "in_progress",
        [MC_DOSSIER_WAITING_SUPPLEMENT] = "waiting_supplement",
        [MC_DOSSIER_RESULT_READY] = "result_ready",
        [MC_DOSSIER_DELIVERED] = "delivered",
        [MC_DOSSIER_WITHDRAWN] = "withdrawn",
        [MC_DOSSIER_REFUSED] = "refused",
        [MC_DOSSIER_PENDING_ACCEPTANCE] = "pending_acceptance",
        [MC_DOSSIER_RETURNED] = "returned"};
    return state > 0 && state < MC_STATS_DOSSIER_STATES && names[state] ? names[state] : NULL;
}

/* dossier_state_label - a dossier.state in Vietnamese (the table) */
static const char *dossier_state_label(int state)
{
    static const char *const labels[MC_STATS_DOSSIER_STATES] = {
        [MC_DOSSIER_RECEIVED] = "đã tiếp nhận",
        [MC_DOSSIER_ROUTED] = "đã phân công",
        [MC_DOSSIER_IN_PROGRESS] = "đang giải quyết",
        [MC_DOSSIER_WAITING_SUPPLEMENT] = "chờ bổ sung",
        [MC_DOSSIER_RESULT_READY] = "có kết quả",
        [MC_DOSSIER_DELIVERED] = "đã trả kết quả",
        [MC_DOSSIER_WITHDRAWN] = "đã rút",
        [MC_DOSSIER_REFUSED] = "từ chối",
        [MC_DOSSIER_PENDING_ACCEPTANCE] = "chờ tiếp nhận",
        [MC_DOSSIER_RETURNED] = "trả lại"};
    return labels[state] ? labels[state] : "?";
}

/* is_backlog - a case state an agency's backlog counts: queued, sent, acked */
static bool is_backlog(mc_queue_state_t state)
{
    return state == MC_QUEUE_QUEUED || state == MC_QUEUE_SENT || state == MC_QUEUE_ACKED;
}

/* sum_find - the entry of sums for (name, stage, state), added when new */
static stats_sum_t *sum_find(stats_sum_t *sums, size_t *n, const char *name,
                             mc_queue_stage_t stage, mc_queue_state_t state)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(sums[i].name, name) == 0 && sums[i].stage == stage && sums[i].state == state)
            return &sums[i];
    stats_sum_t *e = &sums[(*n)++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->stage = stage;
    e->state = state;
    e->oldest_age_s = -1;
    return e;
}

/* sum_add - line l into e (count, oldest, buckets; per state when by_state) */
static void sum_add(stats_sum_t *e, const mc_queue_line_t *l, bool ages)
{
    e->cases[l->state] += l->count;
    if (!ages)
        return;
    e->count += l->count;
    if (l->oldest_age_s > e->oldest_age_s)
        e->oldest_age_s = l->oldest_age_s;
    for (int b = 0; b < MC_QUEUE_AGE_BUCKETS; b++)
        e->by_age[b] += l->by_age[b];
}

/* view_build - the sums of s into v; -1 when out of memory */
static int view_build(const mc_stats_t *s, stats_view_t *v)
{
    size_t n = s->queues.n_lines ? s->queues.n_lines : 1;
    *v = (stats_view_t){.s = s};
    v->stages = calloc(n, sizeof *v->stages);
    v->agencies = calloc(n, sizeof *v->agencies);
    v->channels = calloc(n, sizeof *v->channels);
    if (!v->stages || !v->agencies || !v->channels)
        return -1;
    for (size_t i = 0; i < s->queues.n_lines; i++) {
        const mc_queue_line_t *l = &s->queues.lines[i];
        sum_add(sum_find(v->stages, &v->n_stages, "", l->stage, l->state), l, true);
        if (l->stage == MC_QUEUE_CASE)
            sum_add(sum_find(v->agencies, &v->n_agencies, l->holder, l->stage, MC_QUEUE_STATES), l,
                    is_backlog(l->state));
        else if (l->stage == MC_QUEUE_NOTIFICATION)
            sum_add(sum_find(v->channels, &v->n_channels, l->holder, l->stage, MC_QUEUE_STATES), l,
                    l->state != MC_QUEUE_FAILED);
    }
    return 0;
}

/* view_free - the sums' memory */
static void view_free(stats_view_t *v)
{
    free(v->stages);
    free(v->agencies);
    free(v->channels);
}

/* notes_pending - a channel's notifications still to send (not failed) */
static long notes_pending(const stats_sum_t *c)
{
    return c->cases[MC_QUEUE_PENDING] + c->cases[MC_QUEUE_RETRYING] + c->cases[MC_QUEUE_SENDING];
}

/* --- table ----------------------------------------------------------------- */

/* put_ages - the age cells of a row (MC_QUEUE_AGE_BUCKETS of them) into cells */
static void put_ages(const long *by_age, char (*num)[16], const char **cells)
{
    for (int b = 0; b < MC_QUEUE_AGE_BUCKETS; b++) {
        snprintf(num[b], sizeof num[b], "%ld", by_age[b]);
        cells[b] = num[b];
    }
}

/* print_table - the figures for people */
static void print_table(FILE *out, const stats_view_t *v)
{
    const mc_stats_t *s = v->s;
    char when[32], num[32], age[32];
    time_t t = (time_t)s->queues.taken_at;
    struct tm tm;
    strftime(when, sizeof when, "%H:%M:%S %d/%m/%Y", localtime_r(&t, &tm));
    fprintf(out, "Số liệu lúc %s\n\nHồ sơ theo trạng thái:\n", when);
    static const size_t dw[3] = {20, 18, 10};
    for (int st = 1; st < MC_STATS_DOSSIER_STATES; st++)
        if (dossier_state_name(st)) {
            const char *cells[3] = {dossier_state_name(st), dossier_state_label(st),
                                    mc_report_number(s->dossiers[st], num, sizeof num)};
            fputs("  ", out);
            admin_put_row(out, cells, dw, 3, 2);
        }
    fprintf(out, "\nTiếp nhận: %ld trong phút qua, %ld trong 15 phút qua (%.1f/phút)\n",
            s->receipts_1m, s->receipts_15m, s->receipts_15m / 15.0);
    fprintf(out, "Có kết quả: %ld trong phút qua, %ld trong 15 phút qua (%.1f/phút)\n",
            s->results_1m, s->results_15m, s->results_15m / 15.0);

    enum { NA = MC_QUEUE_AGE_BUCKETS };
    static const size_t w[4 + NA] = {12, 22, 9, 10, 6, 6, 6, 6, 6, 6, 6};
    const char *head[4 + NA] = {"CÔNG ĐOẠN", "TRẠNG THÁI", "SỐ LƯỢNG", "CŨ NHẤT"};
    for (int b = 0; b < NA; b++)
        head[4 + b] = mc_queue_age_bucket_name(b);
    fprintf(out, "\nTồn đọng theo công đoạn (số mục theo tuổi, như qshape):\n");
    if (v->n_stages == 0)
        fprintf(out, "(không còn gì chờ xử lý)\n");
    else
        admin_put_row(out, head, w, 4 + NA, 2);
    for (size_t i = 0; i < v->n_stages; i++) {
        const stats_sum_t *e = &v->stages[i];
        char ages[NA][16];
        const char *cells[4 + NA] = {admin_stage_label(e->stage), admin_state_label(e->state),
                                     mc_report_number(e->count, num, sizeof num),
                                     admin_age_text(e->oldest_age_s, age, sizeof age)};
        put_ages(e->by_age, ages, cells + 4);
        admin_put_row(out, cells, w, 4 + NA, 2);
    }

    static const size_t aw[6 + NA] = {18, 8, 8, 11, 8, 10, 6, 6, 6, 6, 6, 6, 6};
    const char *ahead[6 + NA] = {"CƠ QUAN", "CHỜ GỬI", "ĐÃ GỬI", "CHỜ KẾT QUẢ", "THƯ CHẾT",
                                 "CŨ NHẤT"};
    for (int b = 0; b < NA; b++)
        ahead[6 + b] = mc_queue_age_bucket_name(b);
    fprintf(out, "\nTheo cơ quan (liên thông):\n");
    if (v->n_agencies == 0)
        fprintf(out, "(không có bước liên thông nào đang mở)\n");
    else
        admin_put_row(out, ahead, aw, 6 + NA, 1);
    for (size_t i = 0; i < v->n_agencies; i++) {
        const stats_sum_t *e = &v->agencies[i];
        char q[16], sent[16], acked[16], dead[16], ages[NA][16];
        snprintf(q, sizeof q, "%ld", e->cases[MC_QUEUE_QUEUED]);
        snprintf(sent, sizeof sent, "%ld", e->cases[MC_QUEUE_SENT]);
        snprintf(acked, sizeof acked, "%ld", e->cases[MC_QUEUE_ACKED]);
        snprintf(dead, sizeof dead, "%ld", e->cases[MC_QUEUE_DEAD]);
        const char *cells[6 + NA] = {e->name, q, sent, acked, dead,
                                     admin_age_text(e->oldest_age_s, age, sizeof age)};
        put_ages(e->by_age, ages, cells + 6);
        admin_put_row(out, cells, aw, 6 + NA, 1);
    }

    fprintf(out, "\nThông báo theo kênh:\n");
    if (v->n_channels == 0)
        fprintf(out, "(không có thông báo nào chờ gửi hay thất bại)\n");
    for (size_t i = 0; i < v->n_channels; i++)
        fprintf(out, "  %-12s chờ gửi %ld, thất bại %ld\n", v->channels[i].name,
                notes_pending(&v->channels[i]), v->channels[i].cases[MC_QUEUE_FAILED]);
    fprintf(out, "\nĐang chạy: %ld mục.\n", s->queues.in_flight);
}

/* --- JSON ------------------------------------------------------------------ */

/* json_ages - "by_age":{"0-1m":N,...} */
static void json_ages(FILE *out, const long *by_age)
{
    fprintf(out, "\"by_age\":{");
    for (int b = 0; b < MC_QUEUE_AGE_BUCKETS; b++)
        fprintf(out, "%s\"%s\":%ld", b ? "," : "", mc_queue_age_bucket_name(b), by_age[b]);
    fputc('}', out);
}

/* print_json - the same as one JSON object */
static void print_json(FILE *out, const stats_view_t *v)
{
    const mc_stats_t *s = v->s;
    fprintf(out, "{\"taken_at\":%lld,\"in_flight\":%ld,\"dossiers\":{", (long long)s->queues.taken_at,
            s->queues.in_flight);
    const char *sep = "";
    for (int st = 1; st < MC_STATS_DOSSIER_STATES; st++)
        if (dossier_state_name(st)) {
            fprintf(out, "%s\"%s\":%ld", sep, dossier_state_name(st), s->dossiers[st]);
            sep = ",";
        }
    fprintf(out, "},\"receipts\":{\"last_minute\":%ld,\"last_15_minutes\":%ld},"
                 "\"results\":{\"last_minute\":%ld,\"last_15_minutes\":%ld},\"stages\":[",
            s->receipts_1m, s->receipts_15m, s->results_1m, s->results_15m);
    for (size_t i = 0; i < v->n_stages; i++) {
        const stats_sum_t *e = &v->stages[i];
        fprintf(out, "%s{\"stage\":\"%s\",\"state\":\"%s\",\"count\":%ld,\"oldest_age_s\":%lld,",
                i ? "," : "", mc_queue_stage_name(e->stage), mc_queue_state_name(e->state), e->count,
                (long long)e->oldest_age_s);
        json_ages(out, e->by_age);
        fputc('}', out);
    }
    fprintf(out, "],\"agencies\":[");
    for (size_t i = 0; i < v->n_agencies; i++) {
        const stats_sum_t *e = &v->agencies[i];
        fprintf(out, "%s{\"agency\":", i ? "," : "");
        mc_cli_json_string(out, e->name);
        fprintf(out, ",\"backlog\":%ld,\"pending\":%ld,\"in_flight\":%ld,\"awaiting_result\":%ld,"
                     "\"dead_letters\":%ld,\"paused\":%ld,\"oldest_age_s\":%lld,",
                e->count, e->cases[MC_QUEUE_QUEUED], e->cases[MC_QUEUE_SENT],
                e->cases[MC_QUEUE_ACKED], e->cases[MC_QUEUE_DEAD], e->cases[MC_QUEUE_PAUSED],
                (long long)e->oldest_age_s);
        json_ages(out, e->by_age);
        fputc('}', out);
    }
    fprintf(out, "],\"notifications\":[");
    for (size_t i = 0; i < v->n_channels; i++) {
        fprintf(out, "%s{\"channel\":", i ? "," : "");
        mc_cli_json_string(out, v->channels[i].name);
        fprintf(out, ",\"pending\":%ld,\"failed\":%ld}", notes_pending(&v->channels[i]),
                v->channels[i].cases[MC_QUEUE_FAILED]);
    }
    fprintf(out, "]}\n");
}

/* --- Prometheus ------------------------------------------------------------ */

/* prom_head - a metric's HELP and TYPE lines (every metric here is a gauge) */
static void prom_head(FILE *out, const char *name, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* prom_value - a label value, escaped as the text format wants (\\, \", \n) */
static void prom_value(FILE *out, const char *text)
{
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '\\' || *p == '"')
            fputc('\\', out);
        if (*p == '\n')
            fputs("\\n", out);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* prom_sample - `name{k1="v1",k2="v2"} value`, labels (k, v pairs) up to n */
static void prom_sample(FILE *out, const char *name, const char *const *labels, int n, double value)
{
    fputs(name, out);
    for (int i = 0; i < n; i++) {
        fprintf(out, "%s%s=", i ? "," : "{", labels[2 * i]);
        prom_value(out, labels[2 * i + 1]);
    }
    fprintf(out, "%s %.15g\n", n ? "}" : "", value);
}

/* prom_ages - name{labels..., age="B"} for each bucket of by_age */
static void prom_ages(FILE *out, const char *name, const char **labels, int n, const long *by_age)
{
    for (int b = 0; b < MC_QUEUE_AGE_BUCKETS; b++) {
        labels[2 * n] = "age";
        labels[2 * n + 1] = mc_queue_age_bucket_name(b);
        prom_sample(out, name, labels, n + 1, (double)by_age[b]);
    }
}

/* print_prometheus - the text exposition format */
static void print_prometheus(FILE *out, const stats_view_t *v)
{
    const mc_stats_t *s = v->s;
    prom_head(out, "motcua_stats_taken_at_seconds", "When these figures were read (Unix time).");
    prom_sample(out, "motcua_stats_taken_at_seconds", NULL, 0, (double)s->queues.taken_at);
    prom_head(out, "motcua_dossiers", "Dossiers by state.");
    for (int st = 1; st < MC_STATS_DOSSIER_STATES; st++)
        if (dossier_state_name(st)) {
            const char *l[2] = {"state", dossier_state_name(st)};
            prom_sample(out, "motcua_dossiers", l, 1, (double)s->dossiers[st]);
        }
    prom_head(out, "motcua_in_flight", "Items some daemon still has to move (motcua queues --idle).");
    prom_sample(out, "motcua_in_flight", NULL, 0, (double)s->queues.in_flight);
    const char *const windows[2] = {"1m", "15m"};
    const double receipts[2] = {(double)s->receipts_1m, s->receipts_15m / 15.0};
    const double results[2] = {(double)s->results_1m, s->results_15m / 15.0};
    prom_head(out, "motcua_receipts_per_minute", "Dossiers received per minute, over the window.");
    for (int i = 0; i < 2; i++) {
        const char *l[2] = {"window", windows[i]};
        prom_sample(out, "motcua_receipts_per_minute", l, 1, receipts[i]);
    }
    prom_head(out, "motcua_results_per_minute", "Dossiers whose result came, per minute, over the window.");
    for (int i = 0; i < 2; i++) {
        const char *l[2] = {"window", windows[i]};
        prom_sample(out, "motcua_results_per_minute", l, 1, results[i]);
    }

    static const char *const stage_metrics[3][2] = {
        {"motcua_queue_items", "Backlog items by stage and state."},
        {"motcua_queue_oldest_age_seconds", "Age of the oldest backlog item by stage and state."},
        {"motcua_queue_items_by_age", "Backlog items by stage, state and age bucket (qshape)."}};
    for (int m = 0; m < 3; m++) {
        prom_head(out, stage_metrics[m][0], stage_metrics[m][1]);
        for (size_t i = 0; i < v->n_stages; i++) {
            const stats_sum_t *e = &v->stages[i];
            const char *l[6] = {"stage", mc_queue_stage_name(e->stage), "state",
                                mc_queue_state_name(e->state)};
            if (m == 2)
                prom_ages(out, stage_metrics[m][0], l, 2, e->by_age);
            else
                prom_sample(out, stage_metrics[m][0], l, 2,
                            (double)(m == 0 ? e->count : e->oldest_age_s));
        }
    }

    static const mc_queue_state_t case_states[5] = {MC_QUEUE_QUEUED, MC_QUEUE_SENT, MC_QUEUE_ACKED,
                                                    MC_QUEUE_DEAD, MC_QUEUE_PAUSED};
    static const char *const case_names[5] = {"pending", "in_flight", "awaiting_result", "dead",
                                              "paused"};
    prom_head(out, "motcua_agency_cases",
              "Agency cases by state: pending (queued), in_flight (sent, not acknowledged), "
              "awaiting_result (acknowledged), dead, paused.");
    for (size_t i = 0; i < v->n_agencies; i++)
        for (int k = 0; k < 5; k++) {
            const char *l[4] = {"agency", v->agencies[i].name, "state", case_names[k]};
            prom_sample(out, "motcua_agency_cases", l, 2,
                        (double)v->agencies[i].cases[case_states[k]]);
        }
    static const char *const agency_metrics[4][2] = {
        {"motcua_agency_backlog", "Agency cases pending, in flight or awaiting the result."},
        {"motcua_agency_oldest_age_seconds", "Age of the agency's oldest backlog case (-1: none)."},
        {"motcua_agency_backlog_by_age", "Agency backlog cases by age bucket (qshape)."},
        {"motcua_dead_letters", "Agency cases parked as dead letters (motcua deadletters)."}};
    for (int m = 0; m < 4; m++) {
        prom_head(out, agency_metrics[m][0], agency_metrics[m][1]);
        for (size_t i = 0; i < v->n_agencies; i++) {
            const stats_sum_t *e = &v->agencies[i];
            const char *l[4] = {"agency", e->name};
            if (m == 2)
                prom_ages(out, agency_metrics[m][0], l, 1, e->by_age);
            else
                prom_sample(out, agency_metrics[m][0], l, 1,
                            (double)(m == 0   ? e->count
                                     : m == 1 ? e->oldest_age_s
                                              : e->cases[MC_QUEUE_DEAD]));
        }
    }
    prom_head(out, "motcua_notifications",
              "Notifications not sent, by channel of the last failed try and state (pending, failed).");
    for (size_t i = 0; i < v->n_channels; i++) {
        const char *pending[4] = {"channel", v->channels[i].name, "state", "pending"};
        const char *failed[4] = {"channel", v->channels[i].name, "state", "failed"};
        prom_sample(out, "motcua_notifications", pending, 2, (double)notes_pending(&v->channels[i]));
        prom_sample(out, "motcua_notifications", failed, 2,
                    (double)v->channels[i].cases[MC_QUEUE_FAILED]);
    }
}

/* --- output ---------------------------------------------------------------- */

/* print_view - v in format to out */
static void print_view(FILE *out, const stats_view_t *v, stats_format_t format)
{
    if (format == STATS_JSON)
        print_json(out, v);
    else if (format == STATS_PROMETHEUS)
        print_prometheus(out, v);
    else
        print_table(out, v);
}

/* write_atomic - v in format to path: temp file beside it, fsync, rename; an exit status */
static int write_atomic(mc_cli_ctx_t *ctx, const char *path, const stats_view_t *v,
                        stats_format_t format)
{
    char tmp[4096];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof tmp) {
        fprintf(stderr, "%s: stats: --output: path too long\n", ctx->progname);
        return MC_CLI_EX_USAGE;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out) {
        fprintf(stderr, "%s: stats: %s: %s\n", ctx->progname, tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return MC_CLI_EX_FAIL;
    }
    fchmod(fd, 0644); /* the exporter's user reads it, whatever our umask */
    print_view(out, v, format);
    bool ok = fflush(out) == 0 && !ferror(out) && fsync(fd) == 0;
    int saved = errno;
    ok = fclose(out) == 0 && ok;
    if (ok && rename(tmp, path) == 0)
        return MC_CLI_EX_OK;
    fprintf(stderr, "%s: stats: %s: %s\n", ctx->progname, path, strerror(ok ? errno : saved));
    unlink(tmp);
    return MC_CLI_EX_FAIL;
}

/* admin_stats - `motcua-admin stats [--format table|json|prometheus] [--output FILE]` */
int admin_stats(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *format_text = "table", *output = NULL;
    bool json = false;
    const mc_cli_opt_t opts[] = {{"--format", &format_text, 0}, {"--output", &output, 'o'}};
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "stats", stats_usage, opts, 2, &json, NULL);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    static const char *const formats[] = {"table", "json", "prometheus"};
    int format = STATS_TABLE;
    int status = admin_parse_format(ctx, stats_usage, "stats", format_text, formats, 3, &format);
    if (status != MC_CLI_EX_OK)
        return status;
    if (json)
        format = STATS_JSON;
    if (output && !*output)
        return mc_cli_usage_error(ctx, stats_usage, "stats: --output needs a file name");

    mc_store_t *store = NULL;
    if ((status = admin_open_store(ctx, MC_CLI_READER, &store)) != MC_CLI_EX_OK)
        return status;
    mc_stats_t *s = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_stats(store, &s, &err);
    mc_store_destroy(&store);
    if (rc != MC_STORE_OK)
        return admin_store_failed(ctx, rc, &err);
    stats_view_t v;
    if (view_build(s, &v) != 0) {
        fprintf(stderr, "%s: stats: out of memory\n", ctx->progname);
        status = MC_CLI_EX_FAIL;
    } else if (output) {
        status = write_atomic(ctx, output, &v, (stats_format_t)format);
    } else {
        print_view(stdout, &v, (stats_format_t)format);
    }
    view_free(&v);
    mc_stats_destroy(&s);
    return status;
}
