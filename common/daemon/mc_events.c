/*
 * mc_events - PUB/SUB of PipelineEvents through mc_transport (see mc_events.h).
 */
#include "mc_events.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "mc_log.h"
#include "mc_transport.h"
#include "motcua/internal/v1/pipeline.pb-c.h"

/* the options of every bus socket */
static const mc_socket_opts_t bus_opts = {.max_message_bytes = MC_EVENTS_MAX_BYTES,
                                          .send_hwm = 10000, .recv_hwm = 10000, .linger_ms = 0};

/* unavailable - the one warning of a bus endpoint that cannot be used */
static void unavailable(const char *endpoint, const mc_err_t *err)
{
    mc_log_error(MC_LOG_WARNING, "events_unavailable", err, "endpoint=%s", endpoint);
}

/* refuse_all - mc_zap_lookup_fn of a handler that serves only the events
 * domain (mc_zap_admit answers it): every other domain is refused */
static const char *refuse_all(const void *table, const char *public_z85)
{
    (void)table;
    (void)public_z85;
    return NULL;
}

/* bus_keys - the keypair of key_file, the server key being its own public key */
static int bus_keys(const char *key_file, mc_transport_keys_t *keys, mc_err_t *err)
{
    memset(keys, 0, sizeof *keys);
    if (mc_curve_read_secret_key(key_file, keys->secret_key, err) != 0 ||
        mc_curve_public_of(keys->secret_key, keys->public_key, err) != 0) {
        mc_err_add(err, "events.key_file: cannot use %s", key_file);
        explicit_bzero(keys, sizeof *keys);
        return -1;
    }
    memcpy(keys->server_public, keys->public_key, sizeof keys->server_public);
    return 0;
}

/* curve_pub - the ZAP admission of the bus key, a handler if none runs, the bind */
static void *curve_pub(const char *endpoint, const char *key_file, mc_zap_t **zap,
                       mc_err_t *err)
{
    mc_transport_keys_t keys;
    if (bus_keys(key_file, &keys, err) != 0)
        return NULL;
    void *pub = NULL;
    /* admitted before the bind: a handler answering the domain from another
     * table would refuse every listener */
    if (mc_zap_admit(MC_EVENTS_ZAP_DOMAIN, keys.public_key, "events", err) == 0 &&
        (mc_zap_running() || (*zap = mc_zap_start_lookup("events", refuse_all, NULL, err))))
        pub = mc_transport_bind_curve_server(ZMQ_PUB, endpoint, &bus_opts, keys.secret_key,
                                             MC_EVENTS_ZAP_DOMAIN, err);
    explicit_bzero(&keys, sizeof keys);
    return pub;
}

/* mc_events_pub - bind (as CURVE server with a key), or warn */
void *mc_events_pub(const char *endpoint, const char *key_file, mc_zap_t **zap)
{
    mc_err_t err;
    mc_err_clear(&err);
    void *pub = key_file && key_file[0] ? curve_pub(endpoint, key_file, zap, &err)
                                        : mc_transport_bind(ZMQ_PUB, endpoint, &bus_opts, &err);
    if (!pub)
        unavailable(endpoint, &err);
    return pub;
}

/* mc_events_sub - one SUB, every publisher, everything subscribed */
void *mc_events_sub(const char *const *endpoints, size_t n, const char *key_file,
                    mc_err_t *err)
{
    if (n == 0) {
        mc_err_add(err, "events: no publisher to listen to");
        return NULL;
    }
    mc_transport_keys_t keys;
    bool curve = key_file && key_file[0];
    if (curve && bus_keys(key_file, &keys, err) != 0)
        return NULL;
    char buf[300];
    const char *first = mc_transport_connectable(endpoints[0], buf, sizeof buf);
    /* the CURVE options stay on the socket: every later connect uses them too */
    void *sub = mc_transport_connect_as(ZMQ_SUB, first, &bus_opts, curve ? &keys : NULL, err);
    if (curve)
        explicit_bzero(&keys, sizeof keys);
    if (!sub || mc_transport_subscribe(sub, "", err) != 0) {
        mc_transport_close(&sub);
        return NULL;
    }
    for (size_t i = 1; i < n; i++) {
        mc_err_t cerr;
        mc_err_clear(&cerr);
        const char *more = mc_transport_connectable(endpoints[i], buf, sizeof buf);
        if (mc_transport_connect_more(sub, more, &cerr) != 0)
            unavailable(endpoints[i], &cerr);
    }
    return sub;
}

/* mc_events_listen - the publishers of the kinds asked for */
void *mc_events_listen(const mc_cfg_t *cfg, unsigned from, mc_err_t *err)
{
    const struct {
        unsigned     bit;  /* mc_events_from_t */
        char *const *list; /* <kind>.events_connect */
        size_t       n;    /* its entries */
    } kinds[] = {
        {MC_EVENTS_FROM_INTAKE, cfg->intake.events_connect, cfg->intake.n_events_connect},
        {MC_EVENTS_FROM_ROUTER, cfg->router.events_connect, cfg->router.n_events_connect},
        {MC_EVENTS_FROM_LIENTHONG, cfg->lienthong.events_connect,
         cfg->lienthong.n_events_connect},
    };
    const char *endpoints[3 * MC_CFG_PUBLISHERS_MAX];
    size_t n = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (size_t i = 0; (from & kinds[k].bit) && i < kinds[k].n; i++)
            if (n < sizeof endpoints / sizeof endpoints[0])
                endpoints[n++] = kinds[k].list[i];
    return mc_events_sub(endpoints, n, cfg->events.key_file, err);
}

/* mc_events_send - ZMQ_DONTWAIT: a PUB drops what nobody takes */
void mc_events_send(void *pub, const void *bytes, size_t len)
{
    if (pub)
        zmq_send(pub, bytes, len, ZMQ_DONTWAIT);
}

/* mc_events_publish - pack and send */
void mc_events_publish(void *pub, int kind, const char *code, const char *agency)
{
    if (!pub)
        return;
    Motcua__Internal__V1__PipelineEvent ev = MOTCUA__INTERNAL__V1__PIPELINE_EVENT__INIT;
    ev.kind = (Motcua__Internal__V1__PipelineEvent__Kind)kind;
    ev.dossier_code = (char *)code;
    ev.agency = (char *)(agency ? agency : "");
    uint8_t buf[512];
    size_t n = motcua__internal__v1__pipeline_event__get_packed_size(&ev);
    if (n > sizeof buf)
        return;
    motcua__internal__v1__pipeline_event__pack(&ev, buf);
    mc_events_send(pub, buf, n);
}

/* mc_events_drain - their content does not matter, only that they came */
int mc_events_drain(void *sub)
{
    char buf[MC_EVENTS_MAX_BYTES];
    int n = 0;
    while (sub && zmq_recv(sub, buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
        n++;
    return n;
}
