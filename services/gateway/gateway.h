/*
 * gateway - motcua-gateway, the web door (issue 15): an HTTP server
 * (libmicrohttpd) that maps a REST API onto intake's ZeroMQ exchange and
 * serves the citizen pages and the ward dashboard (gateway_pages.c).
 *
 * Contract:
 *   * Routes: every URL the gateway answers is a gw_route_t (method, path
 *     pattern, handler, flags) registered with gw_routes_add() before the
 *     server starts; the table is read-only afterwards (threads read it
 *     without locks). A pattern is literal segments and `{name}` segments
 *     (one path segment each, read back with gw_req_param); a pattern
 *     whose last segment is `*` ("/static/" then "*") matches that prefix
 *     and anything below it
 *     (gw_req_param(req, "*") is the rest). The first route added that
 *     matches wins; a path that matches with another method gets 405.
 *   * Modules: gateway_api.c adds the REST API (gw_api_register);
 *     gateway_pages.c (helper pg) adds the pages, the static files and
 *     their /v1/public/... and /v1/staff/... backends (gw_pages_register,
 *     called once at start after the API; gw_pages_destroy at the end,
 *     its state in gw_pages_state / gw_set_pages_state).
 *   * Handlers run on libmicrohttpd's threads (one thread per connection),
 *     so they may block (an intake exchange does) and must be thread-safe:
 *     they read gw_t (immutable after start) and the request, and write
 *     only the reply. A handler returns 0 once it built its reply, or -1
 *     (nothing usable in the reply): the client then gets a 500.
 *   * Before a handler runs the server has already: bounded the header
 *     block (size, count) and the body (gateway.max_body_bytes: 413),
 *     checked Content-Type for GW_ROUTE_JSON (415), authenticated the
 *     bearer token for routes without GW_ROUTE_PUBLIC (401) and rate
 *     limited it per client (429 + Retry-After). Every reply carries the
 *     security headers (nosniff, frame-ancestors 'none', X-Frame-Options
 *     DENY, Referrer-Policy no-referrer) and, for routes with GW_ROUTE_API,
 *     Cache-Control: no-store.
 *   * Logs: one `http` line per request (method, route pattern, status,
 *     client code, ms) - never the path's dossier code, a secret, a token,
 *     a query or a body.
 */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_cfg.h"
#include "mc_clients.h"
#include "mc_daemon.h"
#include "mc_err.h"
#include "motcua/v1/intake.pb-c.h"

typedef struct gw gw_t;             /* the running gateway */
typedef struct gw_req gw_req_t;     /* one HTTP request, as a handler sees it */
typedef struct gw_reply gw_reply_t; /* the reply a handler builds */

/* a handler: build the reply; 0, or -1 (the client gets a 500) */
typedef int (*gw_handler_fn)(gw_t *gw, gw_req_t *req, gw_reply_t *reply);

/* route flags */
#define GW_ROUTE_PUBLIC 0x1u /* no bearer token needed (pages, /healthz, openapi.json) */
#define GW_ROUTE_JSON   0x2u /* a body, when there is one, must be application/json (else 415) */
#define GW_ROUTE_API    0x4u /* Cache-Control: no-store */

/* one route */
typedef struct gw_route {
    const char   *method;  /* "GET", "POST", ... (HEAD is answered by GET routes) */
    const char   *pattern; /* "/v1/dossiers/{code}/supplement"; last segment "*": a prefix */
    gw_handler_fn fn;      /* what answers */
    unsigned      flags;   /* GW_ROUTE_* */
} gw_route_t;

#define GW_ROUTES_MAX 128 /* routes one gateway holds */

/* gw_routes_add - append n routes (copied; their strings must outlive gw: use
 * literals); 0, or -1 when the table is full or the server already runs */
int gw_routes_add(gw_t *gw, const gw_route_t *routes, size_t n);

/* --- the gateway (gateway_http.c) ----------------------------------------- */

/* gw_new - the gateway for cfg (clients: clients.yaml, kept by the caller);
 * routes are added next, then gw_start; NULL with err set */
gw_t *gw_new(const mc_cfg_t *cfg, const mc_clients_t *clients, mc_err_t *err);

/* gw_start - listen on gateway.listen and serve; 0 or -1 (err) */
int gw_start(gw_t *gw, mc_err_t *err);

/* gw_port - the TCP port the server got (gateway.listen may ask for port 0) */
int gw_port(const gw_t *gw);

