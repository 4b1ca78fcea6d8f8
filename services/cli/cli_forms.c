/*
 * cli_forms - `motcua form KIND CODE [--format text|html]`: print one of the
 * forms of Thông tư 03/2025/TT-VPCP Phụ lục I for a dossier, filled from the
 * store (docs/forms.md lists the forms, their numbers and fields).
 *
 * Contract: reads the store (mc_store_form_data) and the configuration
 * (ward and unit names, the catalog); changes nothing. The applicant's name
 * and address are printed (a form is handed to that applicant) but never
 * logged. HTML output is one self-contained A4 page, every value escaped.
 * `motcua form register WARD [--from D] [--to D]` prints the register of
 * one ward (Mẫu số 07, Sổ theo dõi hồ sơ): every dossier it received in the
 * period, at most CLI_FORM_MAX_ROWS of them.
 * Exit statuses: 0 printed, 1 store failure, 2 the form does not apply to
 * this dossier (no supplement request, not refused, never late, not
 * stopped; a register longer than CLI_FORM_MAX_ROWS), 64 bad command line
 * (also an unknown ward), 65 no dossier with this code, 78 configuration.
 */
#include "cli_forms.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mc_calendar.h"
#include "mc_catalog.h"
#include "mc_store_forms.h"
#include "motcua/v1/agency.pb-c.h"

static const char form_usage[] =
    "usage: motcua form KIND CODE [--format text|html]\n"
    "       motcua form register WARD [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format text|html]\n"
    "  Print a form of Thông tư 03/2025/TT-VPCP for the dossier CODE. KIND:\n"
    "    receipt     Mẫu số 01  Giấy tiếp nhận hồ sơ và hẹn trả kết quả\n"
    "    supplement  Mẫu số 02  Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ\n"
    "    refusal     Mẫu số 03  Phiếu từ chối tiếp nhận giải quyết hồ sơ\n"
    "    apology     Mẫu số 04  Văn bản xin lỗi và hẹn lại ngày trả kết quả\n"
    "    stop        Mẫu số 05  Thông báo dừng giải quyết hồ sơ (withdrawn or returned)\n"
    "    control     Mẫu số 06  Phiếu kiểm soát quá trình giải quyết hồ sơ\n"
    "    register    Mẫu số 07  Sổ theo dõi hồ sơ: the dossiers ward WARD received\n"
    "                from --from to --to (both days included; default today)\n"
    "  --format html gives one printable A4 page (no external resources).\n";

/* what a builder has to work with */
typedef struct form_src {
    const mc_form_data_t     *data;    /* the store's snapshot */
    const mc_cfg_t           *cfg;     /* wards, catalog */
    const mc_ward_t          *ward;    /* the receiving ward, NULL if no longer configured */
    const mc_procedure_t     *proc;    /* the procedure, NULL if no longer in the catalog */
    Motcua__V1__Dossier      *dossier; /* the payload, unpacked (the applicant) */
    Motcua__V1__IntakeReply  *reply;   /* the stored receipt, NULL if not kept */
} form_src_t;

/* --- the model ------------------------------------------------------------ */

/* vdup - printf into a new string; NULL on out of memory */
static char *vdup(const char *fmt, va_list ap)
{
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    return strdup(buf);
}

