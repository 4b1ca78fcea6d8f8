/*
 * fakeportal - a fake national portal for motcua-portal to push to (see
 * fakeportal.h and docs/portal.md, "A fake portal").
 *
 *   fakeportal --port N --events FILE [--token-file FILE] [--expect FILE]
 *       listen on 127.0.0.1:N (0 = any free port; the log says which),
 *       check and record every POST; on SIGTERM or SIGINT print the
 *       summary (with --expect: compared with the store's list, read then)
 *   fakeportal --summary FILE [--expect FILE]
 *       the same summary from an events file written earlier
 *
 * Exit: 0 when the summary found nothing wrong, 2 when it found a problem
 * (duplicates, disorder, holes, rejected requests, missing or extra
 * events), 1 on bad usage or an unreadable file. The log (stderr, mc_log)
 * has one line per request: dossier code, seq and kind, never more.
 */
#include "fakeportal.h"
#include "http_fake.h"
#include "mc_log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* what the server thread works with */
typedef struct fp_server {
    fp_ledger_t *ledger;   /* everything received */
    FILE        *events;   /* the events file, appended to */
    char         auth[256]; /* "Bearer <token>" expected, "" = any */
} fp_server_t;

/* usage - how to call it; exit 1 */
static int usage(void)
{
    fprintf(stderr, "usage: fakeportal --port N --events FILE [--token-file FILE] [--expect FILE]\n"
                    "       fakeportal --summary FILE [--expect FILE]\n");
    return 1;
}

/* reject - answer 400 with the reason and count it */
static void reject(fp_server_t *s, int fd, const char *reason, const fp_body_t *b)
{
    char answer[160];
    fp_ledger_rejected(s->ledger);
    mc_log(MC_LOG_WARNING, "rejected", "reason=%s code=%s seq=%ld", reason,
           b && b->code[0] ? b->code : "-", b ? b->seq : 0L);
    snprintf(answer, sizeof answer, "{\"ok\": false, \"error\": \"%s\"}", reason);
    (void)http_fake_answer(fd, 400, "application/json", answer);
}

/* serve - one request (http_fake handler): check, record, then answer */
static void serve(void *ctx, int fd, const char *head, char *body, size_t len)
{
    fp_server_t *s = ctx;
    fp_body_t b;
    char type[128], key[160], auth[300];
    if (strncmp(head, "POST ", 5) != 0) {
        fp_ledger_rejected(s->ledger);
        mc_log(MC_LOG_WARNING, "rejected", "reason=method_not_post");
        (void)http_fake_answer(fd, 405, "application/json", "{\"ok\": false}");
        return;
    }
    http_fake_header(head, "Content-Type", type, sizeof type);
    http_fake_header(head, "Idempotency-Key", key, sizeof key);
    http_fake_header(head, "Authorization", auth, sizeof auth);
    const char *why = fp_check_body(body, len, &b);
    if (!why && strncasecmp(type, "application/json", 16) != 0)
        why = "content_type_not_json";
    if (!why && strcmp(key, b.event_id) != 0)
        why = "idempotency_key_not_event_id";
    if (!why && s->auth[0] && strcmp(auth, s->auth) != 0)
        why = "authorization_not_the_token";
    if (why) {
        reject(s, fd, why, &b);
        return;
    }
    fp_outcome_t outcome;
    if (fp_ledger_record(s->ledger, &b, body, len, &outcome) != 0) {
        mc_log(MC_LOG_ERR, "out_of_memory", "code=%s seq=%ld", b.code, b.seq);
        (void)http_fake_answer(fd, 503, "application/json", "{\"ok\": false}");
        return;
    }
    if (outcome == FP_NEW || outcome == FP_EARLY) {
        /* recorded before it is acknowledged, one line each (JSON has no raw newline in a string) */
        for (size_t i = 0; i < len; i++)
            if (body[i] == '\n' || body[i] == '\r')
                body[i] = ' ';
        if (fprintf(s->events, "%s\n", body) < 0 || fflush(s->events) != 0) {
            mc_log(MC_LOG_ERR, "events_file_failed", "error=%d", errno);
            (void)http_fake_answer(fd, 503, "application/json", "{\"ok\": false}");
            return;
        }
    }
    static const char *const names[] = {"event_received", "event_resent", "event_duplicate",
                                        "event_out_of_order"};
    bool bad = outcome == FP_CHANGED || outcome == FP_EARLY;
    mc_log(bad ? MC_LOG_WARNING : MC_LOG_INFO, names[outcome],
           "code=%s seq=%ld kind=%s state=%s", b.code, b.seq, b.kind, b.state);
    /* already processed: 2xx again (docs/portal.md, "The answer") */
    (void)http_fake_answer(fd, 200, "application/json", "{\"ok\": true}");
}

