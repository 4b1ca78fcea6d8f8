/*
 * gateway_http - the HTTP server of motcua-gateway (libmicrohttpd): the
 * route table, the request and reply objects handlers see, and the bad
 * input stopped at the door before any handler runs.
 *
 * Contract (gateway.h): one thread per connection (handlers may block on
 * intake); at most gateway.max_connections connections, and
 * gateway.per_ip_connections from one address (more are refused by
 * libmicrohttpd at accept); a connection idle gateway.timeout_s is closed
 * (slow clients); the request line and headers fit in GW_HEADER_MEMORY
 * bytes (else libmicrohttpd answers 431/414) and are at most
 * GW_HEADERS_MAX headers (431); a body over gateway.max_body_bytes is 413
 * (at once when Content-Length says so, else as soon as it goes over), read
 * no further. Nothing of a refused request reaches a handler, so nothing of
 * it is stored.
 */
#include "gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "gateway_int.h"
#include "mc_log.h"
#include "mc_pbjson.h"

#define GW_HEADER_MEMORY (32 * 1024) /* request line + headers of one request (MHD's pool) */
#define GW_HEADERS_MAX 64            /* headers in one request */
#define GW_PARAMS_MAX 8              /* `{name}` segments of one pattern */
#define GW_REPLY_HEADERS_MAX 16      /* headers one handler may add */
#define GW_DRAIN_MAX (1024 * 1024)   /* body bytes read and dropped past the limit, so the
                                        client is still reading when its 413 comes */

/* one request's path parameter */
typedef struct gw_param {
    char name[32];   /* from the pattern, "*" for the rest */
    char value[512]; /* decoded segment(s) */
} gw_param_t;

struct gw_req {
    struct MHD_Connection *conn;         /* libmicrohttpd's */
    const char            *method;       /* "GET" */
    char                  *path;         /* the decoded URL path */
    const gw_route_t      *route;        /* the matched route, or NULL */
    gw_param_t             params[GW_PARAMS_MAX]; /* its `{name}` values */
    int                    n_params;     /* entries in params */
    char                  *body;         /* NUL-terminated */
    size_t                 body_len;     /* bytes in body */
    size_t                 body_cap;     /* bytes allocated */
    bool                   refused;      /* a reply went out before the body was read */
    bool                   too_large;    /* the body went over the limit: dropped, then 413 */
    size_t                 dropped;      /* body bytes dropped since */
    char                   remote[64];   /* peer address */
    const mc_client_t     *client;       /* the bearer token's client, or NULL */
    struct timespec        started;      /* for the log line's ms */
};

/* one header a handler added */
typedef struct gw_hdr {
    char *name;  /* copied */
    char *value; /* copied */
} gw_hdr_t;

struct gw_reply {
    int        status;                        /* HTTP status */
    char       content_type[96];              /* "" = none */
    char      *body;                          /* malloc'd, or NULL */
    size_t     len;                           /* bytes in body */
    gw_hdr_t   headers[GW_REPLY_HEADERS_MAX]; /* the handler's headers */
    int        n_headers;                     /* entries in headers */
    bool       no_store;                      /* Cache-Control: no-store */
};

/* --- the gateway ----------------------------------------------------------- */

/* gw_new - an empty route table over cfg and clients */
gw_t *gw_new(const mc_cfg_t *cfg, const mc_clients_t *clients, mc_err_t *err)
{
    gw_t *gw = calloc(1, sizeof *gw);
    if (!gw) {
        mc_err_add(err, "out of memory");
        return NULL;
    }
    gw->cfg = cfg;
    gw->clients = clients;
    if (gw_limit_init(gw, err) != 0) {
        free(gw);
        return NULL;
    }
    if (gw_intake_keys(gw, err) != 0) {
        gw_limit_destroy(gw);
        free(gw);
        return NULL;
    }
    return gw;
}

/* gw_routes_add - append routes while the server is not running */
int gw_routes_add(gw_t *gw, const gw_route_t *routes, size_t n)
{
    if (gw->mhd || gw->n_routes + n > GW_ROUTES_MAX)
        return -1;
    memcpy(gw->routes + gw->n_routes, routes, n * sizeof *routes);
    gw->n_routes += n;
    return 0;
}

