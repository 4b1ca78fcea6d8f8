/*
 * cli_report - `motcua report`: the periodic report on the handling of
 * administrative procedures (received / resolved early, on time, late /
 * still open, per channel and per procedure, satisfaction) for a ward or the
 * whole store, as a terminal table, CSV, JSON or an SVG chart.
 *
 * Contract: reads the store directly in one snapshot (mc_store_report) and
 * changes nothing. The JSON keys are stable (docs/reports.md lists them);
 * CSV is RFC 4180 with a UTF-8 byte-order mark so spreadsheet programs show
 * the Vietnamese names; the table is for people and may change. Exit
 * statuses: 0 done, 1 store failure, 64 bad command line, 78 configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_report.h"
#include "mc_catalog.h"
#include "mc_store_report.h"

static const char report_usage[] =
    "usage: motcua report (--quarter YYYY-QN | --from YYYY-MM-DD --to YYYY-MM-DD)\n"
    "                     [--ward CODE] [--procedure CODE] [--format table|csv|json|svg]\n"
    "  The figures of a period (both days included, local time): received per channel,\n"
    "  resolved early / on time / late, still open, per procedure, satisfaction.\n"
    "  --ward       one ward (a code from the configuration's wards); default: all\n"
    "  --procedure  one procedure (a code from procedures.yaml); default: all\n"
    "  --format     table (default, Vietnamese), csv, json (stable keys), svg (a chart)\n"
    "  The rules are in docs/reports.md.\n";

/* the store may be busy with daemons; a province-wide report gets more than their 5 s */
#define REPORT_STATEMENT_TIMEOUT_MS 120000

/* cli_report_number - 7399 as "7.399" (Vietnamese thousands separator) */
const char *cli_report_number(long value, char *buf, size_t size)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%ld", value < 0 ? -value : value);
    size_t o = 0;
    if (value < 0 && o + 1 < size)
        buf[o++] = '-';
    for (int i = 0; i < n && o + 1 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 1 < size)
            buf[o++] = '.';
        if (o + 1 < size)
            buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* cli_report_percent - 87.5 as "87,5%"; "–" when there is nothing to divide by */
const char *cli_report_percent(long part, long whole, char *buf, size_t size)
{
    char digits[48]; /* mc_report_rate_text writes at most 42 */
    if (!mc_report_rate_text(part, whole, 1, ',', digits, sizeof digits))
        snprintf(buf, size, "–");
    else
        snprintf(buf, size, "%s%%", digits);
    return buf;
}

