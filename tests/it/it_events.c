/*
 * it_events - the PipelineEvent bus across hosts (docs/pipeline.md "Events",
 * docs/security.md): with events.key_file every PUB is a CURVE server whose
 * ZAP handler admits that one key, and one SUB connected to every instance's
 * publisher (router.events_connect) hears each of them; a SUB holding
 * another key hears nothing; without the key an events endpoint off this
 * host is refused.
 *
 * Real daemons over real sockets: one cluster, intake (its ZAP handler
 * serves its clients and the events domain at once), two routers with
 * their own tcp:// publishers (router B binds the wildcard
 * tcp:// address),
 * and subscribers made with mc_events_sub in this process. Routers poll
 * the store every 2 s, so a dossier is routed (and announced) whether or
 * not its intake event reached them; every wait is bounded.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <zmq.h>

#include "harness.h"
#include "mc_curve.h"
#include "mc_events.h"
#include "mc_test.h"
#include "mc_transport.h"
#include "motcua/v1/intake.pb-c.h"

static harness_t H;
static char key_file[400];      /* DIR/keys/events.key: the bus key of every daemon */
static char stranger_key[400];  /* DIR/keys/stranger.key: a key nobody admits */
static char cfg_a[400];         /* router A: tcp://127.0.0.1:PA */
static char cfg_b[400];         /* router B: the wildcard tcp:// bind on PB */
static char cfg_plain[400];     /* no events.key_file, a router bind off this host */
static char ep_a[64], ep_b[64]; /* where the routers' publishers are reached */
static char intake_events[400]; /* intake.events_endpoint of the harness */

/* monitor_wait - read mon (a mc_transport_monitor PAIR) until it showed
 * want events whose id is in mask, or ms passed; how many it showed */
static int monitor_wait(void *mon, int mask, int want, int ms)
{
    int seen = 0;
    int64_t deadline = harness_now_ms() + ms;
    while (seen < want && harness_now_ms() < deadline) {
        zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) <= 0)
            continue;
        uint8_t head[16];
        char where[256];
        int n = zmq_recv(mon, head, sizeof head, 0);
        if (n < 2 || zmq_recv(mon, where, sizeof where, 0) < 0)
            continue;
        uint16_t id;
        memcpy(&id, head, sizeof id);
        if (id & mask)
            seen++;
    }
    return seen;
}

/* events_wait - receive from sub until want events came or ms passed; how many came */
static int events_wait(void *sub, int want, int ms)
{
    int got = 0;
    int64_t deadline = harness_now_ms() + ms;
    while (got < want && harness_now_ms() < deadline) {
        zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) > 0)
            got += mc_events_drain(sub);
    }
    return got;
}

/* submit - one valid dossier with this submission id; 0 when it got a receipt */
static int submit(const char *sid)
{
    harness_dossier_t d;
    harness_dossier_init(&d, sid);
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request(&H, &d.request, 10000, &r) != 0)
        return -1;
    int rc = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT ? 0 : -1;
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return rc;
}

/* sub_with_monitor - a SUB on the n endpoints with key, its monitor on inproc */
static void *sub_with_monitor(const char *const *endpoints, size_t n, const char *key,
                              const char *inproc, void **mon)
{
    mc_err_t err;
    mc_err_clear(&err);
    void *sub = mc_events_sub(endpoints, n, key, &err);
    *mon = sub ? mc_transport_monitor(sub, inproc, ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                                       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, &err)
               : NULL;
    if (!*mon)
        printf("  subscriber: %s", err.text);
    return sub;
}

/* stranger_sub - a SUB on both routers that knows the bus's public key (a
 * .pub file is not secret) but holds the stranger's keypair: only the ZAP
 * handler can turn it away */
static void *stranger_sub(const char *inproc, void **mon)
{
    mc_err_t err;
    mc_err_clear(&err);
    mc_transport_keys_t keys;
    char pub[420];
    snprintf(pub, sizeof pub, "%s/keys/events.pub", H.dir);
    void *sub = NULL;
    if (mc_curve_read_key(pub, keys.server_public, &err) == 0 &&
        mc_curve_read_secret_key(stranger_key, keys.secret_key, &err) == 0 &&
        mc_curve_public_of(keys.secret_key, keys.public_key, &err) == 0 &&
        (sub = mc_transport_connect_as(ZMQ_SUB, ep_a, NULL, &keys, &err)) &&
        (mc_transport_connect_more(sub, ep_b, &err) != 0 ||
         mc_transport_subscribe(sub, "", &err) != 0))
        mc_transport_close(&sub);
    *mon = sub ? mc_transport_monitor(sub, inproc, ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                                       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, &err)
               : NULL;
    if (!*mon)
        printf("  stranger: %s", err.text);
    return sub;
}