const mc_cfg_t *gw_cfg(const gw_t *gw) { return gw->cfg; }
const mc_clients_t *gw_clients(const gw_t *gw) { return gw->clients; }
void *gw_pages_state(const gw_t *gw) { return gw->pages; }
void gw_set_pages_state(gw_t *gw, void *state) { gw->pages = state; }
int gw_port(const gw_t *gw) { return gw->port; }

/* --- the request ----------------------------------------------------------- */

const char *gw_req_method(const gw_req_t *req) { return req->method; }
const char *gw_req_path(const gw_req_t *req) { return req->path; }
const char *gw_req_route(const gw_req_t *req) { return req->route ? req->route->pattern : "-"; }
const char *gw_req_remote(const gw_req_t *req) { return req->remote; }
const mc_client_t *gw_req_client(const gw_req_t *req) { return req->client; }

/* gw_req_param - a `{name}` value of the matched pattern */
const char *gw_req_param(const gw_req_t *req, const char *name)
{
    for (int i = 0; i < req->n_params; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

/* gw_req_query - a decoded query argument */
const char *gw_req_query(const gw_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* gw_req_header - a header, whatever its case */
const char *gw_req_header(const gw_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* gw_req_cookie - a cookie's value */
const char *gw_req_cookie(const gw_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

/* gw_req_body - the body read */
const char *gw_req_body(const gw_req_t *req, size_t *len)
{
    if (len)
        *len = req->body_len;
    return req->body ? req->body : "";
}

/* --- the reply ------------------------------------------------------------- */

/* gw_reply_status - the status */
void gw_reply_status(gw_reply_t *reply, int status)
{
    reply->status = status;
}

/* gw_reply_header - one more header */
int gw_reply_header(gw_reply_t *reply, const char *name, const char *value)
{
    if (reply->n_headers == GW_REPLY_HEADERS_MAX)
        return -1;
    gw_hdr_t *h = &reply->headers[reply->n_headers];
    h->name = strdup(name);
    h->value = strdup(value);
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        h->name = h->value = NULL;
        return -1;
    }
    reply->n_headers++;
    return 0;
}

/* gw_reply_take - the body, owned from now on */
int gw_reply_take(gw_reply_t *reply, const char *content_type, char *body, size_t len)
{
    free(reply->body);
    reply->body = body;
    reply->len = body ? len : 0;
    snprintf(reply->content_type, sizeof reply->content_type, "%s",
             content_type ? content_type : "");
    return body || len == 0 ? 0 : -1;
}

/* gw_reply_body - the body, copied */
int gw_reply_body(gw_reply_t *reply, const char *content_type, const void *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, body, len);
        copy[len] = '\0';
    }
    return gw_reply_take(reply, content_type, copy, len);
}

/* gw_reply_message - msg as canonical JSON */
int gw_reply_message(gw_reply_t *reply, int status, const ProtobufCMessage *msg)
{
    char *json = NULL;
    size_t len = 0;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_pbjson_encode(msg, &json, &len, &err) != 0) {
        mc_log_error(MC_LOG_ERR, "json_encode_failed", &err, NULL);
        return -1;
    }
    reply->status = status;
    return gw_reply_take(reply, "application/json; charset=utf-8", json, len);
}

/* gw_reply_error - a Rejection as JSON */
int gw_reply_error(gw_reply_t *reply, int status, int reason, const char *field,
                   const char *message)
{
    Motcua__V1__Rejection r = MOTCUA__V1__REJECTION__INIT;
    r.reason = (Motcua__V1__Reason)reason;
    r.field = (char *)(field ? field : "");
    r.message = (char *)(message ? message : "");
    return gw_reply_message(reply, status, &r.base);
}

/* reply_clear - free what the reply holds */
static void reply_clear(gw_reply_t *reply)
{
    free(reply->body);
    reply->body = NULL;
    for (int i = 0; i < reply->n_headers; i++) {
        free(reply->headers[i].name);
        free(reply->headers[i].value);
    }
    reply->n_headers = 0;
}

/* --- serving --------------------------------------------------------------- */

/* elapsed_ms - since t */
static long elapsed_ms(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t->tv_sec) * 1000L + (now.tv_nsec - t->tv_nsec) / 1000000L;
}

