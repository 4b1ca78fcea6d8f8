/*
 * mc_openapi - docs/openapi.json from the protobuf-c descriptors (contract
 * in mc_openapi.h).
 *
 * Hand-written: the route table, the error-status table and the three
 * header/path parameters (what the REST door adds to the .proto). Everything
 * under components.schemas is derived from the descriptors, so a field
 * added to a .proto shows up here at the next build, and the test that
 * compares with the committed file fails until docs/openapi.json is
 * regenerated (`make openapi`).
 */
#include "mc_openapi.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mc_json.h"
#include "mc_pbjson.h"
#include "motcua/v1/intake.pb-c.h"

#define SCHEMAS_MAX 128 /* messages and enums one document may reach */
#define DEPTH_MAX   32  /* JSON nesting the writer follows */

/* error statuses: bits of route_t.errors, in the order written */
enum {
    E400 = 1 << 0, E401 = 1 << 1, E403 = 1 << 2, E404 = 1 << 3, E409 = 1 << 4,
    E413 = 1 << 5, E415 = 1 << 6, E429 = 1 << 7, E503 = 1 << 8,
};
#define E_POST (E400 | E401 | E403 | E404 | E409 | E413 | E415 | E429 | E503)
#define E_GET  (E400 | E401 | E403 | E404 | E429 | E503)

/* parameters: bits of route_t.params */
enum { P_CODE = 1 << 0, P_IDEMPOTENCY = 1 << 1, P_SECRET = 1 << 2, P_PROCEDURE = 1 << 3 };

/* one error status of the REST door: the body is always a Rejection */
typedef struct error_status {
    unsigned    bit;         /* E4xx/E5xx */
    const char *status;      /* "400" */
    const char *name;        /* components.responses key */
    const char *description; /* vi / en */
    bool        retry_after; /* a Retry-After header comes with it */
} error_status_t;

static const error_status_t error_statuses[] = {
    {E400, "400", "BadRequest",
     "Yêu cầu sai (JSON hỏng, trường lạ, thiếu hoặc sai trường: REASON_MALFORMED, "
     "REASON_INVALID_*, REASON_MISSING_*, REASON_UNKNOWN_*, REASON_CHANNEL_NOT_ALLOWED, "
     "REASON_TOO_LARGE của một trường) / The request is wrong: fix the field named in "
     "Rejection.field; resending it unchanged gets the same answer.", false},
    {E401, "401", "Unauthorized",
     "Thiếu hoặc sai mã truy cập (Authorization: Bearer) / No valid bearer token.", false},
    {E403, "403", "Forbidden",
     "Không được phép (REASON_FORBIDDEN: phường khác, sai hoặc thiếu mã bí mật của hồ sơ) / "
     "Not allowed: another ward's dossier, or the dossier's secret missing or wrong.", false},
    {E404, "404", "NotFound",
     "Không có hồ sơ với mã này (REASON_NOT_FOUND) / No dossier with that code.", false},
    {E409, "409", "Conflict",
     "Xung đột (REASON_DUPLICATE_SUBMISSION, REASON_WRONG_STATE, REASON_ALREADY_RATED) / "
     "Idempotency-Key reused for other content, or the dossier's state does not allow it.",
     false},
    {E413, "413", "PayloadTooLarge",
     "Nội dung yêu cầu quá lớn / The request body is over the gateway's limit.", false},
    {E415, "415", "UnsupportedMediaType",
     "Sai kiểu nội dung: phải là application/json / Content-Type must be application/json.",
     false},
    {E429, "429", "TooManyRequests",
     "Gửi quá nhiều yêu cầu: thử lại sau Retry-After giây / Rate limited: retry after "
     "Retry-After seconds.", true},
    {E503, "503", "Unavailable",
     "Tạm thời không phục vụ được, không có gì được lưu (REASON_UNAVAILABLE, "
     "REASON_SHUTTING_DOWN, REASON_INTERNAL): gửi lại đúng yêu cầu đó sau Retry-After giây / "
     "Temporarily unavailable, nothing was stored: resend the same request after Retry-After "
     "seconds.", true},
};

