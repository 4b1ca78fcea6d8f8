/*
 * mc_validate - is an untrusted request acceptable? (contract in mc_validate.h)
 *
 * Every bound below is the one documented in the proto/motcua/v1 files; keep
 * them in step. Messages are Vietnamese because the applicant reads them.
 */
#include "mc_validate.h"
#include "mc_limits.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_NAME      200
#define MAX_ORG_NAME  300
#define MAX_ADDRESS   500
#define MAX_NOTE      2000
#define MAX_DELIVERY  200
#define MAX_DOC_NAME  255
#define MAX_DOC_TYPE  64
#define MAX_URI       2048
#define MAX_DOC_SIZE  (100ull * 1024 * 1024)
#define MAX_COPIES    100
#define MAX_PAGES     10000 /* DocumentRef.pages: pages of the original */

/* mc_problem_set - fill a problem and return -1 */
int mc_problem_set(mc_problem_t *problem, Motcua__V1__Reason reason, const char *field,
                   const char *fmt, ...)
{
    problem->reason = reason;
    problem->n_missing = 0;
    snprintf(problem->field, sizeof problem->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem->message, sizeof problem->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* mc_valid_utf8 - strict UTF-8 */
bool mc_valid_utf8(const char *text, size_t length)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < length) {
        unsigned c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        int n;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07;
        else
            return false;
        for (int k = 1; k <= n; k++) {
            if (i + (size_t)k >= length || (s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += (size_t)n + 1;
    }
    return true;
}

/* all_digits - exactly n ASCII digits */
static bool all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* mc_valid_citizen_id - 12 digits: province 001..096, century/sex, year, serial */
bool mc_valid_citizen_id(const char *text)
{
    if (!text || !all_digits(text, 12))
        return false;
    int province = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
    /* Thông tư 07/2016/TT-BCA: province codes 001..096; 4th digit century+sex 0..9 */
    return province >= 1 && province <= 96;
}

/* mc_valid_phone - 0 or +84, then a mobile (9 digits, 3/5/7/8/9...) or a
 * landline (10 digits starting with 2), the numbering since 2017-2018 */
bool mc_valid_phone(const char *text)
{
    if (!text)
        return false;
    const char *rest;
    if (text[0] == '0')
        rest = text + 1;
    else if (strncmp(text, "+84", 3) == 0)
        rest = text + 3;
    else
        return false;
    if (all_digits(rest, 9))
        return rest[0] >= '3' && rest[0] <= '9';
    return all_digits(rest, 10) && rest[0] == '2';
}

/* mc_valid_email - a deliberately plain check: one @, dot in domain, no spaces */
bool mc_valid_email(const char *text)
{
    if (!text)
        return false;
    size_t n = strlen(text);
    if (n < 6 || n > 254)
        return false;
    const char *at = strchr(text, '@');
    if (!at || at == text || strchr(at + 1, '@') || at - text > 64)
        return false;
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("()<>,;:\\\"[]", *p))
            return false;
    const char *dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1] != '\0' && strlen(dot + 1) >= 2 &&
           !strstr(at + 1, "..");
}

/* mc_valid_enterprise_code - 10 digits, or 10-3 for a branch */
bool mc_valid_enterprise_code(const char *text)
{
    if (!text)
        return false;
    size_t n = strlen(text);
    if (n == 10)
        return all_digits(text, 10);
    if (n == 14 && text[10] == '-') {
        char head[11];
        memcpy(head, text, 10);
        head[10] = '\0';
        return all_digits(head, 10) && all_digits(text + 11, 3);
    }
    return false;
}

/* mc_valid_submission_id - 8..64 of [A-Za-z0-9._:-] */
bool mc_valid_submission_id(const char *text)
{
    if (!text)
        return false;
    size_t n = strlen(text);
    if (n < 8 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)text[i]) && !strchr("._:-", text[i]))
            return false;
    return true;
}

/* token_char - RFC 7230 tchar */
static bool token_char(char c)
{
    return isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c);
}

/* mc_valid_media_type - type/subtype of token characters */
bool mc_valid_media_type(const char *text)
{
    if (!text || strlen(text) > 127)
        return false;
    const char *slash = strchr(text, '/');
    if (!slash || slash == text || slash[1] == '\0')
        return false;
    for (const char *p = text; *p; p++)
        if (p != slash && !token_char(*p))
            return false;
    return true;
}

