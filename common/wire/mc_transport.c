/*
 * mc_transport - every ZeroMQ socket motcua opens is made here (contract in
 * mc_transport.h): options, CURVE keys, patient binds and the endpoints
 * they got.
 */
#include "mc_transport.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "mc_log.h"
#include "mc_time.h"

#define BIND_FIRST_WAIT_MS 50   /* first pause after EADDRINUSE */
#define BIND_MAX_WAIT_MS   1000 /* the pause doubles up to this */
#define BOUND_MAX          32   /* binds remembered for mc_transport_bound */
#define ENDPOINT_MAX       300  /* longest endpoint remembered */

/* one bind of this process: what was asked, what the kernel gave */
typedef struct bound_endpoint {
    char requested[ENDPOINT_MAX]; /* as passed to bind, e.g. tcp://127.0.0.1:* */
    char actual[ENDPOINT_MAX];    /* ZMQ_LAST_ENDPOINT after it */
} bound_endpoint_t;

static void           *transport_ctx;                                /* the process's context */
static pthread_mutex_t transport_lock = PTHREAD_MUTEX_INITIALIZER; /* guards transport_ctx, bound */
static bound_endpoint_t bound[BOUND_MAX];                          /* newest binds, by requested */
static int              n_bound;                                    /* entries used in bound */
static int              next_bound;                                 /* slot reused when full */

/* mc_transport_ctx - the context, made once */
void *mc_transport_ctx(void)
{
    pthread_mutex_lock(&transport_lock);
    if (!transport_ctx) {
        transport_ctx = zmq_ctx_new();
        if (transport_ctx)
            zmq_ctx_set(transport_ctx, ZMQ_BLOCKY, 0); /* sockets do not block term */
    }
    void *ctx = transport_ctx;
    pthread_mutex_unlock(&transport_lock);
    return ctx;
}

/* mc_transport_term - destroy the context */
void mc_transport_term(void)
{
    pthread_mutex_lock(&transport_lock);
    if (transport_ctx)
        zmq_ctx_term(transport_ctx);
    transport_ctx = NULL;
    pthread_mutex_unlock(&transport_lock);
}