/* utf8_width - characters (code points) in text: what a terminal column counts */
static size_t utf8_width(const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

/* cli_put_padded - text in a column of width characters (not bytes), left or right aligned */
void cli_put_padded(FILE *out, const char *text, size_t width, bool right)
{
    size_t w = utf8_width(text);
    if (right)
        for (size_t i = w; i < width; i++)
            fputc(' ', out);
    fputs(text, out);
    if (!right)
        for (size_t i = w; i < width; i++)
            fputc(' ', out);
}

/* line - one "label .... number [note]" line of the table */
static void line(FILE *out, int indent, const char *label, long value, const char *note)
{
    char num[32];
    for (int i = 0; i < indent; i++)
        fputc(' ', out);
    cli_put_padded(out, label, (size_t)(44 - indent), false);
    cli_put_padded(out, cli_report_number(value, num, sizeof num), 10, true);
    if (note && *note)
        fprintf(out, "   %s", note);
    fputc('\n', out);
}

/* date_vn - "DD/MM/YYYY" */
static const char *date_vn(mc_date_t d, char *buf, size_t size)
{
    snprintf(buf, size, "%02d/%02d/%04d", d.day, d.month, d.year);
    return buf;
}

/* ward_of - the configured ward with this code, or NULL */
static const mc_ward_t *ward_of(const mc_cfg_t *cfg, const char *code)
{
    for (size_t i = 0; code && *code && i < cfg->n_wards; i++)
        if (strcmp(cfg->wards[i].code, code) == 0)
            return &cfg->wards[i];
    return NULL;
}

/* unit_title - "Phường Kim Liên (mã 00001)" or "Tất cả phường, xã trong dữ liệu" */
static const char *unit_title(const mc_cfg_t *cfg, const mc_report_t *r, char *buf, size_t size)
{
    const mc_ward_t *w = ward_of(cfg, r->ward);
    if (w)
        snprintf(buf, size, "%s (mã %s)", w->name, w->code);
    else
        snprintf(buf, size, "Tất cả phường, xã trong dữ liệu");
    return buf;
}

/* print_table - the report for people, in Vietnamese */
static void print_table(FILE *out, const mc_cfg_t *cfg, const mc_report_t *r)
{
    const mc_report_counts_t *t = &r->total;
    char a[32], b[32], unit[300], note[160], gen[48];
    fprintf(out, "BÁO CÁO TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH\n");
    fprintf(out, "Đơn vị: %s\n", unit_title(cfg, r, unit, sizeof unit));
    fprintf(out, "Kỳ báo cáo: từ %s đến %s", date_vn(r->from, a, sizeof a),
            date_vn(r->to, b, sizeof b));
    if (r->procedure[0]) {
        const mc_procedure_t *p = mc_catalog_find(cfg->catalog, r->procedure);
        fprintf(out, " — thủ tục %s%s%s", r->procedure, p ? " " : "", p ? p->name : "");
    }
    fprintf(out, "\nSố liệu tại thời điểm: %s\n\n", mc_format_local(r->generated_at, gen, sizeof gen));

    fprintf(out, "1. Số hồ sơ nhận giải quyết\n");
    line(out, 3, "Từ kỳ trước chuyển qua", t->carried_over, NULL);
    line(out, 3, "Mới tiếp nhận trong kỳ", t->received_new, NULL);
    snprintf(note, sizeof note, "(%s)", cli_report_percent(t->received_direct, t->received_new, a, sizeof a));
    line(out, 6, "Trực tiếp", t->received_direct, note);
    snprintf(note, sizeof note, "(%s)", cli_report_percent(t->received_online, t->received_new, a, sizeof a));
    line(out, 6, "Trực tuyến", t->received_online, note);
    snprintf(note, sizeof note, "(%s)", cli_report_percent(t->received_postal, t->received_new, a, sizeof a));
    line(out, 6, "Bưu chính công ích", t->received_postal, note);
    line(out, 3, "Tổng số", t->received_total, NULL);

    fprintf(out, "2. Số hồ sơ đã giải quyết\n");
    line(out, 3, "Tổng số", t->resolved_total, NULL);
    line(out, 6, "Trước hạn", t->resolved_early, NULL);
    line(out, 6, "Đúng hạn", t->resolved_on_time, NULL);
    snprintf(note, sizeof note, "(trong đó hẹn lại %s, trả đúng lịch hẹn lại %s)",
             cli_report_number(t->late_reappointed, a, sizeof a),
             cli_report_number(t->late_reappointed_kept, b, sizeof b));
    line(out, 6, "Quá hạn", t->resolved_late, note);
    fprintf(out, "   ");
    cli_put_padded(out, "Tỷ lệ trước hạn và đúng hạn", 41, false);
    cli_put_padded(out, cli_report_percent(t->resolved_early + t->resolved_on_time, t->resolved_total,
                                       a, sizeof a), 10, true);
    fputc('\n', out);

    fprintf(out, "3. Số hồ sơ đang giải quyết (cuối kỳ)\n");
    line(out, 3, "Tổng số", t->open_total, NULL);
    line(out, 6, "Trong hạn", t->open_in_time, NULL);
    line(out, 6, "Quá hạn", t->open_overdue, NULL);

    fprintf(out, "4. Hồ sơ yêu cầu bổ sung, từ chối, rút\n");
    line(out, 3, "Yêu cầu bổ sung, hoàn thiện", t->supplement_requested, NULL);
    line(out, 3, "Từ chối giải quyết", t->refused, NULL);
    line(out, 3, "Người nộp rút hồ sơ", t->withdrawn, NULL);
    line(out, 3, "Trả lại do không bổ sung", t->returned_unsupplemented, NULL);
    line(out, 3, "Từ chối yêu cầu bổ sung lần hai", t->supplement_refused, NULL);

    fprintf(out, "5. Đánh giá mức độ hài lòng (trong kỳ)\n");
    line(out, 3, "Rất hài lòng", t->rating_very_satisfied, NULL);
    line(out, 3, "Hài lòng", t->rating_satisfied, NULL);
    line(out, 3, "Không hài lòng", t->rating_not_satisfied, NULL);
    line(out, 3, "Tổng số lượt đánh giá", t->rating_total, NULL);
    fprintf(out, "   ");
    cli_put_padded(out, "Tỷ lệ hài lòng (gồm rất hài lòng)", 41, false);
    cli_put_padded(out, cli_report_percent(t->rating_very_satisfied + t->rating_satisfied,
                                       t->rating_total, a, sizeof a), 10, true);
    fputc('\n', out);

    fprintf(out, "6. Tiếp nhận trực tuyến, xin lỗi, quá hạn (Nghị định 118/2025)\n");
    snprintf(note, sizeof note, "(%s)", cli_report_percent(t->accepted_in_time,
                                                           t->accepted_in_time + t->accepted_late,
                                                           a, sizeof a));
    line(out, 3, "Tiếp nhận trực tuyến trong 8 giờ làm việc", t->accepted_in_time, note);
    line(out, 3, "Tiếp nhận trực tuyến quá 8 giờ làm việc", t->accepted_late, NULL);
    line(out, 3, "Chờ tiếp nhận quá 8 giờ làm việc (cuối kỳ)", t->acceptance_overdue, NULL);
    line(out, 3, "Văn bản xin lỗi, hẹn lại (Mẫu 04)", t->apologies, NULL);
    line(out, 6, "Gửi đúng thời hạn", t->apologies_in_time, NULL);
    line(out, 3, "Quá hạn không có văn bản xin lỗi", t->late_without_apology, NULL);

    if (r->n_rows == 0)
        return;
    fprintf(out, "\n7. Theo thủ tục hành chính\n");
    static const char *const heads[] = {"Mã TTHC", "Kỳ trước", "Mới", "Trực tuyến",
                                        "Đã GQ", "Trước hạn", "Đúng hạn", "Quá hạn",
                                        "Đang GQ", "Đang QH", "Bổ sung", "Hài lòng"};
    static const size_t widths[] = {12, 9, 8, 10, 8, 9, 9, 8, 8, 8, 8, 9};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        cli_put_padded(out, heads[i], widths[i], i > 0);
        fputc(' ', out);
    }
    fputc('\n', out);
    for (size_t k = 0; k <= r->n_rows; k++) {
        const mc_report_counts_t *c = k < r->n_rows ? &r->rows[k].counts : t;
        const char *code = k < r->n_rows ? r->rows[k].procedure_code : "Tổng";
        char cells[12][32];
        snprintf(cells[0], sizeof cells[0], "%s", code);
        cli_report_number(c->carried_over, cells[1], sizeof cells[1]);
        cli_report_number(c->received_new, cells[2], sizeof cells[2]);
        cli_report_percent(c->received_online, c->received_new, cells[3], sizeof cells[3]);
        cli_report_number(c->resolved_total, cells[4], sizeof cells[4]);
        cli_report_number(c->resolved_early, cells[5], sizeof cells[5]);
        cli_report_number(c->resolved_on_time, cells[6], sizeof cells[6]);
        cli_report_number(c->resolved_late, cells[7], sizeof cells[7]);
        cli_report_number(c->open_in_time, cells[8], sizeof cells[8]);
        cli_report_number(c->open_overdue, cells[9], sizeof cells[9]);
        cli_report_number(c->supplement_requested, cells[10], sizeof cells[10]);
        cli_report_percent(c->rating_very_satisfied + c->rating_satisfied, c->rating_total,
                           cells[11], sizeof cells[11]);
        for (size_t i = 0; i < 12; i++) {
            cli_put_padded(out, cells[i], widths[i], i > 0);
            fputc(' ', out);
        }
        fputc('\n', out);
    }
    fprintf(out, "Đang GQ: đang giải quyết trong hạn; Đang QH: đang giải quyết quá hạn.\n");
    for (size_t k = 0; k < r->n_rows; k++) {
        const mc_procedure_t *p = mc_catalog_find(cfg->catalog, r->rows[k].procedure_code);
        fprintf(out, "  %s: %s\n", r->rows[k].procedure_code, p ? p->name : "(không có trong danh mục)");
    }
}

