/*
 * mc_report_render - the report engine (mc_report.h): the periodic report
 * as a terminal table, CSV or JSON (the chart is mc_report_svg.c), the
 * period's parsing, and mc_report_run, the whole request for any front end.
 *
 * Contract: reads the store only through mc_store_report, in one snapshot,
 * and changes nothing. The JSON keys are stable (docs/reports.md lists
 * them); CSV is RFC 4180 with a UTF-8 byte-order mark so spreadsheet
 * programs show the Vietnamese names; the table is for people and may
 * change. Never prints anything but the report, never exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_catalog.h"
#include "mc_report.h"
#include "mc_store.h"
#include "mc_json.h"
#include "mc_store_report.h"

/* the store may be busy with daemons; a province-wide report gets more than their 5 s */
#define REPORT_STATEMENT_TIMEOUT_MS 120000

/* mc_report_number - 7399 as "7.399" (Vietnamese thousands separator) */
const char *mc_report_number(long value, char *buf, size_t size)
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

/* mc_report_percent - 87.5 as "87,5%"; "–" when there is nothing to divide by */
const char *mc_report_percent(long part, long whole, char *buf, size_t size)
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

/* mc_report_put_padded - text in a column of width characters (not bytes), left or right aligned */
void mc_report_put_padded(FILE *out, const char *text, size_t width, bool right)
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
    mc_report_put_padded(out, label, (size_t)(44 - indent), false);
    mc_report_put_padded(out, mc_report_number(value, num, sizeof num), 10, true);
    if (note && *note)
        fprintf(out, "   %s", note);
    fputc('\n', out);
}

/* rate_line - one "label .... percent" line: part of whole */
static void rate_line(FILE *out, const char *label, long part, long whole)
{
    char pct[32];
    fprintf(out, "   ");
    mc_report_put_padded(out, label, 41, false);
    mc_report_put_padded(out, mc_report_percent(part, whole, pct, sizeof pct), 10, true);
    fputc('\n', out);
}