/* mc_valid_uri - scheme ":" then printable ASCII without spaces */
bool mc_valid_uri(const char *text)
{
    if (!text)
        return false;
    size_t n = strlen(text);
    if (n < 3 || n > MAX_URI || !isalpha((unsigned char)text[0]))
        return false;
    const char *colon = strchr(text, ':');
    if (!colon || colon[1] == '\0')
        return false;
    for (const char *p = text; p < colon; p++)
        if (!isalnum((unsigned char)*p) && !strchr("+.-", *p))
            return false;
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

/* check_text - required/optional UTF-8 string with a byte bound */
static int check_text(const char *value, const char *field, bool required, size_t max,
                      mc_problem_t *problem)
{
    size_t n = value ? strlen(value) : 0;
    if (n == 0) {
        if (required)
            return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD, field,
                                  "Thiếu thông tin bắt buộc: %s.", field);
        return 0;
    }
    if (n > max)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_TOO_LARGE, field,
                              "Trường %s dài quá %zu byte.", field, max);
    if (!mc_valid_utf8(value, n))
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_UTF8, field,
                              "Trường %s không phải văn bản UTF-8 hợp lệ.", field);
    return 0;
}

/* check_person - a natural person at path prefix */
static int check_person(const Motcua__V1__Person *p, const char *prefix, mc_problem_t *problem)
{
    char f[128];
    if (!p)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD, prefix,
                              "Thiếu thông tin người nộp hồ sơ (%s).", prefix);
    snprintf(f, sizeof f, "%s.full_name", prefix);
    if (check_text(p->full_name, f, true, MAX_NAME, problem))
        return -1;
    snprintf(f, sizeof f, "%s.citizen_id", prefix);
    if (check_text(p->citizen_id, f, true, 12, problem) == -1 &&
        problem->reason == MOTCUA__V1__REASON__REASON_MISSING_FIELD)
        return -1;
    if (!mc_valid_citizen_id(p->citizen_id))
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, f,
                              "Số định danh cá nhân phải gồm đúng 12 chữ số, "
                              "3 chữ số đầu là mã tỉnh (001–096).");
    if (p->birth_date && *p->birth_date) {
        mc_date_t d;
        snprintf(f, sizeof f, "%s.birth_date", prefix);
        if (strlen(p->birth_date) != 10 || mc_date_parse(p->birth_date, &d) != 0)
            return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, f,
                                  "Ngày sinh phải có dạng NNNN-TT-NN (ví dụ 1985-03-12).");
    }
    return 0;
}

/* check_applicant - person or organisation, and how to reach them */
static int check_applicant(const Motcua__V1__Applicant *a, mc_problem_t *problem)
{
    if (!a)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD,
                              "dossier.applicant", "Thiếu thông tin người nộp hồ sơ.");
    switch (a->kind_case) {
    case MOTCUA__V1__APPLICANT__KIND_PERSON:
        if (check_person(a->person, "dossier.applicant.person", problem))
            return -1;
        break;
    case MOTCUA__V1__APPLICANT__KIND_ORGANIZATION: {
        const Motcua__V1__Organization *o = a->organization;
        if (check_text(o->name, "dossier.applicant.organization.name", true, MAX_ORG_NAME,
                       problem))
            return -1;
        if (!mc_valid_enterprise_code(o->enterprise_code))
            return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT,
                                  "dossier.applicant.organization.enterprise_code",
                                  "Mã số doanh nghiệp phải gồm 10 chữ số "
                                  "(hoặc 10 chữ số, dấu gạch và 3 chữ số với chi nhánh).");
        if (check_person(o->filed_by, "dossier.applicant.organization.filed_by", problem))
            return -1;
        break;
    }
    default:
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD,
                              "dossier.applicant.person",
                              "Phải khai người nộp là cá nhân hoặc tổ chức.");
    }
    if (check_text(a->phone, "dossier.applicant.phone", true, 16, problem) == -1 &&
        problem->reason == MOTCUA__V1__REASON__REASON_MISSING_FIELD)
        return -1;
    if (!mc_valid_phone(a->phone))
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT,
                              "dossier.applicant.phone",
                              "Số điện thoại không hợp lệ: dạng 0xxxxxxxxx hoặc +84xxxxxxxxx.");
    if (a->email && *a->email && !mc_valid_email(a->email))
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT,
                              "dossier.applicant.email", "Địa chỉ thư điện tử không hợp lệ.");
    return check_text(a->address, "dossier.applicant.address", true, MAX_ADDRESS, problem);
}