/* one REST route (CONTRACT.md, issue 15) */
typedef struct route {
    const char *method;       /* "get", "post" */
    const char *path;         /* "/v1/dossiers/{code}" (routes of one path are adjacent) */
    const char *operation_id; /* unique */
    const char *summary;      /* vi / en, one line */
    const char *description;  /* vi / en */
    const ProtobufCMessageDescriptor *request;  /* JSON body, NULL for none */
    const char *status;       /* success status */
    const char *status_text;  /* its description */
    const char *replay_text;  /* a 200 on replay (idempotent create), NULL for none */
    const ProtobufCMessageDescriptor *response; /* success body, NULL: any JSON / none */
    bool        json_any;     /* response NULL: an application/json object (else no body) */
    unsigned    params;       /* P_* */
    unsigned    errors;       /* E_* */
    bool        open;         /* no bearer token needed */
} route_t;

static const route_t routes[] = {
    {"post", "/v1/dossiers", "submitDossier", "Nộp hồ sơ / Submit a dossier",
     "SubmitDossier. Tiêu đề Idempotency-Key là submission_id: gửi lại cùng khóa và cùng "
     "nội dung được đúng giấy tiếp nhận cũ (200), không tạo hồ sơ thứ hai / The "
     "Idempotency-Key header is the submission_id: a retry with the same key and content "
     "gets the same Receipt (200) and no second dossier.",
     &motcua__v1__submit_dossier__descriptor, "201",
     "Đã tiếp nhận, đã lưu / Received and stored (the Receipt).",
     "Gửi lại cùng khóa: giấy tiếp nhận cũ / A replay: the first Receipt.",
     &motcua__v1__receipt__descriptor, false, P_IDEMPOTENCY, E_POST, false},
    {"get", "/v1/dossiers/{code}", "getDossierStatus", "Tra cứu hồ sơ / Where is this dossier",
     "StatusQuery. Không có X-Dossier-Secret: trạng thái, ngày, thủ tục, kênh, phường; có "
     "mã bí mật đúng: cả lịch sử / Without X-Dossier-Secret: state, dates, procedure, "
     "channel and ward; with the right secret, the history too.",
     NULL, "200", "Trạng thái hồ sơ / The DossierStatus.", NULL,
     &motcua__v1__dossier_status__descriptor, false, P_CODE | P_SECRET, E_GET, false},
    {"post", "/v1/dossiers/{code}/supplement", "supplementDossier",
     "Bổ sung hồ sơ / Supplement a dossier",
     "SupplementDossier; dossierCode lấy từ đường dẫn / dossierCode is the path's code.",
     &motcua__v1__supplement_dossier__descriptor, "200", "Đã bổ sung / The Acknowledgement.",
     NULL, &motcua__v1__acknowledgement__descriptor, false, P_CODE, E_POST, false},
    {"post", "/v1/dossiers/{code}/withdraw", "withdrawDossier", "Rút hồ sơ / Withdraw a dossier",
     "WithdrawDossier; dossierCode lấy từ đường dẫn / dossierCode is the path's code.",
     &motcua__v1__withdraw_dossier__descriptor, "200", "Đã rút / The Acknowledgement.", NULL,
     &motcua__v1__acknowledgement__descriptor, false, P_CODE, E_POST, false},
    {"post", "/v1/dossiers/{code}/rating", "rateService",
     "Đánh giá mức độ hài lòng / Rate the service",
     "RateService; dossierCode lấy từ đường dẫn / dossierCode is the path's code.",
     &motcua__v1__rate_service__descriptor, "200", "Đã ghi nhận đánh giá / The Acknowledgement.",
     NULL, &motcua__v1__acknowledgement__descriptor, false, P_CODE, E_POST, false},
    {"get", "/v1/procedures", "listProcedures",
     "Danh mục thủ tục hành chính / The procedure catalog",
     "CatalogQuery: thủ tục, giấy tờ phải nộp, kênh, phí, thời hạn; đủ để lập một "
     "SubmitDossier hợp lệ / Procedures, required documents, channels, fees and processing "
     "times: enough to build a valid SubmitDossier.",
     NULL, "200", "Danh mục / The Catalog.", NULL, &motcua__v1__catalog__descriptor, false,
     P_PROCEDURE, E_GET, false},
    {"get", "/healthz", "health", "Tình trạng cổng / Gateway health",
     "200 khi cổng phục vụ được / 200 while the gateway serves.", NULL, "200",
     "Đang phục vụ / Serving.", NULL, NULL, false, 0, E503, true},
    {"get", "/v1/openapi.json", "openapi", "Mô tả OpenAPI này / This OpenAPI description",
     "Tài liệu này / This document (docs/openapi.json).", NULL, "200",
     "Mô tả OpenAPI 3.0 / The OpenAPI 3.0 description.", NULL, NULL, true, 0, 0, true},
};

