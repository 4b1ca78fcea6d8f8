/*
 * it_notify - motcua-notify against a real PostgreSQL, a real motcua-intake
 * and a fake SMS gateway (an HTTP server thread in this program).
 *
 * One cluster and one intake for the program. Notify instances are started
 * and stopped per test; notifications of kinds other than "received" are
 * inserted with SQL, as the pipeline daemons will (they are built
 * elsewhere). The checks: every message is sent exactly once (across
 * restarts and with two instances at once), a failing gateway is retried
 * with a doubling backoff and the applicant gets the SMS once, the rendered
 * Vietnamese carries the code and dates, and no personal data is logged.
 * The faults of issue 8: PostgreSQL stopped while notify waits on a slow
 * gateway, notify killed (SIGKILL) with a send in flight, PostgreSQL down
 * when notify starts. The fake gateway can hold a request until the test
 * lets it answer, and records each request's "ref" and Idempotency-Key, so
 * the tests see what a deduplicating gateway would.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "mc_states.h"
#include "harness.h"
#include "http_fake.h"
#include "mc_calendar.h"
#include "mc_test.h"

static harness_t H;      /* the shared cluster and intake */
static int       n_sent; /* dossiers submitted so far (each queues one notice) */

/* --- fake SMS gateway ----------------------------------------------------- */

#define GW_MAX 128

typedef struct gateway {
    http_fake_t    *http;       /* the server (http_fake.c): its thread calls gw_serve_one */
    int             port;       /* where it listens */
    atomic_bool     stop;       /* stopping: a held request is let go */
    int             fail_first; /* answer 500 to this many requests */
    pthread_mutex_t lock;
    pthread_cond_t  changed;          /* hold or holding changed */
    bool            hold;             /* keep the next request unanswered until released */
    bool            holding;          /* a request is being held now */
    int             requests;         /* requests seen */
    int             ok;               /* answered 200 */
    char            body[GW_MAX][1024]; /* request bodies */
    char            auth[GW_MAX][128];  /* Authorization headers */
    char            idem[GW_MAX][64];   /* Idempotency-Key headers */
    char            ref[GW_MAX][64];    /* the body's "ref" */
} gateway_t;

/* json_ref - the "ref" string of a request body (no escapes expected), or "" */
static void json_ref(const char *body, char *out, size_t size)
{
    out[0] = '\0';
    const char *r = strstr(body, "\"ref\":\"");
    if (r)
        snprintf(out, size, "%.*s", (int)strcspn(r + 7, "\""), r + 7);
}

/* gw_wait_a_little - with g->lock held: wait for a change, at most 50 ms */
static void gw_wait_a_little(gateway_t *g)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&g->changed, &g->lock, &ts);
}

/* gw_hold_here - with g->lock held: if holding is on, wait until released or stopped */
static void gw_hold_here(gateway_t *g)
{
    if (!g->hold)
        return;
    g->holding = true;
    pthread_cond_broadcast(&g->changed);
    while (g->hold && !atomic_load(&g->stop)) {
        gw_wait_a_little(g);
    }
    g->holding = false;
}

/* gw_serve_one - one request (http_fake handler): record it, answer it (or hold it first) */
static void gw_serve_one(void *ctx, int c, const char *head, char *body, size_t body_len)
{
    gateway_t *g = ctx;
    (void)body_len;
    pthread_mutex_lock(&g->lock);
    int i = g->requests++;
    bool fail = i < g->fail_first;
    if (i < GW_MAX) {
        snprintf(g->body[i], sizeof g->body[i], "%s", body);
        http_fake_header(head, "Authorization", g->auth[i], sizeof g->auth[i]);
        http_fake_header(head, "Idempotency-Key", g->idem[i], sizeof g->idem[i]);
        json_ref(g->body[i], g->ref[i], sizeof g->ref[i]);
    }
    gw_hold_here(g);
    if (!fail)
        g->ok++;
    pthread_mutex_unlock(&g->lock);
    (void)http_fake_answer(c, fail ? 500 : 200, "text/plain", fail ? "error" : "ok");
}

/* gw_start - listen on 127.0.0.1, a port the kernel picks */
static int gw_start(gateway_t *g, int fail_first)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->changed, NULL);
    g->fail_first = fail_first;
    g->http = http_fake_start(0, gw_serve_one, g);
    if (!g->http)
        return -1;
    g->port = http_fake_port(g->http);
    return 0;
}

/* gw_stop - let a held request go, stop the server */
static void gw_stop(gateway_t *g)
{
    atomic_store(&g->stop, true);
    http_fake_stop(&g->http);
    pthread_cond_destroy(&g->changed);
    pthread_mutex_destroy(&g->lock);
}

/* gw_set_hold - hold every request from now on (true), or answer them and the held one (false) */
static void gw_set_hold(gateway_t *g, bool hold)
{
    pthread_mutex_lock(&g->lock);
    g->hold = hold;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
}

/* gw_wait_holding - wait up to ms for a request to be held; true if one is */
static bool gw_wait_holding(gateway_t *g, int ms)
{
    int64_t until = harness_now_ms() + ms;
    pthread_mutex_lock(&g->lock);
    while (!g->holding && harness_now_ms() < until) {
        gw_wait_a_little(g);
    }
    bool holding = g->holding;
    pthread_mutex_unlock(&g->lock);
    return holding;
}

/* gw_counts - requests and 200s so far */
static void gw_counts(gateway_t *g, int *requests, int *ok)
{
    pthread_mutex_lock(&g->lock);
    *requests = g->requests;
    *ok = g->ok;
    pthread_mutex_unlock(&g->lock);
}

/* gw_setup - start a gateway (gw_start) and write path: a copy of the test
 * config with the gateway, a token file and extra (more notify keys, "" for none) */
