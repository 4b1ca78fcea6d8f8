/*
 * it_portal - motcua-portal against a real PostgreSQL, a real motcua-intake
 * and a fake national portal (an HTTP server thread in this program).
 *
 * Dossiers come in through intake (their "received" event); later status
 * changes are written with SQL the way the pipeline daemons write them (a
 * dossier update and its dossier_event in one transaction), so the outbox
 * rows come from the migration's trigger, as in production. The fake portal
 * checks every request as it arrives: the Idempotency-Key equals the body's
 * event_id, which is "<code>/<seq>"; the body has every documented field
 * and none of the applicant's personal data; and a dossier's event n+1
 * never arrives before event n got a 2xx (an order violation is counted).
 * The faults: a portal outage (503s) and a pusher killed (SIGKILL) while
 * the portal holds a push: afterwards every event is acknowledged exactly
 * once, in order, and the held one is resent under the same event id.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "mc_states.h"
#include "harness.h"
#include "http_fake.h"
#include "mc_test.h"

#define PORTAL_MAX 256   /* requests the fake remembers */
#define DOSSIERS_MAX 32  /* dossiers it tracks the order of */

static harness_t H;     /* the shared cluster and intake */
static int       n_sub; /* dossiers submitted so far */

/* --- fake national portal ------------------------------------------------- */

/* one request as the fake saw it */
typedef struct seen {
    char event_id[96]; /* body "event_id" */
    char code[64];     /* body "dossier_code" */
    int  seq;          /* body "seq" */
    bool acked;        /* answered 2xx */
} seen_t;

typedef struct fake_portal {
    http_fake_t    *http;               /* the server (http_fake.c): its thread calls serve_one */
    int             port;               /* where it listens */
    atomic_bool     stop;               /* stopping: a held request is let go */
    pthread_mutex_t lock;
    pthread_cond_t  changed;            /* hold or holding changed */
    bool            down;               /* answer 503 to everything */
    bool            hold;               /* keep the next request, then drop it unanswered */
    bool            holding;            /* a request is held now */
    int             n_seen;             /* entries in seen */
    seen_t          seen[PORTAL_MAX];   /* every request, in arrival order */
    char            codes[DOSSIERS_MAX][64]; /* dossiers met so far */
    int             acked_max[DOSSIERS_MAX]; /* their highest acknowledged seq */
    int             n_codes;            /* entries in codes */
    int             out_of_order;       /* seq > acked_max + 1 on arrival */
    int             bad_key;            /* Idempotency-Key != event_id or != code/seq */
    int             incomplete;         /* a documented field missing */
    int             personal;           /* personal data in a body */
    int             bad_auth;           /* Authorization not the token */
    char            last_body[2048];    /* the latest body */
} fake_portal_t;

static fake_portal_t P;
static const char *const TOKEN = "portal-token-it-0001";

/* json_text - the string value of "key" in a flat JSON object, or "" */
static void json_text(const char *body, const char *key, char *out, size_t size)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\" : \"", key);
    const char *p = strstr(body, pattern);
    out[0] = '\0';
    if (!p)
        return;
    p += strlen(pattern);
    size_t n = strcspn(p, "\"");
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), p);
}

/* json_number - the integer value of "key", or -1 */
static int json_number(const char *body, const char *key)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\" : ", key);
    const char *p = strstr(body, pattern);
    return p ? atoi(p + strlen(pattern)) : -1;
}

/* dossier_slot - index of code in the order table (added if new) */
static int dossier_slot(fake_portal_t *f, const char *code)
{
    for (int i = 0; i < f->n_codes; i++)
        if (strcmp(f->codes[i], code) == 0)
            return i;
    if (f->n_codes == DOSSIERS_MAX)
        return -1;
    snprintf(f->codes[f->n_codes], sizeof f->codes[0], "%s", code);
    f->acked_max[f->n_codes] = 0;
    return f->n_codes++;
}