/* the document's own texts */
static const char info_title[] = "motcua REST (motcua-gateway)";
static const char info_description[] =
    "Cửa HTTP/JSON của motcua: cùng hợp đồng với proto/motcua/v1/intake.proto (ZeroMQ), "
    "ánh xạ JSON chuẩn của proto3 / motcua's HTTP/JSON door: the intake contract of "
    "proto/motcua/v1/intake.proto in the canonical proto3 JSON mapping (lowerCamelCase "
    "names, the proto names also accepted on input; enums as names; 64-bit integers as "
    "strings; fields with their default value may be absent). Unknown fields are refused "
    "(400). Every error body is a Rejection. Generated by build/tools/mc-openapi from the "
    "protobuf-c descriptors; the rules of each field are in the .proto comments.";
static const char code_text[] =
    "Mã hồ sơ như in trên giấy tiếp nhận / The dossier code as printed on the receipt.";
static const char idempotency_text[] =
    "submission_id: 8..64 ký tự [A-Za-z0-9._:-], ví dụ một UUID / 8..64 of [A-Za-z0-9._:-], "
    "e.g. a UUID; reuse it for a retry. Hoặc submissionId trong thân; có cả hai thì phải "
    "giống nhau (400) / Or submissionId in the body; when both are given they must match "
    "(else 400).";
static const char procedure_text[] =
    "Mã thủ tục (tùy chọn): chỉ thủ tục này / A procedure code (optional): only that "
    "procedure; an unknown code is 400 REASON_UNKNOWN_PROCEDURE.";
static const char secret_text[] =
    "Mã bí mật của hồ sơ (Receipt.secret), tùy chọn / The dossier's secret (Receipt.secret), "
    "optional: with it, the history too.";
static const char retry_after_text[] =
    "Số giây nên chờ trước khi gửi lại / Seconds to wait before resending.";
static const char bearer_text[] =
    "Mã truy cập của máy khách (clients.yaml token_sha256; motcua token NAME) / The client's "
    "bearer token.";

/* --- a small pretty-printing JSON writer --------------------------------- */

typedef struct jw {
    FILE *out;               /* where the document goes */
    int   depth;             /* open objects/arrays */
    bool  first[DEPTH_MAX];  /* nothing written yet at this depth */
    bool  failed;            /* too deep, or a write error */
} jw_t;

/* jw_item - the separator and indentation before a value, and its key */
static void jw_item(jw_t *w, const char *key)
{
    if (w->depth > 0) {
        if (!w->first[w->depth])
            fputc(',', w->out);
        w->first[w->depth] = false;
        fprintf(w->out, "\n%*s", 2 * w->depth, "");
    }
    if (key) {
        if (mc_json_fputs(w->out, key) != 0)
            w->failed = true;
        fputs(": ", w->out);
    }
}

/* jw_open - start an object ('{') or array ('['), under key when in an object */
static void jw_open(jw_t *w, const char *key, char brace)
{
    jw_item(w, key);
    fputc(brace, w->out);
    if (w->depth + 1 >= DEPTH_MAX) {
        w->failed = true;
        return;
    }
    w->first[++w->depth] = true;
}