/* print_forwarding - boundary-free reception: the figure "tiếp nhận hộ,
 * chuyển đi" of the receiving ward (these dossiers count above for their
 * competent ward); nothing when there is none */
static void print_forwarding(FILE *out, const mc_report_t *r)
{
    const mc_report_counts_t *t = &r->total;
    if (t->forward_received == 0)
        return;
    fprintf(out,
            "\nHồ sơ tiếp nhận hộ, chuyển đi phường/xã có thẩm quyền (Nghị định 118/2025 Điều 20): "
            "%ld hồ sơ\n  chuyển đúng hạn: %ld; chuyển quá hạn: %ld; chưa chuyển, đã quá hạn: %ld; "
            "chưa đến hạn hoặc đã đóng trước khi chuyển: %ld\n",
            t->forward_received, t->forwarded_in_time, t->forwarded_late, t->forward_overdue,
            t->forward_pending);
}

/* json_rate - a percentage with two decimals (half away from zero), or null when nothing to divide by */
static void json_rate(FILE *out, const char *key, long part, long whole)
{
    char digits[48]; /* mc_report_rate_text writes at most 42 */
    fprintf(out, ",\"%s\":%s", key,
            mc_report_rate_text(part, whole, 2, '.', digits, sizeof digits) ? digits : "null");
}

