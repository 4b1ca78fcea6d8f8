/*
 * gateway_auth - who is calling: the bearer token of each request looked up
 * in clients.yaml (token_sha256, mc_clients_find_token: a constant-time
 * compare), and how often: a token bucket per client (gateway.rate_per_s
 * refilled, gateway.burst deep). Also the TLS files, read once at start.
 *
 * Contract (gateway_int.h): the token itself is never logged or kept; a
 * refused request is answered before its body is read (nothing stored).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "gateway_int.h"

#define GW_TLS_FILE_MAX (1024 * 1024) /* a PEM certificate chain or key */

/* now_ms - the monotonic clock in ms */
static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* gw_limit_init - a full bucket per client */
int gw_limit_init(gw_t *gw, mc_err_t *err)
{
    size_t n = gw->clients ? gw->clients->count : 0;
    if (!(gw->buckets = calloc(n ? n : 1, sizeof *gw->buckets)) ||
        !(gw->addr_buckets = calloc(GW_ADDR_BUCKETS, sizeof *gw->addr_buckets)) ||
        pthread_mutex_init(&gw->lock, NULL) != 0) {
        free(gw->buckets);
        free(gw->addr_buckets);
        gw->buckets = NULL;
        gw->addr_buckets = NULL;
        mc_err_add(err, "out of memory");
        return -1;
    }
    int64_t now = now_ms();
    for (size_t i = 0; i < n; i++)
        gw->buckets[i] = (gw_bucket_t){.tokens = gw->cfg->gateway.burst, .last_ms = now};
    return 0;
}

/* gw_limit_destroy - free the buckets */
void gw_limit_destroy(gw_t *gw)
{
    if (!gw->buckets)
        return;
    pthread_mutex_destroy(&gw->lock);
    free(gw->buckets);
    free(gw->addr_buckets);
    gw->buckets = NULL;
    gw->addr_buckets = NULL;
}

/* take_from - one request from bucket b (lock held): 0, or the seconds to wait */
static int take_from(const mc_cfg_gateway_t *c, gw_bucket_t *b)
{
    int64_t now = now_ms();
    b->tokens += (double)(now - b->last_ms) * c->rate_per_s / 1000.0;
    if (b->tokens > c->burst)
        b->tokens = c->burst;
    b->last_ms = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    return 1 + (int)((1.0 - b->tokens) / c->rate_per_s); /* rounded up, at least 1 */
}

/* take_token - one request of client i: 0, or the seconds to wait */
static int take_token(gw_t *gw, size_t i)
{
    pthread_mutex_lock(&gw->lock);
    int retry_s = take_from(&gw->cfg->gateway, &gw->buckets[i]);
    pthread_mutex_unlock(&gw->lock);
    return retry_s;
}

/* take_addr - one token-less request from remote: 0, or the seconds to wait */
static int take_addr(gw_t *gw, const char *remote)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = remote; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    pthread_mutex_lock(&gw->lock);
    gw_addr_bucket_t *a = &gw->addr_buckets[h % GW_ADDR_BUCKETS];
    if (strncmp(a->addr, remote, sizeof a->addr) != 0) {
        snprintf(a->addr, sizeof a->addr, "%s", remote);
        a->b = (gw_bucket_t){.tokens = gw->cfg->gateway.burst, .last_ms = now_ms()};
    }
    int retry_s = take_from(&gw->cfg->gateway, &a->b);
    pthread_mutex_unlock(&gw->lock);
    return retry_s;
}

/* gw_auth - the token's client, and its rate */
int gw_auth(gw_t *gw, const gw_route_t *route, const char *authorization, const char *remote,
            const mc_client_t **client, int *retry_s)
{
    *client = NULL;
    *retry_s = 0;
    bool need = !(route->flags & GW_ROUTE_PUBLIC);
    if (authorization && strncasecmp(authorization, "Bearer ", 7) == 0 && gw->clients) {
        const char *token = authorization + 7;
        while (*token == ' ')
            token++;
        *client = mc_clients_find_token(gw->clients, token);
    }
    if (!*client && need)
        return 401;
    if (!*client) {
        if ((route->flags & GW_ROUTE_API) && remote && gw->cfg->gateway.rate_per_address &&
            (*retry_s = take_addr(gw, remote)) > 0)
            return 429;
        return 0;
    }
    size_t i = (size_t)(*client - gw->clients->items);
    if ((*retry_s = take_token(gw, i)) > 0)
        return 429;
    return 0;
}

/* read_pem - a PEM file whole, NUL-terminated */
static char *read_pem(const char *path, const char *what, mc_err_t *err)
{
    FILE *f = strcmp(what, "key") == 0 ? mc_cfg_open_secret(path, "gateway TLS key", err)
                                       : fopen(path, "r");
    if (!f) {
        if (strcmp(what, "key") != 0)
            mc_err_add(err, "%s: cannot open the gateway TLS certificate", path);
        return NULL;
    }
    char *buf = malloc(GW_TLS_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, GW_TLS_FILE_MAX + 1, f) : 0;
    bool bad = ferror(f) || n == 0 || n > GW_TLS_FILE_MAX;
    fclose(f);
    if (!buf || bad) {
        if (buf)
            sodium_memzero(buf, GW_TLS_FILE_MAX + 1);
        free(buf);
        mc_err_add(err, "%s: cannot read the gateway TLS %s (empty, or over 1 MiB)", path, what);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* gw_tls_load - both files, or neither */
int gw_tls_load(const mc_cfg_gateway_t *c, char **cert, char **key, mc_err_t *err)
{
    *cert = *key = NULL;
    if (!c->tls_cert_file[0] && !c->tls_key_file[0])
        return 0;
    if (!c->tls_cert_file[0] || !c->tls_key_file[0]) {
        mc_err_add(err, "gateway: tls_cert_file and tls_key_file go together");
        return -1;
    }
    if (!(*cert = read_pem(c->tls_cert_file, "certificate", err)) ||
        !(*key = read_pem(c->tls_key_file, "key", err))) {
        gw_tls_free(cert, key);
        return -1;
    }
    return 0;
}

/* gw_tls_free - wipe the key */
void gw_tls_free(char **cert, char **key)
{
    if (*key)
        sodium_memzero(*key, strlen(*key));
    free(*cert);
    free(*key);
    *cert = *key = NULL;
}