/* jw_close - end the innermost object or array */
static void jw_close(jw_t *w, char brace)
{
    bool empty = w->first[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (!empty)
        fprintf(w->out, "\n%*s", 2 * w->depth, "");
    fputc(brace, w->out);
}

/* jw_str - a string value */
static void jw_str(jw_t *w, const char *key, const char *value)
{
    jw_item(w, key);
    if (mc_json_fputs(w->out, value) != 0)
        w->failed = true;
}

/* jw_raw - a literal value: number, true, false */
static void jw_raw(jw_t *w, const char *key, const char *literal)
{
    jw_item(w, key);
    fputs(literal, w->out);
}

/* --- schemas from the descriptors ---------------------------------------- */

/* what components.schemas will hold: messages and enums, by name */
typedef struct schema_set {
    const void *messages[SCHEMAS_MAX]; /* reached ProtobufCMessageDescriptors */
    size_t      n_messages;            /* entries in messages */
    const void *enums[SCHEMAS_MAX];    /* reached ProtobufCEnumDescriptors */
    size_t      n_enums;               /* entries in enums */
    bool        overflow;              /* more than SCHEMAS_MAX */
} schema_set_t;

/* schema_name - the name in components.schemas: the full name without the
 * package ("Receipt", "Outer.Inner") */
static const char *schema_name(const char *full_name, const char *package)
{
    size_t n = package ? strlen(package) : 0;
    if (n && strncmp(full_name, package, n) == 0 && full_name[n] == '.')
        return full_name + n + 1;
    return full_name;
}

/* remember - add item to list (n entries) unless there; true when it was added */
static bool remember(const void **list, size_t *n, const void *item, bool *overflow)
{
    for (size_t i = 0; i < *n; i++)
        if (list[i] == item)
            return false;
    if (*n == SCHEMAS_MAX) {
        *overflow = true;
        return false;
    }
    list[(*n)++] = item;
    return true;
}

/* add_enum - remember an enum once */
static void add_enum(schema_set_t *s, const ProtobufCEnumDescriptor *e)
{
    (void)remember(s->enums, &s->n_enums, e, &s->overflow);
}

/* add_message - remember a message once, and everything its fields reach */
static void add_message(schema_set_t *s, const ProtobufCMessageDescriptor *m)
{
    if (!remember(s->messages, &s->n_messages, m, &s->overflow))
        return;
    for (unsigned i = 0; i < m->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &m->fields[i];
        if (f->type == PROTOBUF_C_TYPE_MESSAGE)
            add_message(s, f->descriptor);
        else if (f->type == PROTOBUF_C_TYPE_ENUM)
            add_enum(s, f->descriptor);
    }
}

/* by_message_name / by_enum_name - qsort: components.schemas in name order */
static int by_message_name(const void *a, const void *b)
{
    const ProtobufCMessageDescriptor *x = *(const void *const *)a;
    const ProtobufCMessageDescriptor *y = *(const void *const *)b;
    return strcmp(schema_name(x->name, x->package_name), schema_name(y->name, y->package_name));
}

/* ref - a {"$ref": "#/components/<kind>/<name>"} object under key */
static void ref(jw_t *w, const char *key, const char *kind, const char *name)
{
    char target[300];
    snprintf(target, sizeof target, "#/components/%s/%s", kind, name);
    jw_open(w, key, '{');
    jw_str(w, "$ref", target);
    jw_close(w, '}');
}

/* field_type - the proto3 JSON schema of one value of field f (not the list) */
static void field_type(jw_t *w, const char *key, const ProtobufCFieldDescriptor *f)
{
    static const struct {
        ProtobufCType type;   /* protobuf-c scalar type */
        const char   *json;   /* JSON type */
        const char   *format; /* OpenAPI format */
    } scalars[] = {
        {PROTOBUF_C_TYPE_INT32, "integer", "int32"},   {PROTOBUF_C_TYPE_SINT32, "integer", "int32"},
        {PROTOBUF_C_TYPE_SFIXED32, "integer", "int32"}, {PROTOBUF_C_TYPE_UINT32, "integer", "uint32"},
        {PROTOBUF_C_TYPE_FIXED32, "integer", "uint32"}, {PROTOBUF_C_TYPE_INT64, "string", "int64"},
        {PROTOBUF_C_TYPE_SINT64, "string", "int64"},   {PROTOBUF_C_TYPE_SFIXED64, "string", "int64"},
        {PROTOBUF_C_TYPE_UINT64, "string", "uint64"},  {PROTOBUF_C_TYPE_FIXED64, "string", "uint64"},
        {PROTOBUF_C_TYPE_FLOAT, "number", "float"},    {PROTOBUF_C_TYPE_DOUBLE, "number", "double"},
        {PROTOBUF_C_TYPE_BOOL, "boolean", NULL},       {PROTOBUF_C_TYPE_STRING, "string", NULL},
        {PROTOBUF_C_TYPE_BYTES, "string", "byte"},
    };
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessageDescriptor *m = f->descriptor;
        ref(w, key, "schemas", schema_name(m->name, m->package_name));
        return;
    }
    if (f->type == PROTOBUF_C_TYPE_ENUM) {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        ref(w, key, "schemas", schema_name(e->name, e->package_name));
        return;
    }
    jw_open(w, key, '{');
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        if (scalars[i].type == f->type) {
            jw_str(w, "type", scalars[i].json);
            if (scalars[i].format)
                jw_str(w, "format", scalars[i].format);
            if (f->type == PROTOBUF_C_TYPE_UINT32 || f->type == PROTOBUF_C_TYPE_FIXED32)
                jw_raw(w, "minimum", "0");
            if (scalars[i].json[0] == 's' && scalars[i].format && scalars[i].format[0] != 'b')
                jw_str(w, "pattern", f->type == PROTOBUF_C_TYPE_UINT64 ||
                                             f->type == PROTOBUF_C_TYPE_FIXED64
                                         ? "^[0-9]+$"
                                         : "^-?[0-9]+$");
        }
    jw_close(w, '}');
}

