/*
 * gateway_api - the REST API (docs/gateway.md): each route is one intake
 * exchange on behalf of the bearer token's client, its body and reply in
 * canonical proto3 JSON (mc_pbjson).
 *
 *   POST /v1/dossiers                    SubmitDossier  -> 201 Receipt (200 on a replay)
 *   GET  /v1/dossiers/{code}             StatusQuery    -> 200 DossierStatus
 *   POST /v1/dossiers/{code}/supplement  SupplementDossier -> 200 Acknowledgement
 *   POST /v1/dossiers/{code}/withdraw    WithdrawDossier   -> 200 Acknowledgement
 *   POST /v1/dossiers/{code}/rating      RateService       -> 200 Acknowledgement
 *   GET  /v1/procedures                  CatalogQuery   -> 200 Catalog
 *   GET  /v1/openapi.json, GET /healthz  (no token)
 *
 * Contract: the header `Idempotency-Key` is the request's submission_id and
 * the path's {code} its dossier_code, `X-Dossier-Secret` its secret (token
 * for a rating): each fills the body's field when the body leaves it out,
 * and a body that says otherwise is 400 (nothing sent to intake). A
 * Rejection is the reply body, with the HTTP status of its reason
 * (gw_api_status). A receipt is 201, or 200 when it is a replay: intake
 * answers a replay with the first receipt's bytes, so a receipt received
 * (received_at) more than GW_REPLAY_SKEW_S before the request was sent is
 * one; a replay within that time is answered 201 like the first (docs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway_int.h"
#include "mc_log.h"
#include "mc_pbjson.h"

#define GW_REPLAY_SKEW_S 1 /* clock difference tolerated between gateway and intake hosts */
#define OPENAPI_MAX (4 * 1024 * 1024) /* the OpenAPI document's biggest size */
#define OPENAPI_INSTALLED "/usr/share/doc/motcua/openapi.json" /* the package's copy */

/* gw_api_status - the HTTP status of a Rejection (CONTRACT.md, issue 15) */
int gw_api_status(const Motcua__V1__Rejection *r)
{
    switch (r->reason) {
    case MOTCUA__V1__REASON__REASON_TOO_LARGE:
        return 413;
    case MOTCUA__V1__REASON__REASON_FORBIDDEN:
        return 403;
    case MOTCUA__V1__REASON__REASON_NOT_FOUND:
        return 404;
    case MOTCUA__V1__REASON__REASON_DUPLICATE_SUBMISSION:
    case MOTCUA__V1__REASON__REASON_WRONG_STATE:
    case MOTCUA__V1__REASON__REASON_ALREADY_RATED:
    case MOTCUA__V1__REASON__REASON_SUPPLEMENT_ALREADY_REQUESTED:
        return 409;
    case MOTCUA__V1__REASON__REASON_UNAVAILABLE:
    case MOTCUA__V1__REASON__REASON_SHUTTING_DOWN:
    case MOTCUA__V1__REASON__REASON_INTERNAL:
        return 503;
    default:
        return r->retryable ? 503 : 400;
    }
}

/* reply_rejection - the Rejection with its status (and Retry-After when retryable) */
static int reply_rejection(gw_reply_t *reply, const Motcua__V1__Rejection *r)
{
    int status = gw_api_status(r);
    if (status == 503) {
        char v[16];
        unsigned s = (r->retry_after_ms + 999) / 1000;
        snprintf(v, sizeof v, "%u", s ? s : 1);
        if (gw_reply_header(reply, "Retry-After", v) != 0)
            return -1;
    }
    return gw_reply_message(reply, status, &r->base);
}

/* reply_unavailable - intake did not answer: 503, retry in a second */
static int reply_unavailable(gw_reply_t *reply)
{
    Motcua__V1__Rejection r = MOTCUA__V1__REJECTION__INIT;
    r.reason = MOTCUA__V1__REASON__REASON_UNAVAILABLE;
    r.message = "Hệ thống tiếp nhận tạm thời không trả lời, vui lòng thử lại sau.";
    r.retryable = 1;
    r.retry_after_ms = 1000;
    return reply_rejection(reply, &r);
}