/* make_socket - a socket with our options applied */
static void *make_socket(int type, const mc_socket_opts_t *opts, mc_err_t *err)
{
    void *ctx = mc_transport_ctx();
    if (!ctx) {
        mc_err_add(err, "transport: cannot create context: %s", zmq_strerror(errno));
        return NULL;
    }
    void *s = zmq_socket(ctx, type);
    if (!s) {
        mc_err_add(err, "transport: cannot create socket: %s", zmq_strerror(errno));
        return NULL;
    }
    int linger = (opts && opts->linger_ms >= 0) ? opts->linger_ms : 0;
    int rc = zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (rc == 0 && opts && opts->max_message_bytes > 0)
        rc = zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &opts->max_message_bytes,
                            sizeof opts->max_message_bytes);
    if (rc == 0 && opts && opts->immediate) {
        int on = 1;
        rc = zmq_setsockopt(s, ZMQ_IMMEDIATE, &on, sizeof on);
    }
    if (rc == 0 && opts && opts->send_hwm > 0)
        rc = zmq_setsockopt(s, ZMQ_SNDHWM, &opts->send_hwm, sizeof opts->send_hwm);
    if (rc == 0 && opts && opts->recv_hwm > 0)
        rc = zmq_setsockopt(s, ZMQ_RCVHWM, &opts->recv_hwm, sizeof opts->recv_hwm);
    if (rc == 0 && type == ZMQ_ROUTER) {
        /* a reply to a vanished client is dropped, never an error that stops the loop */
        int mandatory = 0;
        rc = zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory);
    }
    if (rc != 0) {
        mc_err_add(err, "transport: socket option: %s", zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* mc_transport_connectable - the wildcard host replaced by the loopback */
const char *mc_transport_connectable(const char *bind, char *buf, size_t size)
{
    static const char *const wild[] = {"tcp://*:", "tcp://0.0.0.0:"};
    for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++) {
        size_t n = strlen(wild[i]);
        if (strncmp(bind, wild[i], n) == 0) {
            snprintf(buf, size, "tcp://127.0.0.1:%s", bind + n);
            return buf;
        }
    }
    return bind;
}

/* mc_transport_connect_more - one more zmq_connect */
int mc_transport_connect_more(void *socket, const char *endpoint, mc_err_t *err)
{
    if (socket && endpoint && zmq_connect(socket, endpoint) == 0)
        return 0;
    mc_err_add(err, "transport: cannot connect to %s: %s", endpoint ? endpoint : "(none)",
               zmq_strerror(errno));
    return -1;
}

/* mc_transport_subscribe - ZMQ_SUBSCRIBE */
int mc_transport_subscribe(void *socket, const char *prefix, mc_err_t *err)
{
    if (socket && zmq_setsockopt(socket, ZMQ_SUBSCRIBE, prefix, strlen(prefix)) == 0)
        return 0;
    mc_err_add(err, "transport: cannot subscribe: %s", zmq_strerror(errno));
    return -1;
}

/* mc_transport_router_mandatory - ZMQ_ROUTER_MANDATORY */
int mc_transport_router_mandatory(void *socket, bool on, mc_err_t *err)
{
    int value = on ? 1 : 0;
    if (socket && zmq_setsockopt(socket, ZMQ_ROUTER_MANDATORY, &value, sizeof value) == 0)
        return 0;
    mc_err_add(err, "transport: socket option ROUTER_MANDATORY: %s", zmq_strerror(errno));
    return -1;
}

/* mc_transport_monitor - zmq_socket_monitor and the PAIR that reads it */
void *mc_transport_monitor(void *socket, const char *inproc, int events, mc_err_t *err)
{
    void *pair = NULL;
    if (!socket || zmq_socket_monitor(socket, inproc, events) != 0 ||
        !(pair = make_socket(ZMQ_PAIR, NULL, err)) || zmq_connect(pair, inproc) != 0) {
        mc_err_add(err, "transport: cannot monitor a socket: %s", zmq_strerror(errno));
        if (pair)
            zmq_close(pair);
        return NULL;
    }
    return pair;
}

/* mc_transport_monitor_stop - zmq_socket_monitor(NULL) */
void mc_transport_monitor_stop(void *socket)
{
    if (socket)
        zmq_socket_monitor(socket, NULL, 0);
}

/* mc_transport_endpoint - ZMQ_LAST_ENDPOINT of a bound socket */
int mc_transport_endpoint(void *socket, char *buf, size_t size, mc_err_t *err)
{
    size_t len = size;
    if (!socket || size == 0 || zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, buf, &len) != 0) {
        mc_err_add(err, "transport: cannot read the bound endpoint: %s",
                    size ? zmq_strerror(errno) : "no buffer");
        return -1;
    }
    buf[size - 1] = '\0';
    return 0;
}

/* remember_bound - note what a bind of requested got, and log it once */
static void remember_bound(void *s, const char *requested)
{
    char actual[ENDPOINT_MAX];
    mc_err_t ignored;
    mc_err_clear(&ignored);
    if (mc_transport_endpoint(s, actual, sizeof actual, &ignored) != 0)
        snprintf(actual, sizeof actual, "%s", requested);
    pthread_mutex_lock(&transport_lock);
    int slot = -1;
    for (int i = 0; i < n_bound && slot < 0; i++)
        if (strcmp(bound[i].requested, requested) == 0)
            slot = i;
    if (slot < 0 && n_bound < BOUND_MAX)
        slot = n_bound++;
    if (slot < 0) { /* full: the oldest entry goes */
        slot = next_bound;
        next_bound = (next_bound + 1) % BOUND_MAX;
    }
    snprintf(bound[slot].requested, sizeof bound[slot].requested, "%s", requested);
    snprintf(bound[slot].actual, sizeof bound[slot].actual, "%s", actual);
    pthread_mutex_unlock(&transport_lock);
    /* in-process sockets are plumbing, not something an operator looks for */
    if (strncmp(requested, "inproc://", 9) != 0)
        mc_log(MC_LOG_INFO, "bound", "endpoint=%s requested=%s", actual, requested);
}

