/*
 * intake_server - the broker thread and the worker threads (see intake.h).
 *
 * Frames from the public ROUTER: [identity][""]?[payload]. The envelope
 * (identity, and the empty delimiter when the client sent one: REQ always
 * does) is kept in the broker beside the worker that got the payload, so
 * workers see payloads only and the reply goes back behind exactly the
 * envelope it came with.
 */
#include "intake.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "mc_curve.h"
#include "mc_events.h"
#include "mc_daemon.h"
#include "mc_log.h"
#include "mc_time.h"
#include "mc_transport.h"
#include "motcua/internal/v1/pipeline.pb-c.h"

#define BACKEND_ENDPOINT "inproc://intake-workers"
#define INTAKE_STOP_QUIET_MS 200 /* stopping: exit after this long with no new frame */
#define MAX_FRAMES       4 /* identity, delimiter, payload: anything longer is malformed */
#define ZAP_DOMAIN       "motcua-intake"
#define PLAINTEXT_CLIENT "PLAINTEXT" /* the client every request comes from with intake.plaintext */

/* one worker thread and what the broker knows of it */
typedef struct intake_worker {
    intake_server_t *server;              /* back pointer */
    int              number;              /* 0..n-1, for logs */
    pthread_t        thread;              /* the thread */
    bool             started;             /* thread was created */
    zmq_msg_t        identity;            /* its identity on the backend ROUTER */
    bool             known;               /* it has said READY at least once */
    bool             busy;                /* it holds a request */
    zmq_msg_t        envelope[2];         /* client identity (+ delimiter) of that request */
    int              envelope_frames;     /* 1 or 2 */
} intake_worker_t;

struct intake_server {
    const mc_cfg_t  *cfg;      /* configuration (workers read it under clients_lock) */
    const mc_clients_t *clients; /* who may connect (not owned); NULL in plain-text mode */
    pthread_rwlock_t clients_lock; /* workers read clients and cfg under it; a reload swaps them */
    mc_client_t      plaintext;  /* the stand-in client of plain-text mode: counter, every ward */
    mc_zap_t        *zap;      /* ZAP handler (CURVE mode) */
    void            *frontend; /* public ROUTER */
    void            *backend;  /* inproc ROUTER to the workers */
    void            *events;   /* PUB on intake.events_endpoint, NULL if it could not bind */
    intake_committer_t *committer; /* group commit of the workers' new dossiers */
    intake_worker_t *workers;  /* cfg->intake.workers entries */
    int              n_workers;/* entries in workers */
    int              n_free;   /* workers known and not busy */
    mc_loop_t       *loop;     /* the daemon's loop */
    bool             stopping; /* SIGTERM/SIGINT came: turn requests away, drain */
    int64_t          stop_deadline; /* monotonic ms: give up on busy workers */
    int64_t          last_frame; /* monotonic ms of the last frame turned away while stopping */
};