/* add_field - append "label: value"; -1 when full or out of memory */
static int add_field(cli_form_t *f, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int add_field(cli_form_t *f, const char *label, const char *fmt, ...)
{
    if (f->n_fields >= CLI_FORM_MAX_FIELDS)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *v = vdup(fmt, ap);
    va_end(ap);
    if (!v)
        return -1;
    f->fields[f->n_fields].label = label;
    f->fields[f->n_fields++].value = v;
    return 0;
}

/* add_row - append a table row of n_cols cells; -1 when full or out of memory */
static int add_row(cli_form_t *f, const char *const *cells)
{
    if (f->n_rows >= CLI_FORM_MAX_ROWS)
        return -1;
    for (int c = 0; c < f->n_cols; c++)
        if (!(f->cells[f->n_rows][c] = strdup(cells[c] ? cells[c] : "")))
            return -1;
    f->n_rows++;
    return 0;
}

/* form_clear - free the model's strings */
static void form_clear(cli_form_t *f)
{
    for (int i = 0; i < f->n_fields; i++)
        free(f->fields[i].value);
    for (int r = 0; r < CLI_FORM_MAX_ROWS; r++)
        for (int c = 0; c < CLI_FORM_MAX_COLS; c++)
            free(f->cells[r][c]);
}

/* set_table - the table's caption and header (n <= CLI_FORM_MAX_COLS) */
static void set_table(cli_form_t *f, const char *caption, const char *const *cols, int n)
{
    f->table_caption = caption;
    f->n_cols = n;
    for (int c = 0; c < n; c++)
        f->cols[c] = cols[c];
}

/* --- values ----------------------------------------------------------------- */

/* when - "HH giờ MM phút, ngày DD/MM/YYYY", or "-" for 0 */
static const char *when(int64_t t, char *buf, size_t size)
{
    if (t <= 0)
        return "-";
    return mc_format_local(t, buf, (unsigned)size);
}

/* applicant_text - the person, or the organisation and who filed for it */
static const char *applicant_text(const Motcua__V1__Applicant *a, char *buf, size_t size)
{
    snprintf(buf, size, "-");
    if (a && a->kind_case == MOTCUA__V1__APPLICANT__KIND_PERSON && a->person)
        snprintf(buf, size, "%s", a->person->full_name);
    else if (a && a->kind_case == MOTCUA__V1__APPLICANT__KIND_ORGANIZATION && a->organization)
        snprintf(buf, size, "%s (người nộp: %s)", a->organization->name,
                 a->organization->filed_by ? a->organization->filed_by->full_name : "-");
    return buf;
}

/* applicant_name - the applicant of the form's dossier */
static const char *applicant_name(const form_src_t *s, char *buf, size_t size)
{
    return applicant_text(s->dossier->applicant, buf, size);
}

/* procedure_name - the catalog's name, else the code */
static const char *procedure_name(const form_src_t *s)
{
    return s->proc && s->proc->name ? s->proc->name : s->data->procedure_code;
}

/* head - the parts every form shares: header, code, applicant, procedure */
static int head(cli_form_t *f, const form_src_t *s, const char *number, const char *title,
                int64_t dated)
{
    char name[640];
    f->number = number;
    f->title = title;
    snprintf(f->code, sizeof f->code, "%s", s->data->code);
    snprintf(f->agency, sizeof f->agency, "%s", s->ward ? s->ward->name : s->data->ward_code);
    snprintf(f->unit, sizeof f->unit, "%s",
             s->ward && s->ward->unit_name ? s->ward->unit_name : s->data->unit_id);
    mc_date_t d = mc_date_of(dated > 0 ? dated : s->data->taken_at, NULL);
    snprintf(f->place_date, sizeof f->place_date, "%s, ngày %02d tháng %02d năm %04d",
             s->ward ? s->ward->name : s->data->ward_code, d.day, d.month, d.year);
    const char *addr = s->dossier->applicant ? s->dossier->applicant->address : NULL;
    if (add_field(f, "Ông/Bà", "%s", applicant_name(s, name, sizeof name)) ||
        add_field(f, "Địa chỉ", "%s", addr && *addr ? addr : "-") ||
        add_field(f, "Nội dung yêu cầu giải quyết", "%s (mã thủ tục %s)", procedure_name(s),
                  s->data->procedure_code))
        return -1;
    return 0;
}

/* case_result - the unpacked result of a case (free it), NULL if none */
static Motcua__V1__CaseResult *case_result(const mc_form_case_t *c)
{
    if (!c->result)
        return NULL;
    return motcua__v1__case_result__unpack(NULL, c->result_len, c->result);
}

/* last_case_with - the highest step answered with outcome, NULL if none */
static const mc_form_case_t *last_case_with(const mc_form_data_t *d, int outcome)
{
    const mc_form_case_t *found = NULL;
    for (size_t i = 0; i < d->n_cases; i++)
        if (d->cases[i].outcome == outcome && d->cases[i].result)
            found = &d->cases[i];
    return found;
}

/* last_event - the latest event of this kind, NULL if none */
static const mc_form_event_t *last_event(const mc_form_data_t *d, const char *kind)
{
    const mc_form_event_t *found = NULL;
    for (size_t i = 0; i < d->n_events; i++)
        if (strcmp(d->events[i].kind, kind) == 0)
            found = &d->events[i];
    return found;
}

/* the stored receipt, or NULL */
static const Motcua__V1__Receipt *stored_receipt(const form_src_t *s)
{
    if (s->reply && s->reply->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT)
        return s->reply->receipt;
    return NULL;
}

/* first_due - the appointment of the receipt (before any re-appointment) */
static int64_t first_due(const form_src_t *s)
{
    const Motcua__V1__Receipt *r = stored_receipt(s);
    return r && r->due_at ? r->due_at : s->data->due_at;
}

/* judge - "Trước hạn", "Đúng hạn", "Quá hạn" for a step done at `done` due `due` */
static const char *judge(int64_t done, int64_t due, int64_t now)
{
    if (due <= 0)
        return done > 0 ? "Đã xong (không có hạn riêng)" : "Chưa tới lượt";
    if (done <= 0)
        return now > due ? "Quá hạn (chưa xong)" : "Đang giải quyết, trong hạn";
    if (done > due)
        return "Quá hạn";
    mc_date_t a = mc_date_of(done, NULL), b = mc_date_of(due, NULL);
    bool same_day = a.year == b.year && a.month == b.month && a.day == b.day;
    return same_day ? "Đúng hạn" : "Trước hạn";
}

/* --- the forms ------------------------------------------------------------- */

/* documents_table - the dossier's documents as the table (name, hình thức,
 * copies); *total = the copies handed in */
static int documents_table(cli_form_t *f, const form_src_t *s, const char *caption,
                           unsigned *total)
{
    static const char *const cols[4] = {"STT", "Tên giấy tờ", "Hình thức", "Số lượng"};
    set_table(f, caption, cols, 4);
    *total = 0;
    for (size_t i = 0; i < s->dossier->n_documents; i++) {
        const Motcua__V1__DocumentRef *doc = s->dossier->documents[i];
        char n[24], copies[16];
        unsigned k = doc->copies ? doc->copies : 1;
        *total += k;
        snprintf(n, sizeof n, "%zu", i + 1);
        snprintf(copies, sizeof copies, "%02u", k);
        const char *cells[4] = {n, doc->name, cli_form_label(doc->form), copies};
        if (add_row(f, cells))
            return -1;
    }
    return 0;
}

/* build_receipt - Mẫu số 01 */
static int build_receipt(cli_form_t *f, const form_src_t *s)
{
    const mc_form_data_t *d = s->data;
    const Motcua__V1__Receipt *r = stored_receipt(s);
    char t1[96], t2[96], time_text[64];
    if (head(f, s, "Mẫu số 01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", d->received_at))
        return -1;
    /* boundary-free reception (Nghị định 118/2025 Điều 14, 20): the stored receipt names
     * the point that received it; the code and the dossier belong to the competent unit */
    bool elsewhere = r && r->receiving_unit_code && *r->receiving_unit_code &&
                     strcmp(r->receiving_unit_code, d->unit_id) != 0;
    if (add_field(f, "Cơ quan tiếp nhận", "%s (mã định danh %s)",
                  elsewhere && r->receiving_unit_name ? r->receiving_unit_name : f->unit,
                  elsewhere ? r->receiving_unit_code : d->unit_id) ||
        (elsewhere && add_field(f, "Cơ quan có thẩm quyền giải quyết", "%s (mã định danh %s)",
                                f->unit, d->unit_id)) ||
        add_field(f, "Kênh tiếp nhận", "%s", cli_channel_label(d->channel)))
        return -1;
    unsigned total = 0;
    if (documents_table(f, s, "1. Thành phần hồ sơ nộp gồm:", &total))
        return -1;
    const char *ptime = r && r->processing_time && *r->processing_time ? r->processing_time
                        : s->proc ? mc_procedure_time_text(s->proc, time_text, sizeof time_text)
                                  : "-";
    const char *due = r && r->due_text && *r->due_text ? r->due_text : when(d->due_at, t2, sizeof t2);
    char pending[240];
    if (d->state == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_PENDING_ACCEPTANCE) {
        /* Nghị định 118/2025 Điều 17: no appointment before the desk accepts it */
        const char *by = r && r->accept_due_text && *r->accept_due_text ? r->accept_due_text : "-";
        snprintf(pending, sizeof pending, "chưa có - hồ sơ trực tuyến chờ tiếp nhận (hạn tiếp nhận "
                 "%s); thời hạn giải quyết tính từ khi tiếp nhận", by);
        due = pending;
    }
    const char *delivery = s->dossier->delivery && *s->dossier->delivery ? s->dossier->delivery
                           : s->ward && s->ward->address ? s->ward->address : "-";
    if (add_field(f, "2. Số lượng hồ sơ", "%02u", total) ||
        add_field(f, "3. Thời gian giải quyết hồ sơ theo quy định", "%s", ptime) ||
        add_field(f, "4. Thời gian nhận hồ sơ", "%s", when(d->received_at, t1, sizeof t1)) ||
        add_field(f, "5. Thời gian trả kết quả giải quyết hồ sơ", "%s", due) ||
        add_field(f, "6. Nơi trả kết quả", "%s", r && r->delivery && *r->delivery ? r->delivery
                                                                                 : delivery) ||
        add_field(f, "7. Phí, lệ phí", "%llu đồng",
                  (unsigned long long)(r ? r->fee_vnd : s->proc ? s->proc->fee_vnd : 0)) ||
        add_field(f, "Người tiếp nhận", "%s", r && r->received_by && *r->received_by
                                                   ? r->received_by
                                                   : "Hệ thống tiếp nhận trực tuyến"))
        return -1;
    f->sign_left = "NGƯỜI NỘP HỒ SƠ";
    f->sign_right = "NGƯỜI TIẾP NHẬN HỒ SƠ";
    return 0;
}

/* answer_head - head() plus the receipt date and the answering agency, dated by event_kind */
static int answer_head(cli_form_t *f, const form_src_t *s, const char *number, const char *title,
                       const mc_form_case_t *c, const char *event_kind, const char *who)
{
    const mc_form_event_t *e = last_event(s->data, event_kind);
    char t[96];
    if (head(f, s, number, title, e ? e->at : c->done_at) ||
        add_field(f, "Ngày nhận hồ sơ", "%s", when(s->data->received_at, t, sizeof t)) ||
        add_field(f, who, "%s (bước %d/%d)", c->agency, c->step, c->steps_total))
        return -1;
    return 0;
}

/* answer_done - the common end of the forms built from an agency's answer */
static int answer_done(cli_form_t *f, Motcua__V1__CaseResult *res, int rc, const char *sign)
{
    motcua__v1__case_result__free_unpacked(res, NULL);
    f->sign_right = sign;
    return rc ? -1 : 0;
}

/* build_supplement - Mẫu số 02, from the last NEEDS_DOCUMENTS answer */
static int build_supplement(cli_form_t *f, const form_src_t *s)
{
    const mc_form_case_t *c = last_case_with(s->data, MOTCUA__V1__OUTCOME__OUTCOME_NEEDS_DOCUMENTS);
    if (!c)
        return 1;
    Motcua__V1__CaseResult *res = case_result(c);
    if (!res)
        return -1;
    int rc = answer_head(f, s, "Mẫu số 02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", c,
                         "supplement_requested", "Cơ quan yêu cầu");
    static const char *const cols[3] = {"STT", "Giấy tờ cần bổ sung, hoàn thiện", "Lý do"};
    set_table(f, "Yêu cầu bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:", cols, 3);
    for (size_t i = 0; rc == 0 && i < res->n_missing; i++) {
        char n[24];
        snprintf(n, sizeof n, "%zu", i + 1);
        const char *cells[3] = {n, res->missing[i]->name, res->missing[i]->reason};
        rc = add_row(f, cells);
    }
    if (rc == 0)
        rc = add_field(f, "Ghi chú", "%s",
                       "Thời gian giải quyết tạm dừng cho tới khi nhận đủ giấy tờ bổ sung; "
                       "nộp bổ sung với mã hồ sơ trên.");
    char due[80];
    if (rc == 0 && s->data->supplement_due_at > 0) /* the one request's deadline (0015) */
        rc = add_field(f, "Thời hạn bổ sung", "đến %s; quá thời hạn này hồ sơ được trả lại",
                       mc_format_local(s->data->supplement_due_at, due, sizeof due));
    return answer_done(f, res, rc, "NGƯỜI HƯỚNG DẪN");
}

/* build_refusal - Mẫu số 03, from the REJECTED answer */
static int build_refusal(cli_form_t *f, const form_src_t *s)
{
    const mc_form_case_t *c = last_case_with(s->data, MOTCUA__V1__OUTCOME__OUTCOME_REJECTED);
    if (!c || s->data->state != MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_REFUSED)
        return 1;
    Motcua__V1__CaseResult *res = case_result(c);
    if (!res)
        return -1;
    int rc = answer_head(f, s, "Mẫu số 03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", c,
                         "refused", "Cơ quan từ chối");
    if (rc == 0)
        rc = add_field(f, "Lý do từ chối", "%s", res->reason && *res->reason ? res->reason : "-") ||
             add_field(f, "Xin thông báo", "%s",
                       "hồ sơ không đủ điều kiện giải quyết vì lý do trên; "
                       "xin trân trọng thông báo để Ông/Bà biết.");
    return answer_done(f, res, rc, "NGƯỜI TIẾP NHẬN HỒ SƠ");
}

/* build_extension_apology - Mẫu số 04 issued before the due date for the agency's
 * extension (Nghị định 118/2025 Điều 19(6)): its reason, old and new appointment */
static int build_extension_apology(cli_form_t *f, const form_src_t *s)
{
    const mc_form_data_t *d = s->data;
    char t1[96], t2[96], t3[96], t4[96];
    int64_t letter = d->apology_at ? d->apology_at : d->extended_at;
    int64_t old_due = d->extension_old_due ? d->extension_old_due : first_due(s);
    int64_t new_due = d->extension_new_due ? d->extension_new_due : d->due_at;
    if (head(f, s, "Mẫu số 04", "VĂN BẢN XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", letter) ||
        add_field(f, "Ngày nhận hồ sơ", "%s", when(d->received_at, t1, sizeof t1)) ||
        add_field(f, "Hẹn trả kết quả (hẹn cũ)", "%s", when(old_due, t2, sizeof t2)) ||
        add_field(f, "Lý do chưa trả kết quả đúng hẹn", "%s",
                  *d->extension_reason ? d->extension_reason : "-") ||
        add_field(f, "Xin lỗi", "%s",
                  "Bộ phận Một cửa xin lỗi Ông/Bà vì hồ sơ chưa thể giải quyết đúng hẹn "
                  "và xin hẹn lại ngày trả kết quả như sau.") ||
        add_field(f, "Hẹn lại ngày trả kết quả", "%s", when(new_due, t3, sizeof t3)) ||
        add_field(f, "Ngày lập văn bản", "%s", when(letter, t4, sizeof t4)))
        return -1;
    f->sign_right = "THỦ TRƯỞNG CƠ QUAN";
    return 0;
}

/* build_apology - Mẫu số 04: for the extension when one was granted, else once a
 * late notice was recorded */
static int build_apology(cli_form_t *f, const form_src_t *s)
{
    const mc_form_data_t *d = s->data;
    if (d->extended_at > 0)
        return build_extension_apology(f, s);
    const mc_form_event_t *e = last_event(d, "late");
    if (!e)
        return 1;
    char t1[96], t2[96], t3[96], why[256] = "";
    for (size_t i = 0; i < d->n_cases && !*why; i++) {
        const mc_form_case_t *c = &d->cases[i];
        int64_t end = c->done_at ? c->done_at : e->at;
        if (c->due_at > 0 && end > c->due_at)
            snprintf(why, sizeof why, "bước %d/%d tại %s quá hạn của bước", c->step,
                     c->steps_total, c->agency);
    }
    int64_t before = first_due(s);
    bool moved = d->due_at != before;
    if (head(f, s, "Mẫu số 04", "VĂN BẢN XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", e->at) ||
        add_field(f, "Ngày nhận hồ sơ", "%s", when(d->received_at, t1, sizeof t1)) ||
        add_field(f, "Hẹn trả kết quả (theo Giấy tiếp nhận)", "%s", when(before, t2, sizeof t2)) ||
        add_field(f, "Lý do quá hạn", "%s", *why ? why : "hồ sơ chưa giải quyết xong đúng hẹn") ||
        add_field(f, "Xin lỗi", "%s",
                  "Bộ phận Một cửa xin lỗi Ông/Bà vì hồ sơ chưa được giải quyết đúng hẹn.") ||
        add_field(f, "Hẹn lại ngày trả kết quả", "%s",
                  moved ? when(d->due_at, t3, sizeof t3) : "chưa hẹn lại (sẽ thông báo sau)"))
        return -1;
    f->sign_right = "THỦ TRƯỞNG CƠ QUAN";
    return 0;
}

/* build_stop - Mẫu số 05: processing stopped, because the applicant withdrew
 * the dossier or because it was returned, not supplemented in time (the
 * `returned` event, Nghị định 118/2025 Điều 19 khoản 5); the documents go back */
static int build_stop(cli_form_t *f, const form_src_t *s)
{
    const mc_form_data_t *d = s->data;
    const mc_form_event_t *e = last_event(d, "returned");
    const char *why = "Hồ sơ không được bổ sung, hoàn thiện trong thời hạn đã yêu cầu";
    if (!e && d->state == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_WITHDRAWN) {
        e = last_event(d, "withdrawn");
        why = "Theo đề nghị rút hồ sơ của người nộp";
    }
    if (!e)
        return 1;
    char t1[96], t2[96], t3[96];
    unsigned total = 0;
    if (head(f, s, "Mẫu số 05", "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ", e->at) ||
        add_field(f, "Ngày nhận hồ sơ", "%s", when(d->received_at, t1, sizeof t1)) ||
        add_field(f, "Hẹn trả kết quả", "%s", when(d->due_at, t2, sizeof t2)) ||
        add_field(f, "Thời điểm dừng giải quyết", "%s", when(e->at, t3, sizeof t3)) ||
        add_field(f, "Lý do dừng giải quyết", "%s%s%s", why, *e->detail ? ": " : "", e->detail) ||
        add_field(f, "Xin thông báo", "%s",
                  "hồ sơ trên dừng giải quyết; Ông/Bà nhận lại các giấy tờ đã nộp "
                  "liệt kê dưới đây.") ||
        documents_table(f, s, "Giấy tờ trả lại người nộp:", &total) ||
        add_field(f, "Số lượng giấy tờ trả lại", "%02u", total))
        return -1;
    f->sign_left = "NGƯỜI NHẬN LẠI HỒ SƠ";
    f->sign_right = "THỦ TRƯỞNG CƠ QUAN";
    return 0;
}

/* control_row - one handover line of Mẫu số 06 */
static int control_row(cli_form_t *f, const char *from, const char *to, int64_t at,
                       const char *verdict, const char *note)
{
    char cell0[1200], t[96];
    snprintf(cell0, sizeof cell0, "Giao: %s\nNhận: %s", from, to);
    const char *cells[4] = {cell0, when(at, t, sizeof t), verdict, note};
    return add_row(f, cells);
}

/* build_control - Mẫu số 06: every handover with its time and verdict */
static int build_control(cli_form_t *f, const form_src_t *s)
{
    const mc_form_data_t *d = s->data;
    char t[96], desk[300], note[320];
    if (head(f, s, "Mẫu số 06", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", d->received_at) ||
        add_field(f, "Thời gian nhận hồ sơ", "%s", when(d->received_at, t, sizeof t)) ||
        add_field(f, "Hẹn trả kết quả", "%s", when(d->due_at, t, sizeof t)) ||
        add_field(f, "Cơ quan (bộ phận) giải quyết", "%s", *d->department ? d->department : "-") ||
        add_field(f, "Trạng thái", "%s", cli_state_label(d->state)))
        return -1;
    static const char *const cols[4] = {"Tên cơ quan", "Thời gian giao, nhận hồ sơ",
                                        "Kết quả giải quyết (trước hạn / đúng hạn / quá hạn)",
                                        "Ghi chú"};
    set_table(f, "Quá trình giao, nhận hồ sơ:", cols, 4);
    const mc_form_event_t *routed = last_event(d, "routed");
    snprintf(desk, sizeof desk, "%s", *d->department ? d->department : "bộ phận giải quyết");
    if (control_row(f, "Người nộp hồ sơ", f->unit, d->received_at, "Đã tiếp nhận",
                    cli_channel_label(d->channel)))
        return -1;
    if (routed && control_row(f, f->unit, desk, routed->at, "Đã chuyển", routed->detail))
        return -1;
    for (size_t i = 0; i < d->n_cases; i++) {
        const mc_form_case_t *c = &d->cases[i];
        char to[160], due[96];
        snprintf(to, sizeof to, "%s (bước %d/%d)", c->agency, c->step, c->steps_total);
        snprintf(note, sizeof note, "%s; hạn bước: %s", c->task, when(c->due_at, due, sizeof due));
        if (control_row(f, desk, to, c->sent_at, judge(c->done_at, c->due_at, d->taken_at), note))
            return -1;
        if (c->done_at && control_row(f, to, desk, c->done_at,
                                      c->outcome == MOTCUA__V1__OUTCOME__OUTCOME_APPROVED
                                          ? "Đã giải quyết"
                                      : c->outcome == MOTCUA__V1__OUTCOME__OUTCOME_REJECTED
                                          ? "Từ chối giải quyết"
                                          : "Yêu cầu bổ sung",
                                      ""))
            return -1;
    }
    if (d->result_at && control_row(f, desk, f->unit, d->result_at,
                                    judge(d->result_at, d->due_at, d->taken_at), "Có kết quả"))
        return -1;
    f->sign_left = "NGƯỜI GIAO";
    f->sign_right = "NGƯỜI NHẬN";
    return 0;
}

/* --- rendering -------------------------------------------------------------- */

/* cli_form_html_escape - the five characters HTML gives meaning to */
void cli_form_html_escape(FILE *out, const char *text)
{
    for (const char *p = text ? text : ""; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        case '\n': fputs("<br>", out); break;
        default: fputc(*p, out);
        }
    }
}

/* render_text - the form as plain text */
static void render_text(FILE *out, const cli_form_t *f)
{
    fprintf(out, "%s\n%s\n%s\n", f->number, f->agency, f->unit);
    fprintf(out, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n");
    fprintf(out, "%s\n\n%s\n", f->place_date, f->title);
    if (*f->code)
        fprintf(out, "Mã hồ sơ: %s\n", f->code);
    fputc('\n', out);
    for (int i = 0; i < f->n_fields; i++)
        fprintf(out, "%s: %s\n", f->fields[i].label, f->fields[i].value);
    if (f->table_caption) {
        fprintf(out, "\n%s\n", f->table_caption);
        for (int c = 0; c < f->n_cols; c++)
            fprintf(out, "%s%s", c ? " | " : "", f->cols[c]);
        fputc('\n', out);
        for (int r = 0; r < f->n_rows; r++) {
            for (int c = 0; c < f->n_cols; c++) {
                fputs(c ? " | " : "", out);
                for (const char *p = f->cells[r][c]; *p; p++)
                    fputs(*p == '\n' ? " → " : (char[]){*p, '\0'}, out);
            }
            fputc('\n', out);
        }
    }
    fprintf(out, "\n%-30s %s\n", f->sign_left ? f->sign_left : "", f->sign_right);
}

/* html_text - one escaped element */
static void html_el(FILE *out, const char *open, const char *text, const char *close)
{
    fputs(open, out);
    cli_form_html_escape(out, text);
    fputs(close, out);
}

/* render_html - the form as one self-contained A4 page */
static void render_html(FILE *out, const cli_form_t *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n", out);
    html_el(out, "<title>", f->title, "</title>\n");
    fputs(f->landscape ? "<style>\n@page { size: A4 landscape; margin: 15mm; }\n"
                       : "<style>\n@page { size: A4; margin: 20mm 15mm 20mm 25mm; }\n", out);
    fputs(""
          "body { font-family: \"Times New Roman\", serif; font-size: 13pt; margin: 0; }\n"
          ".head { width: 100%; border-collapse: collapse; }\n"
          ".head td { text-align: center; vertical-align: top; width: 50%; }\n"
          "h1 { text-align: center; font-size: 14pt; margin: 16pt 0 4pt; }\n"
          ".code { text-align: center; margin: 0 0 12pt; }\n"
          ".num { text-align: right; font-style: italic; }\n"
          ".date { text-align: right; font-style: italic; }\n"
          "p { margin: 3pt 0; }\n"
          ".grid { width: 100%; border-collapse: collapse; margin-top: 6pt; }\n"
          ".grid th, .grid td { border: 1px solid #000; padding: 3pt 5pt; vertical-align: top; }\n"
          ".sign { width: 100%; margin-top: 24pt; }\n"
          ".sign td { text-align: center; font-weight: bold; width: 50%; height: 60pt;"
          " vertical-align: top; }\n"
          "</style>\n</head>\n<body>\n", out);
    html_el(out, "<p class=\"num\">", f->number, "</p>\n");
    fputs("<table class=\"head\"><tr><td>", out);
    html_el(out, "", f->agency, "<br><b>");
    html_el(out, "", f->unit, "</b></td>");
    fputs("<td><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br>"
          "<b>Độc lập - Tự do - Hạnh phúc</b></td></tr></table>\n", out);
    html_el(out, "<p class=\"date\">", f->place_date, "</p>\n");
    html_el(out, "<h1>", f->title, "</h1>\n");
    if (*f->code)
        html_el(out, "<p class=\"code\">Mã hồ sơ: <b>", f->code, "</b></p>\n");
    for (int i = 0; i < f->n_fields; i++) {
        html_el(out, "<p><b>", f->fields[i].label, ":</b> ");
        html_el(out, "", f->fields[i].value, "</p>\n");
    }
    if (f->table_caption) {
        html_el(out, "<p><b>", f->table_caption, "</b></p>\n<table class=\"grid\">\n<tr>");
        for (int c = 0; c < f->n_cols; c++)
            html_el(out, "<th>", f->cols[c], "</th>");
        fputs("</tr>\n", out);
        for (int r = 0; r < f->n_rows; r++) {
            fputs("<tr>", out);
            for (int c = 0; c < f->n_cols; c++)
                html_el(out, "<td>", f->cells[r][c], "</td>");
            fputs("</tr>\n", out);
        }
        fputs("</table>\n", out);
    }
    fputs("<table class=\"sign\"><tr>", out);
    html_el(out, "<td>", f->sign_left ? f->sign_left : "", "</td>");
    html_el(out, "<td>", f->sign_right, "<br><i>(Ký, ghi rõ họ tên)</i></td>");
    fputs("</tr></table>\n</body>\n</html>\n", out);
}

/* --- the command ------------------------------------------------------------ */

/* the kinds, in the order of the usage text */
static const struct {
    const char *kind;                                  /* command-line name */
    int (*build)(cli_form_t *, const form_src_t *);    /* 0 built, 1 does not apply, -1 failed */
    const char *not_applicable;                        /* why it does not apply */
} kinds[] = {
    {"receipt", build_receipt, ""},
    {"supplement", build_supplement, "hồ sơ chưa có yêu cầu bổ sung, hoàn thiện"},
    {"refusal", build_refusal, "hồ sơ không bị từ chối giải quyết"},
    {"apology", build_apology, "hồ sơ chưa được gia hạn và chưa quá hạn lần nào (không có thông báo trễ hạn)"},
    {"stop", build_stop, "hồ sơ không bị dừng giải quyết (không rút, không trả lại)"},
    {"control", build_control, ""},
};

/* print_form - build and print one form for data; exit status */
static int print_form(const mc_cli_ctx_t *ctx, int k, const form_src_t *s, bool html)
{
    static cli_form_t f; /* large: cells are pointers, but 64 x 5 of them */
    memset(&f, 0, sizeof f);
    int rc = kinds[k].build(&f, s);
    if (rc == 0) {
        if (html)
            render_html(stdout, &f);
        else
            render_text(stdout, &f);
    } else if (rc > 0) {
        fprintf(stderr, "%s: form %s: %s\n", ctx->progname, kinds[k].kind, kinds[k].not_applicable);
    } else {
        fprintf(stderr, "%s: form %s: không lập được biểu mẫu (thiếu bộ nhớ hoặc dữ liệu hỏng)\n",
                ctx->progname, kinds[k].kind);
    }
    form_clear(&f);
    return rc == 0 ? MC_CLI_EX_OK : rc > 0 ? MC_CLI_EX_REJECTED : MC_CLI_EX_FAIL;
}

/* load_and_print - read the dossier, unpack what the forms need, print */
static int load_and_print(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg, int k, const char *code,
                          bool html)
{
    mc_store_t *store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s,
                                     cfg->statement_timeout_ms);
    mc_store_set_tcp(store, &cfg->db_tcp);
    if (!store)
        return MC_CLI_EX_FAIL;
    mc_form_data_t *data = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_form_data(store, code, &data, &err);
    mc_store_destroy(&store);
    if (rc == MC_STORE_NOT_FOUND) {
        fprintf(stderr, "%s: form: không có hồ sơ mã %.64s\n", ctx->progname, code);
        return MC_CLI_EX_DATAERR;
    }
    if (rc != MC_STORE_OK) {
        mc_cli_print_err(ctx, &err);
        return MC_CLI_EX_FAIL;
    }
    form_src_t s = {data, cfg, mc_cfg_ward(cfg, data->ward_code),
                    mc_catalog_find(cfg->catalog, data->procedure_code), NULL, NULL};
    s.dossier = motcua__v1__dossier__unpack(NULL, data->payload_len, data->payload);
    if (data->reply)
        s.reply = motcua__v1__intake_reply__unpack(NULL, data->reply_len, data->reply);
    int status = MC_CLI_EX_FAIL;
    if (!s.dossier)
        fprintf(stderr, "%s: form: hồ sơ %.64s có dữ liệu không đọc được\n", ctx->progname, code);
    else
        status = print_form(ctx, k, &s, html);
    if (s.reply)
        motcua__v1__intake_reply__free_unpacked(s.reply, NULL);
    if (s.dossier)
        motcua__v1__dossier__free_unpacked(s.dossier, NULL);
    mc_form_data_destroy(&data);
    return status;
}

/* --- the register (Mẫu số 07) ------------------------------------------------ */

/* short_when - "DD/MM/YYYY HH:MM" for a register cell, "" for 0 */
static const char *short_when(int64_t t, char *buf, size_t size)
{
    if (t <= 0)
        return "";
    int minute = 0;
    mc_date_t d = mc_date_of(t, &minute);
    snprintf(buf, size, "%02d/%02d/%04d %02d:%02d", d.day, d.month, d.year, minute / 60,
             minute % 60);
    return buf;
}

/* register_row - one dossier's line; -1 when full or out of memory */
static int register_row(cli_form_t *f, const mc_cfg_t *cfg, const mc_form_register_row_t *r,
                        size_t index)
{
    Motcua__V1__Dossier *d = motcua__v1__dossier__unpack(NULL, r->payload_len, r->payload);
    const mc_procedure_t *proc = mc_catalog_find(cfg->catalog, r->procedure_code);
    char n[24], name[640], t[5][40];
    const char *addr = d && d->applicant && d->applicant->address ? d->applicant->address : "";
    snprintf(n, sizeof n, "%zu", index + 1);
    const char *cells[13] = {
        n, r->code, proc && proc->name ? proc->name : r->procedure_code, "01",
        d ? applicant_text(d->applicant, name, sizeof name) : "-", addr,
        *r->department ? r->department : "",
        short_when(r->received_at, t[0], sizeof t[0]), short_when(r->due_at, t[1], sizeof t[1]),
        short_when(r->routed_at, t[2], sizeof t[2]), short_when(r->result_at, t[3], sizeof t[3]),
        short_when(r->delivered_at, t[4], sizeof t[4]), cli_state_label(r->state)};
    int rc = add_row(f, cells);
    if (d)
        motcua__v1__dossier__free_unpacked(d, NULL);
    return rc;
}

/* build_register - Mẫu số 07 for ward w, dossiers received on from..to */
static int build_register(cli_form_t *f, const mc_cfg_t *cfg, const mc_ward_t *w,
                          mc_date_t from, mc_date_t to, const mc_form_register_row_t *rows,
                          size_t n)
{
    static const char *const cols[13] = {
        "STT", "Mã hồ sơ", "Tên thủ tục hành chính", "Số lượng hồ sơ (bộ)",
        "Tên cá nhân, tổ chức", "Địa chỉ", "Cơ quan chủ trì giải quyết", "Nhận hồ sơ",
        "Hẹn trả kết quả", "Chuyển hồ sơ đến cơ quan giải quyết",
        "Nhận kết quả từ cơ quan giải quyết", "Trả kết quả cho cá nhân, tổ chức (ký nhận)",
        "Ghi chú"};
    f->number = "Mẫu số 07";
    f->title = "SỔ THEO DÕI HỒ SƠ";
    f->landscape = 1;
    snprintf(f->agency, sizeof f->agency, "%s", w->name);
    snprintf(f->unit, sizeof f->unit, "%s", w->unit_name);
    mc_date_t today = mc_date_of((int64_t)time(NULL), NULL);
    snprintf(f->place_date, sizeof f->place_date, "%s, ngày %02d tháng %02d năm %04d", w->name,
             today.day, today.month, today.year);
    if (add_field(f, "Đơn vị tiếp nhận", "%s (mã định danh %s)", w->unit_name, w->unit_id) ||
        add_field(f, "Thời gian", "từ ngày %02d/%02d/%04d đến ngày %02d/%02d/%04d", from.day,
                  from.month, from.year, to.day, to.month, to.year) ||
        add_field(f, "Tổng số hồ sơ", "%zu", n))
        return -1;
    set_table(f, "Hồ sơ tiếp nhận trong kỳ:", cols, 13);
    for (size_t i = 0; i < n; i++)
        if (register_row(f, cfg, &rows[i], i))
            return -1;
    f->sign_right = "NGƯỜI LẬP SỔ";
    return 0;
}

/* register_dates - --from/--to (default today) into from/to; usage error text or NULL */
static const char *register_dates(const char *a_from, const char *a_to, mc_date_t *from,
                                  mc_date_t *to)
{
    mc_date_t today = mc_date_of((int64_t)time(NULL), NULL);
    *from = *to = today;
    if (a_from && mc_date_parse(a_from, from) != 0)
        return "form register: --from is not a date YYYY-MM-DD";
    if (a_to && mc_date_parse(a_to, to) != 0)
        return "form register: --to is not a date YYYY-MM-DD";
    if (mc_instant_of(*from, 0) > mc_instant_of(*to, 0))
        return "form register: --from is after --to";
    return NULL;
}

/* print_register - read the ward's register and print it; exit status */
static int print_register(const mc_cli_ctx_t *ctx, const mc_cfg_t *cfg, const mc_ward_t *w,
                          mc_date_t from, mc_date_t to, bool html)
{
    mc_store_t *store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s,
                                     cfg->statement_timeout_ms);
    mc_store_set_tcp(store, &cfg->db_tcp);
    if (!store)
        return MC_CLI_EX_FAIL;
    mc_form_register_row_t *rows = NULL;
    size_t n = 0;
    bool more = false;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = mc_store_form_register(store, w->code, mc_instant_of(from, 0),
                                              mc_instant_of(to, 24 * 60), CLI_FORM_MAX_ROWS,
                                              &rows, &n, &more, &err);
    mc_store_destroy(&store);
    if (rc != MC_STORE_OK) {
        mc_cli_print_err(ctx, &err);
        return MC_CLI_EX_FAIL;
    }
    int status = MC_CLI_EX_OK;
    static cli_form_t f; /* large: 500 x 13 cell pointers */
    memset(&f, 0, sizeof f);
    if (more) {
        fprintf(stderr, "%s: form register: hơn %d hồ sơ trong kỳ; hãy thu hẹp --from/--to\n",
                ctx->progname, CLI_FORM_MAX_ROWS);
        status = MC_CLI_EX_REJECTED;
    } else if (build_register(&f, cfg, w, from, to, rows, n) != 0) {
        fprintf(stderr, "%s: form register: không lập được sổ (thiếu bộ nhớ)\n", ctx->progname);
        status = MC_CLI_EX_FAIL;
    } else if (html) {
        render_html(stdout, &f);
    } else {
        render_text(stdout, &f);
    }
    form_clear(&f);
    mc_form_register_destroy(&rows, n);
    return status;
}