/* send_reply - queue reply (security headers added) and log the request */
static enum MHD_Result send_reply(gw_req_t *req, gw_reply_t *reply)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(reply->len, reply->body ? reply->body : (void *)"",
                                        reply->body ? MHD_RESPMEM_MUST_FREE
                                                    : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        reply_clear(reply);
        return MHD_NO;
    }
    reply->body = NULL; /* the response owns it now */
    if (reply->content_type[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
    /* on every reply: no sniffing, no framing, no referrer (issue 15 point 5) */
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy", "frame-ancestors 'none'");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (reply->no_store || !req->route || (req->route->flags & GW_ROUTE_API))
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    for (int i = 0; i < reply->n_headers; i++)
        MHD_add_response_header(resp, reply->headers[i].name, reply->headers[i].value);
    enum MHD_Result rc = MHD_queue_response(req->conn, (unsigned)reply->status, resp);
    /* the minute summary: requests answered, and the server's own failures */
    mc_daemon_count(MC_COUNT_RECEIVED, 1);
    if (reply->status >= 500)
        mc_daemon_count(MC_COUNT_ERRORS, 1);
    MHD_destroy_response(resp);
    mc_log(reply->status >= 500 ? MC_LOG_WARNING : MC_LOG_INFO, "http",
           "method=%s route=%s status=%d client=%s ms=%ld", req->method, gw_req_route(req),
           reply->status, req->client ? req->client->code : "-", elapsed_ms(&req->started));
    reply_clear(reply);
    return rc;
}

/* refuse - answer at once with a Rejection (bad input stopped at the door);
 * retry_after_s > 0: retryable, with Retry-After */
static enum MHD_Result refuse(gw_req_t *req, int status, int reason, const char *field,
                              const char *message, int retry_after_s)
{
    gw_reply_t reply = {.status = status, .no_store = true};
    Motcua__V1__Rejection r = MOTCUA__V1__REJECTION__INIT;
    r.reason = (Motcua__V1__Reason)reason;
    r.field = (char *)(field ? field : "");
    r.message = (char *)message;
    r.retryable = retry_after_s > 0;
    r.retry_after_ms = retry_after_s > 0 ? (uint32_t)retry_after_s * 1000u : 0;
    if (gw_reply_message(&reply, status, &r.base) != 0)
        reply.status = 500;
    if (status == 401)
        gw_reply_header(&reply, "WWW-Authenticate", "Bearer");
    if (retry_after_s > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry_after_s);
        gw_reply_header(&reply, "Retry-After", v);
    }
    req->refused = true;
    return send_reply(req, &reply);
}

/* refuse_too_large - 413 */
static enum MHD_Result refuse_too_large(gw_req_t *req)
{
    return refuse(req, 413, MOTCUA__V1__REASON__REASON_TOO_LARGE, NULL,
                  "Nội dung yêu cầu quá lớn.", 0);
}

/* match - does path match pattern? fills req's params */
static bool match(const char *pattern, const char *path, gw_req_t *req)
{
    req->n_params = 0;
    const char *p = pattern, *s = path;
    while (*p) {
        if (p[0] == '*' && p[1] == '\0') {
            if (req->n_params == GW_PARAMS_MAX)
                return false;
            gw_param_t *pr = &req->params[req->n_params++];
            snprintf(pr->name, sizeof pr->name, "*");
            snprintf(pr->value, sizeof pr->value, "%s", s);
            return strlen(s) < sizeof pr->value;
        }
        if (*p == '{') {
            const char *end = strchr(p, '}');
            size_t seg = strcspn(s, "/");
            if (!end || seg == 0 || req->n_params == GW_PARAMS_MAX)
                return false;
            gw_param_t *pr = &req->params[req->n_params++];
            size_t nlen = (size_t)(end - p - 1);
            if (nlen >= sizeof pr->name || seg >= sizeof pr->value)
                return false;
            memcpy(pr->name, p + 1, nlen);
            pr->name[nlen] = '\0';
            memcpy(pr->value, s, seg);
            pr->value[seg] = '\0';
            p = end + 1;
            s += seg;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return *s == '\0';
}

/* find_route - the route for method and path; *other: the path matches another method */
static const gw_route_t *find_route(const gw_t *gw, gw_req_t *req, bool *other)
{
    *other = false;
    bool head = strcmp(req->method, "HEAD") == 0;
    for (size_t i = 0; i < gw->n_routes; i++) {
        const gw_route_t *r = &gw->routes[i];
        if (!match(r->pattern, req->path, req))
            continue;
        if (strcmp(r->method, req->method) == 0 || (head && strcmp(r->method, "GET") == 0))
            return r;
        *other = true;
    }
    req->n_params = 0;
    return NULL;
}

/* count_header - MHD_KeyValueIterator: count the headers */
static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    (void)key;
    (void)value;
    (*(int *)cls)++;
    return MHD_YES;
}

/* json_content_type - application/json, with or without parameters */
static bool json_content_type(const char *ct)
{
    if (!ct)
        return false;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

/* remote_text - the peer's address */
static void remote_text(struct MHD_Connection *conn, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, size, "-");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)size);
}