/* worker_main - take payloads, answer them, until an empty frame says stop */
static void *worker_main(void *arg)
{
    intake_worker_t *w = arg;
    const mc_cfg_t *cfg = w->server->cfg;
    mc_err_t err;
    mc_err_clear(&err);
    void *sock = mc_transport_connect(ZMQ_DEALER, BACKEND_ENDPOINT, NULL, &err);
    if (!sock) {
        mc_log_error(MC_LOG_ERR, "worker_failed", &err, "worker=%d", w->number);
        return NULL;
    }
    intake_ctx_t ctx = {
        .cfg = cfg,
        .store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms),
        .worker = w->number,
        .committer = w->server->committer,
    };
    mc_store_set_tcp(ctx.store, &cfg->db_tcp);
    if (!ctx.store) {
        mc_log(MC_LOG_ERR, "worker_failed", "worker=%d error=out_of_memory", w->number);
        mc_transport_close(&sock);
        return NULL;
    }
    (void)intake_store_ready(&ctx); /* connect early; failure is answered per request */
    zmq_send(sock, "R", 1, 0);      /* READY: the broker learns our identity */
    for (;;) {
        zmq_msg_t req;
        zmq_msg_init(&req);
        if (zmq_msg_recv(&req, sock, 0) < 0) {
            zmq_msg_close(&req);
            if (errno == EINTR)
                continue;
            break; /* context terminated */
        }
        /* [client code][payload]; a lone empty frame says stop */
        if (!zmq_msg_more(&req)) {
            zmq_msg_close(&req);
            break;
        }
        char client_code[80];
        size_t cn = zmq_msg_size(&req) < sizeof client_code ? zmq_msg_size(&req) : 0;
        memcpy(client_code, zmq_msg_data(&req), cn);
        client_code[cn] = '\0';
        zmq_msg_close(&req);
        zmq_msg_init(&req);
        if (zmq_msg_recv(&req, sock, 0) < 0) {
            zmq_msg_close(&req);
            break;
        }
        size_t n = zmq_msg_size(&req);
        intake_reply_t reply = {0};
        ctx.event_kind = 0;
        /* ctx.client points into the registry and ctx.cfg is the configuration
         * of the moment: both held for the whole request (a reload swaps them) */
        pthread_rwlock_rdlock(&w->server->clients_lock);
        ctx.cfg = w->server->cfg;
        int retry_after_ms = ctx.cfg->intake.retry_after_ms; /* read while cfg is held */
        ctx.clients = w->server->clients;
        ctx.client = w->server->clients ? mc_clients_find(w->server->clients, client_code)
                                        : &w->server->plaintext;
        if (ctx.client)
            intake_handle(&ctx, zmq_msg_data(&req), n, &reply);
        else /* invariant: ZAP only lets registered clients in (a reload may have removed it) */
            intake_reply_rejection(&reply, MOTCUA__V1__REASON__REASON_FORBIDDEN, "",
                                   "Máy khách chưa được đăng ký với hệ thống.", 0);
        pthread_rwlock_unlock(&w->server->clients_lock);
        zmq_msg_close(&req);
        if (!reply.bytes) /* invariant: every request is answered */
            intake_reply_rejection(&reply, MOTCUA__V1__REASON__REASON_INTERNAL, "",
                                   "Lỗi hệ thống.", retry_after_ms);
        /* a committed change travels behind the reply as a second frame: the
         * broker publishes it after the reply has gone (workers never touch PUB) */
        uint8_t event[160];
        size_t event_len = 0;
        if (ctx.event_kind) {
            Motcua__Internal__V1__PipelineEvent ev = MOTCUA__INTERNAL__V1__PIPELINE_EVENT__INIT;
            ev.kind = (Motcua__Internal__V1__PipelineEvent__Kind)ctx.event_kind;
            ev.dossier_code = ctx.event_code;
            if (motcua__internal__v1__pipeline_event__get_packed_size(&ev) <= sizeof event)
                event_len = motcua__internal__v1__pipeline_event__pack(&ev, event);
        }
        zmq_send(sock, reply.bytes ? reply.bytes : (const uint8_t *)"", reply.length,
                 event_len ? ZMQ_SNDMORE : 0);
        if (event_len)
            zmq_send(sock, event, event_len, 0);
        intake_reply_clear(&reply);
    }
    mc_store_destroy(&ctx.store);
    mc_transport_close(&sock);
    return NULL;
}

/* bind_frontend - the public ROUTER: CURVE server behind the clients' ZAP
 * handler, or plain text when intake.plaintext says so */
static void *bind_frontend(intake_server_t *s, const mc_socket_opts_t *front, mc_err_t *err)
{
    const mc_cfg_t *cfg = s->cfg;
    if (cfg->intake.plaintext)
        return mc_transport_bind(ZMQ_ROUTER, cfg->intake.endpoint, front, err);
    char secret[MC_CURVE_KEY_LEN + 1], public_key[MC_CURVE_KEY_LEN + 1];
    void *sock = NULL;
    if (mc_curve_read_key(cfg->intake.server_key_file, secret, err) == 0 &&
        mc_curve_public_of(secret, public_key, err) == 0 &&
        (s->zap = mc_zap_start_lookup("client", mc_clients_code_of_key, s->clients, err)))
        sock = mc_transport_bind_curve_server(ZMQ_ROUTER, cfg->intake.endpoint, front, secret,
                                              ZAP_DOMAIN, err);
    explicit_bzero(secret, sizeof secret);
    if (sock)
        mc_log(MC_LOG_NOTICE, "curve_server", "public_key=%s clients=%zu", public_key,
               s->clients->count);
    return sock;
}