/* json_counts - the stable counter object (keys documented in docs/reports.md) */
static void json_counts(FILE *out, const mc_report_counts_t *c)
{
    fprintf(out,
            "\"received\":{\"carried_over\":%ld,\"direct\":%ld,\"online\":%ld,\"postal\":%ld,"
            "\"new\":%ld,\"total\":%ld",
            c->carried_over, c->received_direct, c->received_online, c->received_postal,
            c->received_new, c->received_total);
    json_rate(out, "online_share", c->received_online, c->received_new);
    fprintf(out,
            "},\"resolved\":{\"early\":%ld,\"on_time\":%ld,\"late\":%ld,\"total\":%ld,"
            "\"late_reappointed\":%ld,\"late_reappointed_kept\":%ld",
            c->resolved_early, c->resolved_on_time, c->resolved_late, c->resolved_total,
            c->late_reappointed, c->late_reappointed_kept);
    json_rate(out, "on_time_rate", c->resolved_early + c->resolved_on_time, c->resolved_total);
    fprintf(out,
            "},\"open\":{\"in_time\":%ld,\"overdue\":%ld,\"total\":%ld},"
            "\"supplement_requested\":%ld,\"refused\":%ld,\"withdrawn\":%ld,"
            "\"satisfaction\":{\"very_satisfied\":%ld,\"satisfied\":%ld,\"not_satisfied\":%ld,"
            "\"total\":%ld",
            c->open_in_time, c->open_overdue, c->open_total, c->supplement_requested,
            c->refused, c->withdrawn, c->rating_very_satisfied, c->rating_satisfied,
            c->rating_not_satisfied, c->rating_total);
    json_rate(out, "satisfied_share", c->rating_very_satisfied + c->rating_satisfied,
              c->rating_total);
    fputc('}', out);
    fprintf(out, ",\"returned_unsupplemented\":%ld,\"supplement_refused\":%ld",
            c->returned_unsupplemented, c->supplement_refused);
    fprintf(out, ",\"acceptance\":{\"in_time\":%ld,\"late\":%ld,\"pending_overdue\":%ld",
            c->accepted_in_time, c->accepted_late, c->acceptance_overdue);
    json_rate(out, "in_time_rate", c->accepted_in_time, c->accepted_in_time + c->accepted_late);
    fprintf(out,
            "},\"apologies\":{\"issued\":%ld,\"in_time\":%ld},\"late_without_apology\":%ld,"
            "\"forwarding\":{\"received\":%ld,\"in_time\":%ld,\"late\":%ld,\"overdue\":%ld,"
            "\"pending\":%ld}",
            c->apologies, c->apologies_in_time, c->late_without_apology, c->forward_received,
            c->forwarded_in_time, c->forwarded_late, c->forward_overdue, c->forward_pending);
}

