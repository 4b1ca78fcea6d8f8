/*
 * it_failover - two of each over one store (issue 14): clients with a list
 * of intake endpoints (intake.connect, --connect) and an agency with a list
 * of hubs (lienthong.connect) survive the kill -9 of the instance they use.
 *
 * One PostgreSQL; intake A and B on two fixed ports with their own events
 * endpoints; lienthong A and B likewise; one router. Instance B runs from a
 * copy of the configuration with its own endpoints; both configurations list
 * both instances (A first) in intake.connect and lienthong.connect.
 *   - the CLI's submission gets its receipt from B once A is dead, and the
 *     same request resent gets the same receipt bytes (idempotent);
 *   - an agency on hub A moves to hub B when A is killed and every case is
 *     answered exactly once (one step_done per case, one take per case in the
 *     agency's journal); A started again neither steals nor stalls the cases
 *     of the agency that stays on B; another agency's key cannot take its
 *     session over on either hub;
 *   - motcua-load over both, A killed mid-run: every request acked once, none
 *     lost (timeouts=0), the store holds exactly N submissions (the hubs and
 *     the router are stopped by then: the load's dossiers stay where they are).
 * Every wait is a bounded poll of the store or of a process.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "harness.h"
#include "mc_curve.h"
#include "mc_states.h"
#include "mc_test.h"
#include "mc_transport.h"
#include "motcua/v1/agency.pb-c.h"

#define LOAD_COUNT "300" /* motcua-load's requests */
#define CASES      24    /* dossiers the agency answers across the hub failover */
/* every dossier of the store when the hubs start: CASES and the first test's two,
 * all birth registrations (1.001193: one step, TU_PHAP) */
#define TOTAL      (CASES + 2)

static harness_t H;
static char      cfg_b[600];                  /* instance B's configuration */
static char      intake_a[64], intake_b[64];  /* intake endpoints */
static char      hub_a[64], hub_b[64];        /* lienthong endpoints */
static pid_t     intake_a_pid, intake_b_pid;  /* running intakes, 0 if none */

/* edit_file - in path, each pairs[2i] replaced (first occurrence) by pairs[2i+1],
 * written to out; 0, or -1 when a text is not found */
static int edit_file(const char *path, const char *out, const char *const *pairs)
{
    static char text[65536], next[65536];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    for (size_t i = 0; pairs[i]; i += 2) {
        char *at = strstr(text, pairs[i]);
        if (!at) {
            fprintf(stderr, "it_failover: '%s' not in %s\n", pairs[i], path);
            return -1;
        }
        snprintf(next, sizeof next, "%.*s%s%s", (int)(at - text), text, pairs[i + 1],
                 at + strlen(pairs[i]));
        memcpy(text, next, strlen(next) + 1);
    }
    f = fopen(out, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* setup - cluster, pipeline configuration, A's and B's endpoints, both intakes */
static int setup(void)
{
    char codes[32][64];
    int n = 0;
    if (harness_setup(&H, "it_failover", 2) != 0 || harness_pipeline_setup(&H, 200, 32, codes, 32, &n) != 0)
        return -1;
    int ports[4];
    for (int i = 0; i < 4; i++)
        if ((ports[i] = harness_free_port(0)) < 0)
            return -1;
    snprintf(intake_a, sizeof intake_a, "tcp://127.0.0.1:%d", ports[0]);
    snprintf(intake_b, sizeof intake_b, "tcp://127.0.0.1:%d", ports[1]);
    snprintf(hub_a, sizeof hub_a, "tcp://127.0.0.1:%d", ports[2]);
    snprintf(hub_b, sizeof hub_b, "tcp://127.0.0.1:%d", ports[3]);
    char in_from[64], in_to[300], lt_from[64], lt_to[300], ev_in[400], ev_in_b[400], ev_lt[400],
        ev_lt_b[400], in_a[100], in_b[100], lt_a[100], lt_b[100];
    snprintf(in_from, sizeof in_from, "\"%s\"\n  workers", HARNESS_ANY_PORT);
    snprintf(in_to, sizeof in_to, "\"%s\"\n  connect: [\"%s\", \"%s\"]\n  workers", intake_a,
             intake_a, intake_b);
    snprintf(lt_from, sizeof lt_from, "lienthong:\n  endpoint: \"%s\"", HARNESS_ANY_PORT);
    snprintf(lt_to, sizeof lt_to, "lienthong:\n  endpoint: \"%s\"\n  connect: [\"%s\", \"%s\"]",
             hub_a, hub_a, hub_b);
    /* one retry budget for the CLI: A (dead, 3 s), then B */
    const char *const first[] = {in_from, in_to, lt_from, lt_to, "timeout_ms: 5000",
                                 "timeout_ms: 3000", NULL};
    if (edit_file(H.config, H.config, first) != 0)
        return -1;
    snprintf(ev_in, sizeof ev_in, "%s/intake-events\"", H.dir);
    snprintf(ev_in_b, sizeof ev_in_b, "%s/intake-events-b\"", H.dir);
    snprintf(ev_lt, sizeof ev_lt, "%s/lienthong-events\"", H.dir);
    snprintf(ev_lt_b, sizeof ev_lt_b, "%s/lienthong-events-b\"", H.dir);
    snprintf(in_a, sizeof in_a, "endpoint: \"%s\"", intake_a);
    snprintf(in_b, sizeof in_b, "endpoint: \"%s\"", intake_b);
    snprintf(lt_a, sizeof lt_a, "endpoint: \"%s\"", hub_a);
    snprintf(lt_b, sizeof lt_b, "endpoint: \"%s\"", hub_b);
    snprintf(cfg_b, sizeof cfg_b, "%s/motcua-b.yaml", H.dir);
    const char *const second[] = {in_a, in_b, lt_a, lt_b, ev_in, ev_in_b, ev_lt, ev_lt_b, NULL};
    if (edit_file(H.config, cfg_b, second) != 0)
        return -1;
    intake_a_pid = harness_start_daemon(&H, "intake", NULL, "intake-a.log");
    intake_b_pid = harness_start_daemon(&H, "intake", cfg_b, "intake-b.log");
    return intake_a_pid > 0 && intake_b_pid > 0 ? 0 : -1;
}

/* log_has - does DIR/log contain text? */
static bool log_has(const char *log, const char *text)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "grep -qF -- '%s' %s/%s", text, H.dir, log);
    return system(cmd) == 0;
}