/* cli_form_register - `motcua form register WARD [--from D] [--to D] [--format F]` */
static int cli_form_register(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *format = "text", *ward = NULL, *a_from = NULL, *a_to = NULL;
    const mc_cli_opt_t opts[] = {{"--format", &format, 0}, {"--from", &a_from, 0}, {"--to", &a_to, 0}};
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "form", form_usage, opts, 3, NULL, &ward);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (!ward)
        return mc_cli_usage_error(ctx, form_usage, "form register: WARD is required");
    bool html = strcmp(format, "html") == 0;
    if (!html && strcmp(format, "text") != 0)
        return mc_cli_usage_error(ctx, form_usage, "form: --format must be text or html");
    mc_date_t from, to;
    const char *bad = register_dates(a_from, a_to, &from, &to);
    if (bad)
        return mc_cli_usage_error(ctx, form_usage, "%s", bad);
    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config(ctx, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    const mc_ward_t *w = mc_cfg_ward(cfg, ward);
    if (!w)
        status = mc_cli_usage_error(ctx, form_usage, "form register: ward %.40s is not in the configuration",
                                 ward);
    else
        status = print_register(ctx, cfg, w, from, to, html);
    mc_cfg_destroy(&cfg);
    return status;
}

/* cli_form - `motcua form KIND CODE [--format text|html]` */
int cli_form(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *format = "text", *kind = NULL, *code = NULL;
    const mc_cli_opt_t opts[] = {{"--format", &format, 0}};
    if (argc > 0 && argv[0][0] != '-') {
        kind = argv[0];
        argc--;
        argv++;
    }
    if (kind && strcmp(kind, "register") == 0)
        return cli_form_register(ctx, argc, argv);
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "form", form_usage, opts, 1, NULL, &code);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    if (!kind || !code)
        return mc_cli_usage_error(ctx, form_usage, "form: KIND and CODE are required");
    int k = -1;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            k = (int)i;
    if (k < 0)
        return mc_cli_usage_error(ctx, form_usage, "form: unknown KIND %.40s", kind);
    bool html = strcmp(format, "html") == 0;
    if (!html && strcmp(format, "text") != 0)
        return mc_cli_usage_error(ctx, form_usage, "form: --format must be text or html");
    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config(ctx, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    status = load_and_print(ctx, cfg, k, code, html);
    mc_cfg_destroy(&cfg);
    return status;
}
