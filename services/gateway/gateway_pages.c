/*
 * gateway_pages - the citizen's pages and the ward's dashboard (issue 15
 * parts 2 and 3): the HTML, CSS and JavaScript under gateway.web_dir, and
 * their JSON backends.
 *
 * Routes (all without a bearer token; docs/web.md):
 *   GET  /  /tra-cuu  /danh-gia  /phuong     the pages (web_dir/<page>.html)
 *   GET  /static/{file}                      CSS, JavaScript (web_dir/static)
 *   GET  /v1/public/csrf                     the double-submit CSRF cookie mc_csrf
 *   POST /v1/public/lookup                   StatusQuery as JSON -> DossierStatus
 *   POST /v1/public/rating                   RateService as JSON -> Acknowledgement (CSRF)
 *   POST /v1/staff/login                     form: username, password (CSRF) -> session cookie
 *   POST /v1/staff/logout                    (session CSRF)
 *   GET  /v1/staff/me                        who is logged in, the session's CSRF token
 *   GET  /v1/staff/report[.csv|.svg]         ?from=&to= | ?quarter=  (&ward= must be one's own)
 *   GET  /v1/staff/open                      the ward's overdue / due-soon list and backlog
 *
 * Contract:
 *   * The public backends act through intake as gateway.public_client (a
 *     portal-role client, IntakeRequest.on_behalf_of): by code alone intake
 *     answers state and dates only; with the dossier's secret, the history.
 *     A secret travels in a POST body, never in a URL (logs, history).
 *   * The staff backends read the store directly under the read-only report
 *     role (database.login.report, role motcua_report): the report is
 *     exactly what `motcua report` writes for the same ward and period (the
 *     same mc_report_run), the overdue list and backlog come from
 *     mc_store_overdue for the staff member's ward only. Another ward is 403.
 *   * CSRF: a state-changing request (rating, login, logout) must carry
 *     X-CSRF-Token equal to the mc_csrf cookie (public) or to the session's
 *     token (staff), and an Origin, when sent, naming this host; cookies are
 *     SameSite=Strict, the session cookie HttpOnly, both Secure under TLS
 *     (gateway.tls_cert_file, or X-Forwarded-Proto: https from a proxy).
 *     Clickjacking: every page says frame-ancestors 'none' (and the server
 *     adds X-Frame-Options: DENY to every reply).
 *   * Logs: one line per login (ward, outcome) and per failed backend call;
 *     never a code, secret, token, username, password or address.
 */
#include "gateway.h"
#include "gateway_pages.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "mc_calendar.h"
#include "mc_json.h"
#include "mc_log.h"
#include "mc_pbjson.h"
#include "mc_report.h"
#include "mc_store_report.h"

#define PAGE_MAX_BYTES  (1024 * 1024) /* the largest file under web_dir served */
#define PUBLIC_MAX_BODY 8192          /* a lookup or rating body */
#define LOGIN_MAX_BODY  1024          /* a login form */
#define OPEN_LIST_MAX   100000        /* open dossiers read for one ward's dashboard */
#define OVERDUE_SHOWN   500           /* overdue / due-soon lines sent to the page */
#define OPEN_HORIZON_S  (10LL * 366 * 86400) /* "every open dossier": due before now + this */

#ifndef MC_WEB_INSTALLED
#define MC_WEB_INSTALLED "/usr/share/motcua/web" /* make install's WEBDIR (the package's) */
#endif

/* the security headers of every page (the server adds nosniff, X-Frame-Options, Referrer-Policy) */
#define PAGE_CSP                                                                              \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "              \
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

/* the module's state (gw_pages_state) */
typedef struct pages {
    gw_staff_t *staff;   /* accounts, sessions, login throttle */
    char       *web_dir; /* where the pages are */
} pages_t;

/* pages_of - this module's state */
static pages_t *pages_of(gw_t *gw)
{
    return gw_pages_state(gw);
}

/* --- small helpers ---------------------------------------------------------- */

#define JSON_TYPE "application/json; charset=utf-8"

/* a JSON body being written */
typedef struct json_out {
    char  *buf; /* what open_memstream gives at fclose */
    size_t len; /* its length */
    FILE  *f;   /* the stream, NULL when it could not be opened */
} json_out_t;