static int gw_setup(gateway_t *g, int fail_first, const char *extra, char *path, size_t size)
{
    if (gw_start(g, fail_first) != 0)
        return -1;
    char token[600], to[1600];
    snprintf(token, sizeof token, "%s/sms.token", H.dir);
    FILE *f = fopen(token, "w");
    if (!f)
        return -1;
    fputs("test-token-123\n", f);
    fclose(f);
    if (chmod(token, 0600) != 0) /* notify refuses a secret others can read */
        return -1;
    snprintf(path, size, "%s/motcua-sms-%d.yaml", H.dir, g->port);
    snprintf(to, sizeof to, "sms_url: \"http://127.0.0.1:%d/sms\"\n  sms_token_file: \"%s\"%s",
             g->port, token, extra);
    return harness_config_copy(&H, path, "sms_url: \"\"", to);
}

/* --- fake SMTP server: one session at a time, no TLS offered ------------- */

typedef struct smtp_fake {
    int             fd, port;
    pthread_t       thread;
    atomic_bool     stop;
    pthread_mutex_t lock;
    int             messages;     /* messages accepted */
    char            rcpt[256];    /* last RCPT TO argument */
    char            data[16384];  /* last DATA content */
} smtp_fake_t;

/* smtp_line - read one CRLF line (bounded); -1 on EOF or timeout */
static int smtp_line(int c, char *line, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        struct pollfd p = {c, POLLIN, 0};
        if (poll(&p, 1, 3000) != 1 || recv(c, line + n, 1, 0) != 1)
            return -1;
        if (line[n++] == '\n')
            break;
    }
    line[n] = '\0';
    return 0;
}

/* smtp_say - send a reply line */
static void smtp_say(int c, const char *text)
{
    ssize_t w = send(c, text, strlen(text), MSG_NOSIGNAL);
    (void)w;
}

/* smtp_session - the happy path of RFC 5321 */
static void smtp_session(smtp_fake_t *s, int c)
{
    char line[2048];
    smtp_say(c, "220 fake ESMTP\r\n");
    while (smtp_line(c, line, sizeof line) == 0) {
        if (strncmp(line, "EHLO", 4) == 0) {
            smtp_say(c, "250-fake\r\n250 8BITMIME\r\n");
        } else if (strncmp(line, "RCPT TO:", 8) == 0) {
            pthread_mutex_lock(&s->lock);
            snprintf(s->rcpt, sizeof s->rcpt, "%.*s", (int)strcspn(line + 8, "\r\n"), line + 8);
            pthread_mutex_unlock(&s->lock);
            smtp_say(c, "250 OK\r\n");
        } else if (strncmp(line, "DATA", 4) == 0) {
            smtp_say(c, "354 go on\r\n");
            char data[16384];
            size_t n = 0;
            while (smtp_line(c, line, sizeof line) == 0 && strcmp(line, ".\r\n") != 0) {
                size_t l = strlen(line);
                if (n + l < sizeof data) {
                    memcpy(data + n, line, l);
                    n += l;
                }
            }
            data[n] = '\0';
            pthread_mutex_lock(&s->lock);
            memcpy(s->data, data, n + 1);
            s->messages++;
            pthread_mutex_unlock(&s->lock);
            smtp_say(c, "250 queued\r\n");
        } else if (strncmp(line, "QUIT", 4) == 0) {
            smtp_say(c, "221 bye\r\n");
            break;
        } else {
            smtp_say(c, "250 OK\r\n");
        }
    }
    close(c);
}

/* smtp_main - accept until told to stop */
static void *smtp_main(void *arg)
{
    smtp_fake_t *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) != 1)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c >= 0)
            smtp_session(s, c);
    }
    return NULL;
}

/* smtp_start - listen on 127.0.0.1, a port the kernel picks */
static int smtp_start(smtp_fake_t *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(s->fd, 16) != 0 || getsockname(s->fd, (struct sockaddr *)&sa, &sl) != 0)
        return -1;
    s->port = ntohs(sa.sin_port);
    return pthread_create(&s->thread, NULL, smtp_main, s) == 0 ? 0 : -1;
}

/* smtp_stop - stop the thread, close */
static void smtp_stop(smtp_fake_t *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->lock);
}

/* b64_decode - standard base64 (whitespace skipped) into out; bytes written */
static size_t b64_decode(const char *in, size_t len, char *out, size_t size)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned v = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len && in[i] != '='; i++) {
        const char *p = strchr(a, in[i]);
        if (!p || !in[i])
            continue;
        v = (v << 6) | (unsigned)(p - a);
        bits += 6;
        if (bits >= 8 && n + 1 < size) {
            bits -= 8;
            out[n++] = (char)((v >> bits) & 0xff);
        }
    }
    out[n] = '\0';
    return n;
}

/* --- helpers -------------------------------------------------------------- */

/* submit_one - a new dossier through intake; its code into code */
static int submit_one(char *code, size_t size)
{
    harness_dossier_t d;
    char id[64];
    snprintf(id, sizeof id, "it-notify-%04d", ++n_sent);
    harness_dossier_init(&d, id);
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request(&H, &d.request, 10000, &r) != 0)
        return -1;
    int ok = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    if (ok && code)
        snprintf(code, size, "%s", r->receipt->dossier_code);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* spool_files - *.txt files in the spool (hidden temporaries excluded) */
static int spool_files(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/spool", H.dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && strstr(e->d_name, ".txt"))
            n++;
    closedir(d);
    return n;
}

/* read_spool - the spool file of a notification id, malloc'd; NULL if none */
static char *read_spool(long id)
{
    char path[600];
    snprintf(path, sizeof path, "%s/spool/%ld.txt", H.dir, id);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = calloc(1, 65536);
    size_t n = text ? fread(text, 1, 65535, f) : 0;
    (void)n;
    fclose(f);
    return text;
}