/* first_call - a new request: route, header bounds, length, type, token, rate */
static enum MHD_Result first_call(gw_t *gw, gw_req_t *req)
{
    int headers = 0;
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_header, &headers);
    if (headers > GW_HEADERS_MAX)
        return refuse(req, 431, MOTCUA__V1__REASON__REASON_TOO_LARGE, NULL,
                      "Yêu cầu có quá nhiều trường tiêu đề (header).", 0);
    bool other = false;
    req->route = find_route(gw, req, &other);
    if (!req->route)
        return other ? refuse(req, 405, MOTCUA__V1__REASON__REASON_MALFORMED, NULL,
                              "Phương thức không được hỗ trợ cho địa chỉ này.", 0)
                     : refuse(req, 404, MOTCUA__V1__REASON__REASON_NOT_FOUND, NULL,
                              "Không có địa chỉ này.", 0);
    const char *cl = gw_req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || n > (unsigned long long)gw->cfg->gateway.max_body_bytes)
            return refuse_too_large(req);
    }
    bool has_body = (cl && strcmp(cl, "0") != 0) ||
                    gw_req_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
    if ((req->route->flags & GW_ROUTE_JSON) && has_body &&
        !json_content_type(gw_req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return refuse(req, 415, MOTCUA__V1__REASON__REASON_MALFORMED, NULL,
                      "Nội dung phải là application/json.", 0);
    int retry_s = 0;
    int status = gw_auth(gw, req->route, gw_req_header(req, MHD_HTTP_HEADER_AUTHORIZATION),
                         req->remote, &req->client, &retry_s);
    if (status == 401)
        return refuse(req, 401, MOTCUA__V1__REASON__REASON_FORBIDDEN, "Authorization",
                      "Thiếu hoặc sai mã truy cập (Authorization: Bearer).", 0);
    if (status == 429)
        return refuse(req, 429, MOTCUA__V1__REASON__REASON_UNAVAILABLE, NULL,
                      "Quá nhiều yêu cầu, vui lòng thử lại sau.", retry_s);
    return MHD_YES;
}

/* take_body - append a piece of the body; past the limit (a body without
 * Content-Length) drop it, up to GW_DRAIN_MAX, so the client that keeps
 * sending still reads its 413 instead of a reset connection */
static enum MHD_Result take_body(gw_t *gw, gw_req_t *req, const char *data, size_t n)
{
    size_t max = (size_t)gw->cfg->gateway.max_body_bytes;
    if (req->too_large || req->body_len + n > max) {
        req->too_large = true;
        req->dropped += n;
        return req->dropped > GW_DRAIN_MAX ? refuse_too_large(req) : MHD_YES;
    }
    if (req->body_len + n + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 4096;
        while (cap < req->body_len + n + 1)
            cap *= 2;
        char *b = realloc(req->body, cap);
        if (!b)
            return MHD_NO;
        req->body = b;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, n);
    req->body_len += n;
    req->body[req->body_len] = '\0';
    return MHD_YES;
}

/* dispatch - the whole request is in: run the handler */
static enum MHD_Result dispatch(gw_t *gw, gw_req_t *req)
{
    gw_reply_t reply = {.status = 200};
    if (req->route->fn(gw, req, &reply) != 0) {
        reply_clear(&reply);
        reply = (gw_reply_t){.status = 500};
        if (gw_reply_error(&reply, 500, MOTCUA__V1__REASON__REASON_INTERNAL, NULL,
                           "Lỗi hệ thống, vui lòng thử lại sau.") != 0)
            reply.status = 500;
    }
    return send_reply(req, &reply);
}

/* on_request - MHD_AccessHandlerCallback: called for the headers, each piece
 * of body, and once more at the end */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    gw_t *gw = cls;
    gw_req_t *req = *con_cls;
    if (!req) {
        if (!(req = calloc(1, sizeof *req)) || !(req->path = strdup(url))) {
            free(req);
            return MHD_NO;
        }
        *con_cls = req;
        req->conn = conn;
        req->method = method;
        clock_gettime(CLOCK_MONOTONIC, &req->started);
        remote_text(conn, req->remote, sizeof req->remote);
        return first_call(gw, req);
    }
    if (req->refused) {
        *upload_data_size = 0; /* a reply went out: the rest is not read */
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return take_body(gw, req, upload_data, n);
    }
    return req->too_large ? refuse_too_large(req) : dispatch(gw, req);
}