/* json_open - a stream for a JSON body; NULL when out of memory */
static FILE *json_open(json_out_t *j)
{
    j->buf = NULL;
    j->len = 0;
    return j->f = open_memstream(&j->buf, &j->len);
}

/* json_send - close the stream and make it the reply's body; -1 (nothing sent)
 * when the stream failed or written is not 0 */
static int json_send(json_out_t *j, gw_reply_t *reply, int written)
{
    if (!j->f || fclose(j->f) != 0 || written != 0) {
        free(j->buf);
        return -1;
    }
    return gw_reply_take(reply, JSON_TYPE, j->buf, j->len);
}

/* json_message - status and {"message":"<vi>"} (plus "reason" when given) */
static int json_message(gw_reply_t *reply, int status, const char *reason, const char *message)
{
    json_out_t j;
    FILE *f = json_open(&j);
    if (!f)
        return -1;
    fputs("{", f);
    if (reason) {
        fputs("\"reason\":", f);
        mc_json_fputs(f, reason);
        fputs(",", f);
    }
    fputs("\"message\":", f);
    mc_json_fputs(f, message);
    fputs("}", f);
    gw_reply_status(reply, status);
    return json_send(&j, reply, 0);
}

/* secure_cookies - may the cookies say Secure (TLS here or at the proxy)? */
static bool secure_cookies(gw_t *gw, gw_req_t *req)
{
    const char *proto = gw_req_header(req, "X-Forwarded-Proto");
    return gw_cfg(gw)->gateway.tls_cert_file[0] != '\0' || (proto && strcmp(proto, "https") == 0);
}

/* set_cookie - Set-Cookie name=value; Path=/; SameSite=Strict [HttpOnly] [Secure] [Max-Age] */
static int set_cookie(gw_t *gw, gw_req_t *req, gw_reply_t *reply, const char *name,
                      const char *value, bool http_only, int max_age)
{
    char c[256];
    int n = snprintf(c, sizeof c, "%s=%s; Path=/; SameSite=Strict%s%s", name, value,
                     http_only ? "; HttpOnly" : "", secure_cookies(gw, req) ? "; Secure" : "");
    if (max_age >= 0 && n > 0 && (size_t)n < sizeof c)
        snprintf(c + n, sizeof c - (size_t)n, "; Max-Age=%d", max_age);
    return gw_reply_header(reply, "Set-Cookie", c);
}

/* same_origin - no Origin header (same-origin GETs, old browsers), or one naming Host */
static bool same_origin(gw_req_t *req)
{
    const char *origin = gw_req_header(req, "Origin"), *host = gw_req_header(req, "Host");
    if (!origin)
        return true;
    const char *sep = strstr(origin, "://");
    return host && sep && strcmp(sep + 3, host) == 0;
}

/* csrf_ok - X-CSRF-Token equals expected (the cookie or the session's) and the origin is ours */
static bool csrf_ok(gw_req_t *req, const char *expected)
{
    return same_origin(req) && expected && strlen(expected) == GW_TOKEN_HEX &&
           gw_token_equal(gw_req_header(req, "X-CSRF-Token"), expected);
}

/* refuse_csrf - the 403 for a request without the right CSRF token */
static int refuse_csrf(gw_reply_t *reply)
{
    return json_message(reply, 403, "CSRF",
                        "Yêu cầu không hợp lệ (thiếu mã chống giả mạo). Vui lòng tải lại trang và thử lại.");
}

/* --- the pages and static files -------------------------------------------- */