/* share_note - "(12,5%)": part of whole, the note beside a line */
static const char *share_note(char *note, size_t size, long part, long whole)
{
    char pct[32];
    snprintf(note, size, "(%s)", mc_report_percent(part, whole, pct, sizeof pct));
    return note;
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
    line(out, 6, "Trực tiếp", t->received_direct,
         share_note(note, sizeof note, t->received_direct, t->received_new));
    line(out, 6, "Trực tuyến", t->received_online,
         share_note(note, sizeof note, t->received_online, t->received_new));
    line(out, 6, "Bưu chính công ích", t->received_postal,
         share_note(note, sizeof note, t->received_postal, t->received_new));
    line(out, 3, "Tổng số", t->received_total, NULL);

    fprintf(out, "2. Số hồ sơ đã giải quyết\n");
    line(out, 3, "Tổng số", t->resolved_total, NULL);
    line(out, 6, "Trước hạn", t->resolved_early, NULL);
    line(out, 6, "Đúng hạn", t->resolved_on_time, NULL);
    snprintf(note, sizeof note, "(trong đó hẹn lại %s, trả đúng lịch hẹn lại %s)",
             mc_report_number(t->late_reappointed, a, sizeof a),
             mc_report_number(t->late_reappointed_kept, b, sizeof b));
    line(out, 6, "Quá hạn", t->resolved_late, note);
    rate_line(out, "Tỷ lệ trước hạn và đúng hạn", t->resolved_early + t->resolved_on_time,
              t->resolved_total);

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
    rate_line(out, "Tỷ lệ hài lòng (gồm rất hài lòng)",
              t->rating_very_satisfied + t->rating_satisfied, t->rating_total);

    fprintf(out, "6. Tiếp nhận trực tuyến, xin lỗi, quá hạn (Nghị định 118/2025)\n");
    line(out, 3, "Tiếp nhận trực tuyến trong 8 giờ làm việc", t->accepted_in_time,
         share_note(note, sizeof note, t->accepted_in_time,
                    t->accepted_in_time + t->accepted_late));
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
        mc_report_put_padded(out, heads[i], widths[i], i > 0);
        fputc(' ', out);
    }
    fputc('\n', out);
    for (size_t k = 0; k <= r->n_rows; k++) {
        const mc_report_counts_t *c = k < r->n_rows ? &r->rows[k].counts : t;
        const char *code = k < r->n_rows ? r->rows[k].procedure_code : "Tổng";
        char cells[12][MC_PROCEDURE_CODE_LEN + 1]; /* the widest cell is a procedure code */
        snprintf(cells[0], sizeof cells[0], "%s", code);
        mc_report_number(c->carried_over, cells[1], sizeof cells[1]);
        mc_report_number(c->received_new, cells[2], sizeof cells[2]);
        mc_report_percent(c->received_online, c->received_new, cells[3], sizeof cells[3]);
        mc_report_number(c->resolved_total, cells[4], sizeof cells[4]);
        mc_report_number(c->resolved_early, cells[5], sizeof cells[5]);
        mc_report_number(c->resolved_on_time, cells[6], sizeof cells[6]);
        mc_report_number(c->resolved_late, cells[7], sizeof cells[7]);
        mc_report_number(c->open_in_time, cells[8], sizeof cells[8]);
        mc_report_number(c->open_overdue, cells[9], sizeof cells[9]);
        mc_report_number(c->supplement_requested, cells[10], sizeof cells[10]);
        mc_report_percent(c->rating_very_satisfied + c->rating_satisfied, c->rating_total,
                           cells[11], sizeof cells[11]);
        for (size_t i = 0; i < 12; i++) {
            mc_report_put_padded(out, cells[i], widths[i], i > 0);
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
        (void)mc_json_fputs(out, r->ward);
        fprintf(out, ",\"name\":");
        (void)mc_json_fputs(out, w ? w->name : "");
        fputc('}', out);
    } else {
        fprintf(out, "null");
    }
    fprintf(out, ",\"procedure\":");
    if (r->procedure[0])
        (void)mc_json_fputs(out, r->procedure);
    else
        fprintf(out, "null");
    fprintf(out, ",\"generated_at\":\"%s\",\"total\":{", mc_format_iso(r->generated_at, gen, sizeof gen));
    json_counts(out, &r->total);
    fprintf(out, "},\"procedures\":[");
    for (size_t k = 0; k < r->n_rows; k++) {
        const mc_procedure_t *p = mc_catalog_find(cfg->catalog, r->rows[k].procedure_code);
        fprintf(out, "%s{\"code\":", k ? "," : "");
        (void)mc_json_fputs(out, r->rows[k].procedure_code);
        fprintf(out, ",\"name\":");
        (void)mc_json_fputs(out, p ? p->name : "");
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

/* mc_report_format_parse - a format's name */
int mc_report_format_parse(const char *name, mc_report_format_t *out)
{
    static const char *const names[] = {"table", "csv", "json", "svg"};
    static const mc_report_format_t formats[] = {MC_REPORT_TABLE, MC_REPORT_CSV, MC_REPORT_JSON,
                                                 MC_REPORT_SVG};
    for (size_t k = 0; name && k < sizeof names / sizeof names[0]; k++)
        if (strcmp(name, names[k]) == 0) {
            *out = formats[k];
            return 0;
        }
    return -1;
}

/* mc_report_period - a quarter, or --from and --to */
int mc_report_period(const char *quarter, const char *from, const char *to, mc_date_t *first,
                     mc_date_t *last, mc_err_t *err)
{
    const char *why = NULL;
    if (quarter) {
        if (from || to)
            why = "give --quarter or --from/--to, not both";
        else if (parse_quarter(quarter, first, last) != 0)
            why = "--quarter must look like 2025-Q3";
    } else if (!from || !to) {
        why = "give --quarter, or both --from and --to";
    } else if (mc_date_parse(from, first) != 0) {
        why = "--from is not a date YYYY-MM-DD";
    } else if (mc_date_parse(to, last) != 0) {
        why = "--to is not a date YYYY-MM-DD";
    } else if (date_cmp(*first, *last) > 0) {
        why = "--from is after --to";
    }
    if (!why && last->year - first->year > 9)
        why = "the period may span at most 10 years";
    if (why) {
        mc_err_add(err, "report: %s", why);
        return -1;
    }
    return 0;
}

/* svg_title - "<unit> · DD/MM/YYYY – DD/MM/YYYY", the chart's heading */
static const char *svg_title(const mc_cfg_t *cfg, const mc_report_t *r, char *buf, size_t size)
{
    char f[16], t[16];
    const mc_ward_t *w = ward_of(cfg, r->ward);
    snprintf(buf, size, "%.299s · %s – %s", w ? w->unit_name : "Tất cả phường, xã",
             date_vn(r->from, f, sizeof f), date_vn(r->to, t, sizeof t));
    return buf;
}

/* mc_report_write - one report in one format */
int mc_report_write(FILE *out, mc_report_format_t format, const mc_cfg_t *cfg,
                    const mc_report_t *report)
{
    char title[400];
    switch (format) {
    case MC_REPORT_JSON:
        print_json(out, cfg, report);
        return 0;
    case MC_REPORT_CSV:
        print_csv(out, cfg, report);
        return 0;
    case MC_REPORT_SVG:
        return mc_report_svg(out, report, svg_title(cfg, report, title, sizeof title)) == 0 ? 0
                                                                                          : -1;
    case MC_REPORT_TABLE:
        break;
    }
    print_table(out, cfg, report);
    print_forwarding(out, report);
    return 0;
}

/* mc_report_render - one report into a new buffer */
int mc_report_render(char **buf, size_t *len, mc_report_format_t format, const mc_cfg_t *cfg,
                     const mc_report_t *report)
{
    *buf = NULL;
    *len = 0;
    FILE *mem = open_memstream(buf, len);
    if (!mem)
        return -1;
    int rc = mc_report_write(mem, format, cfg, report);
    if (ferror(mem))
        rc = -1;
    if (fclose(mem) != 0)
        rc = -1;
    if (rc != 0) {
        free(*buf);
        *buf = NULL;
        *len = 0;
    }
    return rc;
}

/* mc_report_run - check, read in one snapshot, write */
mc_report_rc_t mc_report_run(const mc_cfg_t *cfg, const mc_report_request_t *req, FILE *out,
                             mc_err_t *err)
{
    if (req->ward && !ward_of(cfg, req->ward)) {
        mc_err_add(err, "report: ward %.40s is not in the configuration", req->ward);
        return MC_REPORT_RUN_BAD;
    }
    if (req->procedure && !mc_catalog_find(cfg->catalog, req->procedure)) {
        mc_err_add(err, "report: procedure %.40s is not in procedures.yaml", req->procedure);
        return MC_REPORT_RUN_BAD;
    }
    mc_report_query_t q = {0};
    q.from = req->from;
    q.to = req->to;
    q.ward = req->ward;
    q.procedure = req->procedure;
    q.calendar = cfg->calendar;
    q.apology_before_days = cfg->rules.apology_before_days;
    int timeout = cfg->statement_timeout_ms > REPORT_STATEMENT_TIMEOUT_MS || cfg->statement_timeout_ms == 0
                      ? cfg->statement_timeout_ms : REPORT_STATEMENT_TIMEOUT_MS;
    mc_store_t *store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, timeout);
    mc_store_set_tcp(store, &cfg->db_tcp);
    if (!store)
        return MC_REPORT_RUN_FAILED;
    mc_report_t *report = NULL;
    mc_report_rc_t rc = MC_REPORT_RUN_OK;
    if (mc_store_report(store, &q, &report, err) != MC_STORE_OK)
        rc = MC_REPORT_RUN_FAILED;
    else if (mc_report_write(out, req->format, cfg, report) != 0)
        rc = MC_REPORT_RUN_FAILED;
    mc_report_destroy(&report);
    mc_store_destroy(&store);
    return rc;
}