/* intake_server_new - bind both sockets and start the workers */
intake_server_t *intake_server_new(const mc_cfg_t *cfg, const mc_clients_t *clients,
                                   mc_err_t *err)
{
    intake_server_t *s = calloc(1, sizeof *s);
    if (!s) {
        mc_err_add(err, "intake: out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->clients = clients;
    if (pthread_rwlock_init(&s->clients_lock, NULL) != 0) {
        mc_err_add(err, "intake: cannot make the registry lock");
        free(s);
        return NULL;
    }
    s->plaintext = (mc_client_t){.code = PLAINTEXT_CLIENT, .name = "plain text (development)",
                                 .role = MC_CLIENT_COUNTER, .all_wards = true};
    if (!cfg->intake.plaintext && !clients) {
        mc_err_add(err, "intake: no client registry (clients.yaml) and intake.plaintext is off");
        free(s);
        return NULL;
    }
    s->n_workers = cfg->intake.workers;
    s->workers = calloc((size_t)s->n_workers, sizeof *s->workers);
    /* the hard frame bound protects memory; frames between max_request_bytes and
     * this bound are read and answered REASON_TOO_LARGE instead of dropping the peer */
    mc_socket_opts_t front = {.max_message_bytes = (int64_t)cfg->intake.max_request_bytes * 4,
                              .send_hwm = 10000, .recv_hwm = 10000, .linger_ms = 1000};
    if (s->workers)
        s->committer = intake_committer_new(cfg, err);
    if (s->committer)
        s->frontend = bind_frontend(s, &front, err);
    if (s->frontend)
        s->backend = mc_transport_bind(ZMQ_ROUTER, BACKEND_ENDPOINT, NULL, err);
    if (!s->backend) {
        intake_server_destroy(&s);
        return NULL;
    }
    /* events only make the router quicker (it polls the store anyway), so a
     * failed bind is a warning, not a reason to refuse dossiers */
    s->events = mc_events_pub(cfg->intake.events_endpoint, cfg->events.key_file, &s->zap);
    for (int i = 0; i < s->n_workers; i++) {
        intake_worker_t *w = &s->workers[i];
        w->server = s;
        w->number = i;
        zmq_msg_init(&w->identity);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            mc_err_add(err, "intake: cannot start worker %d", i);
            intake_server_destroy(&s);
            return NULL;
        }
        w->started = true;
    }
    return s;
}

/* read_message - all frames of one message, at most max; returns count or -1 */
static int read_message(void *sock, zmq_msg_t *frames, int max, bool *overflow)
{
    int n = 0;
    *overflow = false;
    for (;;) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            for (int i = 0; i < n; i++)
                zmq_msg_close(&frames[i]);
            return -1;
        }
        int more = zmq_msg_more(&part);
        if (n < max) {
            frames[n++] = part;
        } else {
            *overflow = true; /* keep draining: a message is all or nothing */
            zmq_msg_close(&part);
        }
        if (!more)
            return n;
    }
}

/* send_to_client - envelope frames then the payload */
static void send_to_client(intake_server_t *s, zmq_msg_t *envelope, int n_env,
                           const void *payload, size_t length)
{
    for (int i = 0; i < n_env; i++) {
        zmq_msg_t copy;
        zmq_msg_init(&copy);
        zmq_msg_copy(&copy, &envelope[i]);
        if (zmq_msg_send(&copy, s->frontend, ZMQ_SNDMORE) < 0)
            zmq_msg_close(&copy);
    }
    zmq_send(s->frontend, payload, length, 0);
}