/* read_file - dir/name into a malloc'd buffer, at most PAGE_MAX_BYTES; NULL if absent or too big */
static char *read_file(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= PAGE_MAX_BYTES &&
        (buf = malloc((size_t)st.st_size + 1)) != NULL) {
        *len = fread(buf, 1, (size_t)st.st_size, f);
        buf[*len] = '\0';
        if (ferror(f)) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* serve - web_dir/name as content_type, with the page headers */
static int serve(gw_t *gw, gw_reply_t *reply, const char *name, const char *content_type)
{
    size_t len = 0;
    char *body = read_file(pages_of(gw)->web_dir, name, &len);
    if (!body) {
        mc_log(MC_LOG_WARNING, "page_missing", "file=%s", name);
        return json_message(reply, 404, "NOT_FOUND", "Không tìm thấy trang.");
    }
    if (gw_reply_header(reply, "Content-Security-Policy", PAGE_CSP) != 0 ||
        gw_reply_header(reply, "Cache-Control", "no-cache") != 0) {
        free(body);
        return -1;
    }
    return gw_reply_take(reply, content_type, body, len);
}

/* the pages: route -> file under web_dir */
static const struct {
    const char *route; /* the pattern it is registered under */
    const char *file;  /* the HTML file */
} page_files[] = {
    {"/", "index.html"},
    {"/tra-cuu", "tra-cuu.html"},
    {"/danh-gia", "danh-gia.html"},
    {"/phuong", "phuong.html"},
};

/* page - one of page_files, by the route it matched */
static int page(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    for (size_t i = 0; i < sizeof page_files / sizeof page_files[0]; i++)
        if (strcmp(gw_req_route(req), page_files[i].route) == 0)
            return serve(gw, reply, page_files[i].file, "text/html; charset=utf-8");
    return json_message(reply, 404, "NOT_FOUND", "Không tìm thấy trang.");
}

/* static_type - the Content-Type of a static file name, NULL for a name not served:
 * only [a-z0-9._-], no leading dot (so no "..", no hidden file), a known extension */
static const char *static_type(const char *name)
{
    static const struct { const char *ext, *type; } types[] = {
        {".css", "text/css; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"}, {".png", "image/png"}, {".ico", "image/x-icon"}};
    if (!name || !*name || name[0] == '.' || strlen(name) > 64)
        return NULL;
    for (const char *p = name; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_'))
            return NULL;
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* page_static - /static/{file} */
static int page_static(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    const char *name = gw_req_param(req, "*");
    const char *type = static_type(name);
    if (!type)
        return json_message(reply, 404, "NOT_FOUND", "Không tìm thấy tệp.");
    char rel[96];
    snprintf(rel, sizeof rel, "static/%s", name);
    return serve(gw, reply, rel, type);
}

/* --- the public backends --------------------------------------------------- */

/* public_csrf - GET /v1/public/csrf: the mc_csrf cookie (kept when valid) and its value */
static int public_csrf(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    char token[GW_TOKEN_HEX + 1];
    const char *have = gw_req_cookie(req, "mc_csrf");
    bool valid = have && strlen(have) == GW_TOKEN_HEX;
    for (size_t i = 0; valid && i < GW_TOKEN_HEX; i++)
        valid = isxdigit((unsigned char)have[i]) != 0;
    if (valid)
        snprintf(token, sizeof token, "%s", have);
    else
        gw_token_new(token);
    char body[GW_TOKEN_HEX + 16];
    int n = snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
    if (set_cookie(gw, req, reply, "mc_csrf", token, false, -1) != 0)
        return -1;
    return gw_reply_body(reply, JSON_TYPE, body, (size_t)n);
}

/* status_of_reason - the HTTP status of an intake Rejection (as the REST API maps it) */
static int status_of_reason(const Motcua__V1__Rejection *r)
{
    if (r->retryable)
        return 503;
    switch (r->reason) {
    case MOTCUA__V1__REASON__REASON_NOT_FOUND: return 404;
    case MOTCUA__V1__REASON__REASON_FORBIDDEN: return 403;
    case MOTCUA__V1__REASON__REASON_TOO_LARGE: return 413;
    case MOTCUA__V1__REASON__REASON_WRONG_STATE:
    case MOTCUA__V1__REASON__REASON_ALREADY_RATED:
    case MOTCUA__V1__REASON__REASON_DUPLICATE_SUBMISSION: return 409;
    default: return 400;
    }
}

/* decode_body - the request's JSON body as a message of desc; on failure the 400 is built */
static ProtobufCMessage *decode_body(gw_req_t *req, gw_reply_t *reply,
                                     const ProtobufCMessageDescriptor *desc, int *rc)
{
    size_t len = 0;
    const char *body = gw_req_body(req, &len);
    ProtobufCMessage *msg = NULL;
    mc_pbjson_problem_t problem;
    if (mc_pbjson_decode(desc, body, len, PUBLIC_MAX_BODY, &msg, &problem) != 0) {
        *rc = json_message(reply, problem.error == MC_PBJSON_TOO_LARGE ? 413 : 400, "MALFORMED",
                           "Dữ liệu gửi lên không đúng định dạng.");
        return NULL;
    }
    return msg;
}

/*
 * exchange - request to intake as the public client; the reply, or NULL
 * when intake did not answer (the 503 is then built). A rejection is
 * answered here too (with *rc) and NULL returned, unless it is the one the
 * caller handles itself (keep_reason).
 */
static Motcua__V1__IntakeReply *exchange(gw_t *gw, Motcua__V1__IntakeRequest *request,
                                         gw_reply_t *reply, int *rc)
{
    Motcua__V1__IntakeReply *r = NULL;
    if (gw_intake_exchange(gw, gw_cfg(gw)->gateway.public_client, request, &r) != 0 || !r) {
        mc_log(MC_LOG_WARNING, "page_intake", "outcome=no_answer");
        gw_reply_header(reply, "Retry-After", "5");
        *rc = json_message(reply, 503, "UNAVAILABLE",
                           "Hệ thống đang bận, chưa trả lời được. Vui lòng thử lại sau ít phút.");
        return NULL;
    }
    return r;
}

/* reply_rejection - the Rejection as {"reason","message"} with its HTTP status */
static int reply_rejection(gw_reply_t *reply, const Motcua__V1__Rejection *rej)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&motcua__v1__reason__descriptor, rej->reason);
    if (rej->retryable) {
        char s[16];
        snprintf(s, sizeof s, "%u", (rej->retry_after_ms + 999) / 1000 ? (rej->retry_after_ms + 999) / 1000 : 1);
        gw_reply_header(reply, "Retry-After", s);
    }
    const char *message = rej->message && *rej->message ? rej->message : "Yêu cầu không thực hiện được.";
    if (rej->reason == MOTCUA__V1__REASON__REASON_ALREADY_RATED)
        message = "Hồ sơ này đã đánh giá rồi: mỗi hồ sơ chỉ được đánh giá một lần. Cảm ơn Ông/Bà.";
    return json_message(reply, status_of_reason(rej), v ? v->name : "REASON_UNSPECIFIED", message);
}

/*
 * public_call - the body (JSON of desc) to intake as the request member body_case
 * (status or rate); the DossierStatus or a thank-you for the Acknowledgement, a
 * rejection by its status and message
 */
static int public_call(gw_t *gw, gw_req_t *req, gw_reply_t *reply,
                       const ProtobufCMessageDescriptor *desc,
                       Motcua__V1__IntakeRequest__BodyCase body_case)
{
    int rc = 0;
    ProtobufCMessage *msg = decode_body(req, reply, desc, &rc);
    if (!msg)
        return rc;
    Motcua__V1__IntakeRequest request = MOTCUA__V1__INTAKE_REQUEST__INIT;
    request.body_case = body_case;
    if (body_case == MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS)
        request.status = (Motcua__V1__StatusQuery *)msg;
    else
        request.rate = (Motcua__V1__RateService *)msg;
    Motcua__V1__IntakeReply *r = exchange(gw, &request, reply, &rc);
    if (r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_STATUS &&
        body_case == MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS)
        rc = gw_reply_message(reply, 200, &r->status->base);
    else if (r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK &&
             body_case == MOTCUA__V1__INTAKE_REQUEST__BODY_RATE)
        rc = json_message(reply, 200, NULL, "Cảm ơn Ông/Bà đã đánh giá. Ý kiến của Ông/Bà đã được ghi nhận.");
    else if (r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION)
        rc = reply_rejection(reply, r->rejection);
    else if (r)
        rc = json_message(reply, 502, "INTERNAL", "Hệ thống trả lời không đúng. Vui lòng thử lại sau.");
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    protobuf_c_message_free_unpacked(msg, NULL);
    return rc;
}

/* public_lookup - POST /v1/public/lookup: a StatusQuery {"dossierCode","secret"} -> DossierStatus */
static int public_lookup(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    return public_call(gw, req, reply, &motcua__v1__status_query__descriptor,
                       MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS);
}

/* public_rating - POST /v1/public/rating: a RateService (CSRF) -> {"message"} */
static int public_rating(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    if (!csrf_ok(req, gw_req_cookie(req, "mc_csrf")))
        return refuse_csrf(reply);
    return public_call(gw, req, reply, &motcua__v1__rate_service__descriptor,
                       MOTCUA__V1__INTAKE_REQUEST__BODY_RATE);
}

/* --- staff ------------------------------------------------------------------- */

/* form_value - the value of name in an application/x-www-form-urlencoded body, decoded
 * into out; false if absent, too long or not text */
static bool form_value(const char *body, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    for (const char *p = body; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, name, nlen) != 0 || p[nlen] != '=')
            continue;
        size_t o = 0;
        for (const char *v = p + nlen + 1; *v && *v != '&'; v++) {
            int c = (unsigned char)*v;
            if (c == '+')
                c = ' ';
            else if (c == '%' && isxdigit((unsigned char)v[1]) && isxdigit((unsigned char)v[2])) {
                char hex[3] = {v[1], v[2], 0};
                c = (int)strtol(hex, NULL, 16);
                v += 2;
            }
            if (c == 0 || o + 1 >= size)
                return false;
            out[o++] = (char)c;
        }
        out[o] = '\0';
        return true;
    }
    return false;
}