/* print_json - one JSON document, format "motcua.report.v1" */
static void print_json(FILE *out, const mc_cfg_t *cfg, const mc_report_t *r)
{
    char from[16], to[16], gen[40];
    snprintf(from, sizeof from, "%04d-%02d-%02d", r->from.year, r->from.month, r->from.day);
    snprintf(to, sizeof to, "%04d-%02d-%02d", r->to.year, r->to.month, r->to.day);
    fprintf(out, "{\"format\":\"motcua.report.v1\",\"period\":{\"from\":\"%s\",\"to\":\"%s\"},", from, to);
    const mc_ward_t *w = ward_of(cfg, r->ward);
    fprintf(out, "\"ward\":");
    if (r->ward[0]) {
        fprintf(out, "{\"code\":");
        cli_json_string(out, r->ward);
        fprintf(out, ",\"name\":");
        cli_json_string(out, w ? w->name : "");
        fputc('}', out);
    } else {
        fprintf(out, "null");
    }
    fprintf(out, ",\"procedure\":");
    if (r->procedure[0])
        cli_json_string(out, r->procedure);
    else
        fprintf(out, "null");
    fprintf(out, ",\"generated_at\":\"%s\",\"total\":{", mc_format_iso(r->generated_at, gen, sizeof gen));
    json_counts(out, &r->total);
    fprintf(out, "},\"procedures\":[");
    for (size_t k = 0; k < r->n_rows; k++) {
        const mc_procedure_t *p = mc_catalog_find(cfg->catalog, r->rows[k].procedure_code);
        fprintf(out, "%s{\"code\":", k ? "," : "");
        cli_json_string(out, r->rows[k].procedure_code);
        fprintf(out, ",\"name\":");
        cli_json_string(out, p ? p->name : "");
        fputc(',', out);
        json_counts(out, &r->rows[k].counts);
        fputc('}', out);
    }
    fprintf(out, "],\"months\":[");
    for (size_t i = 0; i < r->n_months; i++) {
        const mc_report_month_t *m = &r->months[i];
        fprintf(out,
                "%s{\"month\":\"%04d-%02d\",\"received\":{\"direct\":%ld,\"online\":%ld,"
                "\"postal\":%ld},\"resolved\":{\"in_time\":%ld,\"late\":%ld}}",
                i ? "," : "", m->year, m->month, m->received_direct, m->received_online,
                m->received_postal, m->resolved_in_time, m->resolved_late);
    }
    fprintf(out, "]}\n");
}