/* on_completed - MHD_RequestCompletedCallback: free the request */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    gw_req_t *req = *con_cls;
    if (!req)
        return;
    free(req->path);
    free(req->body);
    free(req);
    *con_cls = NULL;
}

/* on_mhd_log - libmicrohttpd's own messages, one log line each */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char text[512], q[560];
    vsnprintf(text, sizeof text, fmt, ap);
    text[strcspn(text, "\r\n")] = '\0';
    mc_log(MC_LOG_NOTICE, "http_server", "message=%s", mc_log_quote(text, q, sizeof q));
}

/* parse_listen - "host:port" or "[v6]:port" into a socket address */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6, mc_err_t *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    memset(ss, 0, sizeof *ss);
    if (!colon || (size_t)(colon - listen) >= sizeof host) {
        mc_err_add(err, "gateway.listen %s: expected HOST:PORT", listen);
        return -1;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535) {
        mc_err_add(err, "gateway.listen %s: bad port", listen);
        return -1;
    }
    size_t hl = strlen(host);
    *v6 = hl >= 2 && host[0] == '[' && host[hl - 1] == ']';
    if (*v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        host[hl - 1] = '\0';
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1)
            return 0;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (!host[0] || strcmp(host, "*") == 0) {
            a->sin_addr.s_addr = htonl(INADDR_ANY);
            return 0;
        }
        if (strcmp(host, "localhost") == 0)
            snprintf(host, sizeof host, "127.0.0.1");
        if (inet_pton(AF_INET, host, &a->sin_addr) == 1)
            return 0;
    }
    mc_err_add(err, "gateway.listen %s: the host must be an IP address", listen);
    return -1;
}

/* gw_start - bind and serve */
int gw_start(gw_t *gw, mc_err_t *err)
{
    const mc_cfg_gateway_t *c = &gw->cfg->gateway;
    struct sockaddr_storage ss;
    bool v6 = false;
    if (parse_listen(c->listen, &ss, &v6, err) != 0)
        return -1;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem tls[3] = {{MHD_OPTION_END, 0, NULL}};
    char *cert = NULL, *key = NULL;
    if (gw_tls_load(c, &cert, &key, err) != 0)
        return -1;
    if (cert) {
        flags |= MHD_USE_TLS;
        tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
        tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key};
    }
    /* the logger first, so that no message of the other options goes to stderr unformatted */
    gw->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, gw, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, gw,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)c->per_ip_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)GW_HEADER_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, gw,
        MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    gw_tls_free(&cert, &key);
    if (!gw->mhd) {
        mc_err_add(err, "gateway.listen %s: cannot listen (in use, or not an address of this host)",
                   c->listen);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(gw->mhd, MHD_DAEMON_INFO_BIND_PORT);
    gw->port = di ? di->port : 0;
    return 0;
}

/* gw_stop - stop accepting, finish the requests in hand */
void gw_stop(gw_t *gw)
{
    if (gw && gw->mhd) {
        MHD_stop_daemon(gw->mhd);
        gw->mhd = NULL;
    }
}

/* gw_destroy - stop and free */
void gw_destroy(gw_t **gw)
{
    if (!*gw)
        return;
    gw_stop(*gw);
    gw_limit_destroy(*gw);
    explicit_bzero(&(*gw)->intake_keys, sizeof (*gw)->intake_keys);
    free(*gw);
    *gw = NULL;
}
