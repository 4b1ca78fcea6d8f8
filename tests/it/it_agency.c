/*
 * it_agency - motcua-agency under faults, against a hub played by the test:
 * a real CURVE ROUTER bound here (with the real ZAP handler and the
 * generated agency keys) that sends Cases, Heartbeats with an epoch and
 * Hellos, and reads what the agency says (Ready, CaseAck, CaseResult).
 *
 * What is asserted (agency.proto rules 1-7, agency.h):
 * 1. A CaseAck leaves only after the case's T line is in the journal, and
 *    every new connection opens with a resync Ready{session, credit}.
 * 2. kill -9 after the acks and before the answers: the restarted agency
 *    (same --state-dir) says a resync Ready with a new session holding the
 *    cases, answers each once with the outcome it journaled, answers a
 *    re-offer with the same bytes, and the journal has one T per case.
 * 3. A new hub epoch and a Hello asking for it each bring a resync Ready;
 *    a new revision is new work.
 * 4. A silent hub: a new connection and a resync Ready of the same session.
 * 5. A torn journal tail is cut away; the good lines before it count.
 * 6. A second agency on the same state directory exits 78.
 * 7. Without --state-dir the agency warns that it keeps memory only.
 * 8. The daemons' signals (docs/operations.md): SIGHUP is logged
 *    (`signal_ignored signal=1`) and the agency serves on; SIGTERM stops it
 *    with exit 0 and `event=stopped clean=yes` as its last line.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>
#include <zmq.h>

#include "harness.h"
#include "mc_agencies.h"
#include "mc_curve.h"
#include "mc_test.h"
#include "mc_transport.h"
#include "motcua/v1/agency.pb-c.h"

#define CODE      "CONG_AN_XA" /* the agency played by motcua-agency */
#define MAX_SEEN  64           /* cases a test tracks */
#define HB_MS     250          /* the fake hub's heartbeat interval */

static harness_t      H;
static char           keys[400];   /* DIR/keys */
static char           state[400];  /* the agency's --state-dir */
static pid_t          agency_pid;  /* running motcua-agency, 0 if none */
static int            agency_runs; /* starts so far: names each run's log */

/* what the fake hub saw */
typedef struct seen_case {
    char     key[120];     /* "case_id#revision" */
    int      acks;         /* CaseAcks with this revision */
    int      results;      /* CaseResult frames */
    int      outcome;      /* of the first result */
    bool     differs;      /* a later result's bytes differ from the first */
    uint8_t *first;        /* the first result frame */
    size_t   first_len;    /* its bytes */
} seen_case_t;

/* the hub played by the test */
static struct {
    void          *router;       /* CURVE server ROUTER */
    mc_zap_t      *zap;          /* the real ZAP handler */
    mc_agencies_t *agencies;     /* DIR/agencies.yaml */
    char           endpoint[64]; /* where it listens */
    uint8_t        rid[256];     /* the routing id of the last frame received */
    size_t         rid_len;      /* its bytes, 0 before any */
    int            connections;  /* routing ids seen (a new one: a new connection) */
    uint64_t       epoch;        /* in every Heartbeat */
    bool           silent;       /* send no heartbeats */
    bool           auto_answer;  /* ResultAck accepted to every result */
    int64_t        last_hb;      /* monotonic ms of the last heartbeat */
    int            resyncs;      /* resync Readies received */
    char           session[80];  /* of the last resync Ready */
    uint32_t       credit;       /* of the last resync Ready */
    uint64_t       ready_epoch;  /* hub_epoch of the last resync Ready */
    char           holding[MAX_SEEN][120]; /* of the last resync Ready: "case_id#revision" */
    size_t         n_holding;    /* entries */
    seen_case_t    cases[MAX_SEEN];
    size_t         n_cases;      /* entries */
} hub;