/* request_over - a packed submission to endpoints (round robin from the first)
 * as the counter; the reply bytes (malloc'd) or NULL */
static uint8_t *request_over(const char *const *endpoints, size_t n, int retries,
                             const harness_dossier_t *d, size_t *len, size_t *answered_by)
{
    size_t size = motcua__v1__intake_request__get_packed_size(&d->request);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return NULL;
    motcua__v1__intake_request__pack(&d->request, buf);
    void *reply = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    size_t next = 0;
    int rc = mc_transport_request_any(endpoints, n, &next, &H.keys[HARNESS_COUNTER], buf, size,
                                      3000, retries, 1 << 20, &reply, len, &err);
    free(buf);
    *answered_by = next;
    return rc == 0 ? reply : NULL;
}

MC_TEST(cli_gets_its_receipt_from_the_other_intake_after_kill_9)
{
    CHECK_INT(harness_stop_daemon(intake_a_pid, SIGKILL), 128 + SIGKILL);
    intake_a_pid = 0;
    /* the CLI: intake.connect lists A first; A is dead, B answers */
    CHECK_INT(harness_motcua(&H, "submit --json config/samples/khai-sinh.yaml"), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE key = $1",
                            "kl-sample-khai-sinh-0001"), 1);
    /* A alone, no retry: nothing (so the next call really tried A first) */
    harness_dossier_t d;
    harness_dossier_init(&d, "fo-cli-0001");
    size_t len1 = 0, len2 = 0, by = 9;
    const char *const only_a[] = {intake_a};
    uint8_t *none = request_over(only_a, 1, 0, &d, &len1, &by);
    CHECK(none == NULL);
    free(none);
    /* A then B: the receipt via B; the same request to B alone: the same bytes */
    const char *const both[] = {intake_a, intake_b};
    uint8_t *r1 = request_over(both, 2, 1, &d, &len1, &by);
    REQUIRE(r1 != NULL);
    CHECK_INT(by, 1);
    const char *const only_b[] = {intake_b};
    uint8_t *r2 = request_over(only_b, 1, 0, &d, &len2, &by);
    REQUIRE(r2 != NULL);
    CHECK_INT(len1, len2);
    CHECK(len1 == len2 && memcmp(r1, r2, len1) == 0);
    Motcua__V1__IntakeReply *reply = motcua__v1__intake_reply__unpack(NULL, len1, r1);
    CHECK(reply && reply->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    if (reply)
        motcua__v1__intake_reply__free_unpacked(reply, NULL);
    free(r1);
    free(r2);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE key = $1",
                            "fo-cli-0001"), 1);
    intake_a_pid = harness_start_daemon(&H, "intake", NULL, "intake-a2.log");
    CHECK(intake_a_pid > 0);
}

