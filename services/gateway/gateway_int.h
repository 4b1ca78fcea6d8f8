/*
 * gateway_int - what the gateway's own modules share and no handler needs:
 * the gw_t itself, the bearer-token check with its rate limit
 * (gateway_auth.c) and the TLS files.
 *
 * Contract: gw_t is written by gw_new/gw_routes_add/gw_start on the main
 * thread before any connection; afterwards only the token buckets change,
 * under their mutex.
 */
#ifndef GATEWAY_INT_H
#define GATEWAY_INT_H

#include <pthread.h>

#include "gateway.h"
#include "mc_transport.h"

struct MHD_Daemon;

/* one client's token bucket (gateway.rate_per_s, gateway.burst) */
typedef struct gw_bucket {
    double  tokens;  /* requests it may still make now */
    int64_t last_ms; /* when tokens was last filled (monotonic) */
} gw_bucket_t;

/* requests without a token to the JSON routes: a bucket per remote address,
 * in a fixed table (a collision starts the newcomer with a full bucket) */
#define GW_ADDR_BUCKETS 4096

/* one remote address's bucket */
typedef struct gw_addr_bucket {
    char        addr[48]; /* the remote address ("" = free slot) */
    gw_bucket_t b;        /* its bucket */
} gw_addr_bucket_t;

struct gw {
    const mc_cfg_t      *cfg;                  /* motcua.yaml */
    const mc_clients_t  *clients;              /* clients.yaml (tokens, roles, wards) */
    gw_route_t           routes[GW_ROUTES_MAX]; /* in the order added */
    size_t               n_routes;             /* entries in routes */
    struct MHD_Daemon   *mhd;                  /* the server while it runs */
    int                  port;                 /* the port it got */
    void                *pages;                /* gateway_pages.c's state */
    pthread_mutex_t      lock;                 /* guards buckets */
    gw_bucket_t         *buckets;              /* one per clients->items[i] */
    gw_addr_bucket_t    *addr_buckets;         /* GW_ADDR_BUCKETS, token-less requests */
    mc_transport_keys_t  intake_keys;          /* gateway.key_file + intake's public key, read at gw_new */
    const mc_transport_keys_t *intake_as;      /* &intake_keys, or NULL (intake.plaintext) */
};

/* gw_limit_init - the token buckets, full; 0 or -1 (err) */
int gw_limit_init(gw_t *gw, mc_err_t *err);

/* gw_intake_keys - the keys to reach intake, read once (gateway_intake.c); 0 or -1 (err) */
int gw_intake_keys(gw_t *gw, mc_err_t *err);

/* gw_limit_destroy - free them */
void gw_limit_destroy(gw_t *gw);

/*
 * gw_auth - the bearer token of an Authorization header: *client is its
 * client (NULL when absent or unknown). Returns 0 (go on), 401 (the route
 * needs a token and there is no valid one) or 429 (the client is over its
 * rate; *retry_s is when to retry). A public route is never refused for
 * want of a token, but a valid token on it still counts against its
 * client's rate, and a request without one to a JSON route (GW_ROUTE_API:
 * lookup, rating, login, catalog) against its remote address's bucket (the
 * same rate_per_s and burst): the citizen pages' backends are rate-limited
 * per address. Pages and static files are not.
 */
int gw_auth(gw_t *gw, const gw_route_t *route, const char *authorization, const char *remote,
            const mc_client_t **client, int *retry_s);

/* gw_api_status - the HTTP status a Rejection maps to (gateway_api.c) */
int gw_api_status(const Motcua__V1__Rejection *r);

/* gw_tls_load - gateway.tls_cert_file/tls_key_file read (both NULL when not
 * set); 0 or -1 (err) */
int gw_tls_load(const mc_cfg_gateway_t *c, char **cert, char **key, mc_err_t *err);

/* gw_tls_free - wipe and free them */
void gw_tls_free(char **cert, char **key);

#endif