/* gw_stop - stop serving: waits for the requests in hand */
void gw_stop(gw_t *gw);

/* gw_destroy - stop, free, NULL the pointer */
void gw_destroy(gw_t **gw);

/* gw_cfg - the configuration it runs on */
const mc_cfg_t *gw_cfg(const gw_t *gw);

/* gw_clients - clients.yaml as loaded */
const mc_clients_t *gw_clients(const gw_t *gw);

/* gw_pages_state / gw_set_pages_state - the pages module's own state */
void *gw_pages_state(const gw_t *gw);
void gw_set_pages_state(gw_t *gw, void *state);

/* --- a request ------------------------------------------------------------ */

const char *gw_req_method(const gw_req_t *req);  /* "GET" */
const char *gw_req_path(const gw_req_t *req);    /* "/v1/dossiers/X" (decoded, no query) */
const char *gw_req_route(const gw_req_t *req);   /* the matched pattern (logs) */
/* gw_req_param - the `{name}` segment of the matched pattern ("*": the rest), or NULL */
const char *gw_req_param(const gw_req_t *req, const char *name);
/* gw_req_query - a query argument (decoded), or NULL */
const char *gw_req_query(const gw_req_t *req, const char *name);
/* gw_req_header - a request header (case-insensitive name), or NULL */
const char *gw_req_header(const gw_req_t *req, const char *name);
/* gw_req_cookie - a cookie's value, or NULL */
const char *gw_req_cookie(const gw_req_t *req, const char *name);
/* gw_req_body - the body (NUL-terminated, may hold NULs) and its length; "" when none */
const char *gw_req_body(const gw_req_t *req, size_t *len);
/* gw_req_remote - the peer's address as text ("127.0.0.1", "::1") */
const char *gw_req_remote(const gw_req_t *req);
/* gw_req_client - the client the bearer token authenticated (NULL on a public
 * route without a valid token) */
const mc_client_t *gw_req_client(const gw_req_t *req);

/* --- a reply -------------------------------------------------------------- */

/* gw_reply_status - the HTTP status (200 unless set) */
void gw_reply_status(gw_reply_t *reply, int status);
/* gw_reply_header - add a header (copied); 0 or -1 (too many, out of memory) */
int gw_reply_header(gw_reply_t *reply, const char *name, const char *value);
/* gw_reply_body - the body (copied) and its Content-Type; 0 or -1 */
int gw_reply_body(gw_reply_t *reply, const char *content_type, const void *body, size_t len);
/* gw_reply_take - the same, taking a malloc'd body (freed by the server, also on error) */
int gw_reply_take(gw_reply_t *reply, const char *content_type, char *body, size_t len);
/* gw_reply_error - status and a Rejection as canonical JSON ({"reason":...,"field":...,
 * "message":"<vi>"}); reason is a Motcua__V1__Reason; field may be NULL; 0 or -1 */
int gw_reply_error(gw_reply_t *reply, int status, int reason, const char *field,
                   const char *message);
/* gw_reply_message - status and msg as canonical proto3 JSON (mc_pbjson); 0 or -1 */
int gw_reply_message(gw_reply_t *reply, int status, const ProtobufCMessage *msg);

/* --- intake (gateway_intake.c) -------------------------------------------- */

/*
 * gw_intake_exchange - send request to intake on behalf of the client with
 * code on_behalf_of (IntakeRequest.on_behalf_of; the gateway's own CURVE
 * key gateway.key_file), with the failover and retries of the motcua CLI
 * (mc_cli_exchange); *reply to free with motcua__v1__intake_reply__free_unpacked.
 * 0, or -1 when intake did not answer (the caller replies 503).
 */
int gw_intake_exchange(gw_t *gw, const char *on_behalf_of, Motcua__V1__IntakeRequest *request,
                       Motcua__V1__IntakeReply **reply);

/* --- the modules' registration -------------------------------------------- */

/* gw_api_register - the REST API (gateway_api.c); 0 or -1 */
int gw_api_register(gw_t *gw, mc_err_t *err);

/* gw_pages_register - the pages (gateway_pages.c, helper pg); 0 or -1 */
int gw_pages_register(gw_t *gw, mc_err_t *err);

/* gw_pages_destroy - free what gw_pages_register made (gw_pages_state) */
void gw_pages_destroy(gw_t *gw);

#endif