/* mc_transport_bound - the actual endpoint of the newest bind of requested */
int mc_transport_bound(const char *requested, char *buf, size_t size)
{
    int rc = -1;
    pthread_mutex_lock(&transport_lock);
    for (int i = 0; i < n_bound && requested && size > 0; i++)
        if (strcmp(bound[i].requested, requested) == 0) {
            snprintf(buf, size, "%s", bound[i].actual);
            rc = 0;
        }
    pthread_mutex_unlock(&transport_lock);
    return rc;
}

/* sleep_ms - a pause that a signal does not cut short */
static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* bind_patiently - zmq_bind, retrying EADDRINUSE with backoff (see mc_transport.h);
 * an in-process name in use is a bug of ours that waiting does not cure */
static int bind_patiently(void *s, const char *endpoint, mc_err_t *err)
{
    int64_t start = mc_time_mono_ms();
    int64_t wait = BIND_FIRST_WAIT_MS;
    for (int attempt = 1;; attempt++) {
        if (zmq_bind(s, endpoint) == 0) {
            remember_bound(s, endpoint);
            return 0;
        }
        int e = errno;
        int64_t left = start + MC_TRANSPORT_BIND_PATIENCE_MS - mc_time_mono_ms();
        if (e != EADDRINUSE || strncmp(endpoint, "inproc://", 9) == 0 || left <= 0) {
            if (e == EADDRINUSE && attempt > 1)
                mc_err_add(err, "transport: cannot bind %s: %s (still after %d attempts in %lld ms)",
                           endpoint, zmq_strerror(e), attempt, (long long)(mc_time_mono_ms() - start));
            else
                mc_err_add(err, "transport: cannot bind %s: %s", endpoint, zmq_strerror(e));
            return -1;
        }
        if (wait > left)
            wait = left;
        mc_log(MC_LOG_WARNING, "bind_retry", "endpoint=%s attempt=%d wait_ms=%lld error=\"%s\"",
               endpoint, attempt, (long long)wait, zmq_strerror(e));
        sleep_ms(wait);
        wait = wait * 2 > BIND_MAX_WAIT_MS ? BIND_MAX_WAIT_MS : wait * 2;
    }
}

