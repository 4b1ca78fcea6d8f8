/*
 * admin_overdue - `motcua-admin overdue`: the desk's list of open dossiers past
 * their due date, or due within the next N working days, most overdue
 * first, with the applicant masked and where each dossier is held.
 *
 * Contract: reads the store (mc_store_overdue), changes nothing. Dossiers
 * waiting for the applicant's documents are not listed: their clock is
 * stopped (docs/rules.md). The applicant's name is masked (docs/reports.md,
 * "Overdue list"): a desk screen is seen by people queueing at the counter.
 * Exit statuses: 0 done (also when the list is empty), 1 store failure,
 * 64 bad command line, 78 configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "mc_report.h"
#include "mc_catalog.h"
#include "mc_states.h"
#include "mc_store_report.h"

static const char overdue_usage[] =
    "usage: motcua-admin [-c FILE] overdue [--ward CODE] [--days-left N] [--limit N] [--format table|json]\n"
    "  Open dossiers past their due date, most overdue first. With --days-left N\n"
    "  (0..60 working days) also those due by the end of the N-th working day from\n"
    "  today. Dossiers waiting for the applicant's documents are not listed.\n"
    "  Also listed, whatever --days-left: dossiers warned before lateness and not\n"
    "  extended, marked \"sắp quá hạn\"; an extended one is marked \"đã gia hạn,\n"
    "  xin lỗi đã gửi\" (Mẫu 04).\n"
    "  --limit      at most this many (1..100000, default 1000)\n";

#define OVERDUE_MAX_DAYS_LEFT 60

/* mask_name - "Nguyễn Văn An" -> "N*** V*** A***": initials only */
static const char *mask_name(const char *name, char *buf, size_t size)
{
    size_t o = 0;
    bool word_start = true;
    for (const unsigned char *p = (const unsigned char *)name; *p && o + 8 < size; p++) {
        if (*p == ' ') {
            if (!word_start)
                buf[o++] = ' ';
            word_start = true;
            continue;
        }
        if (!word_start)
            continue;
        /* copy the whole first code point (1..4 bytes of UTF-8) */
        size_t len = *p < 0x80 ? 1 : *p < 0xE0 ? 2 : *p < 0xF0 ? 3 : 4;
        for (size_t k = 0; k < len && p[k]; k++)
            buf[o++] = (char)p[k];
        p += len - 1;
        memcpy(buf + o, "***", 3);
        o += 3;
        word_start = false;
    }
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    buf[o] = '\0';
    return buf;
}

/* applicant_text - the masked person, or the organisation's name (not personal data) */
static const char *applicant_text(const mc_overdue_item_t *it, char *buf, size_t size)
{
    snprintf(buf, size, "?");
    Motcua__V1__Dossier *d = motcua__v1__dossier__unpack(NULL, it->payload_len, it->payload);
    if (!d)
        return buf;
    const Motcua__V1__Applicant *a = d->applicant;
    if (a && a->kind_case == MOTCUA__V1__APPLICANT__KIND_PERSON && a->person)
        mask_name(a->person->full_name, buf, size);
    else if (a && a->kind_case == MOTCUA__V1__APPLICANT__KIND_ORGANIZATION && a->organization)
        snprintf(buf, size, "%s", a->organization->name);
    motcua__v1__dossier__free_unpacked(d, NULL);
    return buf;
}

/* where_text - who holds the dossier, in words; a pending online dossier is
 * listed by its acceptance deadline (hours: rules.acceptance_hours) */
static const char *where_text(const mc_overdue_item_t *it, int64_t now, int hours, char *buf,
                              size_t size)
{
    static const char *const states[] = {
        [MC_CASE_PLANNED] = "chưa tới lượt",    [MC_CASE_QUEUED] = "chờ gửi",
        [MC_CASE_SENT] = "đã gửi, chờ xác nhận", [MC_CASE_ACKED] = "đang xử lý",
        [MC_CASE_DONE] = "đã xong",              [MC_CASE_DEAD] = "không xác nhận (thư chết)",
        [MC_CASE_CANCELLED] = "đã hủy",          [MC_CASE_PAUSED] = "chờ bổ sung"};
    if (it->state == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_PENDING_ACCEPTANCE) {
        char late[64] = "chờ tiếp nhận";
        if (it->due_at < now)
            snprintf(late, sizeof late, "chờ tiếp nhận quá %d giờ làm việc", hours);
        snprintf(buf, size, "%s: %s", it->case_state < 0 ? "chưa giao bộ phận (router)" : it->where,
                 late);
    } else if (it->case_state < 0)
        snprintf(buf, size, "chưa phân công (router)");
    else
        snprintf(buf, size, "%s bước %d/%d: %s", it->where, it->step, it->steps_total,
                 it->case_state <= MC_CASE_PAUSED ? states[it->case_state] : "?");
    return buf;
}