/* reply_problem - a body that did not decode: 400 (413 over the size) naming the field */
static int reply_problem(gw_reply_t *reply, const mc_pbjson_problem_t *p)
{
    static const struct {
        mc_pbjson_error_t error;
        int               reason;
        const char       *text;
    } map[] = {
        {MC_PBJSON_SYNTAX, MOTCUA__V1__REASON__REASON_MALFORMED, "Nội dung không phải JSON hợp lệ"},
        {MC_PBJSON_TOO_LARGE, MOTCUA__V1__REASON__REASON_TOO_LARGE, "Nội dung quá lớn hoặc lồng quá sâu"},
        {MC_PBJSON_UNKNOWN, MOTCUA__V1__REASON__REASON_MALFORMED, "Trường không được hỗ trợ"},
        {MC_PBJSON_TYPE, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, "Giá trị không đúng kiểu"},
        {MC_PBJSON_UTF8, MOTCUA__V1__REASON__REASON_INVALID_UTF8, "Chuỗi không phải UTF-8 hợp lệ"},
        {MC_PBJSON_NOMEM, MOTCUA__V1__REASON__REASON_INTERNAL, "Lỗi hệ thống"},
    };
    int reason = MOTCUA__V1__REASON__REASON_MALFORMED;
    const char *text = "Nội dung không hợp lệ";
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].error == p->error) {
            reason = map[i].reason;
            text = map[i].text;
        }
    char message[1024];
    snprintf(message, sizeof message, "%s%s%s (%s).", text, p->field[0] ? ": " : "", p->field,
             p->message);
    int status = p->error == MC_PBJSON_TOO_LARGE ? 413
               : p->error == MC_PBJSON_NOMEM     ? 503 : 400;
    return gw_reply_error(reply, status, reason, p->field, message);
}

/* decode_body - the request body as a message of type desc (an empty body: all defaults);
 * NULL after the 400 was put in reply */
static ProtobufCMessage *decode_body(gw_t *gw, gw_req_t *req, gw_reply_t *reply,
                                     const ProtobufCMessageDescriptor *desc)
{
    size_t len = 0;
    const char *body = gw_req_body(req, &len);
    ProtobufCMessage *m = NULL;
    mc_pbjson_problem_t problem;
    if (len == 0)
        body = "{}", len = 2;
    if (mc_pbjson_decode(desc, body, len, (size_t)gw->cfg->gateway.max_body_bytes, &m,
                         &problem) != 0) {
        reply_problem(reply, &problem);
        return NULL;
    }
    return m;
}

/* reconcile - a string field of m from the HTTP side (header or path): set it
 * when the body left it empty; 0, or -1 after a 400 when they differ */
static int reconcile(ProtobufCMessage *m, const char *field, const char *value, const char *from,
                     gw_reply_t *reply)
{
    if (!value || !*value)
        return 0;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, field);
    char **slot = (char **)(void *)((char *)m + f->offset);
    if (*slot && **slot) {
        if (strcmp(*slot, value) == 0)
            return 0;
        char message[256];
        snprintf(message, sizeof message, "Trường %s trong nội dung khác với %s.", field, from);
        gw_reply_error(reply, 400, MOTCUA__V1__REASON__REASON_INVALID_FORMAT, field, message);
        return -1;
    }
    char *copy = strdup(value);
    if (!copy)
        return -1;
    if (*slot != f->default_value && *slot != protobuf_c_empty_string)
        free(*slot);
    *slot = copy;
    return 0;
}

/* exchange - send request for the calling client; *reply_out or a 503 in reply */
static int exchange(gw_t *gw, gw_req_t *req, gw_reply_t *reply, Motcua__V1__IntakeRequest *request,
                    Motcua__V1__IntakeReply **out)
{
    const mc_client_t *client = gw_req_client(req);
    if (gw_intake_exchange(gw, client ? client->code : gw->cfg->gateway.public_client, request,
                           out) != 0) {
        *out = NULL;
        return reply_unavailable(reply);
    }
    return 0;
}

/* answer - the reply of intake as HTTP: expected case at status ok, a Rejection
 * by its reason, anything else 502 */
static int answer(gw_reply_t *reply, Motcua__V1__IntakeReply *r, Motcua__V1__IntakeReply__BodyCase ok,
                  int status)
{
    if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION)
        return reply_rejection(reply, r->rejection);
    if (r->body_case != ok)
        return gw_reply_error(reply, 502, MOTCUA__V1__REASON__REASON_INTERNAL, NULL,
                              "Hệ thống tiếp nhận trả lời không đúng loại.");
    /* every case of the oneof is a message pointer at the same place */
    const ProtobufCMessage *body = r->receipt ? &r->receipt->base : NULL;
    switch (ok) {
    case MOTCUA__V1__INTAKE_REPLY__BODY_STATUS:
        body = &r->status->base;
        break;
    case MOTCUA__V1__INTAKE_REPLY__BODY_ACK:
        body = &r->ack->base;
        break;
    case MOTCUA__V1__INTAKE_REPLY__BODY_CATALOG:
        body = &r->catalog->base;
        break;
    default:
        break;
    }
    return gw_reply_message(reply, status, body);
}