/* write_oneofs - the message's oneofs (fields sharing a case member),
 * as "x-proto-oneofs": [[json names...], ...]; the description of each in text */
static void write_oneofs(jw_t *w, const ProtobufCMessageDescriptor *m, char *text, size_t size)
{
    bool done[256] = {false};
    bool any = false;
    size_t used = 0;
    text[0] = '\0';
    for (unsigned i = 0; i < m->n_fields && i < 256; i++) {
        const ProtobufCFieldDescriptor *f = &m->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || done[i])
            continue;
        if (!any)
            jw_open(w, "x-proto-oneofs", '[');
        any = true;
        jw_open(w, NULL, '[');
        used += (size_t)snprintf(text + used, used < size ? size - used : 0,
                                 "%sAt most one of:", used ? " " : "");
        for (unsigned k = i; k < m->n_fields && k < 256; k++)
            if ((m->fields[k].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                m->fields[k].quantifier_offset == f->quantifier_offset) {
                char name[128];
                mc_pbjson_name(m->fields[k].name, name, sizeof name);
                jw_str(w, NULL, name);
                used += (size_t)snprintf(text + used, used < size ? size - used : 0, "%s %s",
                                         k == i ? "" : ",", name);
                done[k] = true;
            }
        used += (size_t)snprintf(text + used, used < size ? size - used : 0, " (oneof).");
        jw_close(w, ']');
    }
    if (any)
        jw_close(w, ']');
}

/* write_message - one message's schema */
static void write_message(jw_t *w, const ProtobufCMessageDescriptor *m)
{
    jw_open(w, schema_name(m->name, m->package_name), '{');
    jw_str(w, "type", "object");
    char oneofs[1024];
    write_oneofs(w, m, oneofs, sizeof oneofs);
    char text[1200];
    snprintf(text, sizeof text, "proto: %s%s%s", m->name, oneofs[0] ? ". " : "", oneofs);
    jw_str(w, "description", text);
    jw_open(w, "properties", '{');
    for (unsigned i = 0; i < m->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &m->fields[i];
        char name[128];
        mc_pbjson_name(f->name, name, sizeof name);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            jw_open(w, name, '{');
            jw_str(w, "type", "array");
            field_type(w, "items", f);
            jw_close(w, '}');
        } else {
            field_type(w, name, f);
        }
    }
    jw_close(w, '}');
    jw_close(w, '}');
}