/* mc_transport_bind - a bound socket */
void *mc_transport_bind(int type, const char *endpoint, const mc_socket_opts_t *opts,
                        mc_err_t *err)
{
    void *s = make_socket(type, opts, err);
    if (s && bind_patiently(s, endpoint, err) != 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* mc_transport_connect - a connected socket */
void *mc_transport_connect(int type, const char *endpoint, const mc_socket_opts_t *opts,
                           mc_err_t *err)
{
    void *s = make_socket(type, opts, err);
    if (s && zmq_connect(s, endpoint) != 0) {
        mc_err_add(err, "transport: cannot connect %s: %s", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* set_text_opt - a string socket option (CURVE keys are 40-character Z85) */
static int set_text_opt(void *s, int option, const char *value)
{
    return zmq_setsockopt(s, option, value, strlen(value));
}

/* mc_transport_bind_curve_server - CURVE options must be set before bind */
void *mc_transport_bind_curve_server(int type, const char *endpoint, const mc_socket_opts_t *opts,
                                     const char *secret_z85, const char *zap_domain,
                                     mc_err_t *err)
{
    void *s = make_socket(type, opts, err);
    if (!s)
        return NULL;
    int one = 1;
    if (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        set_text_opt(s, ZMQ_CURVE_SECRETKEY, secret_z85) != 0 ||
        set_text_opt(s, ZMQ_ZAP_DOMAIN, zap_domain) != 0) {
        mc_err_add(err, "transport: CURVE server options: %s", zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    if (bind_patiently(s, endpoint, err) != 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* mc_transport_connect_curve_client - CURVE options must be set before connect */
void *mc_transport_connect_curve_client(int type, const char *endpoint,
                                        const mc_socket_opts_t *opts, const char *server_public_z85,
                                        const char *public_z85, const char *secret_z85,
                                        mc_err_t *err)
{
    void *s = make_socket(type, opts, err);
    if (!s)
        return NULL;
    if (set_text_opt(s, ZMQ_CURVE_SERVERKEY, server_public_z85) != 0 ||
        set_text_opt(s, ZMQ_CURVE_PUBLICKEY, public_z85) != 0 ||
        set_text_opt(s, ZMQ_CURVE_SECRETKEY, secret_z85) != 0) {
        mc_err_add(err, "transport: CURVE client options: %s", zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    if (zmq_connect(s, endpoint) != 0) {
        mc_err_add(err, "transport: cannot connect %s: %s", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* mc_transport_close - close and NULL */
void mc_transport_close(void **socket)
{
    if (socket && *socket) {
        zmq_close(*socket);
        *socket = NULL;
    }
}

/* mc_transport_connect_as - CURVE client when keys are given, plain otherwise */
void *mc_transport_connect_as(int type, const char *endpoint, const mc_socket_opts_t *opts,
                              const mc_transport_keys_t *keys, mc_err_t *err)
{
    if (!keys)
        return mc_transport_connect(type, endpoint, opts, err);
    return mc_transport_connect_curve_client(type, endpoint, opts, keys->server_public,
                                             keys->public_key, keys->secret_key, err);
}

/* mc_transport_request - plain text */
int mc_transport_request(const char *endpoint, const void *request, size_t request_len,
                         int timeout_ms, int retries, uint32_t max_reply_bytes,
                         void **reply, size_t *reply_len, mc_err_t *err)
{
    return mc_transport_request_as(endpoint, NULL, request, request_len, timeout_ms, retries,
                                   max_reply_bytes, reply, reply_len, err);
}

/* mc_transport_request_as - one endpoint: mc_transport_request_any with a list of one */
int mc_transport_request_as(const char *endpoint, const mc_transport_keys_t *keys,
                            const void *request, size_t request_len, int timeout_ms, int retries,
                            uint32_t max_reply_bytes, void **reply, size_t *reply_len,
                            mc_err_t *err)
{
    size_t next = 0;
    return mc_transport_request_any(&endpoint, 1, &next, keys, request, request_len, timeout_ms,
                                    retries, max_reply_bytes, reply, reply_len, err);
}

/* what one attempt of a request came to */
typedef enum attempt_rc {
    ATTEMPT_REPLY   = 0,  /* *reply holds the answer */
    ATTEMPT_NONE    = 1,  /* connection not up or no reply in time: try the next endpoint */
    ATTEMPT_FAILED  = -1, /* a local failure or a reply not in our protocol: err says */
} attempt_rc_t;

/* attempt - the request once to endpoint on a fresh DEALER (a late reply to an
 * older attempt can never be mistaken for this one), waiting until deadline,
 * and for the connection at most connect_ms of it */
static attempt_rc_t attempt(const char *endpoint, const mc_transport_keys_t *keys,
                            const void *request, size_t request_len, int64_t deadline,
                            int connect_ms, uint32_t max_reply_bytes, void **reply,
                            size_t *reply_len, mc_err_t *err)
{
    mc_socket_opts_t opts = {.max_message_bytes = max_reply_bytes, .linger_ms = 0,
                             .immediate = true};
    void *s = mc_transport_connect_as(ZMQ_DEALER, endpoint, &opts, keys, err);
    if (!s)
        return ATTEMPT_FAILED;
    /* with ZMQ_IMMEDIATE the send waits for the connection (and its CURVE
     * handshake): an endpoint that is down costs no more than the deadline */
    int wait = (int)(deadline - mc_time_mono_ms());
    wait = wait > 0 ? wait : 0;
    wait = wait < connect_ms ? wait : connect_ms;
    if (zmq_setsockopt(s, ZMQ_SNDTIMEO, &wait, sizeof wait) != 0) {
        mc_err_add(err, "transport: socket option: %s", zmq_strerror(errno));
        mc_transport_close(&s);
        return ATTEMPT_FAILED;
    }
    /* empty delimiter first: the same envelope a REQ socket would send */
    if (zmq_send(s, "", 0, ZMQ_SNDMORE) < 0 || zmq_send(s, request, request_len, 0) < 0) {
        attempt_rc_t rc = errno == EAGAIN || errno == EINTR ? ATTEMPT_NONE : ATTEMPT_FAILED;
        if (rc == ATTEMPT_FAILED)
            mc_err_add(err, "transport: send to %s: %s", endpoint, zmq_strerror(errno));
        mc_transport_close(&s);
        return rc;
    }
    for (;;) {
        int64_t left = deadline - mc_time_mono_ms();
        if (left <= 0)
            break;
        zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&item, 1, (long)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, s, 0) < 0) {
            zmq_msg_close(&part);
            break;
        }
        /* skip the empty delimiter; the payload is the last frame */
        int more = zmq_msg_more(&part);
        if (zmq_msg_size(&part) == 0 && more) {
            zmq_msg_close(&part);
            continue;
        }
        if (more) { /* not our protocol: drain and fail */
            zmq_msg_close(&part);
            mc_err_add(err, "transport: reply from %s has extra frames", endpoint);
            mc_transport_close(&s);
            return ATTEMPT_FAILED;
        }
        size_t n = zmq_msg_size(&part);
        void *copy = malloc(n ? n : 1);
        if (!copy) {
            zmq_msg_close(&part);
            mc_transport_close(&s);
            mc_err_add(err, "transport: out of memory");
            return ATTEMPT_FAILED;
        }
        memcpy(copy, zmq_msg_data(&part), n);
        zmq_msg_close(&part);
        mc_transport_close(&s);
        *reply = copy;
        *reply_len = n;
        return ATTEMPT_REPLY;
    }
    mc_transport_close(&s);
    return ATTEMPT_NONE;
}

/* mc_transport_request_any - one request, one reply, resent round robin over endpoints */
int mc_transport_request_any(const char *const *endpoints, size_t n, size_t *next,
                             const mc_transport_keys_t *keys, const void *request,
                             size_t request_len, int timeout_ms, int retries,
                             uint32_t max_reply_bytes, void **reply, size_t *reply_len,
                             mc_err_t *err)
{
    *reply = NULL;
    *reply_len = 0;
    if (n == 0) {
        mc_err_add(err, "transport: no endpoint to send to");
        return -1;
    }
    for (int tries = 0; tries <= retries; tries++) {
        const char *endpoint = endpoints[*next % n];
        int connect_ms = n > 1 ? MC_TRANSPORT_CONNECT_MS(timeout_ms) : timeout_ms;
        attempt_rc_t rc = attempt(endpoint, keys, request, request_len,
                                  mc_time_mono_ms() + timeout_ms, connect_ms, max_reply_bytes,
                                  reply, reply_len, err);
        if (rc == ATTEMPT_REPLY) {
            *next %= n;
            return 0;
        }
        if (rc == ATTEMPT_FAILED)
            return -1;
        *next = (*next + 1) % n; /* no answer there: the same bytes to the next one */
    }
    if (n == 1)
        mc_err_add(err, "transport: no reply from %s after %d tries of %d ms", endpoints[0],
                   retries + 1, timeout_ms);
    else
        mc_err_add(err, "transport: no reply from any of %zu endpoints (%s, ...) after %d tries "
                   "of %d ms", n, endpoints[0], retries + 1, timeout_ms);
    return -1;
}
