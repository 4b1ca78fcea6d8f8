/*
 * it_chaos - the short version of the fault test (build/tests/chaos
 * --short, tests/chaos/chaos.c) inside `make check`: about 300 dossiers,
 * 8 kill -9s over the daemons and agencies, one PostgreSQL crash, one
 * agency cut off past its lease and an SMS gateway outage, then the drain.
 *
 * Runs the chaos program as a child (its output is copied here, so the
 * test log shows the seed to replay with CHAOS_SEED=S) and checks its
 * summary: it finished, and nothing was lost, duplicated, delivered twice
 * or left stuck, and no personal value of the load is in any log (issue 9
 * point 10). CHAOS_SEED is passed through. First, the log scan itself must
 * find a phone number planted in a fake log (chaos --selftest-logscan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_test.h"

static char summary[10][1024]; /* "lost: 0", ... as printed last by chaos */
static int  status = -1;     /* the chaos program's exit status */

/* value_of - the number after "key: " among the summary lines, -1 if absent */
static long value_of(const char *key)
{
    size_t n = strlen(key);
    for (int i = 0; i < 10; i++)
        if (strncmp(summary[i], key, n) == 0 && summary[i][n] == ':')
            return strtol(summary[i] + n + 1, NULL, 10);
    return -1;
}

/* chaos - start the chaos program with args, its output on a pipe */
static FILE *chaos(const char *args)
{
    const char *build = getenv("MOTCUA_BUILD");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/tests/chaos %s 2>&1", build ? build : "build", args);
    return popen(cmd, "r");
}

MC_TEST(log_scan_finds_a_planted_phone_number)
{
    FILE *p = chaos("--selftest-logscan");
    REQUIRE(p);
    char line[1024];
    long found = -1;
    while (fgets(line, sizeof line, p)) {
        fputs(line, stdout);
        if (strncmp(line, "personal data in logs:", 22) == 0)
            found = strtol(line + 22, NULL, 10);
    }
    CHECK_INT(pclose(p), 0);
    CHECK_INT(found, 1);
}

MC_TEST(short_chaos_run_loses_nothing)
{
    FILE *p = chaos("--short");
    REQUIRE(p);
    char line[1024];
    int k = 0;
    while (fgets(line, sizeof line, p)) {
        fputs(line, stdout);
        static const char *const keys[] = {"acked:", "lost:", "duplicated:", "duplicate deliveries:",
                                           "stuck:", "drain time:", "personal data in logs:"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0] && k < 10; i++)
            if (strncmp(line, keys[i], strlen(keys[i])) == 0)
                snprintf(summary[k++], sizeof summary[0], "%s", line);
    }
    status = pclose(p);
    CHECK(value_of("acked") > 0);
    CHECK_INT(value_of("lost"), 0);
    CHECK_INT(value_of("duplicated"), 0);
    CHECK_INT(value_of("duplicate deliveries"), 0);
    CHECK_INT(value_of("stuck"), 0);
    CHECK_INT(value_of("personal data in logs"), 0);
    CHECK_INT(status, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    mc_test_run(log_scan_finds_a_planted_phone_number);
    mc_test_run(short_chaos_run_loses_nothing);
    return mc_test_done("it_chaos");
}
