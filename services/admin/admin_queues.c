/*
 * admin_queues - `motcua-admin queues`: the pipeline's backlog per stage and per
 * agency, with the age of the oldest item, and the hub's view of every
 * agency session; `--idle` answers "is anything still in flight?" with the
 * exit status, for scripts and the chaos test that wait for a drain.
 *
 * Contract: reads the store (mc_store_queues), changes nothing; what "in
 * flight" means is in common/store/mc_store_queues.h. Exit statuses: 0 shown
 * (with --idle: nothing in flight), 1 something in flight (--idle) or a
 * store failure, 3 PostgreSQL unreachable (retry later), 64 bad command
 * line, 78 configuration.
 *
 * Also `motcua-admin notifications failed|retry`: the notifications notify
 * gave up on, listed without personal data and put back to pending (the
 * dead letters' `deadletters`/`requeue` for notices); and the helpers
 * admin_stats.c shares (labels, rows, opening the store, formats).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "mc_calendar.h"
#include "mc_report.h"
#include "mc_store_queues.h"

static const char queues_usage[] =
    "usage: motcua-admin [-c FILE] queues [--json] [--idle]\n"
    "  The pipeline's backlog: dossiers not yet routed, agency cases by agency and\n"
    "  state, notifications not yet sent by channel, each with its oldest item's age;\n"
    "  and the lienthong hub's agency sessions (connected, ready, credit, leases).\n"
    "  --idle   print one line and exit 0 when nothing is in flight, 1 otherwise\n"
    "  --json   one JSON object instead of the table\n";

/* admin_stage_label - the stage in Vietnamese */
const char *admin_stage_label(mc_queue_stage_t stage)
{
    switch (stage) {
    case MC_QUEUE_DOSSIER: return "Hồ sơ";
    case MC_QUEUE_CASE: return "Liên thông";
    case MC_QUEUE_NOTIFICATION: return "Thông báo";
    }
    return "?";
}

/* admin_state_label - what the items wait for, in Vietnamese */
const char *admin_state_label(mc_queue_state_t state)
{
    static const char *const labels[MC_QUEUE_STATES] = {
        "chưa phân công", "chờ bổ sung", "chờ gửi", "đã gửi, chờ xác nhận",
        "đang xử lý (đã nhận)", "tạm dừng chờ bổ sung", "thư chết", "chờ gửi",
        "chờ gửi lại", "đang gửi", "gửi thất bại", "chờ tiếp nhận"};
    return (int)state >= 0 && state < MC_QUEUE_STATES ? labels[state] : "?";
}

/* admin_age_text - "45 giây", "12 phút", "3 giờ", "2 ngày" */
const char *admin_age_text(int64_t s, char *buf, size_t size)
{
    if (s < 0)
        snprintf(buf, size, "–");
    else if (s < 120)
        snprintf(buf, size, "%lld giây", (long long)s);
    else if (s < 7200)
        snprintf(buf, size, "%lld phút", (long long)(s / 60));
    else if (s < 2 * 86400)
        snprintf(buf, size, "%lld giờ", (long long)(s / 3600));
    else
        snprintf(buf, size, "%lld ngày", (long long)(s / 86400));
    return buf;
}

/* lease_text - "còn 1,2 s", "hết hạn 0,4 s", "–" */
static const char *lease_text(const mc_queue_session_t *s, char *buf, size_t size)
{
    if (!s->has_lease)
        snprintf(buf, size, "–");
    else if (s->lease_left_ms >= 0)
        snprintf(buf, size, "còn %lld,%lld s", (long long)(s->lease_left_ms / 1000),
                 (long long)(s->lease_left_ms % 1000 / 100));
    else
        snprintf(buf, size, "hết hạn %lld,%lld s", (long long)(-s->lease_left_ms / 1000),
                 (long long)(-s->lease_left_ms % 1000 / 100));
    return buf;
}

/* admin_put_row - cells padded to widths (characters), those from right_from on right-aligned */
void admin_put_row(FILE *out, const char *const *cells, const size_t *widths, int n, int right_from)
{
    for (int i = 0; i < n; i++) {
        mc_report_put_padded(out, cells[i], widths[i], i >= right_from);
        fputc(i + 1 < n ? ' ' : '\n', out);
    }
}

/* admin_open_store - the configuration, then a store as program's database role (MC_CLI_READER
 * for reads, NULL for the configured identity); an exit status */
int admin_open_store(mc_cli_ctx_t *ctx, const char *program, mc_store_t **store)
{
    mc_cfg_t *cfg = NULL;
    int status = program ? mc_cli_load_config_as(ctx, program, &cfg) : mc_cli_load_config(ctx, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    *store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms);
    mc_store_set_tcp(*store, &cfg->db_tcp);
    mc_cfg_destroy(&cfg);
    return *store ? MC_CLI_EX_OK : MC_CLI_EX_FAIL;
}