/* session_json - {"username","ward","wardName","csrf"} as the reply */
static int session_json(gw_t *gw, gw_reply_t *reply, const gw_session_info_t *s)
{
    const mc_ward_t *w = mc_cfg_ward(gw_cfg(gw), s->ward);
    json_out_t j;
    FILE *f = json_open(&j);
    if (!f)
        return -1;
    fputs("{\"username\":", f);
    mc_json_fputs(f, s->username);
    fputs(",\"ward\":", f);
    mc_json_fputs(f, s->ward);
    fputs(",\"wardName\":", f);
    mc_json_fputs(f, w ? w->name : s->ward);
    fprintf(f, ",\"csrf\":\"%s\"}", s->csrf);
    return json_send(&j, reply, 0);
}

/* staff_login - POST /v1/staff/login (form: username, password; X-CSRF-Token = mc_csrf) */
static int staff_login(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    if (!csrf_ok(req, gw_req_cookie(req, "mc_csrf")))
        return refuse_csrf(reply);
    size_t len = 0;
    const char *body = gw_req_body(req, &len);
    char user[GW_USERNAME_MAX + 1], pass[257];
    if (len > LOGIN_MAX_BODY || strlen(body) != len || !form_value(body, "username", user, sizeof user) ||
        !form_value(body, "password", pass, sizeof pass) || !*user || !*pass)
        return json_message(reply, 400, "MALFORMED", "Vui lòng nhập tên đăng nhập và mật khẩu.");
    char cookie[GW_TOKEN_HEX + 1];
    gw_session_info_t info;
    int retry = 0, rc;
    gw_login_rc_t lr = gw_staff_login(pages_of(gw)->staff, user, pass, gw_req_remote(req),
                                      (int64_t)time(NULL), cookie, &info, &retry);
    sodium_memzero(pass, sizeof pass);
    switch (lr) {
    case GW_LOGIN_OK:
        mc_log(MC_LOG_INFO, "staff_login", "ward=%s outcome=ok", info.ward);
        rc = set_cookie(gw, req, reply, "mc_session", cookie, true, -1);
        sodium_memzero(cookie, sizeof cookie);
        return rc != 0 ? -1 : session_json(gw, reply, &info);
    case GW_LOGIN_BAD:
        mc_log(MC_LOG_NOTICE, "staff_login", "outcome=refused");
        return json_message(reply, 401, "UNAUTHENTICATED", "Tên đăng nhập hoặc mật khẩu không đúng.");
    case GW_LOGIN_THROTTLED: {
        char s[16];
        snprintf(s, sizeof s, "%d", retry > 0 ? retry : 1);
        mc_log(MC_LOG_NOTICE, "staff_login", "outcome=throttled retry_after_s=%s", s);
        gw_reply_header(reply, "Retry-After", s);
        return json_message(reply, 429, "RATE_LIMITED",
                            "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút.");
    }
    default:
        return -1;
    }
}