/* notice_id - the id of a dossier's "received" notification; -1 if none */
static long notice_id(const char *code)
{
    return harness_count(&H, "SELECT n.id FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                             " WHERE d.code = $1 AND n.kind = 'received'", code);
}

/* count_for - harness_count of sql with $1 = the notification id */
static long count_for(const char *sql, long id)
{
    char text[24];
    snprintf(text, sizeof text, "%ld", id);
    return harness_count(&H, sql, text);
}

/* wait_log - poll (bounded) until DIR/log has a line with text; 0 once it has */
static int wait_log(const char *log, const char *text, int ms)
{
    int64_t until = harness_now_ms() + ms;
    do {
        if (harness_run("grep -q -F '%s' %s/%s", text, H.dir, log) == 0)
            return 0;
        usleep(50000);
    } while (harness_now_ms() < until);
    return -1;
}

static const char *const SENT_ALL = "SELECT count(*) FROM notification WHERE state = " MC_SQL(MC_NOTIFICATION_SENT);
static const char *const SENT_ID = "SELECT count(*) FROM notification WHERE id = $1::bigint AND state = " MC_SQL(MC_NOTIFICATION_SENT);
static const char *const ATTEMPTS_OF = "SELECT attempts FROM notification WHERE id = $1::bigint";
/* attempt rows of notification $1 by channel and state (migration 0007) */
static const char *const SMS_OK = "SELECT count(*) FROM notification_attempt"
                                  " WHERE notification_id = $1::bigint AND channel = 'sms' AND ok";
static const char *const SMS_ALL = "SELECT count(*) FROM notification_attempt"
                                   " WHERE notification_id = $1::bigint AND channel = 'sms'";
/* channels in flight: named by the claim in notification.sending (0021), no attempt row yet */
static const char *const IN_PROGRESS = "SELECT coalesce(array_length(string_to_array(sending, ','), 1), 0)"
                                       " FROM notification WHERE id = $1::bigint";
static const char *const LOST = "SELECT count(*) FROM notification_attempt"
                                " WHERE notification_id = $1::bigint AND ok IS NULL AND finished_at IS NOT NULL";

/* --- tests ---------------------------------------------------------------- */

MC_TEST(each_dossier_gets_one_received_file_across_restart)
{
    pid_t a = harness_start_daemon(&H, "notify", NULL, "notify-a.log");
    REQUIRE(a > 0);
    char code[64];
    for (int i = 0; i < 3; i++)
        CHECK(submit_one(code, sizeof code) == 0);
    CHECK_INT(harness_wait_count(&H, SENT_ALL, NULL, 3, 15000), 3);
    CHECK_INT(spool_files(), 3);
    CHECK_INT(harness_stop_daemon(a, SIGTERM), 0);

    /* queued while notify is down, sent after the restart; nothing twice */
    for (int i = 0; i < 2; i++)
        CHECK(submit_one(code, sizeof code) == 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification WHERE state = " MC_SQL(MC_NOTIFICATION_PENDING), NULL), 2);
    a = harness_start_daemon(&H, "notify", NULL, "notify-a.log");
    REQUIRE(a > 0);
    CHECK_INT(harness_wait_count(&H, SENT_ALL, NULL, 5, 15000), 5);
    CHECK_INT(harness_stop_daemon(a, SIGTERM), 0);
    CHECK_INT(spool_files(), 5);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification WHERE kind = 'received'"
                                " AND channel = 'spool' AND attempts = 1 AND sent_at IS NOT NULL", NULL), 5);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification_attempt WHERE channel = 'spool' AND ok", NULL), 5);
    /* the file is named by the notification id and says what it is */
    long id = notice_id(code);
    char *text = read_spool(id);
    REQUIRE(text);
    CHECK(strstr(text, "Kind: received\n"));
    CHECK(strstr(text, code));
    CHECK(strstr(text, "Phone: 0912345678\n"));
    CHECK(strstr(text, "To: minh.tran@example.vn\n"));
    CHECK(strstr(text, "Đã tiếp nhận hồ sơ"));
    CHECK(strstr(text, "Kính gửi Trần Văn Minh"));
    free(text);
}

MC_TEST(two_instances_never_send_one_message_twice)
{
    gateway_t g;
    char config[700];
    /* small batches, so that neither instance takes the whole backlog at once */
    REQUIRE(gw_setup(&g, 0, "\n  batch: 2", config, sizeof config) == 0);
    long before = harness_count(&H, SENT_ALL, NULL);
    /* queue first, so both instances start with the same backlog */
    char code[64];
    enum { N = 24 };
    for (int i = 0; i < N; i++)
        CHECK(submit_one(code, sizeof code) == 0);
    pid_t b = harness_start_daemon(&H, "notify", config, "notify-b.log");
    pid_t c = harness_start_daemon(&H, "notify", config, "notify-c.log");
    CHECK(b > 0 && c > 0);
    CHECK_INT(harness_wait_count(&H, SENT_ALL, NULL, before + N, 20000), before + N);
    /* once both have exited nothing more can be sent: the counts below are final */
    CHECK_INT(harness_stop_daemon(b, SIGTERM), 0);
    CHECK_INT(harness_stop_daemon(c, SIGTERM), 0);
    int requests = 0, ok = 0;
    gw_counts(&g, &requests, &ok);
    CHECK_INT(requests, N);
    CHECK_INT(ok, N);
    CHECK_INT(spool_files(), before + N);
    /* one successful try per channel per notification, none failed */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM (SELECT notification_id, channel FROM notification_attempt"
                                " GROUP BY 1, 2 HAVING count(*) > 1) dup", NULL), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification WHERE channel = 'spool,sms'", NULL), N);
    /* both instances did work (not a proof of concurrency, but a sign of it): a
     * notice sent is a debug line, counted in the summary (one at the stop) */
    CHECK_INT(harness_run("grep -qE 'event=summary .* sent=[1-9]' %s/notify-b.log", H.dir), 0);
    CHECK_INT(harness_run("grep -qE 'event=summary .* sent=[1-9]' %s/notify-c.log", H.dir), 0);
    gw_stop(&g);
}