/* lateness - "quá 3 ngày" / "còn 5 giờ" between now and due */
static const char *lateness(int64_t now, int64_t due, char *buf, size_t size)
{
    int64_t d = now - due;
    const char *word = d > 0 ? "quá" : "còn";
    if (d < 0)
        d = -d;
    if (d >= 86400)
        snprintf(buf, size, "%s %lld ngày", word, (long long)(d / 86400));
    else
        snprintf(buf, size, "%s %lld giờ", word, (long long)(d / 3600));
    return buf;
}

/* extension_note - the warning before lateness in words, "" if none */
static const char *extension_note(const mc_overdue_item_t *it)
{
    if (it->extended)
        return "đã gia hạn, xin lỗi đã gửi";
    return it->due_soon ? "sắp quá hạn" : "";
}

/* print_row - one line of the table, columns counted in characters */
static void print_row(const char *code, const char *who, const char *proc, const char *due,
                      const char *late, const char *where)
{
    const char *cells[5] = {code, who, proc, due, late};
    static const size_t widths[5] = {26, 24, 10, 21, 12};
    for (int i = 0; i < 5; i++) {
        mc_report_put_padded(stdout, cells[i], widths[i], false);
        putchar(' ');
    }
    printf("%s\n", where);
}

/* threshold_of - the instant before which a due date is listed */
static int threshold_of(const mc_calendar_t *cal, int64_t now, int days_left, int64_t *out)
{
    if (days_left == 0) {
        *out = now;
        return 0;
    }
    mc_date_t d = mc_date_of(now, NULL);
    int counted = 0;
    for (int guard = 0; counted < days_left && guard < 400; guard++) {
        int64_t next = mc_instant_of(d, 0) + 86400 + 3600; /* any instant of the next day */
        d = mc_date_of(next, NULL);
        if (!mc_calendar_covers(cal, d))
            return -1;
        if (mc_calendar_is_working_day(cal, d))
            counted++;
    }
    *out = mc_instant_of(d, 0) + 86400; /* the end of that day */
    return 0;
}