/* staff_session - the caller's session; false with the 401 built when there is none */
static bool staff_session(gw_t *gw, gw_req_t *req, gw_reply_t *reply, gw_session_info_t *s, int *rc)
{
    if (gw_staff_session(pages_of(gw)->staff, gw_req_cookie(req, "mc_session"), (int64_t)time(NULL), s))
        return true;
    *rc = json_message(reply, 401, "UNAUTHENTICATED", "Vui lòng đăng nhập.");
    return false;
}

/* staff_logout - POST /v1/staff/logout (X-CSRF-Token = the session's) */
static int staff_logout(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    gw_session_info_t s;
    int rc = 0;
    if (!staff_session(gw, req, reply, &s, &rc))
        return rc;
    if (!csrf_ok(req, s.csrf))
        return refuse_csrf(reply);
    gw_staff_logout(pages_of(gw)->staff, gw_req_cookie(req, "mc_session"));
    if (set_cookie(gw, req, reply, "mc_session", "", true, 0) != 0)
        return -1;
    return json_message(reply, 200, NULL, "Đã đăng xuất.");
}

/* staff_me - GET /v1/staff/me */
static int staff_me(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    gw_session_info_t s;
    int rc = 0;
    return staff_session(gw, req, reply, &s, &rc) ? session_json(gw, reply, &s) : rc;
}