/* ask - request to intake, its answer (case ok at status ok_status) as the reply */
static int ask(gw_t *gw, gw_req_t *req, gw_reply_t *reply, Motcua__V1__IntakeRequest *request,
               Motcua__V1__IntakeReply__BodyCase ok, int ok_status)
{
    Motcua__V1__IntakeReply *r = NULL;
    int rc = exchange(gw, req, reply, request, &r);
    if (rc == 0 && r)
        rc = answer(reply, r, ok, ok_status);
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    return rc;
}

/* submit - POST /v1/dossiers */
static int submit(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    ProtobufCMessage *m = decode_body(gw, req, reply, &motcua__v1__submit_dossier__descriptor);
    if (!m)
        return 0;
    int rc = 0;
    Motcua__V1__IntakeReply *r = NULL;
    time_t sent = time(NULL);
    if (reconcile(m, "submission_id", gw_req_header(req, "Idempotency-Key"),
                  "Idempotency-Key", reply) == 0) {
        Motcua__V1__IntakeRequest request = MOTCUA__V1__INTAKE_REQUEST__INIT;
        request.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_SUBMIT;
        request.submit = (Motcua__V1__SubmitDossier *)m;
        if ((rc = exchange(gw, req, reply, &request, &r)) == 0 && r) {
            bool replay = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT &&
                          r->receipt->received_at < (int64_t)sent - GW_REPLAY_SKEW_S;
            rc = answer(reply, r, MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT, replay ? 200 : 201);
        }
    }
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

/* status - GET /v1/dossiers/{code} */
static int status(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    Motcua__V1__StatusQuery q = MOTCUA__V1__STATUS_QUERY__INIT;
    const char *secret = gw_req_header(req, "X-Dossier-Secret");
    q.dossier_code = (char *)gw_req_param(req, "code");
    q.secret = (char *)(secret ? secret : "");
    Motcua__V1__IntakeRequest request = MOTCUA__V1__INTAKE_REQUEST__INIT;
    request.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS;
    request.status = &q;
    return ask(gw, req, reply, &request, MOTCUA__V1__INTAKE_REPLY__BODY_STATUS, 200);
}

/* a follow-up: its body's type, the name of its secret field and its oneof case */
typedef struct followup {
    const ProtobufCMessageDescriptor *desc;   /* SupplementDossier, ... */
    const char                       *secret; /* "secret", "token" for a rating */
    Motcua__V1__IntakeRequest__BodyCase which; /* where it goes in IntakeRequest */
} followup_t;

/* follow_up - POST /v1/dossiers/{code}/{supplement,withdraw,rating} */
static int follow_up(gw_t *gw, gw_req_t *req, gw_reply_t *reply, const followup_t *fu)
{
    ProtobufCMessage *m = decode_body(gw, req, reply, fu->desc);
    if (!m)
        return 0;
    int rc = 0;
    if (reconcile(m, "submission_id", gw_req_header(req, "Idempotency-Key"), "Idempotency-Key",
                  reply) == 0 &&
        reconcile(m, "dossier_code", gw_req_param(req, "code"), "mã hồ sơ trong địa chỉ",
                  reply) == 0 &&
        reconcile(m, fu->secret, gw_req_header(req, "X-Dossier-Secret"), "X-Dossier-Secret",
                  reply) == 0) {
        Motcua__V1__IntakeRequest request = MOTCUA__V1__INTAKE_REQUEST__INIT;
        request.body_case = fu->which;
        /* the oneof's members share one pointer slot: set the one of this case */
        switch (fu->which) {
        case MOTCUA__V1__INTAKE_REQUEST__BODY_SUPPLEMENT:
            request.supplement = (Motcua__V1__SupplementDossier *)m;
            break;
        case MOTCUA__V1__INTAKE_REQUEST__BODY_WITHDRAW:
            request.withdraw = (Motcua__V1__WithdrawDossier *)m;
            break;
        default:
            request.rate = (Motcua__V1__RateService *)m;
            break;
        }
        rc = ask(gw, req, reply, &request, MOTCUA__V1__INTAKE_REPLY__BODY_ACK, 200);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

/* supplement - POST /v1/dossiers/{code}/supplement */
static int supplement(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    static const followup_t fu = {&motcua__v1__supplement_dossier__descriptor, "secret",
                                  MOTCUA__V1__INTAKE_REQUEST__BODY_SUPPLEMENT};
    return follow_up(gw, req, reply, &fu);
}

/* withdraw - POST /v1/dossiers/{code}/withdraw */
static int withdraw(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    static const followup_t fu = {&motcua__v1__withdraw_dossier__descriptor, "secret",
                                  MOTCUA__V1__INTAKE_REQUEST__BODY_WITHDRAW};
    return follow_up(gw, req, reply, &fu);
}

/* rating - POST /v1/dossiers/{code}/rating */
static int rating(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    static const followup_t fu = {&motcua__v1__rate_service__descriptor, "token",
                                  MOTCUA__V1__INTAKE_REQUEST__BODY_RATE};
    return follow_up(gw, req, reply, &fu);
}

/* procedures - GET /v1/procedures[?procedureCode=C]: the catalog */
static int procedures(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    Motcua__V1__CatalogQuery q = MOTCUA__V1__CATALOG_QUERY__INIT;
    const char *code = gw_req_query(req, "procedureCode");
    if (!code)
        code = gw_req_query(req, "procedure_code");
    q.procedure_code = (char *)(code ? code : "");
    Motcua__V1__IntakeRequest request = MOTCUA__V1__INTAKE_REQUEST__INIT;
    request.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_CATALOG;
    request.catalog = &q;
    return ask(gw, req, reply, &request, MOTCUA__V1__INTAKE_REPLY__BODY_CATALOG, 200);
}

/* healthz - GET /healthz: the process serves (intake's health is intake's) */
static int healthz(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    (void)gw;
    (void)req;
    static const char ok[] = "{\"status\":\"ok\"}";
    return gw_reply_body(reply, "application/json; charset=utf-8", ok, sizeof ok - 1);
}

/* read_file - a whole file, malloc'd; NULL when it cannot be read */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(OPENAPI_MAX + 1);
    size_t n = buf ? fread(buf, 1, OPENAPI_MAX + 1, f) : 0;
    bool bad = ferror(f) || n > OPENAPI_MAX;
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* openapi - GET /v1/openapi.json: gateway.openapi_file, else the package's copy */
static int openapi(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    (void)req;
    size_t len = 0;
    char *doc = read_file(gw->cfg->gateway.openapi_file, &len);
    if (!doc)
        doc = read_file(OPENAPI_INSTALLED, &len);
    if (!doc)
        return gw_reply_error(reply, 404, MOTCUA__V1__REASON__REASON_NOT_FOUND, NULL,
                              "Chưa có tài liệu OpenAPI (gateway.openapi_file).");
    return gw_reply_take(reply, "application/json; charset=utf-8", doc, len);
}

/* gw_api_register - the API's routes */
int gw_api_register(gw_t *gw, mc_err_t *err)
{
    static const gw_route_t routes[] = {
        {"GET", "/healthz", healthz, GW_ROUTE_PUBLIC | GW_ROUTE_API},
        {"GET", "/v1/openapi.json", openapi, GW_ROUTE_PUBLIC},
        {"POST", "/v1/dossiers", submit, GW_ROUTE_JSON | GW_ROUTE_API},
        {"GET", "/v1/dossiers/{code}", status, GW_ROUTE_API},
        {"POST", "/v1/dossiers/{code}/supplement", supplement, GW_ROUTE_JSON | GW_ROUTE_API},
        {"POST", "/v1/dossiers/{code}/withdraw", withdraw, GW_ROUTE_JSON | GW_ROUTE_API},
        {"POST", "/v1/dossiers/{code}/rating", rating, GW_ROUTE_JSON | GW_ROUTE_API},
        /* public information: without a token it is asked as gateway.public_client */
        {"GET", "/v1/procedures", procedures, GW_ROUTE_PUBLIC | GW_ROUTE_API},
    };
    if (gw_routes_add(gw, routes, sizeof routes / sizeof routes[0]) != 0) {
        mc_err_add(err, "gateway: the route table is full");
        return -1;
    }
    return 0;
}