/* find_procedure - the catalog's procedure named by code (required) at field */
static int find_procedure(const char *code, const char *field, const mc_cfg_t *cfg,
                          const mc_procedure_t **procedure, mc_problem_t *problem)
{
    if (check_text(code, field, true, MC_PROCEDURE_CODE_LEN, problem))
        return -1;
    *procedure = mc_catalog_find(cfg->catalog, code);
    if (!*procedure)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_UNKNOWN_PROCEDURE, field,
                              "Thủ tục hành chính không có trong danh mục tiếp nhận.");
    return 0;
}

/* mc_validate_catalog_query - an empty code asks for every procedure */
int mc_validate_catalog_query(const Motcua__V1__CatalogQuery *query, const mc_cfg_t *cfg,
                              const mc_procedure_t **procedure, mc_problem_t *problem)
{
    *procedure = NULL;
    if (!query || !query->procedure_code || !*query->procedure_code)
        return 0;
    return find_procedure(query->procedure_code, "catalog.procedure_code", cfg, procedure,
                          problem);
}

/* mc_validate_document - one DocumentRef at list[i] */
int mc_validate_document(const Motcua__V1__DocumentRef *d, const char *list, size_t i,
                         mc_problem_t *problem)
{
    char f[128];
    snprintf(f, sizeof f, "%s[%zu].document_type", list, i);
    size_t tlen = d->document_type ? strlen(d->document_type) : 0;
    if (tlen > MAX_DOC_TYPE)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_TOO_LARGE, f,
                              "Mã loại giấy tờ quá dài.");
    for (size_t k = 0; k < tlen; k++)
        if (!isalnum((unsigned char)d->document_type[k]) && d->document_type[k] != '_')
            return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, f,
                                  "Mã loại giấy tờ chỉ gồm chữ, số và dấu gạch dưới.");
    snprintf(f, sizeof f, "%s[%zu].name", list, i);
    if (check_text(d->name, f, true, MAX_DOC_NAME, problem))
        return -1;
    snprintf(f, sizeof f, "%s[%zu].media_type", list, i);
    if (!mc_valid_media_type(d->media_type))
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, f,
                              "Kiểu tệp (media type) không hợp lệ, ví dụ application/pdf.");
    snprintf(f, sizeof f, "%s[%zu].size_bytes", list, i);
    if (d->size_bytes == 0)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD, f,
                              "Thiếu dung lượng tệp.");
    if (d->size_bytes > MAX_DOC_SIZE)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_TOO_LARGE, f,
                              "Tệp lớn quá 100 MiB.");
    snprintf(f, sizeof f, "%s[%zu].sha256", list, i);
    if (d->sha256.len != 32)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, f,
                              "Mã băm SHA-256 phải dài đúng 32 byte.");
    snprintf(f, sizeof f, "%s[%zu].uri", list, i);
    if (!mc_valid_uri(d->uri))
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, f,
                              "Đường dẫn tệp (URI) không hợp lệ.");
    snprintf(f, sizeof f, "%s[%zu].form", list, i);
    if ((int)d->form < 0 || d->form > MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ELECTRONIC)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, f,
                              "Hình thức giấy tờ không hợp lệ.");
    snprintf(f, sizeof f, "%s[%zu].copies", list, i);
    if (d->copies > MAX_COPIES)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_TOO_LARGE, f,
                              "Số bản quá lớn (tối đa %d).", MAX_COPIES);
    snprintf(f, sizeof f, "%s[%zu].pages", list, i);
    if (d->pages > MAX_PAGES)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_TOO_LARGE, f,
                              "Số trang quá lớn (tối đa %d).", MAX_PAGES);
    return 0;
}

/* missing_documents - every required document the dossier lacks, in the
 * catalog's order: the guidance is given once, so it must be whole (Mẫu 02) */