MC_TEST(failing_gateway_is_retried_with_backoff_and_sms_goes_once)
{
    gateway_t g;
    char config[700];
    REQUIRE(gw_setup(&g, 2, "", config, sizeof config) == 0);
    pid_t d = harness_start_daemon(&H, "notify", config, "notify-d.log");
    REQUIRE(d > 0);
    char code[64];
    REQUIRE(submit_one(code, sizeof code) == 0);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                         " WHERE d.code = $1 AND n.state = " MC_SQL(MC_NOTIFICATION_SENT), code, 1, 15000), 1);
    CHECK_INT(harness_stop_daemon(d, SIGTERM), 0);
    int requests = 0, ok = 0;
    gw_counts(&g, &requests, &ok);
    CHECK_INT(requests, 3);
    CHECK_INT(ok, 1);
    /* what the gateway got: the token, the phone and the code */
    CHECK_STR(g.auth[2], "Bearer test-token-123");
    CHECK(strstr(g.body[2], "\"to\":\"0912345678\""));
    CHECK(strstr(g.body[2], code));
    CHECK(strstr(g.body[2], "đã tiếp nhận hồ sơ"));
    /* every try carries the same reference, in the body and as the header */
    char ref[64];
    snprintf(ref, sizeof ref, "motcua-%ld", notice_id(code));
    for (int i = 0; i < 3; i++) {
        CHECK_STR(g.ref[i], ref);
        CHECK_STR(g.idem[i], ref);
    }
    /* the record: two failed SMS tries, then one good; the spool only once */
    const char *per = "SELECT count(*) FROM notification_attempt a JOIN notification n ON n.id = a.notification_id"
                      " JOIN dossier d ON d.id = n.dossier_id WHERE d.code = $1";
    char sql[512];
    snprintf(sql, sizeof sql, "%s AND a.channel = 'sms' AND NOT a.ok AND a.error = 'sms: http 500'", per);
    CHECK_INT(harness_count(&H, sql, code), 2);
    snprintf(sql, sizeof sql, "%s AND a.channel = 'sms' AND a.ok", per);
    CHECK_INT(harness_count(&H, sql, code), 1);
    snprintf(sql, sizeof sql, "%s AND a.channel = 'spool'", per);
    CHECK_INT(harness_count(&H, sql, code), 1);
    CHECK_INT(harness_count(&H, "SELECT n.attempts FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                                " WHERE d.code = $1", code), 3);
    /* backoff doubles: 200 ms, then 400 ms (config retry_initial_ms 200) */
    PGresult *res = PQexecParams(harness_db(&H),
        "SELECT (extract(epoch FROM a.at) * 1000)::bigint FROM notification_attempt a"
        " JOIN notification n ON n.id = a.notification_id JOIN dossier d ON d.id = n.dossier_id"
        " WHERE d.code = $1 AND a.channel = 'sms' ORDER BY a.id", 1, NULL, (const char *[]){code},
        NULL, NULL, 0);
    REQUIRE(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 3);
    long t0 = atol(PQgetvalue(res, 0, 0)), t1 = atol(PQgetvalue(res, 1, 0)),
         t2 = atol(PQgetvalue(res, 2, 0));
    PQclear(res);
    CHECK(t1 - t0 >= 190);
    CHECK(t2 - t1 >= 390);
    gw_stop(&g);
}

/* attempts_since - attempt rows after attempt id since that meet cond (SQL, no parameters) */
static long attempts_since(const char *since, const char *cond)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM notification_attempt WHERE id > $1::bigint AND %s",
             cond);
    return harness_count(&H, sql, since);
}

MC_TEST(a_batch_due_together_goes_once_each_and_one_failure_holds_back_none)
{
    gateway_t g;
    char config[700];
    /* the gateway refuses the first SMS, whichever of the batch it is */
    REQUIRE(gw_setup(&g, 1, "", config, sizeof config) == 0);
    long before = harness_count(&H, SENT_ALL, NULL);
    int files = spool_files();
    long first_attempt = harness_count(&H, "SELECT coalesce(max(id), 0) FROM notification_attempt", NULL);
    /* all queued while notify is down: due together, one claim takes them */
    enum { N = 40 };
    char code[64];
    for (int i = 0; i < N; i++)
        CHECK(submit_one(code, sizeof code) == 0);
    pid_t d = harness_start_daemon(&H, "notify", config, "notify-batch.log");
    REQUIRE(d > 0);
    CHECK_INT(harness_wait_count(&H, SENT_ALL, NULL, before + N, 20000), before + N);
    CHECK_INT(harness_stop_daemon(d, SIGTERM), 0);
    /* every notice once: one file each, one successful try per channel each */
    CHECK_INT(spool_files(), files + N);
    char since[32];
    snprintf(since, sizeof since, "%ld", first_attempt);
    CHECK_INT(attempts_since(since, "channel = 'spool' AND ok"), N);
    CHECK_INT(attempts_since(since, "channel = 'sms' AND ok"), N);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM (SELECT notification_id, channel"
                                " FROM notification_attempt WHERE id > $1::bigint AND ok"
                                " GROUP BY 1, 2 HAVING count(*) > 1) dup", since), 0);
    int requests = 0, ok = 0;
    gw_counts(&g, &requests, &ok);
    CHECK_INT(requests, N + 1);
    CHECK_INT(ok, N);
    /* the failure held back only its own notice: the others went on their
     * first attempt, and its spool file was not written twice */
    CHECK_INT(attempts_since(since, "channel = 'sms' AND NOT ok"), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n WHERE n.attempts = 2 AND n.id IN"
                                " (SELECT notification_id FROM notification_attempt WHERE id > $1::bigint)",
                            since), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n WHERE n.attempts = 1 AND n.id IN"
                                " (SELECT notification_id FROM notification_attempt WHERE id > $1::bigint)",
                            since), N - 1);
    /* one claim started them all: their first attempts share its transaction's now() */
    CHECK_INT(harness_count(&H, "SELECT count(DISTINCT at) FROM notification_attempt"
                                " WHERE id > $1::bigint AND channel = 'spool'", since), 1);
    gw_stop(&g);
}