/* close_sub - monitor and socket */
static void close_sub(void **sub, void **mon)
{
    if (*sub && *mon)
        mc_transport_monitor_stop(*sub);
    mc_transport_close(mon);
    mc_transport_close(sub);
}

MC_TEST(without_key_a_router_refuses_an_events_bind_off_this_host)
{
    const char *args[] = {"-c", cfg_plain, NULL};
    pid_t pid = harness_spawn(&H, "motcua-router", "plain.log", args);
    REQUIRE(pid > 0);
    int status = harness_wait_exit(&pid, 20000);
    CHECK(status > 0);
    char grep[600];
    snprintf(grep, sizeof grep, "grep -q 'is reachable from other hosts and events.key_file is "
             "not set' %s/plain.log", H.dir);
    CHECK_INT(harness_run("%s", grep), 0);
    if (pid > 0)
        harness_stop_daemon(pid, SIGKILL);
}

MC_TEST(config_check_reads_the_events_key)
{
    char cmd[700];
    /* the generated config names keys/events.key: accepted */
    CHECK_INT(harness_motcua(&H, "config check"), 0);
    /* a key others can read is refused, as the daemons refuse it */
    REQUIRE(chmod(key_file, 0644) == 0);
    CHECK(harness_motcua(&H, "config check") != 0);
    CHECK_INT(harness_run("grep -q 'events.key.*open to everyone' %s/motcua.out", H.dir), 0);
    REQUIRE(chmod(key_file, 0600) == 0);
    /* a key file that is not there */
    char missing[500];
    snprintf(missing, sizeof missing, "%s/missing-key.yaml", H.dir);
    REQUIRE(harness_config_copy(&H, missing, "key_file: keys/events.key",
                                "key_file: keys/nonexistent.key") == 0);
    snprintf(cmd, sizeof cmd, "-c %s config check", missing);
    CHECK(harness_motcua(&H, cmd) != 0);
    CHECK_INT(harness_run("grep -q 'nonexistent.key' %s/motcua.out", H.dir), 0);
}

MC_TEST(one_subscriber_hears_both_routers_and_a_stranger_nothing)
{
    /* every subscriber exists before the publishers: no handshake goes unseen */
    const char *routers[] = {ep_a, ep_b};
    const char *intake[] = {intake_events};
    void *mon_good = NULL, *mon_bad = NULL, *mon_in = NULL, *mon_wrong = NULL;
    void *good = sub_with_monitor(routers, 2, key_file, "inproc://mon-good", &mon_good);
    void *bad = stranger_sub("inproc://mon-bad", &mon_bad);
    /* the stranger's key file as the bus key: even the server key is wrong */
    void *wrong = sub_with_monitor(routers, 2, stranger_key, "inproc://mon-wrong", &mon_wrong);
    void *in = sub_with_monitor(intake, 1, key_file, "inproc://mon-intake", &mon_in);
    REQUIRE(mon_good && mon_bad && mon_wrong && mon_in);
    REQUIRE(harness_start_intake(&H) == 0);
    pid_t a = harness_start_daemon(&H, "router", cfg_a, "router-a.log");
    REQUIRE(a > 0);

    /* intake's PUB (its ZAP handler also serves clients) admits the bus key */
    CHECK_INT(monitor_wait(mon_in, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 1, 10000), 1);
    CHECK_INT(monitor_wait(mon_good, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 1, 10000), 1);
    CHECK(submit("ev-a-0001") == 0);
    CHECK(events_wait(in, 1, 10000) >= 1);   /* DOSSIER_RECEIVED, over CURVE */
    CHECK(events_wait(good, 1, 20000) >= 1); /* router A routed it: CASE_QUEUED */

    /* router B on the wildcard bind; then A goes, and only B can route */
    pid_t b = harness_start_daemon(&H, "router", cfg_b, "router-b.log");
    REQUIRE(b > 0);
    CHECK_INT(monitor_wait(mon_good, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 1, 10000), 1);
    CHECK_INT(harness_stop_daemon(a, SIGTERM), 0);
    mc_events_drain(good);
    CHECK(submit("ev-b-0001") == 0);
    CHECK(events_wait(good, 1, 20000) >= 1); /* from router B, the same SUB */

    /* the stranger was turned away by the ZAP handler, and heard nothing
     * while the good subscriber heard both routers */
    CHECK(monitor_wait(mon_bad, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 1, 10000) == 1);
    CHECK_INT(mc_events_drain(bad), 0);
    CHECK_INT(mc_events_drain(wrong), 0);
    CHECK_INT(monitor_wait(mon_wrong, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 1, 0), 0);
    /* router B's own refusal: the stranger reaches B on its next reconnect,
     * which may come after the refusal the monitor saw (A's): wait for it */
    char grep[600];
    snprintf(grep, sizeof grep, "grep -q 'event=events_refused' %s/router-b.log", H.dir);
    int refused = 1;
    for (int waited = 0; waited < 10000 && (refused = harness_run("%s", grep)) != 0; waited += 50)
        usleep(50 * 1000);
    CHECK_INT(refused, 0);
    CHECK_INT(harness_stop_daemon(b, SIGTERM), 0);
    close_sub(&good, &mon_good);
    close_sub(&bad, &mon_bad);
    close_sub(&wrong, &mon_wrong);
    close_sub(&in, &mon_in);
}