/* admin_overdue - `motcua-admin overdue ...` */
int admin_overdue(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *ward = NULL, *days_text = NULL, *limit_text = NULL, *format = "table";
    const mc_cli_opt_t opts[] = {{"--ward", &ward, 0}, {"--days-left", &days_text, 0},
                              {"--limit", &limit_text, 0}, {"--format", &format, 0}};
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "overdue", overdue_usage, opts,
                                sizeof opts / sizeof opts[0], NULL, NULL);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    int days_left = 0, limit = 1000;
    char *end = NULL;
    if (days_text) {
        long v = strtol(days_text, &end, 10);
        if (!*days_text || *end || v < 0 || v > OVERDUE_MAX_DAYS_LEFT)
            return mc_cli_usage_error(ctx, overdue_usage, "overdue: --days-left must be 0..%d",
                                   OVERDUE_MAX_DAYS_LEFT);
        days_left = (int)v;
    }
    if (limit_text) {
        long v = strtol(limit_text, &end, 10);
        if (!*limit_text || *end || v < 1 || v > 100000)
            return mc_cli_usage_error(ctx, overdue_usage, "overdue: --limit must be 1..100000");
        limit = (int)v;
    }
    bool json = strcmp(format, "json") == 0;
    if (!json && strcmp(format, "table") != 0)
        return mc_cli_usage_error(ctx, overdue_usage, "overdue: --format must be table or json");

    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config_as(ctx, MC_CLI_READER, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    bool known = ward == NULL;
    for (size_t i = 0; ward && i < cfg->n_wards; i++)
        known = known || strcmp(cfg->wards[i].code, ward) == 0;
    if (!known) {
        mc_cfg_destroy(&cfg);
        return mc_cli_usage_error(ctx, overdue_usage, "overdue: ward %.40s is not in the configuration",
                               ward);
    }
    int64_t now = (int64_t)time(NULL), before = 0;
    if (threshold_of(cfg->calendar, now, days_left, &before) != 0) {
        fprintf(stderr, "%s: overdue: calendar.yaml does not cover the next %d working days\n",
                ctx->progname, days_left);
        mc_cfg_destroy(&cfg);
        return MC_CLI_EX_CONFIG;
    }
    mc_store_t *store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms);
    mc_store_set_tcp(store, &cfg->db_tcp);
    if (!store) {
        mc_cfg_destroy(&cfg);
        return MC_CLI_EX_FAIL;
    }
    mc_overdue_list_t list;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_store_overdue(store, ward, before, limit, &list, &err) != MC_STORE_OK) {
        mc_cli_print_err(ctx, &err);
        mc_store_destroy(&store);
        mc_cfg_destroy(&cfg);
        return MC_CLI_EX_FAIL;
    }
    if (json)
        printf("{\"count\":%zu,\"truncated\":%s,\"dossiers\":[", list.n_items,
               list.truncated ? "true" : "false");
    else if (list.n_items == 0)
        printf(days_left ? "Không có hồ sơ quá hạn hoặc sắp đến hạn.\n"
                         : "Không có hồ sơ quá hạn.\n");
    else
        print_row("MÃ HỒ SƠ", "NGƯỜI NỘP", "THỦ TỤC", "HẠN TRẢ", "QUÁ/CÒN", "ĐANG Ở");
    for (size_t i = 0; i < list.n_items; i++) {
        const mc_overdue_item_t *it = &list.items[i];
        char who[320], where[480], late[48], due[48], mark[320];
        applicant_text(it, who, sizeof who);
        where_text(it, now, cfg->rules.acceptance_hours, where, sizeof where);
        mc_report_borderless_mark(cfg, ward, it->ward_code, it->receiving_ward, it->forward_due_at,
                            it->forwarded, mark, sizeof mark);
        if (*mark) /* a dossier received at another ward: both wards list it */
            snprintf(where + strlen(where), sizeof where - strlen(where), "; %s", mark);
        lateness(now, it->due_at, late, sizeof late);
        if (json) {
            printf("%s{\"code\":", i ? "," : "");
            mc_cli_json_string(stdout, it->code);
            printf(",\"ward\":");
            mc_cli_json_string(stdout, it->ward_code);
            printf(",\"receiving_ward\":");
            mc_cli_json_string(stdout, it->receiving_ward);
            printf(",\"applicant\":");
            mc_cli_json_string(stdout, who);
            printf(",\"procedure\":");
            mc_cli_json_string(stdout, it->procedure_code);
            printf(",\"due_at\":\"%s\",\"overdue\":%s,\"reappointed\":%s,\"holder\":",
                   mc_format_iso(it->due_at, due, sizeof due), it->due_at < now ? "true" : "false",
                   it->reappointed ? "true" : "false");
            mc_cli_json_string(stdout, it->case_state < 0 ? "router" : it->where);
            printf(",\"step\":%d,\"steps_total\":%d,\"where\":", it->step, it->steps_total);
            mc_cli_json_string(stdout, where);
            printf(",\"due_soon\":%s,\"extended\":%s,\"apology_at\":",
                   it->due_soon ? "true" : "false", it->extended ? "true" : "false");
            if (it->apology_at > 0)
                printf("\"%s\"", mc_format_iso(it->apology_at, due, sizeof due));
            else
                printf("null");
            printf(",\"note\":");
            mc_cli_json_string(stdout, extension_note(it));
            printf("}");
        } else {
            mc_date_t d = mc_date_of(it->due_at, NULL);
            snprintf(due, sizeof due, "%02d/%02d/%04d%s", d.day, d.month, d.year,
                     it->reappointed ? " (hẹn lại)" : "");
            if (*extension_note(it)) /* the last column: no width to keep */
                snprintf(where + strlen(where), sizeof where - strlen(where), " [%s]",
                         extension_note(it));
            print_row(it->code, who, it->procedure_code, due, late, where);
        }
    }
    if (json)
        printf("]}\n");
    else if (list.truncated)
        printf("(chỉ hiện %d hồ sơ đầu; dùng --limit để xem thêm)\n", limit);
    mc_overdue_list_clear(&list);
    mc_store_destroy(&store);
    mc_cfg_destroy(&cfg);
    return MC_CLI_EX_OK;
}
