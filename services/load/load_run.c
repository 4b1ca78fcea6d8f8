/*
 * load_run - `motcua-load` (also `motcua load`): a load generator for the
 * intake daemon, used by bench/ and the demo.
 *
 * Contract: sends --count valid random dossiers (mc_cli_random_dossier) over
 * --clients DEALER sockets, each with at most one request in flight, all
 * driven by one thread with zmq_poll. Open loop at --rate R per second:
 * request i is due at t0 + i/R and goes out as soon as a client is free;
 * its latency is measured from when it was DUE, not from when it was sent,
 * so time spent queued behind a slow server is counted (no coordinated
 * omission). --rate 0 is a closed loop: every free client sends at once and
 * latency runs from the send. A request without a reply within
 * client.timeout_ms is a timeout; its socket is closed and reopened so a
 * late reply cannot be taken for the next request's, connected to the next
 * intake endpoint (--connect E, repeatable, else intake.connect; the
 * clients start spread over them), and the same request (same bytes, same
 * submission_id: idempotent) is sent again there, client.retries times at
 * most; only then is it counted lost (timeouts=). Each request is counted
 * once, by the one reply its last socket got. Progress goes to
 * stderr once a second; the summary line to stdout. --trace FILE writes one
 * line per receipt, "<monotonic ms> <dossier code> <submission_id>", flushed
 * at once, so that a harness (make ha) can measure write outages and check
 * every receipt against the store even if this process is killed. Exit 0 when every
 * request got a reply (receipt or rejection), 1 otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h> /* isfinite, a macro: no libm needed */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "load.h"
#include "mc_cli_dossier.h"
#include "mc_cli_intake.h"
#include "mc_transport.h"
#include "mc_validate.h"

#define MAX_CLIENTS  1000       /* under ZeroMQ's default of 1023 sockets */
#define MAX_COUNT    50000000u  /* 400 MB of latencies is plenty */
#define NS_PER_SEC   1000000000LL
#define REASONS      32         /* rejection counters, by Reason value */

static const char load_usage[] =
    "usage: motcua-load [-c FILE] [-k KEYFILE] --rate R --count N [--clients C] [--ward W]\n"
    "                   [--duration-limit S] [--connect E ...] [--trace FILE]\n"
    "  Send N valid random dossiers to the intake daemon.\n"
    "  --rate R              requests per second, open loop (latency counted from\n"
    "                        each request's scheduled time); 0 = closed loop, as\n"
    "                        fast as the clients go\n"
    "  --count N             requests to send\n"
    "  --clients C           connections, one request in flight each (default 16)\n"
    "  --ward W              ward code to file in (default: cycle over the config's)\n"
    "  --duration-limit S    stop sending after S seconds (default: no limit)\n"
    "  --connect E           an intake instance (repeatable; default intake.connect):\n"
    "                        clients spread over them; a timed-out request goes again\n"
    "                        to the next one\n"
    "  --trace FILE          one line per receipt: monotonic_ms dossier_code submission_id\n"
    "exit: 0 every request answered, 1 otherwise, 64 usage, 78 bad configuration\n";

/* one connection */
typedef struct client {
    void    *sock;        /* DEALER, or NULL while it cannot be reopened */
    bool     busy;        /* a request is in flight */
    int64_t  due_ns;      /* when the request in flight was due */
    int64_t  deadline_ns; /* when it becomes a timeout */
    unsigned req;         /* the number of the request in flight */
    int      tries;       /* sends of it so far */
    size_t   ep;          /* the endpoint its socket is connected to (index) */
} client_t;

/* the whole run */
typedef struct load {
    const mc_cli_ctx_t *ctx;
    const mc_cfg_t  *cfg;
    const char *const *endpoints; /* intake instances (--connect, else intake.connect) */
    size_t           n_endpoints; /* entries in endpoints (>= 1) */
    mc_transport_keys_t keys;     /* our CURVE keys for intake */
    const mc_transport_keys_t *as; /* &keys, or NULL with intake.plaintext */
    const char      *ward;        /* NULL: cycle over cfg's wards */
    double           rate;        /* per second; 0 = closed loop */
    unsigned         count;
    int              n_clients;
    double           limit_s;     /* 0 = none */
    FILE            *trace;       /* --trace: one line per receipt, or NULL */
    client_t        *clients;
    double          *lat_ms;      /* one per reply, in arrival order */
    size_t           n_lat;
    uint8_t         *buf;         /* packed request, reused */
    size_t           buf_size;
    unsigned         next;        /* index of the next request to send */
    unsigned         sent, acked, rejected, timeouts, bad_replies;
    unsigned         resent;      /* requests sent again after a timeout (failover) */
    unsigned         reasons[REASONS];
    int64_t          t0;
} load_t;