MC_TEST(load_over_two_intakes_loses_and_duplicates_nothing_when_one_is_killed)
{
    REQUIRE(intake_a_pid > 0);
    /* open loop at 100/s: A dies while most of the run is still to come */
    const char *args[] = {"-c", H.config, "--connect", intake_a, "--connect", intake_b,
                          "--rate", "100", "--count", LOAD_COUNT, "--clients", "8", NULL};
    pid_t load = harness_spawn(&H, "motcua-load", "load.log", args);
    REQUIRE(load > 0);
    CHECK_INT(harness_wait_count(&H, "SELECT (count(*) >= 30)::int FROM idempotency_key"
                                 " WHERE key LIKE $1", "load-%", 1, 60000), 1);
    CHECK_INT(harness_stop_daemon(intake_a_pid, SIGKILL), 128 + SIGKILL);
    intake_a_pid = 0;
    CHECK_INT(harness_wait_exit(&load, 120000), 0);
    if (load)
        harness_stop_daemon(load, SIGKILL);
    CHECK(log_has("load.log", "acked=" LOAD_COUNT " rejected=0 timeouts=0"));
    CHECK(!log_has("load.log", "resent=0 ")); /* A's clients went on to B */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE key LIKE $1", "load-%"),
              atoi(LOAD_COUNT));
    CHECK_INT(harness_count(&H, "SELECT count(DISTINCT dossier_id) FROM idempotency_key"
                            " WHERE key LIKE $1", "load-%"), atoi(LOAD_COUNT));
}