/* seen - the record for case_id#revision, made on first sight (NULL when the table is full) */
static seen_case_t *seen(const char *case_id, uint32_t revision)
{
    char key[120];
    snprintf(key, sizeof key, "%s#%u", case_id, revision ? revision : 1);
    for (size_t i = 0; i < hub.n_cases; i++)
        if (strcmp(hub.cases[i].key, key) == 0)
            return &hub.cases[i];
    if (hub.n_cases == MAX_SEEN)
        return NULL;
    seen_case_t *s = &hub.cases[hub.n_cases++];
    memset(s, 0, sizeof *s);
    snprintf(s->key, sizeof s->key, "%s", key);
    return s;
}

/* hub_send - one HubToAgency to the last connection */
static void hub_send(const Motcua__V1__HubToAgency *m)
{
    if (!hub.rid_len)
        return;
    size_t n = motcua__v1__hub_to_agency__get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return;
    motcua__v1__hub_to_agency__pack(m, buf);
    if (zmq_send(hub.router, hub.rid, hub.rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(hub.router, buf, n, ZMQ_DONTWAIT);
    free(buf);
}

/* hub_case - offer a case */
static void hub_case(const char *case_id, uint32_t revision, uint32_t attempt)
{
    Motcua__V1__Case k = MOTCUA__V1__CASE__INIT;
    k.case_id = (char *)case_id;
    k.revision = revision;
    k.attempt = attempt;
    k.dossier_code = (char *)"T-TEST";
    k.step = 1;
    k.steps_total = 1;
    k.task = (char *)"Xác minh (thử nghiệm)";
    Motcua__V1__HubToAgency m = MOTCUA__V1__HUB_TO_AGENCY__INIT;
    m.body_case = MOTCUA__V1__HUB_TO_AGENCY__BODY_CASE;
    m.case_ = &k;
    hub_send(&m);
}

/* hub_hello - Hello{epoch, resync_requested} */
static void hub_hello(bool resync_requested)
{
    Motcua__V1__Hello h = MOTCUA__V1__HELLO__INIT;
    h.epoch = hub.epoch;
    h.resync_requested = resync_requested;
    h.heartbeat_ms = 500;
    Motcua__V1__HubToAgency m = MOTCUA__V1__HUB_TO_AGENCY__INIT;
    m.body_case = MOTCUA__V1__HUB_TO_AGENCY__BODY_HELLO;
    m.hello = &h;
    hub_send(&m);
}

/* hub_heartbeat - Heartbeat{epoch} when one is due */
static void hub_heartbeat(void)
{
    if (hub.silent || harness_now_ms() - hub.last_hb < HB_MS)
        return;
    Motcua__V1__Heartbeat hb = MOTCUA__V1__HEARTBEAT__INIT;
    hb.epoch = hub.epoch;
    Motcua__V1__HubToAgency m = MOTCUA__V1__HUB_TO_AGENCY__INIT;
    m.body_case = MOTCUA__V1__HUB_TO_AGENCY__BODY_HEARTBEAT;
    m.heartbeat = &hb;
    hub_send(&m);
    hub.last_hb = harness_now_ms();
}

/* on_ready - remember a resync Ready */
static void on_ready(const Motcua__V1__Ready *r)
{
    if (!r->resync)
        return;
    hub.resyncs++;
    snprintf(hub.session, sizeof hub.session, "%s", r->session ? r->session : "");
    hub.credit = r->credit;
    hub.ready_epoch = r->hub_epoch;
    hub.n_holding = 0;
    for (size_t i = 0; i < r->n_holding && hub.n_holding < MAX_SEEN; i++)
        snprintf(hub.holding[hub.n_holding++], sizeof hub.holding[0], "%s#%u",
                 r->holding[i]->case_id, r->holding[i]->revision);
}

/* on_result - record a result, answer it when auto_answer */
static void on_result(const Motcua__V1__CaseResult *r, const uint8_t *bytes, size_t len)
{
    seen_case_t *s = seen(r->case_id, r->revision);
    if (!s)
        return;
    if (s->results++ == 0) {
        s->outcome = (int)r->outcome;
        s->first = malloc(len ? len : 1);
        if (s->first)
            memcpy(s->first, bytes, len);
        s->first_len = len;
    } else if (!s->first || len != s->first_len || memcmp(bytes, s->first, len) != 0) {
        s->differs = true;
    }
    if (!hub.auto_answer)
        return;
    Motcua__V1__ResultAck a = MOTCUA__V1__RESULT_ACK__INIT;
    a.case_id = r->case_id;
    a.accepted = true;
    Motcua__V1__HubToAgency m = MOTCUA__V1__HUB_TO_AGENCY__INIT;
    m.body_case = MOTCUA__V1__HUB_TO_AGENCY__BODY_RESULT_ACK;
    m.result_ack = &a;
    hub_send(&m);
}

/* hub_pump - receive and record frames, heartbeat, for at most ms */
static void hub_pump(int ms)
{
    int64_t deadline = harness_now_ms() + ms;
    do {
        hub_heartbeat();
        zmq_pollitem_t it = {hub.router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 20) <= 0)
            continue;
        uint8_t rid[256], body[1 << 16];
        int rn = zmq_recv(hub.router, rid, sizeof rid, ZMQ_DONTWAIT);
        if (rn <= 0)
            continue;
        int bn = zmq_recv(hub.router, body, sizeof body, ZMQ_DONTWAIT);
        if (bn < 0 || bn > (int)sizeof body)
            continue;
        if ((size_t)rn != hub.rid_len || memcmp(rid, hub.rid, (size_t)rn) != 0) {
            memcpy(hub.rid, rid, (size_t)rn);
            hub.rid_len = (size_t)rn;
            hub.connections++;
        }
        Motcua__V1__AgencyToHub *m = motcua__v1__agency_to_hub__unpack(NULL, (size_t)bn, body);
        if (!m)
            continue;
        if (m->body_case == MOTCUA__V1__AGENCY_TO_HUB__BODY_READY) {
            on_ready(m->ready);
        } else if (m->body_case == MOTCUA__V1__AGENCY_TO_HUB__BODY_ACK) {
            seen_case_t *s = seen(m->ack->case_id, m->ack->revision);
            if (s && m->ack->revision) /* an ack without revision counts for nothing */
                s->acks++;
        } else if (m->body_case == MOTCUA__V1__AGENCY_TO_HUB__BODY_RESULT) {
            on_result(m->result, body, (size_t)bn);
        }
        motcua__v1__agency_to_hub__free_unpacked(m, NULL);
    } while (harness_now_ms() < deadline);
}

/* pump_until - pump until cond() holds or ms pass; cond()'s last value */
static bool pump_until(bool (*cond)(void), int ms)
{
    int64_t deadline = harness_now_ms() + ms;
    while (!cond() && harness_now_ms() < deadline)
        hub_pump(20);
    return cond();
}

/* hub_start - ZAP handler, CURVE ROUTER on a free port */
static int hub_start(void)
{
    char path[500], secret[41];
    mc_err_t err;
    mc_err_clear(&err);
    snprintf(path, sizeof path, "%s/agencies.yaml", H.dir);
    if (mc_agencies_load(path, &hub.agencies, &err) != 0 || !(hub.zap = mc_zap_start(hub.agencies, &err))) {
        fprintf(stderr, "%s", err.text);
        return -1;
    }
    snprintf(path, sizeof path, "%s/lienthong.key", keys);
    int port = harness_free_port(H.pg_port);
    if (port < 0 || mc_curve_read_key(path, secret, &err) != 0)
        return -1;
    snprintf(hub.endpoint, sizeof hub.endpoint, "tcp://127.0.0.1:%d", port);
    mc_socket_opts_t o = {.linger_ms = 0};
    hub.router = mc_transport_bind_curve_server(ZMQ_ROUTER, hub.endpoint, &o, secret, "lienthong", &err);
    if (!hub.router)
        fprintf(stderr, "%s", err.text);
    hub.epoch = 0x1111;
    return hub.router ? 0 : -1;
}

/* start_agency - motcua-agency as CODE with delay_ms; state_dir NULL: memory only */
static pid_t start_agency(const char *delay_ms, const char *state_dir, char *log, size_t log_size)
{
    char key[500], server[500];
    snprintf(key, sizeof key, "%s/%s.key", keys, CODE);
    snprintf(server, sizeof server, "%s/lienthong.pub", keys);
    snprintf(log, log_size, "agency-%d.log", ++agency_runs);
    const char *args[] = {"-c", H.config, "--agency", CODE, "--key", key, "--server-key", server,
                          "--endpoint", hub.endpoint, "--credit", "10", "--delay-ms", delay_ms,
                          "--outcomes", "approved=60,rejected=20,needs_documents=20",
                          state_dir ? "--state-dir" : NULL, state_dir, NULL};
    return harness_spawn(&H, "motcua-agency", log, args);
}

/* journal_count - lines of the journal starting with prefix */
static int journal_count(const char *prefix)
{
    char path[500], line[300];
    snprintf(path, sizeof path, "%s/journal", state);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strncmp(line, prefix, strlen(prefix)) == 0;
    fclose(f);
    return n;
}

/* journal_outcome - the outcome in the T line of case_id revision, -1 if none */
static int journal_outcome(const char *case_id, unsigned revision)
{
    char path[500], line[300], prefix[140];
    snprintf(path, sizeof path, "%s/journal", state);
    snprintf(prefix, sizeof prefix, "T %s %u ", case_id, revision);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int outcome = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            outcome = atoi(line + strlen(prefix));
    fclose(f);
    return outcome;
}

/* log_has - does DIR/log contain text? */
static bool log_has(const char *log, const char *text)
{
    return harness_run("grep -qF -- '%s' %s/%s 2>/dev/null", text, H.dir, log) == 0;
}

/* holding_has - did the last resync Ready hold case_id#revision? */
static bool holding_has(const char *key)
{
    for (size_t i = 0; i < hub.n_holding; i++)
        if (strcmp(hub.holding[i], key) == 0)
            return true;
    return false;
}

static const char *const first_cases[] = {"K-1/1", "K-2/1", "K-3/1", "K-4/1", "K-5/1"};
#define N_FIRST 5

static int  want_resyncs;   /* the condition below waits for more resyncs than this */
static char old_session[80]; /* the session before a restart */

/* cond_resync - a resync Ready beyond want_resyncs arrived */
static bool cond_resync(void)
{
    return hub.resyncs > want_resyncs;
}

/* first_all - every first case has at least one ack (acks) or one result (!acks) */
static bool first_all(bool acks)
{
    for (int i = 0; i < N_FIRST; i++) {
        seen_case_t *s = seen(first_cases[i], 1);
        if (!s || (acks ? s->acks : s->results) < 1)
            return false;
    }
    return true;
}

/* cond_first_acked - every first case acked */
static bool cond_first_acked(void)
{
    return first_all(true);
}

/* cond_first_answered - every first case has a result */
static bool cond_first_answered(void)
{
    return first_all(false);
}

/* cond_answers_journaled - an A line for every first case */
static bool cond_answers_journaled(void)
{
    return journal_count("A K-") >= N_FIRST;
}

MC_TEST(ack_follows_the_journal_and_connect_resyncs)
{
    char log[64];
    want_resyncs = hub.resyncs;
    agency_pid = start_agency("600000", state, log, sizeof log); /* never answers by itself */
    REQUIRE(agency_pid > 0);
    REQUIRE(pump_until(cond_resync, 10000));
    CHECK_INT(strlen(hub.session), 32);
    CHECK_INT(strspn(hub.session, "0123456789abcdef"), 32);
    CHECK_INT(hub.credit, 10);
    CHECK_INT(hub.n_holding, 0);
    snprintf(old_session, sizeof old_session, "%s", hub.session);
    for (int i = 0; i < N_FIRST; i++)
        hub_case(first_cases[i], 1, 1);
    CHECK(pump_until(cond_first_acked, 10000));
    /* acked means journaled: each T line is there once the ack is seen */
    CHECK_INT(journal_count("T K-"), N_FIRST);
    CHECK(log_has(log, "event=started") && !log_has(log, "event=memory_only"));
    CHECK(log_has(log, "version=")); /* mc_version, like every daemon's started line */
}

MC_TEST(kill9_after_ack_resumes_and_answers_each_case_once)
{
    REQUIRE(agency_pid > 0);
    CHECK_INT(harness_stop_daemon(agency_pid, SIGKILL), 128 + SIGKILL);
    agency_pid = 0;
    for (int i = 0; i < N_FIRST; i++)
        CHECK_INT(seen(first_cases[i], 1)->results, 0);
    char log[64];
    want_resyncs = hub.resyncs;
    hub.auto_answer = true;
    agency_pid = start_agency("100", state, log, sizeof log);
    REQUIRE(agency_pid > 0);
    REQUIRE(pump_until(cond_resync, 10000));
    CHECK(strcmp(hub.session, old_session) != 0);
    CHECK_INT(strlen(hub.session), 32);
    CHECK_INT(hub.n_holding, N_FIRST);
    for (int i = 0; i < N_FIRST; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s#1", first_cases[i]);
        CHECK(holding_has(key));
    }
    CHECK_INT(hub.credit, 10 - N_FIRST);
    CHECK(pump_until(cond_first_answered, 10000));
    for (int i = 0; i < N_FIRST; i++) {
        seen_case_t *s = seen(first_cases[i], 1);
        CHECK_INT(s->outcome, journal_outcome(first_cases[i], 1));
        CHECK(!s->differs);
    }
    CHECK(pump_until(cond_answers_journaled, 5000));
    /* a re-offer of work done: acked again, answered with the same bytes, not redone */
    seen_case_t *s = seen(first_cases[0], 1);
    int acks = s->acks, results = s->results;
    hub_case(first_cases[0], 1, 2);
    int64_t deadline = harness_now_ms() + 5000;
    while ((s->acks == acks || s->results == results) && harness_now_ms() < deadline)
        hub_pump(20);
    CHECK_INT(s->acks, acks + 1);
    CHECK(s->results > results);
    CHECK(!s->differs);
    CHECK_INT(journal_count("T K-"), N_FIRST);
    CHECK(log_has(log, "event=journal_replayed held=5 answered=0 bad_lines=0"));
}

/* cond_new_revision - K-2 revision 2 acked and answered */
static bool cond_new_revision(void)
{
    seen_case_t *s = seen("K-2/1", 2);
    return s && s->acks >= 1 && s->results >= 1;
}

MC_TEST(new_hub_epoch_and_hello_bring_a_resync)
{
    REQUIRE(agency_pid > 0);
    want_resyncs = hub.resyncs;
    hub.last_hb = 0; /* one heartbeat of the old epoch first: frames keep their order */
    hub_heartbeat();
    hub.epoch = 0x2222; /* the hub "restarted" behind the same connection */
    hub.last_hb = 0;
    CHECK(pump_until(cond_resync, 5000));
    CHECK_INT(hub.ready_epoch, 0x2222);
    CHECK_INT(hub.n_holding, 0);
    CHECK_INT(hub.credit, 10);
    /* a Hello asking for a resync, repeated like the hub's answer to each frame */
    want_resyncs = hub.resyncs;
    int64_t deadline = harness_now_ms() + 5000;
    while (!cond_resync() && harness_now_ms() < deadline) {
        hub_hello(true);
        hub_pump(100);
    }
    CHECK(cond_resync());
    CHECK_INT(hub.ready_epoch, 0x2222);
    /* a new revision is new work */
    hub_case("K-2/1", 2, 1);
    CHECK(pump_until(cond_new_revision, 5000));
    CHECK_INT(journal_count("T K-2/1 2 "), 1);
    CHECK_INT(journal_count("T K-2/1 "), 2);
}

/* cond_new_connection - the agency connected again */
static int want_connections;
static bool cond_new_connection(void)
{
    return hub.connections > want_connections && hub.resyncs > want_resyncs;
}

MC_TEST(silent_hub_gets_a_new_connection_and_a_resync)
{
    REQUIRE(agency_pid > 0);
    char session[80];
    snprintf(session, sizeof session, "%s", hub.session);
    want_connections = hub.connections;
    want_resyncs = hub.resyncs;
    hub.silent = true;
    /* 3 missed heartbeats of 500 ms, then a fresh connection: well within 10 s */
    int64_t deadline = harness_now_ms() + 10000;
    while (hub.connections == want_connections && harness_now_ms() < deadline)
        hub_pump(20);
    hub.silent = false;
    CHECK(pump_until(cond_new_connection, 5000));
    CHECK_STR(hub.session, session);
}

/* cond_torn_answered - the case written by the test was answered */
static bool cond_torn_answered(void)
{
    seen_case_t *s = seen("TORN-1/1", 1);
    return s && s->results >= 1;
}

MC_TEST(torn_journal_tail_is_cut_and_the_good_lines_count)
{
    REQUIRE(agency_pid > 0);
    harness_stop_daemon(agency_pid, SIGKILL);
    agency_pid = 0;
    /* a good line made here with zlib's crc32 (the documented format), then a torn one */
    char good[128], path[500];
    int n = snprintf(good, sizeof good, "T TORN-1/1 1 2");
    snprintf(good + n, sizeof good - (size_t)n, " %08lx\n", crc32(0, (const Bytef *)good, (uInt)n));
    snprintf(path, sizeof path, "%s/journal", state);
    FILE *f = fopen(path, "a");
    REQUIRE(f);
    fputs(good, f);
    fputs("T TORN-2/1 1 1 0a1b", f);
    fclose(f);
    char log[64];
    want_resyncs = hub.resyncs;
    agency_pid = start_agency("100", state, log, sizeof log);
    REQUIRE(agency_pid > 0);
    REQUIRE(pump_until(cond_resync, 10000));
    CHECK(holding_has("TORN-1/1#1"));
    CHECK(!holding_has("TORN-2/1#1"));
    CHECK(pump_until(cond_torn_answered, 5000));
    CHECK_INT(seen("TORN-1/1", 1)->outcome, 2);
    CHECK(log_has(log, "event=journal_tail_dropped"));
    CHECK(log_has(log, "event=journal_compacted")); /* bad lines leave the file at once */
    CHECK_INT(journal_count("T K-"), N_FIRST + 1);  /* compaction kept every case, once */
    CHECK_INT(journal_count("A K-"), N_FIRST + 1);
    CHECK_INT(journal_count("T TORN-2"), 0);
    CHECK_INT(harness_run("tail -c 1 %s | od -c | grep -q 'n'", path), 0);
}

MC_TEST(second_agency_on_one_state_dir_is_refused)
{
    REQUIRE(agency_pid > 0);
    char log[64];
    pid_t second = start_agency("100", state, log, sizeof log);
    REQUIRE(second > 0);
    CHECK_INT(harness_wait_exit(&second, 10000), 78);
    if (second > 0)
        harness_stop_daemon(second, SIGKILL);
    CHECK(log_has(log, "in use by another motcua-agency"));
    CHECK(kill(agency_pid, 0) == 0); /* the first one runs on */
}

/* memory_only_log - the log of the memory-only run */
static char memory_log[64];
static bool cond_memory_warned(void)
{
    return log_has(memory_log, "event=memory_only");
}

MC_TEST(without_state_dir_the_agency_warns)
{
    pid_t p = start_agency("100", NULL, memory_log, sizeof memory_log);
    REQUIRE(p > 0);
    CHECK(pump_until(cond_memory_warned, 5000));
    CHECK_INT(harness_stop_daemon(p, SIGTERM), 0);
}

/* signals_log - the log of the signals run */
static char signals_log[64];
static bool cond_signals_started(void)
{
    return log_has(signals_log, "event=connected");
}
static bool cond_hup_logged(void)
{
    return log_has(signals_log, "event=signal_ignored signal=1");
}
static bool cond_hup_answered(void)
{
    seen_case_t *s = seen("HUP-1", 1);
    return s && s->acks >= 1 && s->results >= 1;
}

MC_TEST(hup_goes_on_term_stops_cleanly)
{
    if (agency_pid > 0) /* the hub answers the last connection: this agency alone */
        CHECK_INT(harness_stop_daemon(agency_pid, SIGTERM), 0);
    agency_pid = 0;
    want_resyncs = hub.resyncs;
    pid_t p = start_agency("100", NULL, signals_log, sizeof signals_log);
    REQUIRE(p > 0);
    REQUIRE(pump_until(cond_signals_started, 10000));
    /* the fake hub answers the connection it heard last: wait until that is this one */
    REQUIRE(pump_until(cond_resync, 10000));
    CHECK(kill(p, SIGHUP) == 0);
    CHECK(pump_until(cond_hup_logged, 10000));
    int st;
    CHECK(waitpid(p, &st, WNOHANG) == 0); /* still running */
    CHECK(!log_has(signals_log, "event=stopping"));
    /* still serving: a case sent after the HUP is acked and answered */
    /* offered again until answered, as the hub resends: the fake hub sends to the
     * connection it heard last, which a late frame of the agency stopped above may be */
    bool answered = false;
    for (int attempt = 1; attempt <= 10 && !answered; attempt++) {
        hub_case("HUP-1", 1, (uint32_t)attempt);
        answered = pump_until(cond_hup_answered, 1000);
    }
    CHECK(answered);
    CHECK_INT(harness_stop_daemon(p, SIGTERM), 0);
    CHECK(log_has(signals_log, "event=stopping signal=15"));
    CHECK_INT(harness_run("tail -n 1 %s/%s | grep -qF 'event=stopped clean=yes'", H.dir,
                          signals_log), 0);
}

/* setup - cluster (for the config), keys, the fake hub */
static int setup(void)
{
    char codes[32][64];
    int n = 0;
    if (harness_setup(&H, "it_agency", 1) != 0 || harness_pipeline_setup(&H, 200, 100, codes, 32, &n) != 0)
        return -1;
    snprintf(keys, sizeof keys, "%s/keys", H.dir);
    snprintf(state, sizeof state, "%s/state-%s", H.dir, CODE);
    return hub_start();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (setup() != 0) {
        printf("  FAIL setup\n");
        mc_test_failed++;
    } else {
        mc_test_run(ack_follows_the_journal_and_connect_resyncs);
        mc_test_run(kill9_after_ack_resumes_and_answers_each_case_once);
        mc_test_run(new_hub_epoch_and_hello_bring_a_resync);
        mc_test_run(silent_hub_gets_a_new_connection_and_a_resync);
        mc_test_run(torn_journal_tail_is_cut_and_the_good_lines_count);
        mc_test_run(second_agency_on_one_state_dir_is_refused);
        mc_test_run(without_state_dir_the_agency_warns);
        mc_test_run(hup_goes_on_term_stops_cleanly);
    }
    if (agency_pid > 0)
        harness_stop_daemon(agency_pid, SIGKILL);
    for (size_t i = 0; i < hub.n_cases; i++)
        free(hub.cases[i].first);
    mc_transport_close(&hub.router);
    mc_zap_stop(&hub.zap);
    mc_agencies_destroy(&hub.agencies);
    mc_transport_term();
    harness_teardown(&H);
    return mc_test_done("it_agency");
}