/* insert_notice - a notification of another kind, as a pipeline daemon would queue it */
static long insert_notice(const char *code, const char *kind, const char *data_sql)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO notification (dossier_id, kind, dedupe_key, data)"
             " SELECT id, '%s', code || '/%s', %s FROM dossier WHERE code = $1 RETURNING id",
             kind, kind, data_sql);
    return harness_count(&H, sql, code);
}

MC_TEST(other_kinds_render_vietnamese_with_code_and_dates)
{
    char code[64];
    REQUIRE(submit_one(code, sizeof code) == 0);
    long due = harness_count(&H, "SELECT extract(epoch FROM due_at)::bigint FROM dossier WHERE code = $1", code);
    REQUIRE(due > 0);
    long new_due = due + 5 * 86400;
    char new_due_sql[256];
    snprintf(new_due_sql, sizeof new_due_sql,
             "jsonb_build_object('reason', 'Cần xác minh thêm với cơ quan công an', 'new_due', %ld)", new_due);
    long late = insert_notice(code, "late", new_due_sql);
    long supp = insert_notice(code, "supplement_requested",
                              "'{\"missing\": [\"Giấy chứng sinh (bản chính)\", \"Giấy xác nhận nơi cư trú\"]}'::jsonb");
    long ready = insert_notice(code, "result_ready", "'{}'::jsonb");
    long refused = insert_notice(code, "refused", "'{\"reason\": \"Không thuộc thẩm quyền giải quyết\"}'::jsonb");
    long withdrawn = insert_notice(code, "withdrawn", "'{}'::jsonb");
    char apology_sql[256];
    snprintf(apology_sql, sizeof apology_sql,
             "jsonb_build_object('reason', 'Chờ kết quả xác minh', 'old_due', %ld, 'new_due', %ld)",
             due, new_due);
    long apology = insert_notice(code, "apology", apology_sql);
    REQUIRE(late > 0 && supp > 0 && ready > 0 && refused > 0 && withdrawn > 0 && apology > 0);
    pid_t e = harness_start_daemon(&H, "notify", NULL, "notify-e.log");
    REQUIRE(e > 0);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                         " WHERE d.code = $1 AND n.state = " MC_SQL(MC_NOTIFICATION_SENT), code, 7, 15000), 7);
    CHECK_INT(harness_stop_daemon(e, SIGTERM), 0);

    char due_text[32], new_due_text[32];
    mc_date_t dd = mc_date_of(due, NULL), nd = mc_date_of(new_due, NULL);
    snprintf(due_text, sizeof due_text, "%02d/%02d/%04d", dd.day, dd.month, dd.year);
    snprintf(new_due_text, sizeof new_due_text, "%02d/%02d/%04d", nd.day, nd.month, nd.year);

    char *t = read_spool(late);
    REQUIRE(t);
    CHECK(strstr(t, "Kind: late\n"));
    CHECK(strstr(t, code));
    CHECK(strstr(t, due_text));
    CHECK(strstr(t, "Subject: Thông báo hồ sơ"));
    CHECK(strstr(t, "Tình trạng: Cần xác minh thêm với cơ quan công an"));
    CHECK(strstr(t, "thành thật xin lỗi"));
    free(t);

    /* the apology (Mẫu 04): the reason, the old and the new appointment */
    t = read_spool(apology);
    REQUIRE(t);
    CHECK(strstr(t, "Kind: apology\n"));
    CHECK(strstr(t, "VĂN BẢN XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ (Mẫu số 04)"));
    CHECK(strstr(t, "Lý do: Chờ kết quả xác minh"));
    CHECK(strstr(t, due_text));
    CHECK(strstr(t, new_due_text));
    CHECK(strstr(t, "Thủ tục") || strstr(t, "khai sinh"));
    free(t);

    t = read_spool(supp);
    REQUIRE(t);
    CHECK(strstr(t, code));
    CHECK(strstr(t, "Giấy chứng sinh (bản chính); Giấy xác nhận nơi cư trú"));
    CHECK(strstr(t, "bổ sung"));
    free(t);

    /* the rating link: notify.rating_url's default, the code and the dossier's token */
    char link[256];
    PGresult *tok = PQexecParams(harness_db(&H), "SELECT rating_token::text FROM dossier WHERE code = $1",
                                 1, NULL, (const char *[]){code}, NULL, NULL, 0);
    REQUIRE(PQresultStatus(tok) == PGRES_TUPLES_OK && PQntuples(tok) == 1);
    snprintf(link, sizeof link, "https://dichvucong.example.vn/danh-gia?ma=%s&t=%s", code,
             PQgetvalue(tok, 0, 0));
    PQclear(tok);

    t = read_spool(ready);
    REQUIRE(t);
    CHECK(strstr(t, code));
    CHECK(strstr(t, due_text));
    CHECK(strstr(t, "đã có kết quả"));
    CHECK(strstr(t, "Kim Liên, Hà Nội")); /* where to collect it */
    CHECK(strstr(t, link));
    CHECK(strstr(t, "rất hài lòng"));
    free(t);

    t = read_spool(refused);
    REQUIRE(t);
    CHECK(strstr(t, code));
    CHECK(strstr(t, "Không thuộc thẩm quyền giải quyết"));
    CHECK(strstr(t, link));
    free(t);

    /* the other kinds never carry the token */
    const long others[] = {late, supp, withdrawn};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        t = read_spool(others[i]);
        REQUIRE(t);
        CHECK(!strstr(t, "&t="));
        free(t);
    }

    t = read_spool(withdrawn);
    REQUIRE(t);
    CHECK(strstr(t, code));
    CHECK(strstr(t, "rút hồ sơ"));
    free(t);
}