static volatile sig_atomic_t interrupted; /* SIGINT/SIGTERM: stop sending, drain */

/* on_signal - remember the request to stop; the loop sees it after EINTR */
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* now_ns - monotonic time: wall-clock steps must not distort latencies */
static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* due_of - when request i is scheduled in the open loop */
static int64_t due_of(const load_t *l, unsigned i)
{
    return l->t0 + (int64_t)((double)i * 1e9 / l->rate);
}

/* cmp_double - qsort order for latencies */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* percentile - nearest-rank percentile of sorted values; 0 when empty */
static double percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    double exact = p / 100.0 * (double)n;
    size_t rank = (size_t)exact;
    if ((double)rank < exact)
        rank++; /* ceil without libm, which the build does not link */
    if (rank < 1)
        rank = 1;
    return sorted[rank > n ? n - 1 : rank - 1];
}

/* open_client - (re)open a client's DEALER socket */
static int open_client(load_t *l, client_t *c)
{
    mc_transport_close(&c->sock);
    /* linger 0: closing a timed-out socket must drop what it still holds */
    mc_socket_opts_t opts = {.max_message_bytes = MC_CLI_MAX_REPLY_BYTES, .linger_ms = 0};
    mc_err_t err;
    mc_err_clear(&err);
    c->sock = mc_transport_connect_as(ZMQ_DEALER, l->endpoints[c->ep], &opts, l->as, &err);
    if (!c->sock) {
        mc_cli_print_err(l->ctx, &err);
        return -1;
    }
    return 0;
}

/* pack_request - request number n, packed into l->buf; returns its length or 0 */
static size_t pack_request(load_t *l, unsigned n)
{
    Motcua__V1__SubmitDossier *s = NULL;
    if (mc_cli_random_dossier(l->cfg, n, l->ward, &s) < 0)
        return 0;
    Motcua__V1__IntakeRequest request = MOTCUA__V1__INTAKE_REQUEST__INIT;
    request.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_SUBMIT;
    request.submit = s;
    size_t len = motcua__v1__intake_request__get_packed_size(&request);
    if (len > l->buf_size) {
        uint8_t *bigger = realloc(l->buf, len);
        if (!bigger) {
            mc_cli_dossier_free(&s);
            return 0;
        }
        l->buf = bigger;
        l->buf_size = len;
    }
    motcua__v1__intake_request__pack(&request, l->buf);
    mc_cli_dossier_free(&s);
    return len;
}

/* send_req - request n on client c (a first send or a resend); -1 on a fatal error */
static int send_req(load_t *l, client_t *c, unsigned n, int64_t now)
{
    size_t len = pack_request(l, n);
    if (len == 0) {
        fprintf(stderr, "%s: load: cannot build dossier %u\n", l->ctx->progname, n);
        return -1;
    }
    /* a failed send is left to time out like a lost reply: both mean no
     * answer, and retrying at once would spin on a dead endpoint */
    if (zmq_send(c->sock, l->buf, len, ZMQ_DONTWAIT) < 0)
        fprintf(stderr, "%s: load: send of request %u failed: %s\n", l->ctx->progname, n,
                zmq_strerror(zmq_errno()));
    c->req = n;
    c->tries++;
    c->busy = true;
    c->deadline_ns = now + (int64_t)l->cfg->client.timeout_ms * 1000000;
    return 0;
}

/* send_next - send the next request on a free client; -1 on a fatal error */
static int send_next(load_t *l, client_t *c, int64_t due, int64_t now)
{
    c->tries = 0;
    c->due_ns = due; /* a resend keeps it: latency runs from the first due time */
    if (send_req(l, c, l->next, now) < 0)
        return -1;
    l->next++;
    l->sent++;
    return 0;
}

/* timed_out - c's request got no reply in time: its socket reopened on the next
 * endpoint and the same request sent there, or, after client.retries resends,
 * counted lost; -1 on a fatal error */
static int timed_out(load_t *l, client_t *c, int index, int64_t now)
{
    c->busy = false;
    c->ep = (c->ep + 1) % l->n_endpoints;
    if (open_client(l, c) < 0) {
        fprintf(stderr, "%s: load: client %d stays closed\n", l->ctx->progname, index);
        l->timeouts++;
        return 0;
    }
    if (c->tries > l->cfg->client.retries) {
        l->timeouts++;
        return 0;
    }
    l->resent++;
    return send_req(l, c, c->req, now);
}