/* own_ward - the session may see the ward asked for (none asked: its own); else the 403 */
static bool own_ward(gw_req_t *req, gw_reply_t *reply, const gw_session_info_t *s, int *rc)
{
    const char *ward = gw_req_query(req, "ward");
    if (!ward || strcmp(ward, s->ward) == 0)
        return true;
    *rc = json_message(reply, 403, "FORBIDDEN", "Cán bộ chỉ xem được số liệu của phường mình.");
    return false;
}

/* staff_report_as - the period's report of the staff member's ward in format */
static int staff_report_as(gw_t *gw, gw_req_t *req, gw_reply_t *reply, mc_report_format_t format,
                           const char *content_type)
{
    gw_session_info_t s;
    int rc = 0;
    if (!staff_session(gw, req, reply, &s, &rc) || !own_ward(req, reply, &s, &rc))
        return rc;
    mc_report_request_t r = {.ward = s.ward, .format = format};
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_report_period(gw_req_query(req, "quarter"), gw_req_query(req, "from"),
                         gw_req_query(req, "to"), &r.from, &r.to, &err) != 0)
        return json_message(reply, 400, "INVALID_FORMAT",
                            "Kỳ báo cáo không hợp lệ: chọn từ ngày và đến ngày (tối đa 10 năm).");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -1;
    mc_report_rc_t run = mc_report_run(gw_cfg(gw), &r, f, &err);
    if (fclose(f) != 0 || run != MC_REPORT_RUN_OK) {
        free(buf);
        mc_log_error(MC_LOG_WARNING, "staff_report", &err, "ward=%s outcome=failed", s.ward);
        gw_reply_header(reply, "Retry-After", "5");
        return json_message(reply, 503, "UNAVAILABLE", "Chưa đọc được số liệu. Vui lòng thử lại sau.");
    }
    /* the chart opened on its own: nothing in it may run or load (its text is escaped anyway) */
    if (format == MC_REPORT_SVG &&
        gw_reply_header(reply, "Content-Security-Policy",
                        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'") != 0) {
        free(buf);
        return -1;
    }
    if (format == MC_REPORT_CSV) {
        char disp[96];
        snprintf(disp, sizeof disp, "attachment; filename=\"bao-cao-%s.csv\"", s.ward);
        if (gw_reply_header(reply, "Content-Disposition", disp) != 0) {
            free(buf);
            return -1;
        }
    }
    return gw_reply_take(reply, content_type, buf, len);
}

/* staff_report / _csv / _svg - GET /v1/staff/report, .csv, .svg */
static int staff_report(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    return staff_report_as(gw, req, reply, MC_REPORT_JSON, JSON_TYPE);
}

static int staff_report_csv(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    return staff_report_as(gw, req, reply, MC_REPORT_CSV, "text/csv; charset=utf-8");
}

static int staff_report_svg(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    return staff_report_as(gw, req, reply, MC_REPORT_SVG, "image/svg+xml");
}

/* holder_text - who holds an open dossier, in words */
static void holder_text(const mc_overdue_item_t *it, char *buf, size_t size)
{
    if (it->state == MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_PENDING_ACCEPTANCE && it->case_state < 0)
        snprintf(buf, size, "Chờ giao bộ phận tiếp nhận");
    else if (it->case_state < 0)
        snprintf(buf, size, "Chưa phân công");
    else
        snprintf(buf, size, "%s", it->where);
}

/* one holder's line of the backlog */
typedef struct backlog {
    char holder[128]; /* desk or agency code, or the words of holder_text */
    long count;       /* open dossiers it holds */
    long overdue;     /* of those, past their due date */
} backlog_t;