MC_TEST(email_goes_out_as_mime_utf8)
{
    smtp_fake_t s;
    REQUIRE(smtp_start(&s) == 0);
    char config[700], to[300];
    snprintf(config, sizeof config, "%s/motcua-smtp.yaml", H.dir);
    snprintf(to, sizeof to, "sms_url: \"\"\n  smtp_url: \"smtp://127.0.0.1:%d\"\n"
                            "  smtp_from: \"motcua@kimlien.gov.vn\"", s.port);
    REQUIRE(harness_config_copy(&H, config, "sms_url: \"\"", to) == 0);
    pid_t f = harness_start_daemon(&H, "notify", config, "notify-f.log");
    REQUIRE(f > 0);
    char code[64];
    REQUIRE(submit_one(code, sizeof code) == 0);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                         " WHERE d.code = $1 AND n.state = " MC_SQL(MC_NOTIFICATION_SENT) " AND n.channel = 'spool,email'", code, 1, 15000), 1);
    CHECK_INT(harness_stop_daemon(f, SIGTERM), 0);
    pthread_mutex_lock(&s.lock);
    CHECK_INT(s.messages, 1);
    CHECK_STR(s.rcpt, "<minh.tran@example.vn>");
    CHECK(strstr(s.data, "From: <motcua@kimlien.gov.vn>\r\n"));
    CHECK(strstr(s.data, "To: <minh.tran@example.vn>\r\n"));
    CHECK(strstr(s.data, "MIME-Version: 1.0\r\n"));
    CHECK(strstr(s.data, "Content-Type: text/plain; charset=UTF-8\r\n"));
    CHECK(strstr(s.data, "Content-Transfer-Encoding: base64\r\n"));
    /* the stable id: the same on every resend, so a deduplicating MTA shows one */
    char mid[128];
    snprintf(mid, sizeof mid, "Message-ID: <motcua-%ld@kimlien.gov.vn>\r\n", notice_id(code));
    CHECK(strstr(s.data, mid));
    /* the subject: encoded words, decoded and joined = the rendered text */
    char subject[512] = "";
    const char *p = strstr(s.data, "Subject: ");
    REQUIRE(p);
    const char *end = strstr(p, "\r\nMessage-ID:");
    REQUIRE(end);
    for (const char *w = p; (w = strstr(w, "=?UTF-8?B?")) && w < end;) {
        w += 10;
        const char *q = strstr(w, "?=");
        REQUIRE(q);
        size_t used = strlen(subject);
        b64_decode(w, (size_t)(q - w), subject + used, sizeof subject - used);
        w = q + 2;
    }
    char want[256];
    snprintf(want, sizeof want, "Đã tiếp nhận hồ sơ %s", code);
    CHECK_STR(subject, want);
    /* the body (curl_mime's one part, up to the closing boundary) decodes to the
     * Vietnamese text with CRLF line ends */
    const char *body = strstr(s.data, "Content-Transfer-Encoding: base64\r\n\r\n");
    REQUIRE(body);
    body = strstr(body, "\r\n\r\n") + 4;
    const char *body_end = strstr(body, "\r\n--");
    REQUIRE(body_end);
    char text[8192];
    b64_decode(body, (size_t)(body_end - body), text, sizeof text);
    CHECK(strstr(text, "Kính gửi Trần Văn Minh,\r\n"));
    CHECK(strstr(text, code));
    pthread_mutex_unlock(&s.lock);
    smtp_stop(&s);
}

MC_TEST(no_personal_data_in_notify_logs)
{
    /* every instance of this program logged to notify-*.log */
    CHECK_INT(harness_run("cat %s/notify-*.log | grep -qE 'event=summary .* sent=[1-9]'", H.dir), 0);
    const char *secrets[] = {"0912345678", "minh.tran@example.vn", "Trần Văn Minh", "001085012345",
                             "test-token-123"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        int found = harness_run("cat %s/notify-*.log | grep -q -F '%s'", H.dir, secrets[i]);
        if (found != 1)
            printf("  FAIL personal data or secret in the notify log: item %zu\n", i);
        CHECK_INT(found, 1);
    }
    /* nor in the stored error text */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification_attempt WHERE error LIKE '%0912345678%'"
                                " OR error LIKE '%@%'", NULL), 0);
}

/* sent_once_under - every request the gateway saw carried ref, in the body and as the header */
static void sent_once_under(gateway_t *g, const char *ref, int requests)
{
    int seen = 0, ok = 0;
    gw_counts(g, &seen, &ok);
    CHECK_INT(seen, requests);
    for (int i = 0; i < seen && i < GW_MAX; i++) {
        CHECK_STR(g->ref[i], ref);
        CHECK_STR(g->idem[i], ref);
    }
}

MC_TEST(store_stopped_during_a_slow_send_records_it_once)
{
    /* notify logs in as its own role (the harness's database.login), so
     * pg_stat_activity shows its sessions apart */
    gateway_t g;
    char config[700];
    REQUIRE(gw_setup(&g, 0, "\n  send_lease_ms: 20000", config, sizeof config) == 0);
    gw_set_hold(&g, true);
    pid_t p = harness_start_daemon(&H, "notify", config, "notify-g.log");
    REQUIRE(p > 0);
    char code[64], ref[64];
    REQUIRE(submit_one(code, sizeof code) == 0);
    long id = notice_id(code);
    snprintf(ref, sizeof ref, "motcua-%ld", id);
    REQUIRE(gw_wait_holding(&g, 15000));

    /* the gateway has the request and no answer yet: notify holds no
     * transaction open (the claim committed; the record comes after) */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'motcua-notify'"
                                " AND state <> 'idle'", NULL), 0);
    CHECK(harness_count(&H, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'motcua-notify'"
                            " AND state = 'idle'", NULL) >= 1);
    CHECK_INT(count_for(IN_PROGRESS, id), 2); /* spool and sms: outcome not known yet */
    /* the queues view shows it being sent, by its last channel in flight */
    CHECK_INT(harness_motcua(&H, "queues --json"), 0);
    CHECK_INT(harness_run("grep -q '\"stage\":\"notification\",\"holder\":\"sms\",\"state\":\"sending\"'"
                          " %s/motcua.out", H.dir), 0);

    /* PostgreSQL goes away while the send is in flight, then the gateway says yes */
    REQUIRE(harness_pg_stop(&H) == 0);
    gw_set_hold(&g, false);
    CHECK_INT(wait_log("notify-g.log", "event=outcome_unrecorded", 15000), 0);
    CHECK(kill(p, 0) == 0);
    REQUIRE(harness_pg_start(&H) == 0);
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%ld", id);
    CHECK_INT(harness_wait_count(&H, SENT_ID, id_text, 1, 30000), 1);
    CHECK_INT(harness_stop_daemon(p, SIGTERM), 0);

    /* kept and recorded when the store came back: one delivery, one attempt */
    sent_once_under(&g, ref, 1);
    CHECK_INT(count_for(SMS_OK, id), 1);
    CHECK_INT(count_for(SMS_ALL, id), 1);
    CHECK_INT(count_for(IN_PROGRESS, id), 0);
    CHECK_INT(count_for(LOST, id), 0);
    CHECK_INT(count_for(ATTEMPTS_OF, id), 1);
    gw_stop(&g);
}

