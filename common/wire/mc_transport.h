/*
 * mc_transport - every ZeroMQ socket motcua opens is made here.
 *
 * Contract: one place decides socket options (linger, high-water marks,
 * maximum message size, reconnect intervals, and later CURVE keys), so
 * that no daemon configures a socket by itself. Frames are read with a hard
 * size bound. The context is one per process (mc_transport_ctx()).
 * Functions return 0 / -1 with a message in err; nothing here exits.
 *
 * Binding does not give up at the first EADDRINUSE: a TCP or IPC port can
 * be held for a moment by something we do not control (the source port of
 * someone's outgoing connection, the previous instance's socket after
 * kill -9). A bind failing with EADDRINUSE is retried after 50 ms, doubling
 * to 1 s, for MC_TRANSPORT_BIND_PATIENCE_MS in all, each retry logged as
 * `bind_retry endpoint=... attempt=N wait_ms=...`; then the bind fails with
 * a clear error. Any other bind error fails at once.
 *
 * A bind may ask for any free port (`tcp://127.0.0.1:*`): the endpoint it
 * really got is read back with mc_transport_endpoint() (the socket) or
 * mc_transport_bound() (by the endpoint string that was asked for), so a
 * daemon can report it (READY, logs) and its peers can be told.
 */
#ifndef MC_TRANSPORT_H
#define MC_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_err.h"

typedef struct mc_socket_opts {
    int64_t max_message_bytes; /* ZMQ_MAXMSGSIZE: larger frames drop the peer; 0 = unlimited */
    int     send_hwm;          /* ZMQ_SNDHWM, 0 = default 1000 */
    int     recv_hwm;          /* ZMQ_RCVHWM, 0 = default 1000 */
    int     linger_ms;         /* ZMQ_LINGER; -1 keeps the default of 0 */
    bool    immediate;         /* ZMQ_IMMEDIATE: queue only to completed connections (a send
                                * to an endpoint that is down blocks instead of queueing) */
} mc_socket_opts_t;

/* how long a bind keeps retrying EADDRINUSE before it fails (ms) */
#define MC_TRANSPORT_BIND_PATIENCE_MS 30000

/* mc_transport_ctx - the process's ZeroMQ context, made on first use */
void *mc_transport_ctx(void);

/* mc_transport_term - destroy the context (after every socket is closed) */
void mc_transport_term(void);

/* mc_transport_bind - a socket of type (ZMQ_ROUTER, ...) bound to endpoint */
void *mc_transport_bind(int type, const char *endpoint, const mc_socket_opts_t *opts,
                        mc_err_t *err);

/* mc_transport_connect - a socket of type connected to endpoint */
void *mc_transport_connect(int type, const char *endpoint, const mc_socket_opts_t *opts,
                           mc_err_t *err);

/*
 * mc_transport_bind_curve_server - a socket of type bound to endpoint as a
 * CURVE server with the given secret key (Z85). zap_domain names the ZAP
 * domain; a ZAP handler (mc_zap_start) must already be running, or libzmq
 * would let every client in.
 */
void *mc_transport_bind_curve_server(int type, const char *endpoint, const mc_socket_opts_t *opts,
                                     const char *secret_z85, const char *zap_domain,
                                     mc_err_t *err);

/*
 * mc_transport_connect_curve_client - a socket of type connected to
 * endpoint as a CURVE client: our keypair (Z85) and the server's public key.
 */
void *mc_transport_connect_curve_client(int type, const char *endpoint,
                                        const mc_socket_opts_t *opts, const char *server_public_z85,
                                        const char *public_z85, const char *secret_z85,
                                        mc_err_t *err);

/* a CURVE client's keys: ours and the server's (Z85; the secret is never logged) */
typedef struct mc_transport_keys {
    char server_public[41]; /* the server's public key */
    char public_key[41];    /* ours */
    char secret_key[41];    /* ours */
} mc_transport_keys_t;

/* mc_transport_connect_as - mc_transport_connect_curve_client with keys, or
 * mc_transport_connect when keys is NULL (a plain-text server) */
void *mc_transport_connect_as(int type, const char *endpoint, const mc_socket_opts_t *opts,
                              const mc_transport_keys_t *keys, mc_err_t *err);

/*
 * mc_transport_endpoint - the endpoint socket was last bound to, as the
 * kernel gave it (ZMQ_LAST_ENDPOINT: `tcp://127.0.0.1:*` becomes
 * `tcp://127.0.0.1:40123`). Returns 0, or -1 with err set.
 */
int mc_transport_endpoint(void *socket, char *buf, size_t size, mc_err_t *err);