/* admin_store_failed - print a store failure; the exit status (3 when PostgreSQL is away) */
int admin_store_failed(mc_cli_ctx_t *ctx, mc_store_rc_t rc, const mc_err_t *err)
{
    mc_cli_print_err(ctx, err);
    return rc == MC_STORE_UNAVAILABLE ? MC_CLI_EX_RETRY : MC_CLI_EX_FAIL;
}

/* print_table - the backlog and the sessions for people */
static void print_table(const mc_queues_t *q)
{
    char when[32];
    time_t t = (time_t)q->taken_at;
    struct tm tm;
    strftime(when, sizeof when, "%H:%M:%S %d/%m/%Y", localtime_r(&t, &tm));
    printf("Tồn đọng trong hệ thống lúc %s\n\n", when);
    static const size_t w[5] = {12, 22, 22, 9, 10};
    if (q->n_lines == 0) {
        printf("Không còn hồ sơ, bước liên thông hay thông báo nào chờ xử lý.\n");
    } else {
        const char *head[5] = {"CÔNG ĐOẠN", "NƠI GIỮ", "TRẠNG THÁI", "SỐ LƯỢNG", "CŨ NHẤT"};
        admin_put_row(stdout, head, w, 5, 3);
        for (size_t i = 0; i < q->n_lines; i++) {
            const mc_queue_line_t *l = &q->lines[i];
            char num[32], age[32];
            const char *cells[5] = {admin_stage_label(l->stage),
                                    l->stage == MC_QUEUE_DOSSIER ? "router" : l->holder,
                                    admin_state_label(l->state),
                                    mc_report_number(l->count, num, sizeof num),
                                    admin_age_text(l->oldest_age_s, age, sizeof age)};
            admin_put_row(stdout, cells, w, 5, 3);
        }
    }
    if (q->has_sessions) {
        printf("\nPhiên kết nối của các cơ quan (motcua-lienthong):\n");
        static const size_t sw[7] = {22, 10, 8, 8, 8, 8, 16};
        const char *head[7] = {"CƠ QUAN", "PHIÊN", "KẾT NỐI", "SẴN SÀNG", "CREDIT", "ĐANG GIỮ",
                               "HẠN THUÊ"};
        if (q->n_sessions == 0)
            printf("(chưa có phiên nào)\n");
        else
            admin_put_row(stdout, head, sw, 7, 4);
        for (size_t i = 0; i < q->n_sessions; i++) {
            const mc_queue_session_t *s = &q->sessions[i];
            char credit[24], held[24], lease[48], sess[16];
            snprintf(sess, sizeof sess, "%.8s", s->session);
            snprintf(credit, sizeof credit, "%ld", s->credit);
            snprintf(held, sizeof held, "%ld", s->in_flight);
            const char *cells[7] = {s->agency, sess, s->connected ? "có" : "không",
                                    s->ready ? "có" : "không", credit, held,
                                    lease_text(s, lease, sizeof lease)};
            admin_put_row(stdout, cells, sw, 7, 4);
        }
    }
    if (q->in_flight == 0)
        printf("\nKhông còn việc đang chạy (idle).\n");
    else
        printf("\nĐang chạy: %ld mục.\n", q->in_flight);
}

/* print_json - the same as one JSON object */
static void print_json(const mc_queues_t *q)
{
    printf("{\"taken_at\":%lld,\"in_flight\":%ld,\"idle\":%s,\"lines\":[", (long long)q->taken_at,
           q->in_flight, q->in_flight == 0 ? "true" : "false");
    for (size_t i = 0; i < q->n_lines; i++) {
        const mc_queue_line_t *l = &q->lines[i];
        printf("%s{\"stage\":\"%s\",\"holder\":", i ? "," : "", mc_queue_stage_name(l->stage));
        mc_cli_json_string(stdout, l->holder);
        printf(",\"state\":\"%s\",\"count\":%ld,\"oldest_age_s\":%lld,\"in_flight\":%s}",
               mc_queue_state_name(l->state), l->count, (long long)l->oldest_age_s,
               l->in_flight ? "true" : "false");
    }
    printf("],\"sessions\":");
    if (!q->has_sessions) {
        printf("null}\n");
        return;
    }
    printf("[");
    for (size_t i = 0; i < q->n_sessions; i++) {
        const mc_queue_session_t *s = &q->sessions[i];
        printf("%s{\"agency\":", i ? "," : "");
        mc_cli_json_string(stdout, s->agency);
        printf(",\"session\":");
        mc_cli_json_string(stdout, s->session);
        printf(",\"hub_epoch\":%lld,\"connected\":%s,\"ready\":%s,\"credit\":%ld,"
               "\"in_flight\":%ld,\"seen_age_s\":%lld,\"lease_left_ms\":",
               (long long)s->hub_epoch, s->connected ? "true" : "false",
               s->ready ? "true" : "false", s->credit, s->in_flight, (long long)s->seen_age_s);
        if (s->has_lease)
            printf("%lld}", (long long)s->lease_left_ms);
        else
            printf("null}");
    }
    printf("]}\n");
}