/* kill_mid_send - start notify (config, log), queue one notice, SIGKILL
 * notify while the gateway holds its SMS; the notice's id, -1 on failure */
static long kill_mid_send(gateway_t *g, const char *config, const char *log)
{
    gw_set_hold(g, true);
    pid_t p = harness_start_daemon(&H, "notify", config, log);
    char code[64];
    if (p <= 0 || submit_one(code, sizeof code) != 0 || !gw_wait_holding(g, 15000)) {
        if (p > 0)
            harness_stop_daemon(p, SIGKILL);
        return -1;
    }
    int killed = harness_stop_daemon(p, SIGKILL);
    gw_set_hold(g, false);
    long id = notice_id(code);
    /* the store knows the send started and not how it ended */
    CHECK_INT(killed, 128 + SIGKILL);
    CHECK_INT(count_for(IN_PROGRESS, id), 2);
    CHECK_INT(count_for(SENT_ID, id), 0);
    return id;
}

MC_TEST(notify_killed_mid_send_resends_under_the_same_ref)
{
    gateway_t g;
    char config[700];
    REQUIRE(gw_setup(&g, 0, "\n  send_lease_ms: 8000", config, sizeof config) == 0);
    long id = kill_mid_send(&g, config, "notify-h.log");
    REQUIRE(id > 0);
    char ref[64], id_text[24];
    snprintf(ref, sizeof ref, "motcua-%ld", id);
    snprintf(id_text, sizeof id_text, "%ld", id);

    /* a new instance takes it once the lease has run out and sends it again */
    pid_t p = harness_start_daemon(&H, "notify", config, "notify-h.log");
    REQUIRE(p > 0);
    CHECK_INT(harness_wait_count(&H, SENT_ID, id_text, 1, 30000), 1);
    CHECK_INT(harness_stop_daemon(p, SIGTERM), 0);
    sent_once_under(&g, ref, 2);
    CHECK_INT(count_for(SMS_OK, id), 1);
    CHECK_INT(count_for(SMS_ALL, id), 2);
    CHECK_INT(count_for(LOST, id), 2); /* spool and sms of the killed attempt */
    CHECK_INT(count_for(IN_PROGRESS, id), 0);
    CHECK_INT(count_for(ATTEMPTS_OF, id), 2); /* the lost attempt counts */
    CHECK_INT(wait_log("notify-h.log", "event=notification_resend", 0), 0);
    char *text = read_spool(id); /* one file, rewritten in place */
    CHECK(text != NULL);
    free(text);
    gw_stop(&g);
}

MC_TEST(lost_last_attempt_counts_and_fails_for_good)
{
    gateway_t g;
    char config[700];
    REQUIRE(gw_setup(&g, 0, "\n  send_lease_ms: 6000", config, sizeof config) == 0);
    REQUIRE(harness_run("sed -i 's/max_attempts: 10/max_attempts: 1/' %s", config) == 0);
    long id = kill_mid_send(&g, config, "notify-j.log");
    REQUIRE(id > 0);
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%ld", id);
    pid_t p = harness_start_daemon(&H, "notify", config, "notify-j.log");
    REQUIRE(p > 0);
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM notification WHERE id = $1::bigint AND state = " MC_SQL(MC_NOTIFICATION_FAILED),
                                 id_text, 1, 30000), 1);
    CHECK_INT(harness_stop_daemon(p, SIGTERM), 0);
    /* the one allowed attempt was the lost one: not sent again */
    int requests = 0, ok = 0;
    gw_counts(&g, &requests, &ok);
    CHECK_INT(requests, 1);
    CHECK_INT(count_for(LOST, id), 2);
    CHECK_INT(count_for(ATTEMPTS_OF, id), 1);
    CHECK_INT(count_for("SELECT count(*) FROM notification WHERE id = $1::bigint"
                        " AND last_error LIKE 'the last attempt was lost%'", id), 1);
    gw_stop(&g);
}

MC_TEST(store_down_at_start_is_waited_for)
{
    char code[64], id_text[24];
    REQUIRE(submit_one(code, sizeof code) == 0);
    snprintf(id_text, sizeof id_text, "%ld", notice_id(code));
    REQUIRE(harness_pg_stop(&H) == 0);
    pid_t p = harness_start_daemon(&H, "notify", NULL, "notify-i.log");
    CHECK(p > 0);
    CHECK_INT(wait_log("notify-i.log", "event=store_unavailable", 15000), 0);
    CHECK(p > 0 && kill(p, 0) == 0);
    REQUIRE(harness_pg_start(&H) == 0);
    CHECK_INT(harness_wait_count(&H, SENT_ID, id_text, 1, 30000), 1);
    if (p > 0)
        CHECK_INT(harness_stop_daemon(p, SIGTERM), 0);
}