/* csv_field - one RFC 4180 field: quoted when it holds a comma, quote or newline */
static void csv_field(FILE *out, const char *text)
{
    if (!strpbrk(text, ",\"\r\n")) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

/* csv_rate - a percentage field (two decimals, half away from zero), empty when nothing to divide by */
static void csv_rate(FILE *out, long part, long whole)
{
    char digits[48]; /* mc_report_rate_text writes at most 42 */
    fprintf(out, ",%s", mc_report_rate_text(part, whole, 2, '.', digits, sizeof digits) ? digits : "");
}

/* csv_row - one line of counters */
static void csv_row(FILE *out, const char *scope, const char *code, const char *name,
                    const mc_report_counts_t *c)
{
    csv_field(out, scope);
    fputc(',', out);
    csv_field(out, code);
    fputc(',', out);
    csv_field(out, name);
    fprintf(out, ",%ld,%ld,%ld,%ld,%ld,%ld", c->carried_over, c->received_direct,
            c->received_online, c->received_postal, c->received_new, c->received_total);
    csv_rate(out, c->received_online, c->received_new);
    fprintf(out, ",%ld,%ld,%ld,%ld,%ld,%ld", c->resolved_early, c->resolved_on_time,
            c->resolved_late, c->resolved_total, c->late_reappointed, c->late_reappointed_kept);
    csv_rate(out, c->resolved_early + c->resolved_on_time, c->resolved_total);
    fprintf(out, ",%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld", c->open_in_time, c->open_overdue,
            c->open_total, c->supplement_requested, c->refused, c->withdrawn,
            c->rating_very_satisfied, c->rating_satisfied, c->rating_not_satisfied,
            c->rating_total);
    csv_rate(out, c->rating_very_satisfied + c->rating_satisfied, c->rating_total);
    fprintf(out, ",%ld,%ld", c->returned_unsupplemented, c->supplement_refused);
    fprintf(out, ",%ld,%ld,%ld", c->accepted_in_time, c->accepted_late, c->acceptance_overdue);
    csv_rate(out, c->accepted_in_time, c->accepted_in_time + c->accepted_late);
    fprintf(out, ",%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld", c->apologies, c->apologies_in_time,
            c->late_without_apology, c->forward_received, c->forwarded_in_time,
            c->forwarded_late, c->forward_overdue, c->forward_pending);
    fputs("\r\n", out);
}

/* print_csv - a header, the total, one line per procedure */
static void print_csv(FILE *out, const mc_cfg_t *cfg, const mc_report_t *r)
{
    fputs("\xEF\xBB\xBF", out); /* BOM: spreadsheet programs then read UTF-8, not a code page */
    fputs("scope,procedure_code,procedure_name,carried_over,received_direct,received_online,"
          "received_postal,received_new,received_total,online_share,resolved_early,"
          "resolved_on_time,resolved_late,resolved_total,late_reappointed,"
          "late_reappointed_kept,on_time_rate,open_in_time,open_overdue,open_total,"
          "supplement_requested,refused,withdrawn,rating_very_satisfied,rating_satisfied,"
          "rating_not_satisfied,rating_total,satisfied_share,"
          "returned_unsupplemented,supplement_refused,"
          "accepted_in_time,accepted_late,acceptance_overdue,acceptance_in_time_rate,"
          "apologies,apologies_in_time,late_without_apology,forward_received,"
          "forwarded_in_time,forwarded_late,forward_overdue,forward_pending\r\n", out);
    csv_row(out, "total", "", "Tổng", &r->total);
    for (size_t k = 0; k < r->n_rows; k++) {
        const mc_procedure_t *p = mc_catalog_find(cfg->catalog, r->rows[k].procedure_code);
        csv_row(out, "procedure", r->rows[k].procedure_code, p ? p->name : "", &r->rows[k].counts);
    }
}

/* parse_quarter - "2025-Q3" or "2025Q3" into its first and last day */
static int parse_quarter(const char *text, mc_date_t *from, mc_date_t *to)
{
    int year = 0, q = 0;
    char tail = 0;
    if (sscanf(text, "%4d-Q%1d%c", &year, &q, &tail) != 2 &&
        sscanf(text, "%4dQ%1d%c", &year, &q, &tail) != 2)
        return -1;
    if (year < 1970 || year > 9999 || q < 1 || q > 4)
        return -1;
    static const int last_day[4] = {31, 30, 30, 31};
    *from = (mc_date_t){year, 3 * q - 2, 1};
    *to = (mc_date_t){year, 3 * q, last_day[q - 1]};
    return 0;
}

/* date_cmp - <0, 0, >0 */
static int date_cmp(mc_date_t a, mc_date_t b)
{
    if (a.year != b.year)
        return a.year < b.year ? -1 : 1;
    if (a.month != b.month)
        return a.month < b.month ? -1 : 1;
    return a.day < b.day ? -1 : a.day > b.day;
}

/* report options as given */
typedef struct report_args {
    const char *from;      /* --from */
    const char *to;        /* --to */
    const char *quarter;   /* --quarter */
    const char *ward;      /* --ward */
    const char *procedure; /* --procedure */
    const char *format;    /* --format */
} report_args_t;

/* cli_report - `motcua report ...` */
int cli_report(cli_ctx_t *ctx, int argc, char **argv)
{
    report_args_t a = {0};
    const cli_opt_t opts[] = {{"--from", &a.from}, {"--to", &a.to}, {"--quarter", &a.quarter},
                              {"--ward", &a.ward}, {"--procedure", &a.procedure},
                              {"--format", &a.format}};
    int status = cli_parse_opts(ctx, argc, argv, "report", report_usage, opts,
                                sizeof opts / sizeof opts[0], NULL, NULL);
    if (status != CLI_EX_OK)
        return status == CLI_EX_HELP ? CLI_EX_OK : status;
    const char *format = a.format ? a.format : "table";
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json") &&
        strcmp(format, "svg"))
        return cli_usage_error(ctx, report_usage, "report: --format must be table, csv, json or svg");
    mc_report_query_t q = {0};
    if (a.quarter) {
        if (a.from || a.to)
            return cli_usage_error(ctx, report_usage, "report: give --quarter or --from/--to, not both");
        if (parse_quarter(a.quarter, &q.from, &q.to) != 0)
            return cli_usage_error(ctx, report_usage, "report: --quarter must look like 2025-Q3");
    } else {
        if (!a.from || !a.to)
            return cli_usage_error(ctx, report_usage, "report: give --quarter, or both --from and --to");
        if (mc_date_parse(a.from, &q.from) != 0)
            return cli_usage_error(ctx, report_usage, "report: --from is not a date YYYY-MM-DD");
        if (mc_date_parse(a.to, &q.to) != 0)
            return cli_usage_error(ctx, report_usage, "report: --to is not a date YYYY-MM-DD");
        if (date_cmp(q.from, q.to) > 0)
            return cli_usage_error(ctx, report_usage, "report: --from is after --to");
    }
    if (q.to.year - q.from.year > 9)
        return cli_usage_error(ctx, report_usage, "report: the period may span at most 10 years");

    mc_cfg_t *cfg = NULL;
    if ((status = cli_load_config_as(ctx, CLI_READER, &cfg)) != CLI_EX_OK)
        return status;
    if (a.ward && !ward_of(cfg, a.ward)) {
        mc_cfg_destroy(&cfg);
        return cli_usage_error(ctx, report_usage, "report: ward %.40s is not in the configuration",
                               a.ward);
    }
    if (a.procedure && !mc_catalog_find(cfg->catalog, a.procedure)) {
        mc_cfg_destroy(&cfg);
        return cli_usage_error(ctx, report_usage,
                               "report: procedure %.40s is not in procedures.yaml", a.procedure);
    }
    q.ward = a.ward;
    q.procedure = a.procedure;
    q.calendar = cfg->calendar;
    q.apology_before_days = cfg->rules.apology_before_days;
    int timeout = cfg->statement_timeout_ms > REPORT_STATEMENT_TIMEOUT_MS || cfg->statement_timeout_ms == 0
                      ? cfg->statement_timeout_ms : REPORT_STATEMENT_TIMEOUT_MS;
    mc_store_t *store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, timeout);
    if (!store) {
        mc_cfg_destroy(&cfg);
        return CLI_EX_FAIL;
    }
    mc_report_t *report = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_store_report(store, &q, &report, &err) != MC_STORE_OK) {
        cli_print_err(ctx, &err);
        status = CLI_EX_FAIL;
    } else if (strcmp(format, "json") == 0) {
        print_json(stdout, cfg, report);
    } else if (strcmp(format, "csv") == 0) {
        print_csv(stdout, cfg, report);
    } else if (strcmp(format, "svg") == 0) {
        char unit[300], f[16], t[16], title[400];
        const mc_ward_t *w = ward_of(cfg, report->ward);
        snprintf(unit, sizeof unit, "%s", w ? w->unit_name : "Tất cả phường, xã");
        snprintf(title, sizeof title, "%s · %s – %s", unit, date_vn(report->from, f, sizeof f),
                 date_vn(report->to, t, sizeof t));
        if (cli_report_svg(stdout, report, title) != 0)
            status = CLI_EX_FAIL;
    } else {
        print_table(stdout, cfg, report);
        print_forwarding(stdout, report);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: report: could not write the output\n", ctx->progname);
        status = CLI_EX_FAIL;
    }
    mc_report_destroy(&report);
    mc_store_destroy(&store);
    mc_cfg_destroy(&cfg);
    return status;
}