/* take_reply - read what a client received and account for it */
static void take_reply(load_t *l, client_t *c, int64_t now)
{
    zmq_msg_t frame, last;
    bool have = false;
    /* the payload is the last frame; anything before it is envelope */
    for (;;) {
        zmq_msg_init(&frame);
        if (zmq_msg_recv(&frame, c->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&frame);
            break;
        }
        bool more = zmq_msg_more(&frame);
        if (have)
            zmq_msg_close(&last);
        last = frame;
        have = true;
        if (!more)
            break;
    }
    if (!have)
        return; /* spurious wake-up */
    Motcua__V1__IntakeReply *reply =
        motcua__v1__intake_reply__unpack(NULL, zmq_msg_size(&last), zmq_msg_data(&last));
    zmq_msg_close(&last);
    if (!reply) {
        l->bad_replies++;
    } else if (reply->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT) {
        l->acked++;
        if (l->trace) {
            fprintf(l->trace, "%lld %s %s\n", (long long)(now / 1000000),
                    reply->receipt->dossier_code, reply->receipt->submission_id);
            fflush(l->trace);
        }
    } else if (reply->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION) {
        l->rejected++;
        unsigned r = (unsigned)reply->rejection->reason;
        l->reasons[r < REASONS ? r : 0]++;
    } else {
        l->bad_replies++;
    }
    if (reply)
        motcua__v1__intake_reply__free_unpacked(reply, NULL);
    l->lat_ms[l->n_lat++] = (double)(now - c->due_ns) / 1e6;
    c->busy = false;
}

/* progress - one line per second on stderr about the last interval */
static void progress(load_t *l, int64_t now, size_t *mark, int64_t *mark_ns)
{
    size_t n = l->n_lat - *mark;
    double p50 = 0, p99 = 0;
    if (n > 0) {
        double *tmp = malloc(n * sizeof *tmp);
        if (tmp) {
            memcpy(tmp, l->lat_ms + *mark, n * sizeof *tmp);
            qsort(tmp, n, sizeof *tmp, cmp_double);
            p50 = percentile(tmp, n, 50);
            p99 = percentile(tmp, n, 99);
            free(tmp);
        }
    }
    double secs = (double)(now - *mark_ns) / 1e9;
    fprintf(stderr, "t=%.0fs sent=%u acked=%u rejected=%u rate=%.0f/s p50=%.1fms p99=%.1fms",
            (double)(now - l->t0) / 1e9, l->sent, l->acked, l->rejected,
            secs > 0 ? (double)n / secs : 0.0, p50, p99);
    if (l->timeouts)
        fprintf(stderr, " timeouts=%u", l->timeouts);
    fputc('\n', stderr);
    *mark = l->n_lat;
    *mark_ns = now;
}

/* preflight - validate the first dossiers locally, so a generator that
 * disagrees with the catalog shows up as one clear warning instead of a
 * run of rejections */
static void preflight(const load_t *l)
{
    unsigned n = l->count < 64 ? l->count : 64;
    for (unsigned i = 0; i < n; i++) {
        Motcua__V1__SubmitDossier *s = NULL;
        if (mc_cli_random_dossier(l->cfg, i, l->ward, &s) < 0)
            return;
        const mc_procedure_t *proc = NULL;
        const mc_ward_t *ward = NULL;
        mc_problem_t problem;
        memset(&problem, 0, sizeof problem);
        int rc = mc_validate_submit(s, l->cfg, &proc, &ward, &problem);
        mc_cli_dossier_free(&s);
        if (rc < 0) {
            char name[64];
            fprintf(stderr, "%s: load: warning: dossier %u fails local validation: %s %s: %s\n",
                    l->ctx->progname, i, mc_cli_reason_name(problem.reason, name, sizeof name),
                    problem.field, problem.message);
            return;
        }
    }
}