/*
 * mc_transport_bound - the endpoint the newest successful bind of this
 * process asked as requested actually got (for code that holds the
 * configured endpoint but not the socket, e.g. a daemon's main reporting
 * READY). Returns 0 with buf set, or -1 if nothing was bound as requested.
 */
int mc_transport_bound(const char *requested, char *buf, size_t size);

/* mc_transport_connectable - a bind address made connectable: a wildcard
 * host (a `*` or 0.0.0.0 after tcp://) becomes 127.0.0.1; other endpoints are
 * returned as they are. Returns buf or bind. */
const char *mc_transport_connectable(const char *bind, char *buf, size_t size);

/* mc_transport_connect_more - connect socket to one more endpoint (a SUB
 * listening to several publishers); 0, or -1 with err set */
int mc_transport_connect_more(void *socket, const char *endpoint, mc_err_t *err);

/* mc_transport_subscribe - a SUB socket takes messages starting with prefix
 * ("" for all); 0, or -1 with err set */
int mc_transport_subscribe(void *socket, const char *prefix, mc_err_t *err);

/* mc_transport_router_mandatory - a ROUTER socket's send to a peer that is
 * gone fails with EHOSTUNREACH (on) instead of being dropped (off, the
 * default every ROUTER gets here); 0, or -1 with err set */
int mc_transport_router_mandatory(void *socket, bool on, mc_err_t *err);

/* mc_transport_monitor - a PAIR socket receiving socket's events (ZMQ_EVENT_*
 * mask) through the inproc endpoint; NULL with err set */
void *mc_transport_monitor(void *socket, const char *inproc, int events, mc_err_t *err);

/* mc_transport_monitor_stop - stop the monitor of socket (before closing it);
 * the PAIR socket is closed with mc_transport_close */
void mc_transport_monitor_stop(void *socket);

/* mc_transport_close - close and NULL the caller's pointer */
void mc_transport_close(void **socket);

/*
 * mc_transport_request - one request/reply exchange for clients: send one
 * frame on a fresh DEALER connected to endpoint, wait up to timeout_ms for
 * one frame back, resend on timeout up to retries times (on a new socket,
 * so a late reply to an old attempt is never mistaken for the new one).
 * On success *reply is malloc'd (caller frees) with *reply_len bytes.
 * Returns 0, or -1 with err set ("no reply from ENDPOINT after N tries").
 */
int mc_transport_request(const char *endpoint, const void *request, size_t request_len,
                         int timeout_ms, int retries, uint32_t max_reply_bytes,
                         void **reply, size_t *reply_len, mc_err_t *err);

/* mc_transport_request_as - mc_transport_request as a CURVE client with keys
 * (NULL: plain text). A server that refuses our key never answers: the
 * result is then the same "no reply" error. */
int mc_transport_request_as(const char *endpoint, const mc_transport_keys_t *keys,
                            const void *request, size_t request_len, int timeout_ms, int retries,
                            uint32_t max_reply_bytes, void **reply, size_t *reply_len,
                            mc_err_t *err);

/*
 * mc_transport_request_any - mc_transport_request_as over a list of
 * endpoints (instances of one service) with failover: the first attempt goes
 * to endpoints[*next % n]; an attempt whose connection is not up within
 * timeout_ms (ZMQ_IMMEDIATE: nothing is queued to an endpoint that is down;
 * with several endpoints within MC_TRANSPORT_CONNECT_MS(timeout_ms), so a
 * dead host costs about a second, not the whole timeout, before the next)
 * or whose reply does not come by then is sent again, the same bytes, to the
 * next endpoint in the list, round robin, retries times at most. Safe only
 * for idempotent requests (every intake request is: submission_id). On
 * success *next is the endpoint that answered (the next call starts there);
 * on failure it has moved past the last one tried. 0, or -1 with err set.
 */
/* the connection wait of one attempt when there are other endpoints to try:
 * a quarter of the request timeout, at least 1 s (a CURVE handshake is a few
 * round trips: far less, even at 20 ms one way), at most the timeout */
#define MC_TRANSPORT_CONNECT_MS(timeout_ms)                                                   \
    ((timeout_ms) / 4 > 1000 ? (timeout_ms) / 4 : (timeout_ms) < 1000 ? (timeout_ms) : 1000)

int mc_transport_request_any(const char *const *endpoints, size_t n, size_t *next,
                             const mc_transport_keys_t *keys, const void *request,
                             size_t request_len, int timeout_ms, int retries,
                             uint32_t max_reply_bytes, void **reply, size_t *reply_len,
                             mc_err_t *err);

#endif