/* check_request - the fake's checks of one request (lock held); its slot */
static seen_t *check_request(fake_portal_t *f, const char *head, const char *body)
{
    if (f->n_seen == PORTAL_MAX)
        return NULL;
    seen_t *s = &f->seen[f->n_seen++];
    memset(s, 0, sizeof *s);
    json_text(body, "event_id", s->event_id, sizeof s->event_id);
    json_text(body, "dossier_code", s->code, sizeof s->code);
    s->seq = json_number(body, "seq");
    snprintf(f->last_body, sizeof f->last_body, "%s", body);
    char key[128], auth[128], want[128];
    http_fake_header(head, "Idempotency-Key", key, sizeof key);
    http_fake_header(head, "Authorization", auth, sizeof auth);
    snprintf(want, sizeof want, "%s/%d", s->code, s->seq);
    if (strcmp(key, s->event_id) != 0 || strcmp(want, s->event_id) != 0)
        f->bad_key++;
    snprintf(want, sizeof want, "Bearer %s", TOKEN);
    if (strcmp(auth, want) != 0)
        f->bad_auth++;
    static const char *const fields[] = {"\"schema\" : \"motcua.portal.v1\"", "\"event\" : \"",
                                         "\"state\" : \"", "\"at\" : \"", "\"due_at\" : \"",
                                         "\"result\" : ", "\"procedure_code\" : \"",
                                         "\"ward_code\" : \""};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (!strstr(body, fields[i]))
            f->incomplete++;
    if (strstr(body, "Minh") || strstr(body, "0912345678") || strstr(body, "example.vn") ||
        strstr(body, "001085012345"))
        f->personal++;
    int slot = dossier_slot(f, s->code);
    if (slot < 0 || s->seq < 1 || s->seq > f->acked_max[slot] + 1)
        f->out_of_order++;
    return s;
}

/* serve_one - check a request (http_fake handler), answer it (or hold and drop it) */
static void serve_one(void *ctx, int c, const char *head, char *body, size_t body_len)
{
    fake_portal_t *f = ctx;
    (void)body_len;
    pthread_mutex_lock(&f->lock);
    seen_t *s = check_request(f, head, body);
    bool down = f->down;
    if (f->hold) {
        /* a portal that took the request and died before answering */
        f->hold = false;
        f->holding = true;
        pthread_cond_broadcast(&f->changed);
        while (f->holding && !atomic_load(&f->stop))
            pthread_cond_wait(&f->changed, &f->lock);
        pthread_mutex_unlock(&f->lock);
        return;
    }
    if (s && !down) {
        s->acked = true;
        int slot = dossier_slot(f, s->code);
        if (slot >= 0 && s->seq > f->acked_max[slot])
            f->acked_max[slot] = s->seq;
    }
    pthread_mutex_unlock(&f->lock);
    (void)http_fake_answer(c, down ? 503 : 200, "application/json", down ? "" : "{}");
}

/* portal_start - listen on 127.0.0.1 and serve */
static int portal_start(fake_portal_t *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->changed, NULL);
    f->http = http_fake_start(0, serve_one, f);
    if (!f->http)
        return -1;
    f->port = http_fake_port(f->http);
    return 0;
}

/* portal_stop - stop serving (a held request is let go first) */
static void portal_stop(fake_portal_t *f)
{
    pthread_mutex_lock(&f->lock);
    atomic_store(&f->stop, true);
    f->holding = false;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
    http_fake_stop(&f->http);
}

/* portal_set - down / hold switches; release: let a held request go */
static void portal_set(fake_portal_t *f, bool down, bool hold, bool release)
{
    pthread_mutex_lock(&f->lock);
    f->down = down;
    f->hold = hold;
    if (release)
        f->holding = false;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
}

/* portal_wait_holding - until a request is held, at most ms */
static bool portal_wait_holding(fake_portal_t *f, int ms)
{
    int64_t until = harness_now_ms() + ms;
    pthread_mutex_lock(&f->lock);
    while (!f->holding && harness_now_ms() < until) {
        pthread_mutex_unlock(&f->lock);
        usleep(20000);
        pthread_mutex_lock(&f->lock);
    }
    bool held = f->holding;
    pthread_mutex_unlock(&f->lock);
    return held;
}

/* seen_count - requests for event_id (acked_only: answered 2xx) */
static int seen_count(fake_portal_t *f, const char *event_id, bool acked_only)
{
    int n = 0;
    pthread_mutex_lock(&f->lock);
    for (int i = 0; i < f->n_seen; i++)
        if (strcmp(f->seen[i].event_id, event_id) == 0 && (!acked_only || f->seen[i].acked))
            n++;
    pthread_mutex_unlock(&f->lock);
    return n;
}