static int missing_documents(const Motcua__V1__Dossier *d, const mc_procedure_t *proc,
                             mc_problem_t *problem)
{
    const mc_document_req_t *absent[MC_PROBLEM_MAX_MISSING];
    size_t n = 0;
    for (size_t r = 0; r < proc->n_documents && n < MC_PROBLEM_MAX_MISSING; r++) {
        const mc_document_req_t *req = &proc->documents[r];
        if (!req->required)
            continue;
        bool found = false;
        for (size_t i = 0; i < d->n_documents && !found; i++)
            found = strcmp(d->documents[i]->document_type, req->code) == 0;
        if (!found)
            absent[n++] = req;
    }
    if (n == 0)
        return 0;
    if (n == 1) {
        mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_DOCUMENT, "dossier.documents",
                       "Thiếu giấy tờ bắt buộc: %s (mã %s).", absent[0]->name, absent[0]->code);
    } else {
        mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_DOCUMENT, "dossier.documents",
                       "Thiếu %zu giấy tờ bắt buộc:", n);
        size_t used = strlen(problem->message);
        for (size_t i = 0; i < n && used + 1 < sizeof problem->message; i++) {
            int w = snprintf(problem->message + used, sizeof problem->message - used, " %s (mã %s)%s",
                             absent[i]->name, absent[i]->code, i + 1 < n ? ";" : ".");
            if (w < 0 || (size_t)w >= sizeof problem->message - used) {
                problem->message[used] = '\0'; /* the list in Rejection.missing is whole */
                break;
            }
            used += (size_t)w;
        }
    }
    memcpy(problem->missing, absent, n * sizeof absent[0]);
    problem->n_missing = n;
    return -1;
}

/* mc_validate_submit - the whole SubmitDossier against the configuration */
int mc_validate_submit(const Motcua__V1__SubmitDossier *submit, const mc_cfg_t *cfg,
                       const mc_procedure_t **procedure, const mc_ward_t **ward,
                       mc_problem_t *problem)
{
    if (!submit->submission_id || !*submit->submission_id)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD, "submission_id",
                              "Thiếu mã lần nộp (submission_id).");
    if (!mc_valid_submission_id(submit->submission_id))
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, "submission_id",
                              "Mã lần nộp phải dài 8–64 ký tự, gồm chữ, số và . _ : -");
    if (check_text(submit->received_by, "received_by", false, MAX_NAME, problem))
        return -1;
    const Motcua__V1__Dossier *d = submit->dossier;
    if (!d)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD, "dossier",
                              "Thiếu hồ sơ.");
    if (check_text(d->ward_code, "dossier.ward_code", true, MC_WARD_CODE_LEN, problem))
        return -1;
    *ward = mc_cfg_ward(cfg, d->ward_code);
    if (!*ward)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_UNKNOWN_WARD, "dossier.ward_code",
                              "Đơn vị hành chính này không tiếp nhận hồ sơ tại hệ thống.");
    if (find_procedure(d->procedure_code, "dossier.procedure_code", cfg, procedure, problem))
        return -1;
    if (d->channel < MOTCUA__V1__CHANNEL__CHANNEL_DIRECT ||
        d->channel > MOTCUA__V1__CHANNEL__CHANNEL_POSTAL)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_MISSING_FIELD, "dossier.channel",
                              "Phải ghi rõ kênh nộp: trực tiếp, trực tuyến hoặc bưu chính.");
    if (!((*procedure)->channels & MC_CHANNEL_BIT((unsigned)d->channel)))
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_CHANNEL_NOT_ALLOWED,
                              "dossier.channel",
                              "Thủ tục \"%s\" không tiếp nhận qua kênh %s.", (*procedure)->name,
                              d->channel == MOTCUA__V1__CHANNEL__CHANNEL_ONLINE   ? "trực tuyến"
                              : d->channel == MOTCUA__V1__CHANNEL__CHANNEL_DIRECT ? "trực tiếp"
                                                                                  : "bưu chính");
    if (check_applicant(d->applicant, problem))
        return -1;
    size_t max_docs = cfg->intake.max_documents > 0 ? (size_t)cfg->intake.max_documents : 50;
    if (max_docs > MC_MAX_DOCUMENTS_HARD)
        max_docs = MC_MAX_DOCUMENTS_HARD;
    if (d->n_documents > max_docs)
        return mc_problem_set(problem, MOTCUA__V1__REASON__REASON_TOO_LARGE, "dossier.documents",
                              "Hồ sơ có quá nhiều giấy tờ (tối đa %zu).", max_docs);
    for (size_t i = 0; i < d->n_documents; i++)
        if (mc_validate_document(d->documents[i], "dossier.documents", i, problem))
            return -1;
    if (missing_documents(d, *procedure, problem))
        return -1;
    if (check_text(d->note, "dossier.note", false, MAX_NOTE, problem) ||
        check_text(d->delivery, "dossier.delivery", false, MAX_DELIVERY, problem))
        return -1;
    return 0;
}