/* admin_queues - `motcua-admin queues [--json] [--idle]` */
int admin_queues(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    bool json = false, idle = false;
    const char *args[1];
    int n_args = 0;
    /* --idle is a flag: take it out before the shared loop sees it */
    char *rest[64];
    int n_rest = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--idle") == 0)
            idle = true;
        else if (n_rest < 64)
            rest[n_rest++] = argv[i];
        else
            return mc_cli_usage_error(ctx, queues_usage, "queues: too many arguments");
    }
    int parsed = mc_cli_parse_args(ctx, n_rest, rest, "queues", queues_usage, &json, args, 0, &n_args);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;

    mc_store_t *store = NULL;
    int status = admin_open_store(ctx, MC_CLI_READER, &store);
    if (status != MC_CLI_EX_OK)
        return status;
    mc_queues_t *q = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_queues(store, &q, &err);
    mc_store_destroy(&store);
    if (rc != MC_STORE_OK)
        return admin_store_failed(ctx, rc, &err);
    if (idle && json)
        printf("{\"idle\":%s,\"in_flight\":%ld}\n", q->in_flight == 0 ? "true" : "false",
               q->in_flight);
    else if (idle && q->in_flight == 0)
        printf("idle\n");
    else if (idle)
        printf("in_flight=%ld\n", q->in_flight);
    else if (json)
        print_json(q);
    else
        print_table(q);
    status = idle && q->in_flight > 0 ? MC_CLI_EX_FAIL : MC_CLI_EX_OK;
    mc_queues_destroy(&q);
    return status;
}

/* --- notifications failed for good ------------------------------------------ */

static const char notifications_usage[] =
    "usage: motcua-admin [-c FILE] notifications failed [--channel C] [--format table|json]\n"
    "       motcua-admin [-c FILE] notifications retry ID... | --all-failed\n"
    "  failed  the notifications notify gave up on (notify.max_attempts tries): ID,\n"
    "          dossier code, kind, channel of the last try, attempts, the class of\n"
    "          the last error, when; never a phone number, e-mail address or name\n"
    "  retry   put them back to pending with attempts 0 (notify sends them again);\n"
    "          one that is no longer failed is left alone and said so (a repeated\n"
    "          retry changes nothing)\n"
    "exit: 0 done, 1 failed, 2 retry: an ID that is no notification, 3 PostgreSQL\n"
    "      unreachable, 64 usage, 78 bad configuration\n";

#define ADMIN_MAX_RETRY_IDS 256 /* IDs one `notifications retry` takes */

/* admin_parse_format - text among names[0..n) into *format; else a usage error (64) */
int admin_parse_format(mc_cli_ctx_t *ctx, const char *usage, const char *cmd, const char *text,
                       const char *const *names, int n, int *format)
{
    for (int i = 0; i < n; i++)
        if (strcmp(text, names[i]) == 0) {
            *format = i;
            return MC_CLI_EX_OK;
        }
    return mc_cli_usage_error(ctx, usage, "%s: unknown format '%s' (table, json%s)", cmd, text,
                              n > 2 ? " or prometheus" : "");
}

/* print_failed - the failed list as a table or JSON */
static void print_failed(const mc_failed_notice_t *list, size_t n, bool json)
{
    if (json) {
        printf("{\"count\":%zu,\"failed\":[", n);
        for (size_t i = 0; i < n; i++) {
            printf("%s{\"id\":%lld,\"dossier_code\":", i ? "," : "", (long long)list[i].id);
            mc_cli_json_string(stdout, list[i].dossier_code);
            printf(",\"kind\":");
            mc_cli_json_string(stdout, list[i].kind);
            printf(",\"channel\":");
            mc_cli_json_string(stdout, list[i].channel);
            printf(",\"attempts\":%d,\"error_class\":", list[i].attempts);
            mc_cli_json_string(stdout, list[i].error_class);
            char iso[40];
            printf(",\"failed_at\":\"%s\"}", mc_format_iso(list[i].failed_at, iso, sizeof iso));
        }
        printf("]}\n");
        return;
    }
    if (n == 0) {
        printf("Không có thông báo nào gửi thất bại (no failed notifications).\n");
        return;
    }
    static const size_t w[7] = {8, 24, 20, 8, 6, 30, 25};
    const char *head[7] = {"ID", "MÃ HỒ SƠ", "LOẠI", "KÊNH", "LẦN", "LỖI", "LÚC"};
    admin_put_row(stdout, head, w, 7, 7);
    for (size_t i = 0; i < n; i++) {
        char id[24], tries[16], iso[40];
        snprintf(id, sizeof id, "%lld", (long long)list[i].id);
        snprintf(tries, sizeof tries, "%d", list[i].attempts);
        const char *cells[7] = {id, list[i].dossier_code, list[i].kind, list[i].channel, tries,
                                list[i].error_class, mc_format_iso(list[i].failed_at, iso, sizeof iso)};
        admin_put_row(stdout, cells, w, 7, 7);
    }
    printf("%zu thông báo gửi thất bại; `motcua notifications retry ID` gửi lại.\n", n);
}