/* portal_requests - requests seen so far */
static int portal_requests(fake_portal_t *f)
{
    pthread_mutex_lock(&f->lock);
    int n = f->n_seen;
    pthread_mutex_unlock(&f->lock);
    return n;
}

/* wait_requests - until the fake has seen at least want requests, at most ms */
static bool wait_requests(fake_portal_t *f, int want, int ms)
{
    int64_t until = harness_now_ms() + ms;
    while (portal_requests(f) < want && harness_now_ms() < until)
        usleep(20000);
    return portal_requests(f) >= want;
}

/* --- dossiers and their events ------------------------------------------- */

/* submit_one - a new dossier through intake; its code into code */
static int submit_one(char *code, size_t size)
{
    harness_dossier_t d;
    char id[64];
    snprintf(id, sizeof id, "it-portal-%04d", ++n_sub);
    harness_dossier_init(&d, id);
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request(&H, &d.request, 10000, &r) != 0)
        return -1;
    int ok = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    if (ok)
        snprintf(code, size, "%s", r->receipt->dossier_code);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* change - one transaction as a pipeline daemon writes it: the dossier's new
 * state and n events of kind (n > 1: several events of one transaction) */
static int change(const char *code, int state, const char *kind, int n)
{
    char state_text[8], n_text[8];
    snprintf(state_text, sizeof state_text, "%d", state);
    snprintf(n_text, sizeof n_text, "%d", n);
    const char *p[4] = {code, state_text, kind, n_text};
    PGresult *res = PQexecParams(harness_db(&H),
        "WITH d AS (UPDATE dossier SET state = $2::smallint WHERE code = $1 RETURNING id)"
        " INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
        " SELECT d.id, now(), 'it-portal', $3, 'Ông Trần Văn Minh, 0912345678'"
        " FROM d, generate_series(1, $4::integer)", 4, NULL, p, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK && atoi(PQcmdTuples(res)) == n ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "it_portal: change: %s", PQresultErrorMessage(res));
    PQclear(res);
    return rc;
}

/* life - a dossier's whole life after its receipt: 4 more events, the last a result */
static int life(const char *code)
{
    return change(code, 2, "routed", 1) == 0 && change(code, 3, "in_progress", 2) == 0 &&
                   change(code, 5, "result_ready", 1) == 0 ? 0 : -1;
}

static const char *const ACKED_OF = "SELECT count(*) FROM portal_outbox o JOIN dossier d"
                                    " ON d.id = o.dossier_id WHERE d.code = $1 AND o.state = " MC_SQL(MC_OUTBOX_ACKED);
static const char *const ROWS_OF = "SELECT count(*) FROM portal_outbox o JOIN dossier d"
                                   " ON d.id = o.dossier_id WHERE d.code = $1";

/* exactly_once_in_order - every event of code acknowledged once, seq 1..n, nothing odd */
static void exactly_once_in_order(const char *code, int n)
{
    CHECK_INT(harness_wait_count(&H, ACKED_OF, code, n, 30000), n);
    CHECK_INT(harness_count(&H, ROWS_OF, code), n);
    for (int seq = 1; seq <= n; seq++) {
        char id[96];
        snprintf(id, sizeof id, "%s/%d", code, seq);
        CHECK_INT(seen_count(&P, id, true), 1);
    }
    pthread_mutex_lock(&P.lock);
    CHECK_INT(P.out_of_order, 0);
    CHECK_INT(P.bad_key, 0);
    CHECK_INT(P.incomplete, 0);
    CHECK_INT(P.personal, 0);
    CHECK_INT(P.bad_auth, 0);
    pthread_mutex_unlock(&P.lock);
}

/* --- tests ---------------------------------------------------------------- */