/* setup - pipeline config, the bus key and a stranger's, the routers' configs */
static int setup(void)
{
    char codes[64][64], args[600], from[600], to[1200];
    int n = 0;
    if (harness_setup(&H, "events", 2) != 0 ||
        harness_pipeline_setup(&H, 2000, 32, codes, 64, &n) != 0)
        return -1;
    snprintf(args, sizeof args, "keygen events --dir %s/keys", H.dir);
    if (harness_motcua(&H, args) != 0)
        return -1;
    snprintf(args, sizeof args, "keygen stranger --dir %s/keys", H.dir);
    if (harness_motcua(&H, args) != 0)
        return -1;
    snprintf(key_file, sizeof key_file, "%s/keys/events.key", H.dir);
    snprintf(stranger_key, sizeof stranger_key, "%s/keys/stranger.key", H.dir);
    snprintf(intake_events, sizeof intake_events, "ipc://%s/intake-events", H.dir);
    int pa = harness_free_port(0), pb = harness_free_port(pa);
    if (pa < 0 || pb < 0)
        return -1;
    snprintf(ep_a, sizeof ep_a, "tcp://127.0.0.1:%d", pa);
    snprintf(ep_b, sizeof ep_b, "tcp://127.0.0.1:%d", pb);
    snprintf(from, sizeof from, "events_endpoint: \"ipc://%s/router-events\"", H.dir);
    /* before the key is in the config: a bind another host could reach */
    snprintf(cfg_plain, sizeof cfg_plain, "%s/plain.yaml", H.dir);
    if (harness_config_copy(&H, cfg_plain, from, "events_endpoint: \"tcp://10.77.0.21:5571\"") != 0)
        return -1;
    if (harness_config_append(&H, "events:\n  key_file: keys/events.key\n") != 0)
        return -1;
    snprintf(cfg_a, sizeof cfg_a, "%s/router-a.yaml", H.dir);
    snprintf(to, sizeof to, "events_endpoint: \"%s\"\n  events_connect: [\"%s\", \"%s\"]", ep_a,
             ep_a, ep_b);
    if (harness_config_copy(&H, cfg_a, from, to) != 0)
        return -1;
    snprintf(cfg_b, sizeof cfg_b, "%s/router-b.yaml", H.dir);
    snprintf(to, sizeof to, "events_endpoint: \"tcp://*:%d\"\n  events_connect: [\"%s\", \"%s\"]",
             pb, ep_a, ep_b);
    return harness_config_copy(&H, cfg_b, from, to);
}

int main(void)
{
    if (setup() != 0) {
        printf("it_events: setup failed\n");
        harness_teardown(&H);
        printf("it_events: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(without_key_a_router_refuses_an_events_bind_off_this_host);
    mc_test_run(config_check_reads_the_events_key);
    mc_test_run(one_subscriber_hears_both_routers_and_a_stranger_nothing);
    mc_transport_term();
    harness_teardown(&H);
    return mc_test_done("it_events");
}