/* backlog_add - one more open dossier for holder (overdue or not) in the running tally */
static void backlog_add(backlog_t *b, size_t *n, size_t max, const char *holder, bool overdue)
{
    size_t i = 0;
    while (i < *n && strcmp(b[i].holder, holder) != 0)
        i++;
    if (i == *n) {
        if (*n == max)
            return;
        snprintf(b[i].holder, sizeof b[i].holder, "%s", holder);
        (*n)++;
    }
    b[i].count++;
    b[i].overdue += overdue;
}

/* write_open - the JSON of the open list: overdue / due-soon dossiers, then the backlog */
static int write_open(FILE *f, const mc_cfg_t *cfg, const mc_overdue_list_t *list, int64_t now)
{
    enum { HOLDERS_MAX = 256 };
    backlog_t *backlog = calloc(HOLDERS_MAX, sizeof *backlog);
    if (!backlog)
        return -1;
    size_t n_backlog = 0, shown = 0;
    fprintf(f, "{\"truncated\":%s,\"dossiers\":[", list->truncated ? "true" : "false");
    for (size_t i = 0; i < list->n_items; i++) {
        const mc_overdue_item_t *it = &list->items[i];
        char holder[128];
        holder_text(it, holder, sizeof holder);
        bool overdue = it->due_at > 0 && it->due_at < now;
        backlog_add(backlog, &n_backlog, HOLDERS_MAX, holder, overdue);
        if (!(overdue || it->due_soon || it->extended) || shown >= OVERDUE_SHOWN)
            continue;
        const mc_procedure_t *p = mc_catalog_find(cfg->catalog, it->procedure_code);
        fprintf(f, "%s{\"code\":", shown++ ? "," : "");
        mc_json_fputs(f, it->code);
        fputs(",\"procedure\":", f);
        mc_json_fputs(f, it->procedure_code);
        fputs(",\"procedureName\":", f);
        mc_json_fputs(f, p ? p->name : "");
        fprintf(f, ",\"dueAt\":%lld,\"overdue\":%s,\"dueSoon\":%s,\"extended\":%s,\"where\":",
                (long long)it->due_at, overdue ? "true" : "false", it->due_soon ? "true" : "false",
                it->extended ? "true" : "false");
        if (it->case_state >= 0 && it->steps_total > 0) {
            char where[192];
            snprintf(where, sizeof where, "%s (bước %d/%d)", holder, it->step, it->steps_total);
            mc_json_fputs(f, where);
        } else {
            mc_json_fputs(f, holder);
        }
        fputc('}', f);
    }
    fputs("],\"backlog\":[", f);
    for (size_t i = 0; i < n_backlog; i++) {
        fprintf(f, "%s{\"holder\":", i ? "," : "");
        mc_json_fputs(f, backlog[i].holder);
        fprintf(f, ",\"count\":%ld,\"overdue\":%ld}", backlog[i].count, backlog[i].overdue);
    }
    fputs("]}", f);
    free(backlog);
    return 0;
}

/* staff_open - GET /v1/staff/open: the ward's open dossiers (mc_store_overdue with a
 * horizon past every due date): overdue and due-soon ones listed, all counted per holder */
static int staff_open(gw_t *gw, gw_req_t *req, gw_reply_t *reply)
{
    gw_session_info_t s;
    int rc = 0;
    if (!staff_session(gw, req, reply, &s, &rc) || !own_ward(req, reply, &s, &rc))
        return rc;
    const mc_cfg_t *cfg = gw_cfg(gw); /* the report role (mc_cfg_use_role) */
    mc_store_t *store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms);
    if (!store)
        return -1;
    int64_t now = (int64_t)time(NULL);
    mc_overdue_list_t list;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t src = mc_store_overdue(store, s.ward, now + OPEN_HORIZON_S, OPEN_LIST_MAX, &list, &err);
    mc_store_destroy(&store);
    if (src != MC_STORE_OK) {
        mc_log_error(MC_LOG_WARNING, "staff_open", &err, "ward=%s outcome=failed", s.ward);
        gw_reply_header(reply, "Retry-After", "5");
        return json_message(reply, 503, "UNAVAILABLE", "Chưa đọc được danh sách hồ sơ. Vui lòng thử lại sau.");
    }
    json_out_t j;
    FILE *f = json_open(&j);
    int wrc = f ? write_open(f, cfg, &list, now) : -1;
    mc_overdue_list_clear(&list);
    return json_send(&j, reply, wrc);
}