/* reject_direct - the broker answers by itself (malformed, too large, stopping) */
static void reject_direct(intake_server_t *s, zmq_msg_t *envelope, int n_env,
                          Motcua__V1__Reason reason, const char *message)
{
    intake_reply_t reply = {0};
    if (intake_reply_rejection(&reply, reason, "", message, s->cfg->intake.retry_after_ms) == 0)
        send_to_client(s, envelope, n_env, reply.bytes, reply.length);
    intake_reply_clear(&reply);
    mc_daemon_count(MC_COUNT_ERRORS, 1); /* per request: debug, in the summary */
    mc_log(MC_LOG_DEBUG, "rejected", "reason=%s",
           protobuf_c_enum_descriptor_get_value(&motcua__v1__reason__descriptor, reason)->name);
}

/* free_worker - the first known worker with nothing to do, or NULL */
static intake_worker_t *free_worker(intake_server_t *s)
{
    for (int i = 0; i < s->n_workers; i++)
        if (s->workers[i].known && !s->workers[i].busy)
            return &s->workers[i];
    return NULL;
}

/* on_frontend - one client message: dispatch it or answer it here */
static void on_frontend(intake_server_t *s, bool stopping)
{
    zmq_msg_t frames[MAX_FRAMES];
    bool overflow;
    int n = read_message(s->frontend, frames, MAX_FRAMES, &overflow);
    if (n <= 0)
        return;
    /* envelope: identity, plus the delimiter if the client sent one */
    int n_env = (n >= 3 && zmq_msg_size(&frames[1]) == 0) ? 2 : 1;
    int n_payload = n - n_env;
    if (stopping) {
        reject_direct(s, frames, n_env, MOTCUA__V1__REASON__REASON_SHUTTING_DOWN,
                      "Hệ thống đang dừng để bảo trì; hồ sơ chưa được tiếp nhận. Vui lòng gửi lại.");
    } else if (overflow || n_payload != 1 || zmq_msg_size(&frames[n_env]) == 0) {
        reject_direct(s, frames, n_env, MOTCUA__V1__REASON__REASON_MALFORMED,
                      "Yêu cầu phải là đúng một khung (frame) IntakeRequest.");
    } else if (zmq_msg_size(&frames[n_env]) > s->cfg->intake.max_request_bytes) {
        reject_direct(s, frames, n_env, MOTCUA__V1__REASON__REASON_TOO_LARGE,
                      "Yêu cầu vượt quá kích thước cho phép.");
    } else {
        intake_worker_t *w = free_worker(s);
        if (!w) { /* invariant: we only poll the frontend when a worker is free */
            mc_log(MC_LOG_ERR, "invariant_broken", "what=no_free_worker");
            reject_direct(s, frames, n_env, MOTCUA__V1__REASON__REASON_INTERNAL, "Lỗi hệ thống.");
        } else {
            /* the ZAP handler named the client from its CURVE key: the only identity we trust */
            const char *user = zmq_msg_gets(&frames[n_env], "User-Id");
            if (!user)
                user = "";
            zmq_msg_t id;
            zmq_msg_init(&id);
            zmq_msg_copy(&id, &w->identity);
            zmq_msg_send(&id, s->backend, ZMQ_SNDMORE);
            zmq_send(s->backend, user, strlen(user), ZMQ_SNDMORE);
            zmq_msg_send(&frames[n_env], s->backend, 0); /* ownership passes to zmq */
            for (int i = 0; i < n_env; i++)
                w->envelope[i] = frames[i];
            w->envelope_frames = n_env;
            w->busy = true;
            s->n_free--;
            for (int i = n_env + 1; i < n; i++)
                zmq_msg_close(&frames[i]);
            return;
        }
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
}

/* find_worker - the worker with this backend identity */
static intake_worker_t *find_worker(intake_server_t *s, zmq_msg_t *id, int *unknown_slot)
{
    *unknown_slot = -1;
    for (int i = 0; i < s->n_workers; i++) {
        intake_worker_t *w = &s->workers[i];
        if (!w->known) {
            if (*unknown_slot < 0)
                *unknown_slot = i;
            continue;
        }
        if (zmq_msg_size(&w->identity) == zmq_msg_size(id) &&
            memcmp(zmq_msg_data(&w->identity), zmq_msg_data(id), zmq_msg_size(id)) == 0)
            return w;
    }
    return NULL;
}

/* on_backend - a worker said READY or answered */
static void on_backend(intake_server_t *s)
{
    zmq_msg_t frames[MAX_FRAMES];
    bool overflow;
    int n = read_message(s->backend, frames, MAX_FRAMES, &overflow);
    if (n <= 0)
        return;
    if ((n != 2 && n != 3) || overflow) {
        mc_log(MC_LOG_ERR, "invariant_broken", "what=worker_frames n=%d", n);
        goto done;
    }
    int slot;
    intake_worker_t *w = find_worker(s, &frames[0], &slot);
    if (!w) { /* READY from a worker we have not seen: its identity fills a slot */
        if (slot < 0) {
            mc_log(MC_LOG_ERR, "invariant_broken", "what=too_many_workers");
            goto done;
        }
        w = &s->workers[slot];
        zmq_msg_copy(&w->identity, &frames[0]);
        w->known = true;
        w->busy = false;
        s->n_free++;
        goto done;
    }
    if (!w->busy) {
        mc_log(MC_LOG_ERR, "invariant_broken", "what=reply_from_idle_worker worker=%d", w->number);
        goto done;
    }
    send_to_client(s, w->envelope, w->envelope_frames, zmq_msg_data(&frames[1]),
                   zmq_msg_size(&frames[1]));
    if (n == 3) /* after the reply, never blocking */
        mc_events_send(s->events, zmq_msg_data(&frames[2]), zmq_msg_size(&frames[2]));
    for (int i = 0; i < w->envelope_frames; i++)
        zmq_msg_close(&w->envelope[i]);
    w->envelope_frames = 0;
    w->busy = false;
    s->n_free++;
done:
    for (int i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
}

/* busy_count - workers holding a request */
static int busy_count(const intake_server_t *s)
{
    int n = 0;
    for (int i = 0; i < s->n_workers; i++)
        n += s->workers[i].busy;
    return n;
}

/* frontend_readable - is a whole client message waiting on the frontend? */
static bool frontend_readable(intake_server_t *s)
{
    int events = 0;
    size_t size = sizeof events;
    return zmq_getsockopt(s->frontend, ZMQ_EVENTS, &events, &size) == 0 &&
           (events & ZMQ_POLLIN);
}

/* after_work - read clients only when a worker can take the request, or to
 * turn them away; stopping, end the loop once drained (see intake.h) */
static int after_work(intake_server_t *s)
{
    mc_loop_pause_socket(s->loop, s->frontend, !(s->stopping || s->n_free > 0));
    if (!s->stopping)
        return 0;
    int busy = busy_count(s);
    /* exit once idle and nothing arrived for a moment: a request a client
     * sent just before the signal may still be on its way from the client's
     * I/O thread, and it deserves SHUTTING_DOWN, not silence */
    if (busy == 0 && mc_time_mono_ms() - s->last_frame >= INTAKE_STOP_QUIET_MS)
        mc_loop_stop(s->loop, 0);
    else if (mc_time_mono_ms() >= s->stop_deadline) {
        mc_log(MC_LOG_WARNING, "stop_timeout", "in_flight=%d", busy);
        mc_loop_stop(s->loop, -1);
    }
    return 0;
}

/* on_backend_ready - mc_loop_fn: a worker's READY or reply */
static int on_backend_ready(mc_loop_t *loop, void *arg)
{
    (void)loop;
    on_backend(arg);
    return after_work(arg);
}

/* on_frontend_ready - mc_loop_fn: a client's request */
static int on_frontend_ready(mc_loop_t *loop, void *arg)
{
    (void)loop;
    intake_server_t *s = arg;
    on_frontend(s, s->stopping);
    if (s->stopping)
        s->last_frame = mc_time_mono_ms();
    /* stopping: every frame already here is turned away now, not left
     * unanswered in the queue when we exit */
    while (s->stopping && frontend_readable(s)) {
        on_frontend(s, s->stopping);
        s->last_frame = mc_time_mono_ms();
    }
    return after_work(s);
}

/* on_drain_tick - mc_loop_fn: while stopping, is it over? */
static int on_drain_tick(mc_loop_t *loop, void *arg)
{
    (void)loop;
    return after_work(arg);
}

/* intake_server_start - both sockets on the loop */
int intake_server_start(intake_server_t *s, mc_loop_t *loop, mc_err_t *err)
{
    s->loop = loop;
    if (mc_loop_add_socket(loop, s->backend, on_backend_ready, s) != 0 ||
        mc_loop_add_socket(loop, s->frontend, on_frontend_ready, s) != 0) {
        mc_err_add(err, "intake: cannot set up the loop");
        return -1;
    }
    mc_loop_pause_socket(loop, s->frontend, s->n_free == 0);
    return 0;
}

/* intake_server_stop - turn away, drain, check every 100 ms */
void intake_server_stop(intake_server_t *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    s->stop_deadline = mc_time_mono_ms() + s->cfg->intake.shutdown_grace_ms;
    s->last_frame = mc_time_mono_ms();
    mc_log(MC_LOG_NOTICE, "draining", "in_flight=%d", busy_count(s));
    if (mc_loop_every(s->loop, 100, 100, on_drain_tick, s) < 0) {
        mc_log(MC_LOG_ERR, "stop_timeout", "what=no_timer in_flight=%d", busy_count(s));
        mc_loop_stop(s->loop, -1);
        return;
    }
    after_work(s);
}

/* intake_server_reload - the new configuration (catalog, calendar, wards,
 * limits) and registry for ZAP and the workers; clients NULL in plain-text mode */
int intake_server_reload(intake_server_t *s, const mc_cfg_t *cfg, const mc_clients_t *clients,
                         mc_err_t *err)
{
    if (!s->clients != !clients) {
        mc_err_add(err, "intake: intake.plaintext changed: restart to apply it");
        return -1;
    }
    /* the broker (this thread) hands out nothing meanwhile: the wait is for the
     * requests in hand only; after the unlock no worker holds the old ones */
    pthread_rwlock_wrlock(&s->clients_lock);
    if (clients) {
        mc_zap_set_table(s->zap, clients);
        s->clients = clients;
    }
    s->cfg = cfg;
    pthread_rwlock_unlock(&s->clients_lock);
    mc_log(MC_LOG_NOTICE, "clients_reloaded", "clients=%zu", clients ? clients->count : 0);
    return 0;
}

/* intake_server_destroy - stop workers, close sockets, free */
void intake_server_destroy(intake_server_t **server)
{
    if (!server || !*server)
        return;
    intake_server_t *s = *server;
    for (int i = 0; s->workers && i < s->n_workers; i++) {
        intake_worker_t *w = &s->workers[i];
        if (w->started && w->known && !w->busy) {
            zmq_msg_t id;
            zmq_msg_init(&id);
            zmq_msg_copy(&id, &w->identity);
            zmq_msg_send(&id, s->backend, ZMQ_SNDMORE);
            zmq_send(s->backend, "", 0, 0);
        }
    }
    /* workers that never said READY, or are still busy past the grace time,
     * are released by terminating the context: their recv then fails */
    bool all_stoppable = true;
    for (int i = 0; s->workers && i < s->n_workers; i++)
        if (s->workers[i].started && (!s->workers[i].known || s->workers[i].busy))
            all_stoppable = false;
    if (all_stoppable) {
        for (int i = 0; s->workers && i < s->n_workers; i++)
            if (s->workers[i].started)
                pthread_join(s->workers[i].thread, NULL);
    }
    for (int i = 0; s->workers && i < s->n_workers; i++) {
        zmq_msg_close(&s->workers[i].identity);
        for (int k = 0; k < s->workers[i].envelope_frames; k++)
            zmq_msg_close(&s->workers[i].envelope[k]);
    }
    mc_transport_close(&s->frontend);
    mc_transport_close(&s->backend);
    mc_transport_close(&s->events);
    if (!all_stoppable) {
        mc_transport_term(); /* wakes stuck workers with ETERM */
        for (int i = 0; s->workers && i < s->n_workers; i++)
            if (s->workers[i].started)
                pthread_join(s->workers[i].thread, NULL);
    }
    intake_committer_destroy(&s->committer); /* after the workers: they may wait on it */
    mc_zap_stop(&s->zap); /* last: it may be serving the frontend */
    pthread_rwlock_destroy(&s->clients_lock);
    free(s->workers);
    free(s);
    *server = NULL;
}