/* write_enum - one enum's schema: its value names */
static void write_enum(jw_t *w, const ProtobufCEnumDescriptor *e)
{
    jw_open(w, schema_name(e->name, e->package_name), '{');
    jw_str(w, "type", "string");
    char text[300];
    snprintf(text, sizeof text, "proto: %s (enum, by value name)", e->name);
    jw_str(w, "description", text);
    jw_open(w, "enum", '[');
    for (unsigned i = 0; i < e->n_values; i++)
        jw_str(w, NULL, e->values[i].name);
    jw_close(w, ']');
    jw_close(w, '}');
}

/* by_enum_name - qsort order of enums */
static int by_enum_name(const void *a, const void *b)
{
    const ProtobufCEnumDescriptor *x = *(const void *const *)a;
    const ProtobufCEnumDescriptor *y = *(const void *const *)b;
    return strcmp(schema_name(x->name, x->package_name), schema_name(y->name, y->package_name));
}

/* write_schemas - every message and enum the routes reach, messages first, each by name */
static int write_schemas(jw_t *w)
{
    static schema_set_t s; /* large; this is a build tool, one call at a time */
    memset(&s, 0, sizeof s);
    add_message(&s, &motcua__v1__rejection__descriptor);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (routes[i].request)
            add_message(&s, routes[i].request);
        if (routes[i].response)
            add_message(&s, routes[i].response);
    }
    if (s.overflow)
        return -1;
    qsort(s.messages, s.n_messages, sizeof s.messages[0], by_message_name);
    qsort(s.enums, s.n_enums, sizeof s.enums[0], by_enum_name);
    jw_open(w, "schemas", '{');
    for (size_t i = 0; i < s.n_messages; i++)
        write_message(w, s.messages[i]);
    for (size_t i = 0; i < s.n_enums; i++)
        write_enum(w, s.enums[i]);
    jw_close(w, '}');
    return 0;
}

/* --- paths and the rest of components ------------------------------------- */

/* json_content - "content": {"application/json": {"schema": $ref or object}} */
static void json_content(jw_t *w, const ProtobufCMessageDescriptor *m)
{
    jw_open(w, "content", '{');
    jw_open(w, "application/json", '{');
    if (m) {
        ref(w, "schema", "schemas", schema_name(m->name, m->package_name));
    } else {
        jw_open(w, "schema", '{');
        jw_str(w, "type", "object");
        jw_close(w, '}');
    }
    jw_close(w, '}');
    jw_close(w, '}');
}

/* write_operation - one route */
static void write_operation(jw_t *w, const route_t *r)
{
    jw_open(w, r->method, '{');
    jw_str(w, "operationId", r->operation_id);
    jw_str(w, "summary", r->summary);
    jw_str(w, "description", r->description);
    if (r->params) {
        static const struct {
            unsigned    bit;  /* P_* */
            const char *name; /* components.parameters key */
        } params[] = {{P_CODE, "DossierCode"}, {P_IDEMPOTENCY, "IdempotencyKey"},
                      {P_SECRET, "DossierSecret"}, {P_PROCEDURE, "ProcedureCode"}};
        jw_open(w, "parameters", '[');
        for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
            if (r->params & params[i].bit)
                ref(w, NULL, "parameters", params[i].name);
        jw_close(w, ']');
    }
    if (r->request) {
        jw_open(w, "requestBody", '{');
        jw_raw(w, "required", "true");
        json_content(w, r->request);
        jw_close(w, '}');
    }
    jw_open(w, "responses", '{');
    if (r->replay_text) { /* "200" sorts before "201" */
        jw_open(w, "200", '{');
        jw_str(w, "description", r->replay_text);
        json_content(w, r->response);
        jw_close(w, '}');
    }
    jw_open(w, r->status, '{');
    jw_str(w, "description", r->status_text);
    if (r->response || r->json_any)
        json_content(w, r->response);
    jw_close(w, '}');
    for (size_t i = 0; i < sizeof error_statuses / sizeof error_statuses[0]; i++)
        if (r->errors & error_statuses[i].bit)
            ref(w, error_statuses[i].status, "responses", error_statuses[i].name);
    jw_close(w, '}');
    if (r->open) {
        jw_open(w, "security", '[');
        jw_close(w, ']');
    }
    jw_close(w, '}');
}

