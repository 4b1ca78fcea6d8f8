/*
 * mc_events - PUB/SUB of PipelineEvents through mc_transport (see mc_events.h).
 */
#include "mc_events.h"

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

/* mc_events_pub - bind, or warn */
void *mc_events_pub(const char *endpoint)
{
    mc_err_t err;
    mc_err_clear(&err);
    void *pub = mc_transport_bind(ZMQ_PUB, endpoint, &bus_opts, &err);
    if (!pub)
        unavailable(endpoint, &err);
    return pub;
}

/* mc_events_sub - one SUB, every publisher, everything subscribed */
void *mc_events_sub(const char *const *endpoints, size_t n, mc_err_t *err)
{
    if (n == 0) {
        mc_err_add(err, "events: no publisher to listen to");
        return NULL;
    }
    char buf[300];
    const char *first = mc_transport_connectable(endpoints[0], buf, sizeof buf);
    void *sub = mc_transport_connect(ZMQ_SUB, first, &bus_opts, err);
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