/* run - the event loop; returns -1 on a fatal local error */
static int run(load_t *l)
{
    zmq_pollitem_t *items = calloc((size_t)l->n_clients, sizeof *items);
    int *owner = calloc((size_t)l->n_clients, sizeof *owner);
    if (!items || !owner) {
        free(items);
        free(owner);
        fprintf(stderr, "%s: load: out of memory\n", l->ctx->progname);
        return -1;
    }
    int rc = 0;
    bool stopped = false; /* no more sending: limit, signal */
    l->t0 = now_ns();
    int64_t next_tick = l->t0 + NS_PER_SEC, mark_ns = l->t0;
    int64_t limit_ns = l->limit_s > 0 ? l->t0 + (int64_t)(l->limit_s * 1e9) : 0;
    size_t mark = 0;

    for (;;) {
        int64_t now = now_ns();
        if (!stopped && (interrupted || (limit_ns && now >= limit_ns))) {
            stopped = true;
            if (l->next < l->count)
                fprintf(stderr, "%s: load: %s after %.1fs; %u requests not sent\n",
                        l->ctx->progname, interrupted ? "interrupted" : "duration limit reached",
                        (double)(now - l->t0) / 1e9, l->count - l->next);
        }
        /* send everything that is due, while clients are free */
        int busy = 0;
        bool free_client = false;
        for (int i = 0; i < l->n_clients; i++) {
            client_t *c = &l->clients[i];
            if (!c->busy && c->sock && !stopped && l->next < l->count) {
                int64_t due = l->rate > 0 ? due_of(l, l->next) : now;
                if (due <= now && send_next(l, c, due, now) < 0) {
                    rc = -1;
                    goto out;
                }
            }
            if (c->busy)
                owner[busy++] = i;
            else if (c->sock)
                free_client = true;
        }
        if (busy == 0 && (stopped || l->next >= l->count))
            break;
        if (busy == 0 && !free_client) {
            fprintf(stderr, "%s: load: no client socket can be opened\n", l->ctx->progname);
            rc = -1;
            goto out;
        }

        /* sleep until the next thing that can happen: a reply, a timeout,
         * the next request falling due, the next progress line */
        int64_t wake = next_tick;
        if (!stopped && free_client && l->next < l->count && l->rate > 0 && due_of(l, l->next) < wake)
            wake = due_of(l, l->next);
        if (!stopped && limit_ns && limit_ns < wake)
            wake = limit_ns;
        for (int k = 0; k < busy; k++) {
            const client_t *c = &l->clients[owner[k]];
            if (c->deadline_ns < wake)
                wake = c->deadline_ns;
            items[k].socket = c->sock;
            items[k].fd = 0;
            items[k].events = ZMQ_POLLIN;
            items[k].revents = 0;
        }
        long timeout = wake > now ? (long)((wake - now + 999999) / 1000000) : 0;
        if (zmq_poll(items, busy, timeout) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            fprintf(stderr, "%s: load: zmq_poll: %s\n", l->ctx->progname,
                    zmq_strerror(zmq_errno()));
            rc = -1;
            goto out;
        }
        now = now_ns();
        for (int k = 0; k < busy; k++) {
            client_t *c = &l->clients[owner[k]];
            if (items[k].revents & ZMQ_POLLIN)
                take_reply(l, c, now);
            if (c->busy && now >= c->deadline_ns && timed_out(l, c, owner[k], now) < 0) {
                rc = -1;
                goto out;
            }
        }
        if (now >= next_tick) {
            progress(l, now, &mark, &mark_ns);
            while (next_tick <= now)
                next_tick += NS_PER_SEC;
        }
    }
out:
    free(items);
    free(owner);
    return rc;
}

/* summary - the one line scripts read, on stdout */
static void summary(load_t *l)
{
    double elapsed = (double)(now_ns() - l->t0) / 1e9;
    qsort(l->lat_ms, l->n_lat, sizeof *l->lat_ms, cmp_double);
    unsigned replies = l->acked + l->rejected;
    printf("load: sent=%u acked=%u rejected=%u timeouts=%u resent=%u elapsed=%.2fs rate=%.1f/s "
           "p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms\n",
           l->sent, l->acked, l->rejected, l->timeouts, l->resent, elapsed,
           elapsed > 0 ? (double)replies / elapsed : 0.0, percentile(l->lat_ms, l->n_lat, 50),
           percentile(l->lat_ms, l->n_lat, 90), percentile(l->lat_ms, l->n_lat, 99),
           l->n_lat ? l->lat_ms[l->n_lat - 1] : 0.0);
    if (l->rejected) {
        /* which reasons: a run of rejections is usually one cause */
        fprintf(stderr, "%s: load: rejections:", l->ctx->progname);
        for (int r = 0; r < REASONS; r++) {
            char name[64];
            if (l->reasons[r])
                fprintf(stderr, " %s=%u", mc_cli_reason_name(r, name, sizeof name), l->reasons[r]);
        }
        fputc('\n', stderr);
    }
    if (l->bad_replies)
        fprintf(stderr, "%s: load: %u replies were neither receipt nor rejection\n",
                l->ctx->progname, l->bad_replies);
}

/* parse_double - a finite number >= 0 */
static int parse_double(const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < 0)
        return -1;
    *out = v;
    return 0;
}

/* parse_uint - a decimal integer in [min, max] */
static int parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    if (*text < '0' || *text > '9')
        return -1;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* load_command - `motcua-load --rate R --count N ...` */