/* write_paths - the route table, routes of one path under one key */
static void write_paths(jw_t *w)
{
    size_t n = sizeof routes / sizeof routes[0];
    jw_open(w, "paths", '{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(routes[i - 1].path, routes[i].path) == 0)
            continue; /* written with the first route of its path */
        jw_open(w, routes[i].path, '{');
        for (size_t k = i; k < n && strcmp(routes[k].path, routes[i].path) == 0; k++)
            write_operation(w, &routes[k]);
        jw_close(w, '}');
    }
    jw_close(w, '}');
}

/* parameter - one components.parameters entry: a string in "path" or "header" */
static void parameter(jw_t *w, const char *key, const char *name, const char *in, bool required,
                      const char *description, const char *pattern, const char *max_length)
{
    jw_open(w, key, '{');
    jw_str(w, "name", name);
    jw_str(w, "in", in);
    jw_raw(w, "required", required ? "true" : "false");
    jw_str(w, "description", description);
    jw_open(w, "schema", '{');
    jw_str(w, "type", "string");
    if (pattern)
        jw_str(w, "pattern", pattern);
    jw_raw(w, "maxLength", max_length);
    jw_close(w, '}');
    jw_close(w, '}');
}

/* write_components_rest - parameters, responses, headers, security schemes */
static void write_components_rest(jw_t *w)
{
    jw_open(w, "parameters", '{');
    parameter(w, "DossierCode", "code", "path", true, code_text, NULL, "64");
    parameter(w, "IdempotencyKey", "Idempotency-Key", "header", false, idempotency_text,
              "^[A-Za-z0-9._:-]{8,64}$", "64");
    parameter(w, "DossierSecret", "X-Dossier-Secret", "header", false, secret_text, NULL, "64");
    parameter(w, "ProcedureCode", "procedureCode", "query", false, procedure_text, NULL, "64");
    jw_close(w, '}');
    jw_open(w, "responses", '{');
    for (size_t i = 0; i < sizeof error_statuses / sizeof error_statuses[0]; i++) {
        const error_status_t *e = &error_statuses[i];
        jw_open(w, e->name, '{');
        jw_str(w, "description", e->description);
        if (e->retry_after) {
            jw_open(w, "headers", '{');
            ref(w, "Retry-After", "headers", "RetryAfter");
            jw_close(w, '}');
        }
        json_content(w, &motcua__v1__rejection__descriptor);
        jw_close(w, '}');
    }
    jw_close(w, '}');
    jw_open(w, "headers", '{');
    jw_open(w, "RetryAfter", '{');
    jw_str(w, "description", retry_after_text);
    jw_open(w, "schema", '{');
    jw_str(w, "type", "integer");
    jw_raw(w, "minimum", "0");
    jw_close(w, '}');
    jw_close(w, '}');
    jw_close(w, '}');
    jw_open(w, "securitySchemes", '{');
    jw_open(w, "bearer", '{');
    jw_str(w, "type", "http");
    jw_str(w, "scheme", "bearer");
    jw_str(w, "description", bearer_text);
    jw_close(w, '}');
    jw_close(w, '}');
}

/* mc_openapi_write - the document */
int mc_openapi_write(FILE *out)
{
    jw_t w = {.out = out};
    jw_open(&w, NULL, '{');
    jw_str(&w, "openapi", "3.0.3");
    jw_open(&w, "info", '{');
    jw_str(&w, "title", info_title);
    jw_str(&w, "version", "1");
    jw_str(&w, "description", info_description);
    jw_close(&w, '}');
    jw_open(&w, "security", '[');
    jw_open(&w, NULL, '{');
    jw_open(&w, "bearer", '[');
    jw_close(&w, ']');
    jw_close(&w, '}');
    jw_close(&w, ']');
    write_paths(&w);
    jw_open(&w, "components", '{');
    if (write_schemas(&w) != 0)
        w.failed = true;
    write_components_rest(&w);
    jw_close(&w, '}');
    jw_close(&w, '}');
    fputc('\n', out);
    return w.failed || ferror(out) ? -1 : 0;
}