/* replay - feed an events file through the checks, as if it arrived again; -1 if unreadable */
static int replay(fp_ledger_t *l, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        fp_body_t b;
        fp_outcome_t outcome;
        if (n == 0)
            continue;
        if (fp_check_body(line, (size_t)n, &b) != NULL)
            fp_ledger_rejected(l);
        else if (fp_ledger_record(l, &b, line, (size_t)n, &outcome) != 0)
            rc = -1;
    }
    if (ferror(f))
        rc = -1;
    free(line);
    fclose(f);
    return rc;
}

/* read_token - the first line of path as "Bearer <token>" into out; -1 if unreadable */
static int read_token(const char *path, char *out, size_t size)
{
    char token[200] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(token, sizeof token, f))
        token[0] = '\0';
    fclose(f);
    token[strcspn(token, "\r\n")] = '\0';
    if (!token[0])
        return -1;
    snprintf(out, size, "Bearer %s", token);
    return 0;
}

/* finish - the summary on stdout, the exit status */
static int finish(fp_ledger_t *l, const char *expect)
{
    if (expect && fp_ledger_expect(l, expect) != 0) {
        fprintf(stderr, "fakeportal: cannot read the store's list %s\n", expect);
        return 1;
    }
    long problems = fp_ledger_summary(l, stdout);
    fflush(stdout);
    return problems ? 2 : 0;
}

/* serve_until_signal - the server until SIGTERM or SIGINT; the exit status */
static int serve_until_signal(fp_ledger_t *l, int port, const char *events, const char *token,
                              const char *expect)
{
    fp_server_t s = {.ledger = l};
    if (token && read_token(token, s.auth, sizeof s.auth) != 0) {
        fprintf(stderr, "fakeportal: cannot read a token from %s\n", token);
        return 1;
    }
    s.events = fopen(events, "a");
    if (!s.events) {
        fprintf(stderr, "fakeportal: cannot open %s: %s\n", events, strerror(errno));
        return 1;
    }
    /* the signals wait for sigwait() here, never interrupt the server thread */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    http_fake_t *h = http_fake_start(port, serve, &s);
    if (!h) {
        mc_log(MC_LOG_ERR, "start_failed", "port=%d error=%d", port, errno);
        fclose(s.events);
        return 1;
    }
    mc_log(MC_LOG_INFO, "started", "url=http://127.0.0.1:%d/ auth=%s", http_fake_port(h),
           s.auth[0] ? "bearer" : "none");
    int sig = 0;
    sigwait(&stop, &sig);
    http_fake_stop(&h);
    fclose(s.events);
    mc_log(MC_LOG_INFO, "stopped", "signal=%d", sig);
    return finish(l, expect);
}

int main(int argc, char **argv)
{
    const char *events = NULL, *summary = NULL, *token = NULL, *expect = NULL;
    int port = -1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value)
            return usage();
        if (strcmp(arg, "--port") == 0) {
            char *end = NULL;
            long p = strtol(value, &end, 10);
            if (*end != '\0' || p < 0 || p > 65535)
                return usage();
            port = (int)p;
        } else if (strcmp(arg, "--events") == 0) {
            events = value;
        } else if (strcmp(arg, "--summary") == 0) {
            summary = value;
        } else if (strcmp(arg, "--token-file") == 0) {
            token = value;
        } else if (strcmp(arg, "--expect") == 0) {
            expect = value;
        } else {
            return usage();
        }
        i++;
    }
    if (!summary == !events || (events && port < 0) || (summary && (port >= 0 || token)))
        return usage();
    mc_log_init("fakeportal", MC_LOG_INFO);
    fp_ledger_t *l = fp_ledger_new();
    if (!l)
        return 1;
    int rc;
    if (summary) {
        if (replay(l, summary) != 0) {
            fprintf(stderr, "fakeportal: cannot read %s\n", summary);
            rc = 1;
        } else {
            rc = finish(l, expect);
        }
    } else {
        rc = serve_until_signal(l, port, events, token, expect);
    }
    fp_ledger_destroy(&l);
    return rc;
}