/* --- registration ------------------------------------------------------------ */

/* is_dir - path is a directory we can look into */
static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int gw_pages_register(gw_t *gw, mc_err_t *err)
{
    static const gw_route_t routes[] = {
        {"GET", "/", page, GW_ROUTE_PUBLIC},
        {"GET", "/tra-cuu", page, GW_ROUTE_PUBLIC},
        {"GET", "/danh-gia", page, GW_ROUTE_PUBLIC},
        {"GET", "/phuong", page, GW_ROUTE_PUBLIC},
        {"GET", "/static/*", page_static, GW_ROUTE_PUBLIC},
        {"GET", "/v1/public/csrf", public_csrf, GW_ROUTE_PUBLIC | GW_ROUTE_API},
        {"POST", "/v1/public/lookup", public_lookup, GW_ROUTE_PUBLIC | GW_ROUTE_JSON | GW_ROUTE_API},
        {"POST", "/v1/public/rating", public_rating, GW_ROUTE_PUBLIC | GW_ROUTE_JSON | GW_ROUTE_API},
        {"POST", "/v1/staff/login", staff_login, GW_ROUTE_PUBLIC | GW_ROUTE_API},
        {"POST", "/v1/staff/logout", staff_logout, GW_ROUTE_PUBLIC | GW_ROUTE_API},
        {"GET", "/v1/staff/me", staff_me, GW_ROUTE_PUBLIC | GW_ROUTE_API},
        {"GET", "/v1/staff/report", staff_report, GW_ROUTE_PUBLIC | GW_ROUTE_API},
        {"GET", "/v1/staff/report.csv", staff_report_csv, GW_ROUTE_PUBLIC | GW_ROUTE_API},
        {"GET", "/v1/staff/report.svg", staff_report_svg, GW_ROUTE_PUBLIC | GW_ROUTE_API},
        {"GET", "/v1/staff/open", staff_open, GW_ROUTE_PUBLIC | GW_ROUTE_API},
    };
    const mc_cfg_t *cfg = gw_cfg(gw);
    pages_t *p = calloc(1, sizeof *p);
    if (!p || !(p->web_dir = strdup(cfg->gateway.web_dir))) {
        free(p);
        mc_err_add(err, "out of memory");
        return -1;
    }
    gw_set_pages_state(gw, p);
    /* the staff backends read the store with cfg's conninfo: the read-only
     * report role, which mc_cfg_use_role gives motcua-gateway */
    if (!(p->staff = gw_staff_load(cfg, err)))
        return -1;
    /* no pages at web_dir: the installed ones (the shipped motcua.yaml names the source
     * tree's ../web); none there either: the API still works, said loudly, each page 404 */
    bool found = is_dir(p->web_dir);
    if (!found && is_dir(MC_WEB_INSTALLED)) {
        mc_log(MC_LOG_NOTICE, "web_dir_installed", "web_dir=%s used=%s", p->web_dir, MC_WEB_INSTALLED);
        free(p->web_dir);
        if (!(p->web_dir = strdup(MC_WEB_INSTALLED))) {
            mc_err_add(err, "out of memory");
            return -1;
        }
    } else if (!found) {
        mc_log(MC_LOG_WARNING, "web_dir_missing", "web_dir=%s installed=%s", p->web_dir,
               MC_WEB_INSTALLED);
    }
    /* the file's name and the count only: no username in logs */
    mc_log(gw_staff_count(p->staff) ? MC_LOG_INFO : MC_LOG_NOTICE, "staff_accounts",
           "count=%zu file=%s", gw_staff_count(p->staff), cfg->staff_path);
    if (gw_routes_add(gw, routes, sizeof routes / sizeof routes[0]) != 0) {
        mc_err_add(err, "gateway: the route table is full");
        return -1;
    }
    return 0;
}

void gw_pages_destroy(gw_t *gw)
{
    pages_t *p = pages_of(gw);
    if (!p)
        return;
    gw_staff_destroy(&p->staff);
    free(p->web_dir);
    free(p);
    gw_set_pages_state(gw, NULL);
}