MC_TEST(every_event_is_pushed_once_in_order_with_its_state)
{
    pid_t p = harness_start_daemon(&H, "portal", NULL, "portal-a.log");
    REQUIRE(p > 0);
    char codes[3][64];
    /* events are added while the pusher runs: it must never overtake them */
    for (int i = 0; i < 3; i++)
        REQUIRE(submit_one(codes[i], sizeof codes[i]) == 0);
    for (int i = 0; i < 3; i++)
        REQUIRE(life(codes[i]) == 0);
    for (int i = 0; i < 3; i++)
        exactly_once_in_order(codes[i], 5);
    CHECK_INT(harness_stop_daemon(p, SIGTERM), 0);
    /* the last body of a dossier: the result, with its state */
    char last[96];
    snprintf(last, sizeof last, "%s/5", codes[2]);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM portal_outbox WHERE event_id = $1"
                                " AND body::json->>'state' = 'RESULT_READY'"
                                " AND (body::json->>'result')::boolean"
                                " AND body::json->>'event' = 'result_ready'", last), 1);
    /* the two events of one transaction: consecutive seq, the committed state */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM portal_outbox o JOIN dossier d"
                                " ON d.id = o.dossier_id WHERE d.code = $1"
                                " AND o.body::json->>'event' = 'in_progress'"
                                " AND o.body::json->>'state' = 'IN_PROGRESS' AND o.seq IN (3, 4)",
                            codes[0]), 2);
}

MC_TEST(a_portal_outage_is_retried_in_order_and_acknowledged_once)
{
    portal_set(&P, true, false, false);
    int before = portal_requests(&P);
    char codes[2][64];
    for (int i = 0; i < 2; i++)
        REQUIRE(submit_one(codes[i], sizeof codes[i]) == 0 && life(codes[i]) == 0);
    pid_t p = harness_start_daemon(&H, "portal", NULL, "portal-b.log");
    REQUIRE(p > 0);
    /* each dossier's first event is tried again and again; nothing behind it goes */
    CHECK(wait_requests(&P, before + 6, 20000));
    for (int i = 0; i < 2; i++) {
        CHECK_INT(harness_count(&H, ACKED_OF, codes[i]), 0);
        char second[160];
        snprintf(second, sizeof second, "%s/2", codes[i]);
        CHECK_INT(seen_count(&P, second, false), 0);
    }
    CHECK(harness_count(&H, "SELECT count(*) FROM portal_outbox WHERE state = " MC_SQL(MC_OUTBOX_PENDING) " AND attempts > 1"
                            " AND last_status = 503 AND last_error = 'http 503'", NULL) >= 1);
    portal_set(&P, false, false, false);
    for (int i = 0; i < 2; i++)
        exactly_once_in_order(codes[i], 5);
    CHECK_INT(harness_stop_daemon(p, SIGTERM), 0);
    CHECK_INT(harness_run("grep -q 'event=push_failed.*status=503' %s/portal-b.log", H.dir), 0);
}

MC_TEST(a_pusher_killed_mid_push_resends_the_same_event_id)
{
    char code[64];
    REQUIRE(submit_one(code, sizeof code) == 0 && life(code) == 0);
    portal_set(&P, false, true, false);
    pid_t p = harness_start_daemon(&H, "portal", NULL, "portal-c.log");
    REQUIRE(p > 0);
    REQUIRE(portal_wait_holding(&P, 15000));
    CHECK_INT(harness_stop_daemon(p, SIGKILL), 128 + SIGKILL);
    portal_set(&P, false, false, true);
    char first[96];
    snprintf(first, sizeof first, "%s/1", code);
    /* the store knows the push started, not how it ended */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM portal_outbox WHERE event_id = $1"
                                " AND state = " MC_SQL(MC_OUTBOX_PENDING) " AND attempts = 1", first), 1);
    /* a new pusher waits out the lease and pushes the same event again */
    p = harness_start_daemon(&H, "portal", NULL, "portal-c.log");
    REQUIRE(p > 0);
    exactly_once_in_order(code, 5);
    CHECK_INT(seen_count(&P, first, false), 2);
    CHECK_INT(harness_count(&H, "SELECT attempts FROM portal_outbox WHERE event_id = $1", first), 2);
    CHECK_INT(harness_stop_daemon(p, SIGTERM), 0);
}

