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
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "mc_report.h"
#include "mc_store_queues.h"

static const char queues_usage[] =
    "usage: motcua-admin [-c FILE] queues [--json] [--idle]\n"
    "  The pipeline's backlog: dossiers not yet routed, agency cases by agency and\n"
    "  state, notifications not yet sent by channel, each with its oldest item's age;\n"
    "  and the lienthong hub's agency sessions (connected, ready, credit, leases).\n"
    "  --idle   print one line and exit 0 when nothing is in flight, 1 otherwise\n"
    "  --json   one JSON object instead of the table\n";

/* stage_label - the stage in Vietnamese */
static const char *stage_label(mc_queue_stage_t stage)
{
    switch (stage) {
    case MC_QUEUE_DOSSIER: return "Hồ sơ";
    case MC_QUEUE_CASE: return "Liên thông";
    case MC_QUEUE_NOTIFICATION: return "Thông báo";
    }
    return "?";
}

/* state_label - what the items wait for, in Vietnamese */
static const char *state_label(mc_queue_state_t state)
{
    static const char *const labels[MC_QUEUE_STATES] = {
        "chưa phân công", "chờ bổ sung", "chờ gửi", "đã gửi, chờ xác nhận",
        "đang xử lý (đã nhận)", "tạm dừng chờ bổ sung", "thư chết", "chờ gửi",
        "chờ gửi lại", "đang gửi", "gửi thất bại", "chờ tiếp nhận"};
    return (int)state >= 0 && state < MC_QUEUE_STATES ? labels[state] : "?";
}

/* age_text - "45 giây", "12 phút", "3 giờ", "2 ngày" */
static const char *age_text(int64_t s, char *buf, size_t size)
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

/* put_row - cells padded to widths (characters), those from right_from on right-aligned */
static void put_row(const char *const *cells, const size_t *widths, int n, int right_from)
{
    for (int i = 0; i < n; i++) {
        mc_report_put_padded(stdout, cells[i], widths[i], i >= right_from);
        putchar(i + 1 < n ? ' ' : '\n');
    }
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
        put_row(head, w, 5, 3);
        for (size_t i = 0; i < q->n_lines; i++) {
            const mc_queue_line_t *l = &q->lines[i];
            char num[32], age[32];
            const char *cells[5] = {stage_label(l->stage),
                                    l->stage == MC_QUEUE_DOSSIER ? "router" : l->holder,
                                    state_label(l->state),
                                    mc_report_number(l->count, num, sizeof num),
                                    age_text(l->oldest_age_s, age, sizeof age)};
            put_row(cells, w, 5, 3);
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
            put_row(head, sw, 7, 4);
        for (size_t i = 0; i < q->n_sessions; i++) {
            const mc_queue_session_t *s = &q->sessions[i];
            char credit[24], held[24], lease[48], sess[16];
            snprintf(sess, sizeof sess, "%.8s", s->session);
            snprintf(credit, sizeof credit, "%ld", s->credit);
            snprintf(held, sizeof held, "%ld", s->in_flight);
            const char *cells[7] = {s->agency, sess, s->connected ? "có" : "không",
                                    s->ready ? "có" : "không", credit, held,
                                    lease_text(s, lease, sizeof lease)};
            put_row(cells, sw, 7, 4);
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

    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config_as(ctx, MC_CLI_READER, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    mc_store_t *store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms);
    mc_cfg_destroy(&cfg);
    if (!store)
        return MC_CLI_EX_FAIL;
    mc_queues_t *q = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_queues(store, &q, &err);
    mc_store_destroy(&store);
    if (rc != MC_STORE_OK) {
        mc_cli_print_err(ctx, &err);
        return rc == MC_STORE_UNAVAILABLE ? MC_CLI_EX_RETRY : MC_CLI_EX_FAIL;
    }
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