int load_command(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *rate = NULL, *count = NULL, *clients = "16", *ward = NULL, *limit = NULL;
    const char *trace = NULL;
    const mc_cli_opt_t opts[] = {{"--rate", &rate, 0},   {"--count", &count, 0},
                                 {"--clients", &clients, 0}, {"--ward", &ward, 0},
                                 {"--duration-limit", &limit, 0}, {"--trace", &trace, 0}};
    int parsed = mc_cli_parse_opts(ctx, argc, argv, "load", load_usage, opts,
                                   sizeof opts / sizeof opts[0], NULL, NULL);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    load_t l;
    memset(&l, 0, sizeof l);
    l.ctx = ctx;
    l.ward = ward;
    unsigned long n = 0, c = 0;
    if (!rate || !count)
        return mc_cli_usage_error(ctx, load_usage, "load: --rate and --count are required");
    if (parse_double(rate, &l.rate) < 0)
        return mc_cli_usage_error(ctx, load_usage, "load: --rate must be a number >= 0");
    if (parse_uint(count, 1, MAX_COUNT, &n) < 0)
        return mc_cli_usage_error(ctx, load_usage, "load: --count must be 1..%u", MAX_COUNT);
    if (parse_uint(clients, 1, MAX_CLIENTS, &c) < 0)
        return mc_cli_usage_error(ctx, load_usage, "load: --clients must be 1..%d", MAX_CLIENTS);
    if (limit && parse_double(limit, &l.limit_s) < 0)
        return mc_cli_usage_error(ctx, load_usage, "load: --duration-limit must be seconds >= 0");
    l.count = (unsigned)n;
    l.n_clients = (int)c;

    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config(ctx, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    l.cfg = cfg;
    status = MC_CLI_EX_FAIL;
    l.endpoints = mc_cli_intake_connect(ctx, cfg, &l.n_endpoints);
    if ((status = mc_cli_intake_keys(ctx, cfg, &l.keys, &l.as)) != MC_CLI_EX_OK)
        goto done;
    status = MC_CLI_EX_FAIL;
    if (ward && !mc_cfg_ward(cfg, ward))
        fprintf(stderr, "%s: load: warning: ward %s is not in %s; expect UNKNOWN_WARD\n",
                ctx->progname, ward, ctx->config_path);
    Motcua__V1__SubmitDossier *probe = NULL;
    if (mc_cli_random_dossier(cfg, 0, ward, &probe) < 0) {
        fprintf(stderr, "%s: load: the configuration has no ward, or no procedure that can be "
                        "filed online or directly\n", ctx->progname);
        goto done;
    }
    mc_cli_dossier_free(&probe);
    preflight(&l);

    if (trace && !(l.trace = fopen(trace, "a"))) {
        fprintf(stderr, "%s: load: --trace %s: %s\n", ctx->progname, trace, strerror(errno));
        goto done;
    }
    l.clients = calloc((size_t)l.n_clients, sizeof *l.clients);
    l.lat_ms = malloc((size_t)l.count * sizeof *l.lat_ms);
    if (!l.clients || !l.lat_ms) {
        fprintf(stderr, "%s: load: out of memory\n", ctx->progname);
        goto done;
    }
    for (int i = 0; i < l.n_clients; i++) {
        l.clients[i].ep = (size_t)i % l.n_endpoints; /* spread over the instances */
        if (open_client(&l, &l.clients[i]) < 0)
            goto done;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: zmq_poll must return EINTR so the loop notices */
    struct sigaction old_int, old_term;
    if (sigaction(SIGINT, &sa, &old_int) < 0 || sigaction(SIGTERM, &sa, &old_term) < 0) {
        fprintf(stderr, "%s: load: sigaction: %s\n", ctx->progname, strerror(errno));
        goto done;
    }
    fprintf(stderr, "%s: load: %u requests to %s%s, %s, %d clients\n", ctx->progname, l.count,
            l.endpoints[0], l.n_endpoints > 1 ? " (and more)" : "", l.rate > 0 ? "open loop" : "closed loop", l.n_clients);
    int rc = run(&l);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    summary(&l);
    if (rc == 0 && l.acked + l.rejected == l.count)
        status = MC_CLI_EX_OK;
done:
    if (l.clients) {
        for (int i = 0; i < l.n_clients; i++)
            mc_transport_close(&l.clients[i].sock);
    }
    if (l.trace)
        fclose(l.trace);
    free(l.clients);
    free(l.lat_ms);
    free(l.buf);
    explicit_bzero(&l.keys, sizeof l.keys);
    mc_cfg_destroy(&cfg);
    return status;
}