/* submit_cases - n birth registrations (one step, TU_PHAP) through intake, ids from first */
static void submit_cases(int first, int n)
{
    for (int i = first; i < first + n; i++) {
        harness_dossier_t d;
        char sid[32];
        snprintf(sid, sizeof sid, "fo-case-%04d", i);
        harness_dossier_init(&d, sid);
        Motcua__V1__IntakeReply *r = NULL;
        CHECK(harness_request(&H, &d.request, 10000, &r) == 0 &&
              r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
        if (r)
            motcua__v1__intake_reply__free_unpacked(r, NULL);
    }
}

/* takeover_refused - agency `as` connects to hub with a resync Ready naming session
 * (another agency's): true when the hub answers Refusal{REASON_FORBIDDEN} */
static bool takeover_refused(const char *hub, const char *as, const char *session)
{
    char path[500], secret[41], pub[41], server[41];
    mc_err_t err;
    mc_err_clear(&err);
    snprintf(path, sizeof path, "%s/keys/%s.key", H.dir, as);
    if (mc_curve_read_secret_key(path, secret, &err) != 0 || mc_curve_public_of(secret, pub, &err) != 0)
        return false;
    snprintf(path, sizeof path, "%s/keys/lienthong.pub", H.dir);
    if (mc_curve_read_key(path, server, &err) != 0)
        return false;
    mc_socket_opts_t o = {.max_message_bytes = 1 << 20, .linger_ms = 0};
    void *s = mc_transport_connect_curve_client(ZMQ_DEALER, hub, &o, server, pub, secret, &err);
    if (!s)
        return false;
    Motcua__V1__Ready r = MOTCUA__V1__READY__INIT;
    r.credit = 1;
    r.client_version = (char *)"it_failover";
    r.session = (char *)session;
    r.resync = true;
    Motcua__V1__AgencyToHub m = MOTCUA__V1__AGENCY_TO_HUB__INIT;
    m.body_case = MOTCUA__V1__AGENCY_TO_HUB__BODY_READY;
    m.ready = &r;
    uint8_t buf[256];
    size_t n = motcua__v1__agency_to_hub__pack(&m, buf);
    bool refused = false;
    int64_t deadline = harness_now_ms() + 10000;
    if (zmq_send(s, buf, n, 0) == (int)n) {
        while (!refused && harness_now_ms() < deadline) {
            zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
            if (zmq_poll(&item, 1, 200) <= 0)
                continue;
            uint8_t in[4096];
            int got = zmq_recv(s, in, sizeof in, 0);
            Motcua__V1__HubToAgency *h =
                got > 0 ? motcua__v1__hub_to_agency__unpack(NULL, (size_t)got, in) : NULL;
            refused = h && h->body_case == MOTCUA__V1__HUB_TO_AGENCY__BODY_REFUSAL &&
                      h->refusal->reason == MOTCUA__V1__REASON__REASON_FORBIDDEN;
            if (h)
                motcua__v1__hub_to_agency__free_unpacked(h, NULL);
        }
    }
    mc_transport_close(&s);
    return refused;
}

MC_TEST(agency_moves_to_the_other_hub_and_every_case_is_answered_once)
{
    pid_t router = harness_start_daemon(&H, "router", NULL, "router.log");
    pid_t lt_a = harness_start_daemon(&H, "lienthong", NULL, "lienthong-a.log");
    pid_t lt_b = harness_start_daemon(&H, "lienthong", cfg_b, "lienthong-b.log");
    REQUIRE(router > 0 && lt_a > 0 && lt_b > 0);
    submit_cases(0, CASES);
    char key[500], server[500], state[500];
    snprintf(key, sizeof key, "%s/keys/TU_PHAP.key", H.dir);
    snprintf(server, sizeof server, "%s/keys/lienthong.pub", H.dir);
    snprintf(state, sizeof state, "%s/agency-state", H.dir);
    /* lienthong.connect (from the configuration): A first */
    const char *args[] = {"-c", H.config, "--agency", "TU_PHAP", "--key", key, "--server-key",
                          server, "--state-dir", state, "--delay-ms", "300", "--credit", "4",
                          "--outcomes", "approved=100", NULL};
    pid_t agency = harness_spawn(&H, "motcua-agency", "agency.log", args);
    REQUIRE(agency > 0);
    /* A has handed it cases (some answered, some held) before it dies */
    CHECK_INT(harness_wait_count(&H, "SELECT (count(*) >= 3)::int FROM agency_case WHERE agency = $1"
                                 " AND state IN (" MC_SQL(MC_CASE_ACKED) ", " MC_SQL(MC_CASE_DONE) ")",
                                 "TU_PHAP", 1, 60000), 1);
    char connected_a[200], connected_b[200];
    snprintf(connected_a, sizeof connected_a, "endpoint=%s", hub_a);
    snprintf(connected_b, sizeof connected_b, "endpoint=%s", hub_b);
    CHECK(log_has("agency.log", connected_a));
    CHECK_INT(harness_stop_daemon(lt_a, SIGKILL), 128 + SIGKILL);
    /* bounded: 3 silent heartbeats (1.5 s), then B; a case A sent and never saw
     * acked goes again after ack_timeout_ms (5 s); no lease (60 s) is waited for */
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE state = $1::smallint",
                                 MC_SQL(MC_DOSSIER_RESULT_READY), TOTAL, 40000), TOTAL);
    CHECK(log_has("agency.log", connected_b));
    CHECK(log_has("lienthong-b.log", "agency_resync"));
    /* exactly once: one answer per case in the store, one take per case in the journal */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event WHERE kind = $1", "step_done"),
              TOTAL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event WHERE kind = $1", "result_ready"),
              TOTAL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_case WHERE state = $1::smallint",
                            MC_SQL(MC_CASE_DONE)), TOTAL);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test \"$(grep -c '^T ' %s/journal)\" -eq %d", state, TOTAL);
    CHECK_INT(harness_run("%s", cmd), 0);

    /* A back while the agency stays on B: A neither steals nor stalls its cases */
    lt_a = harness_start_daemon(&H, "lienthong", NULL, "lienthong-a2.log");
    CHECK(lt_a > 0);
    submit_cases(CASES, 6);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE state = $1::smallint",
                                 MC_SQL(MC_DOSSIER_RESULT_READY), TOTAL + 6, 40000), TOTAL + 6);
    snprintf(cmd, sizeof cmd, "test \"$(grep -c 'event=connected' %s/agency.log)\" -eq 2", H.dir);
    CHECK_INT(harness_run("%s", cmd), 0);
    snprintf(cmd, sizeof cmd, "test \"$(grep -c '^T ' %s/journal)\" -eq %d", state, TOTAL + 6);
    CHECK_INT(harness_run("%s", cmd), 0);

    /* another agency's key cannot take TU_PHAP's session over, on either hub */
    PGresult *res = PQexecParams(harness_db(&H), "SELECT session FROM agency_session WHERE agency = $1"
                                 " ORDER BY seen_at DESC LIMIT 1", 1, NULL,
                                 (const char *const[]){"TU_PHAP"}, NULL, NULL, 0);
    REQUIRE(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
    char session[80];
    snprintf(session, sizeof session, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    CHECK(takeover_refused(hub_b, "CONG_AN_XA", session));
    CHECK(takeover_refused(hub_a, "CONG_AN_XA", session));
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM agency_session WHERE session = $1"
                            " AND agency = 'TU_PHAP'", session), 1);
    harness_stop_daemon(lt_a, SIGTERM);
    harness_stop_daemon(agency, SIGTERM);
    harness_stop_daemon(lt_b, SIGTERM);
    harness_stop_daemon(router, SIGTERM);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (setup() != 0) {
        printf("  FAIL setup\n");
        harness_run("cat %s/intake-a.log %s/intake-b.log %s/motcua.out >&2 2>/dev/null", H.dir,
                    H.dir, H.dir);
        mc_test_failed++;
    } else {
        mc_test_run(cli_gets_its_receipt_from_the_other_intake_after_kill_9);
        mc_test_run(agency_moves_to_the_other_hub_and_every_case_is_answered_once);
        mc_test_run(load_over_two_intakes_loses_and_duplicates_nothing_when_one_is_killed);
    }
    if (intake_a_pid > 0)
        harness_stop_daemon(intake_a_pid, SIGKILL);
    if (intake_b_pid > 0)
        harness_stop_daemon(intake_b_pid, SIGKILL);
    harness_teardown(&H);
    return mc_test_done("it_failover");
}