MC_TEST(received_notice_gives_the_secret_once)
{
    char code[64], secret[64] = "";
    REQUIRE(submit_one(code, sizeof code) == 0);
    PGresult *res = PQexecParams(harness_db(&H), "SELECT rating_token::text FROM dossier WHERE code = $1",
                                 1, NULL, (const char *const[]){code}, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        snprintf(secret, sizeof secret, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    REQUIRE(strlen(secret) == 36);
    pid_t a = harness_start_daemon(&H, "notify", NULL, "notify-secret.log");
    REQUIRE(a > 0);
    char id[32];
    snprintf(id, sizeof id, "%ld", notice_id(code));
    CHECK_INT(harness_wait_count(&H, SENT_ID, id, 1, 15000), 1);
    CHECK_INT(harness_stop_daemon(a, SIGTERM), 0);
    /* the applicant who filed online reads it in the received notice ... */
    char *text = read_spool(atol(id));
    REQUIRE(text);
    CHECK(strstr(text, "Kind: received\n"));
    CHECK(strstr(text, secret) != NULL);
    free(text);
    /* ... and no log line carries it */
    CHECK_INT(harness_run("cat %s/notify-*.log %s/intake.log | grep -q -F '%s'", H.dir, H.dir, secret), 1);
    /* only the received notice may hold it: anywhere else the loader refuses */
    char bad[600], config[700], to[700], from[700];
    snprintf(bad, sizeof bad, "%s/secret-notifications.yaml", H.dir);
    CHECK_INT(harness_run("sed 's/^\\(  sms: .*rút hồ sơ {code}\\)/\\1 {secret}/'"
                          " %s/config/notifications.yaml > %s", H.repo, bad), 0);
    CHECK_INT(harness_run("grep -q 'rút hồ sơ {code} {secret}' %s", bad), 0);
    snprintf(config, sizeof config, "%s/motcua-secret.yaml", H.dir);
    snprintf(to, sizeof to, "notifications: %s\n", bad);
    snprintf(from, sizeof from, "notifications: %s/config/notifications.yaml\n", H.repo);
    REQUIRE(harness_config_copy(&H, config, from, to) == 0);
    CHECK_INT(harness_run("%s/bin/motcua-notify -c %s --check > %s/check-secret.out 2>&1", H.build,
                          config, H.dir), 78);
    CHECK_INT(harness_run("grep -q \"placeholder '{secret}' is not available for kind 'withdrawn'\""
                          " %s/check-secret.out", H.dir), 0);
}

MC_TEST(bad_placeholder_is_a_config_error)
{
    char bad[600], config[700], to[700];
    snprintf(bad, sizeof bad, "%s/bad-notifications.yaml", H.dir);
    CHECK_INT(harness_run("sed 's/{due}/{deu}/' %s/config/notifications.yaml > %s", H.repo, bad), 0);
    snprintf(config, sizeof config, "%s/motcua-bad.yaml", H.dir);
    snprintf(to, sizeof to, "notifications: %s\n", bad);
    char from[700];
    snprintf(from, sizeof from, "notifications: %s/config/notifications.yaml\n", H.repo);
    REQUIRE(harness_config_copy(&H, config, from, to) == 0);
    CHECK_INT(harness_run("%s/bin/motcua-notify -c %s --check > %s/check.out 2>&1", H.build, config,
                          H.dir), 78);
    CHECK_INT(harness_run("grep -q \"unknown placeholder '{deu}'\" %s/check.out", H.dir), 0);
    CHECK_INT(harness_run("grep -q 'bad-notifications.yaml:[0-9]*:[0-9]*:' %s/check.out", H.dir), 0);
    CHECK_INT(harness_run("%s/bin/motcua-notify -c %s --check > /dev/null 2>&1", H.build, H.config), 0);
}

MC_TEST(spool_off_sends_sms_only_and_writes_no_file)
{
    /* several notify hosts without shared storage: notify.spool_dir "" */
    gateway_t g;
    char config[700];
    REQUIRE(gw_setup(&g, 0, "", config, sizeof config) == 0);
    REQUIRE(harness_run("sed -i 's|spool_dir: \"[^\"]*\"|spool_dir: \"\"|' %s", config) == 0);
    int files = spool_files();
    pid_t e = harness_start_daemon(&H, "notify", config, "notify-nospool.log");
    REQUIRE(e > 0);
    char code[64];
    REQUIRE(submit_one(code, sizeof code) == 0);
    long id = notice_id(code);
    char text[24];
    snprintf(text, sizeof text, "%ld", id);
    CHECK_INT(harness_wait_count(&H, SENT_ID, text, 1, 15000), 1);
    CHECK_INT(harness_stop_daemon(e, SIGTERM), 0);
    CHECK_INT(spool_files(), files);
    CHECK_INT(count_for(SMS_OK, id), 1);
    CHECK_INT(count_for("SELECT count(*) FROM notification_attempt WHERE notification_id = $1::bigint"
                        " AND channel = 'spool'", id), 0);
    CHECK_INT(count_for("SELECT count(*) FROM notification WHERE id = $1::bigint AND channel = 'sms'",
                        id), 1);
    gw_stop(&g);
}

int main(void)
{
    if (harness_setup(&H, "notify", 2) != 0 || harness_start_intake(&H) != 0) {
        printf("it_notify: setup failed\n");
        harness_teardown(&H);
        printf("it_notify: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(each_dossier_gets_one_received_file_across_restart);
    mc_test_run(two_instances_never_send_one_message_twice);
    mc_test_run(failing_gateway_is_retried_with_backoff_and_sms_goes_once);
    mc_test_run(a_batch_due_together_goes_once_each_and_one_failure_holds_back_none);
    mc_test_run(other_kinds_render_vietnamese_with_code_and_dates);
    mc_test_run(email_goes_out_as_mime_utf8);
    mc_test_run(store_stopped_during_a_slow_send_records_it_once);
    mc_test_run(notify_killed_mid_send_resends_under_the_same_ref);
    mc_test_run(lost_last_attempt_counts_and_fails_for_good);
    mc_test_run(store_down_at_start_is_waited_for);
    mc_test_run(received_notice_gives_the_secret_once);
    mc_test_run(no_personal_data_in_notify_logs);
    mc_test_run(bad_placeholder_is_a_config_error);
    /* last: every test before counts one spool file per notification sent */
    mc_test_run(spool_off_sends_sms_only_and_writes_no_file);
    harness_teardown(&H);
    return mc_test_done("it_notify");
}