/* notifications_failed - `notifications failed [--channel C] [--format table|json]` */
static int notifications_failed(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *channel = "", *format_text = "table";
    bool json = false;
    const mc_cli_opt_t opts[] = {{"--channel", &channel, 0}, {"--format", &format_text, 0}};
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "notifications failed", notifications_usage,
                                   opts, 2, &json, NULL);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    static const char *const formats[] = {"table", "json"};
    int format = 0;
    int status = admin_parse_format(ctx, notifications_usage, "notifications failed", format_text,
                                    formats, 2, &format);
    if (status != MC_CLI_EX_OK)
        return status;
    mc_store_t *store = NULL;
    if ((status = admin_open_store(ctx, MC_CLI_READER, &store)) != MC_CLI_EX_OK)
        return status;
    mc_failed_notice_t *list = NULL;
    size_t n = 0;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_notifications_failed(store, channel, 10000, &list, &n, &err);
    mc_store_destroy(&store);
    if (rc != MC_STORE_OK)
        return admin_store_failed(ctx, rc, &err);
    print_failed(list, n, json || format == 1);
    free(list);
    return MC_CLI_EX_OK;
}

/* notifications_retry - `notifications retry ID... | --all-failed` */
static int notifications_retry(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    bool all = false;
    char *rest[ADMIN_MAX_RETRY_IDS + 8];
    int n_rest = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--all-failed") == 0)
            all = true;
        else if (n_rest < ADMIN_MAX_RETRY_IDS + 8)
            rest[n_rest++] = argv[i];
        else
            return mc_cli_usage_error(ctx, notifications_usage, "notifications retry: at most %d IDs",
                                      ADMIN_MAX_RETRY_IDS);
    }
    const char *args[ADMIN_MAX_RETRY_IDS];
    int n_args = 0;
    int parsed = mc_cli_parse_args(ctx, n_rest, rest, "notifications retry", notifications_usage,
                                   NULL, args, ADMIN_MAX_RETRY_IDS, &n_args);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (all == (n_args > 0))
        return mc_cli_usage_error(ctx, notifications_usage,
                                  "notifications retry: give notification IDs or --all-failed");
    int64_t ids[ADMIN_MAX_RETRY_IDS];
    for (int i = 0; i < n_args; i++) {
        char *end = NULL;
        long long v = strtoll(args[i], &end, 10);
        if (!*args[i] || *end || v <= 0)
            return mc_cli_usage_error(ctx, notifications_usage,
                                      "notifications retry: '%s' is not a notification ID", args[i]);
        ids[i] = v;
    }
    mc_store_t *store = NULL;
    int status = admin_open_store(ctx, NULL, &store);
    if (status != MC_CLI_EX_OK)
        return status;
    mc_failed_retry_t *done = NULL;
    size_t n = 0;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_notifications_retry(store, ids, (size_t)n_args, all, &done, &n, &err);
    mc_store_destroy(&store);
    if (rc != MC_STORE_OK)
        return admin_store_failed(ctx, rc, &err);
    for (size_t i = 0; i < n; i++) {
        if (done[i].outcome == MC_RETRY_REQUEUED) {
            printf("notification %lld: requeued (chờ gửi lại, attempts 0)\n", (long long)done[i].id);
        } else if (done[i].outcome == MC_RETRY_NOT_FAILED) {
            printf("notification %lld: not failed (đã chờ gửi hoặc đã gửi): nothing to do\n",
                   (long long)done[i].id);
        } else {
            fprintf(stderr, "%s: notifications retry: %lld: không có thông báo này (no such notification)\n",
                    ctx->progname, (long long)done[i].id);
            status = MC_CLI_EX_REJECTED;
        }
    }
    if (all)
        printf("%zu notification(s) requeued\n", n);
    free(done);
    return status;
}

/* admin_notifications - `motcua-admin notifications failed|retry ...` */
int admin_notifications(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "failed") == 0)
        return notifications_failed(ctx, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "retry") == 0)
        return notifications_retry(ctx, argc - 1, argv + 1);
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        fputs(notifications_usage, stdout);
        return MC_CLI_EX_OK;
    }
    return mc_cli_usage_error(ctx, notifications_usage, "notifications: say failed or retry");
}
