/*
 * test_transport_log - what an operator reads: mc_log's line (its UTC time
 * off journald, none under journald) and the endpoint a `*` bind really got
 * (mc_transport_endpoint, mc_transport_bound).
 *
 * Contract: each check can fail. The journald case runs in a child process,
 * because mc_log looks at JOURNAL_STREAM once per process.
 */
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zmq.h>

#include "mc_log.h"
#include "mc_test.h"
#include "mc_transport.h"

/* log_in_child - in a child, stderr to path, JOURNAL_STREAM naming that file if
 * journal, one mc_log line; 0 when the child ran */
static int log_in_child(const char *path, bool journal)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        struct stat st;
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || fstat(STDERR_FILENO, &st) != 0)
            _exit(1);
        if (journal) {
            char js[64];
            snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
                     (unsigned long long)st.st_ino);
            setenv("JOURNAL_STREAM", js, 1);
            setenv("MOTCUA_LOG_PLAIN", "1", 1); /* the line, not fields to a journald */
        } else {
            setenv("JOURNAL_STREAM", "1:2", 1); /* another stream: not ours */
        }
        mc_log_init("motcua-test", MC_LOG_INFO);
        mc_log(MC_LOG_NOTICE, "started", "endpoint=%s", "tcp://127.0.0.1:5555");
        _exit(0);
    }
    int st = 0;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* read_line - the first line of path into buf */
static int read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *got = fgets(buf, (int)size, f);
    fclose(f);
    return got ? 0 : -1;
}

/* matches - does text match the extended regular expression re? */
static bool matches(const char *text, const char *re)
{
    regex_t r;
    if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool ok = regexec(&r, text, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

MC_TEST(test_log_line_has_utc_time_off_journald)
{
    char path[] = "/tmp/motcua-test-log-XXXXXX", line[512];
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    REQUIRE(log_in_child(path, false) == 0);
    REQUIRE(read_line(path, line, sizeof line) == 0);
    CHECK(matches(line, "^<5>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                        "motcua-test: event=started endpoint=tcp://127\\.0\\.0\\.1:5555\n$"));
    REQUIRE(log_in_child(path, true) == 0);
    REQUIRE(read_line(path, line, sizeof line) == 0);
    CHECK_STR(line, "<5>motcua-test: event=started endpoint=tcp://127.0.0.1:5555\n");
    unlink(path);
}

MC_TEST(test_journal_fields_of_a_line)
{
    char buf[1024], q[64];
    struct iovec iov[8];
    char pairs[256];
    snprintf(pairs, sizeof pairs, "code=G01.29.H29-261201-0001 case=%s agency=TU_PHAP"
             " error=%s worker=2 message=x 9lives=y",
             "G01.29.H29-261201-0001/1", mc_log_quote("a \"b\" c", q, sizeof q));
    int n = mc_log_fields(pairs, buf, sizeof buf, iov, 8);
    REQUIRE(n == 7);
    const char *want[] = {"DOSSIER_CODE=G01.29.H29-261201-0001", "CASE_ID=G01.29.H29-261201-0001/1",
                          "AGENCY=TU_PHAP", "ERROR=a \"b\" c", "WORKER=2", "X_MESSAGE=x",
                          "X_9LIVES=y"};
    for (int i = 0; i < n; i++) {
        char got[128];
        snprintf(got, sizeof got, "%.*s", (int)iov[i].iov_len, (const char *)iov[i].iov_base);
        CHECK_STR(got, want[i]);
    }
    CHECK_INT(mc_log_fields("not-a-pair code=X", buf, sizeof buf, iov, 8), 1);
    CHECK_INT(mc_log_fields("a=1 b=2 c=3", buf, sizeof buf, iov, 2), 2); /* at most max */
}

MC_TEST(test_any_port_bind_reports_the_port_it_got)
{
    mc_err_t err;
    mc_err_clear(&err);
    void *s = mc_transport_bind(ZMQ_ROUTER, "tcp://127.0.0.1:*", NULL, &err);
    REQUIRE(s);
    char actual[128], bound[128];
    CHECK_INT(mc_transport_endpoint(s, actual, sizeof actual, &err), 0);
    CHECK(matches(actual, "^tcp://127\\.0\\.0\\.1:[1-9][0-9]*$"));
    CHECK_INT(mc_transport_bound("tcp://127.0.0.1:*", bound, sizeof bound), 0);
    CHECK_STR(bound, actual);
    CHECK_INT(mc_transport_bound("tcp://127.0.0.1:1", bound, sizeof bound), -1);
    /* a client reaches it on the reported endpoint */
    void *c = mc_transport_connect(ZMQ_DEALER, actual, NULL, &err);
    REQUIRE(c);
    CHECK_INT(zmq_send(c, "hi", 2, 0), 2);
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    CHECK_INT(zmq_poll(&it, 1, 5000), 1);
    mc_transport_close(&c);
    mc_transport_close(&s);
    CHECK(s == NULL);
    mc_transport_term();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    mc_log_init("test_transport_log", MC_LOG_ERR); /* the binds' own lines stay quiet */
    mc_test_run(test_log_line_has_utc_time_off_journald);
    mc_test_run(test_journal_fields_of_a_line);
    mc_test_run(test_any_port_bind_reports_the_port_it_got);
    return mc_test_done("test_transport_log");
}