MC_TEST(portal_role_reads_only_its_outbox)
{
    PGconn *db = harness_db(&H);
    REQUIRE(db != NULL);
    PGresult *res = PQexec(db, "SET ROLE motcua_portal");
    CHECK(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier", NULL), -1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event", NULL), -1);
    CHECK(harness_count(&H, "SELECT count(*) FROM portal_outbox", NULL) > 0);
    res = PQexec(db, "RESET ROLE");
    CHECK(PQresultStatus(res) == PGRES_COMMAND_OK);
    PQclear(res);
}

MC_TEST(bad_url_and_readable_token_are_config_errors)
{
    char config[700], from[700];
    snprintf(config, sizeof config, "%s/motcua-bad-url.yaml", H.dir);
    snprintf(from, sizeof from, "url: \"http://127.0.0.1:%d/api/v1/events\"", P.port);
    REQUIRE(harness_config_copy(&H, config, from, "url: \"ftp://portal\"") == 0);
    CHECK_INT(harness_run("%s/bin/motcua-portal -c %s --check > %s/check.out 2>&1", H.build, config,
                          H.dir), 78);
    CHECK_INT(harness_run("grep -q \"key 'url'\" %s/check.out", H.dir), 0);
    CHECK_INT(harness_run("%s/bin/motcua-portal -c %s --check > /dev/null 2>&1", H.build, H.config), 0);
    CHECK_INT(harness_run("chmod 0644 %s/portal-token && %s/bin/motcua-portal -c %s --check"
                          " > /dev/null 2>&1", H.dir, H.build, H.config), 78);
    CHECK_INT(harness_run("chmod 0600 %s/portal-token", H.dir), 0);
}

MC_TEST(without_a_url_it_only_waits_and_the_outbox_keeps_the_events)
{
    char config[700], from[700];
    snprintf(config, sizeof config, "%s/motcua-off.yaml", H.dir);
    snprintf(from, sizeof from, "url: \"http://127.0.0.1:%d/api/v1/events\"", P.port);
    REQUIRE(harness_config_copy(&H, config, from, "url: \"\"") == 0);
    int before = portal_requests(&P);
    pid_t p = harness_start_daemon(&H, "portal", config, "portal-off.log");
    REQUIRE(p > 0);
    char code[64];
    REQUIRE(submit_one(code, sizeof code) == 0);
    CHECK_INT(harness_wait_count(&H, ROWS_OF, code, 1, 10000), 1);
    CHECK_INT(harness_stop_daemon(p, SIGTERM), 0);
    CHECK_INT(portal_requests(&P), before);
    CHECK_INT(harness_count(&H, ACKED_OF, code), 0);
    CHECK_INT(harness_run("grep -q 'event=started portal=off' %s/portal-off.log", H.dir), 0);
    /* turned on: what waited goes out */
    p = harness_start_daemon(&H, "portal", NULL, "portal-off.log");
    REQUIRE(p > 0);
    exactly_once_in_order(code, 1);
    CHECK_INT(harness_stop_daemon(p, SIGTERM), 0);
}

int main(void)
{
    if (harness_setup(&H, "portal", 2) != 0 || harness_start_intake(&H) != 0 ||
        portal_start(&P) != 0 ||
        harness_run("umask 077 && printf '%s\\n' > %s/portal-token", TOKEN, H.dir) != 0 ||
        harness_config_append(&H, "portal:\n  url: \"http://127.0.0.1:%d/api/v1/events\"\n"
                                  "  token_file: \"%s/portal-token\"\n  poll_ms: 100\n"
                                  "  retry_initial_ms: 200\n  retry_max_ms: 800\n  batch: 4\n"
                                  "  send_lease_ms: 3000\n", P.port, H.dir) != 0) {
        printf("it_portal: setup failed\n");
        harness_teardown(&H);
        printf("it_portal: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(every_event_is_pushed_once_in_order_with_its_state);
    mc_test_run(a_portal_outage_is_retried_in_order_and_acknowledged_once);
    mc_test_run(a_pusher_killed_mid_push_resends_the_same_event_id);
    mc_test_run(portal_role_reads_only_its_outbox);
    mc_test_run(bad_url_and_readable_token_are_config_errors);
    mc_test_run(without_a_url_it_only_waits_and_the_outbox_keeps_the_events);
    portal_stop(&P);
    harness_teardown(&H);
    return mc_test_done("it_portal");
}
