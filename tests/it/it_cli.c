/*
 * it_cli - the motcua command as a new user runs it, against the real
 * daemon and a throwaway PostgreSQL: config check, every sample dossier,
 * retries, status, bad files, the exit codes docs/cli.md promises, and the
 * moved commands (`motcua report` is motcua-report, ...).
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mc_test.h"
#include "mc_transport.h"

static harness_t H; /* cluster + daemon */

/* out_has - does the last CLI output contain text? */
static int out_has(const char *text)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "grep -qF -- '%s' %s/motcua.out", text, H.dir);
    int st = system(cmd);
    return st == 0;
}

/* json_field - value of "key":"..." in the last output (first match) */
static int json_field(const char *key, char *value, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/motcua.out", H.dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[16384];
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    int found = -1;
    while (fgets(line, sizeof line, f) && found) {
        char *p = strstr(line, pat);
        if (!p)
            continue;
        p += strlen(pat);
        char *q = strchr(p, '"');
        if (!q)
            continue;
        snprintf(value, size, "%.*s", (int)(q - p), p);
        found = 0;
    }
    fclose(f);
    return found;
}

MC_TEST(config_check_refuses_the_shipped_config_until_its_keys_exist)
{
    /* lienthong would refuse to start without its key and the agencies' keys
     * (motcua keygen); it_roles checks a complete configuration is accepted */
    CHECK_INT(harness_run("%s/bin/motcua config check config/motcua.yaml >%s/motcua.out 2>&1",
                          H.build, H.dir), 1);
    CHECK(out_has("lienthong.key"));
    CHECK(out_has("motcua-lienthong refuses this configuration"));
}

MC_TEST(config_check_names_file_line_column_and_key)
{
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.yaml", H.dir);
    FILE *f = fopen(bad, "w");
    REQUIRE(f);
    fprintf(f, "database:\n  conninfo: \"dbname=x\"\n  colour: blue\nintake:\n  workers: many\n");
    fclose(f);
    CHECK_INT(harness_run("%s/bin/motcua config check %s >%s/motcua.out 2>&1", H.build, bad, H.dir), 1);
    CHECK(out_has("bad.yaml:3:3"));
    CHECK(out_has("colour"));
    CHECK(out_has("workers")); /* every error, not just the first */
    /* any other command refuses to run on it */
    CHECK_INT(harness_run("%s/bin/motcua -c %s status X >%s/motcua.out 2>&1", H.build, bad, H.dir), 78);
}

MC_TEST(every_sample_dossier_gets_its_answer)
{
    DIR *dir = opendir("config/samples");
    REQUIRE(dir);
    struct dirent *e;
    int valid = 0, invalid = 0;
    while ((e = readdir(dir))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0)
            continue;
        char args[600];
        snprintf(args, sizeof args, "submit config/samples/%s", e->d_name);
        int st = harness_motcua(&H, args);
        if (strncmp(e->d_name, "invalid-", 8) == 0) {
            invalid++;
            if (st != 2)
                printf("  FAIL %s: exit %d, expected 2\n", e->d_name, st), mc_test_current_bad++;
        } else {
            valid++;
            if (st != 0 || !out_has("Mã hồ sơ")) {
                printf("  FAIL %s: exit %d, expected 0 and a receipt\n", e->d_name, st);
                harness_run("cat %s/motcua.out", H.dir);
                mc_test_current_bad++;
            }
        }
    }
    closedir(dir);
    CHECK(valid >= 7);   /* one per seeded procedure */
    CHECK(invalid >= 2);
    CHECK_INT(harness_count(&H, "SELECT count(DISTINCT procedure_code) FROM dossier", NULL), valid >= 7 ? 7 : -1);
}

MC_TEST(resubmitting_a_file_returns_the_same_code)
{
    char first[128] = "", second[128] = "";
    CHECK_INT(harness_motcua(&H, "submit --json config/samples/thuong-tru.yaml"), 0);
    CHECK(json_field("dossier_code", first, sizeof first) == 0);
    CHECK_INT(harness_motcua(&H, "submit --json config/samples/thuong-tru.yaml"), 0);
    CHECK(json_field("dossier_code", second, sizeof second) == 0);
    CHECK(first[0] != '\0');
    CHECK_STR(first, second);
    char args[200];
    snprintf(args, sizeof args, "status %s", first);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK(out_has(first));
    CHECK_INT(harness_motcua(&H, "status 000.22.29.H26-200101-9999"), 2);
}

MC_TEST(the_applicants_secret_on_the_command_line)
{
    char code[128] = "", secret[128] = "", args[1200];
    CHECK_INT(harness_motcua(&H, "submit --json config/samples/khai-sinh.yaml"), 0);
    REQUIRE(json_field("dossier_code", code, sizeof code) == 0 && code[0]);
    REQUIRE(json_field("secret", secret, sizeof secret) == 0 && strlen(secret) == 36);
    /* status as the portal: by code alone no history; with --secret the history */
    snprintf(args, sizeof args, "-k %s/keys/HARNESS_PORTAL.key status %s --json", H.dir, code);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK(out_has("\"history\":[]"));
    snprintf(args, sizeof args, "-k %s/keys/HARNESS_PORTAL.key status %s --secret %s --json", H.dir,
             code, secret);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK(out_has("\"kind\":\"received\""));
    snprintf(args, sizeof args, "-k %s/keys/HARNESS_PORTAL.key status %s"
                                " --secret 00000000-0000-4000-8000-000000000000", H.dir, code);
    CHECK_INT(harness_motcua(&H, args), 2);
    /* supplement --secret reaches intake: with it the portal gets past the secret
     * (to WRONG_STATE: the dossier waits for no documents); without it, FORBIDDEN */
    char file[600];
    snprintf(file, sizeof file, "%s/supplement-secret.yaml", H.dir);
    FILE *f = fopen(file, "w");
    REQUIRE(f);
    fprintf(f, "submission_id: \"it-cli-sup-0001\"\ndossier_code: \"%s\"\ndocuments:\n"
               "  - {type: GIAY_KHAC, name: \"Bản sao\", media_type: application/pdf, size: 1000,"
               " sha256: \"3f5b22720a20ea43b383c8f596f2e2c6d53988f454dbed3b88f961fd764e59b1\","
               " uri: \"https://dvc.example.vn/files/x.pdf\", form: copy, copies: 1}\n", code);
    fclose(f);
    snprintf(args, sizeof args, "-k %s/keys/HARNESS_PORTAL.key supplement %s --json", H.dir, file);
    CHECK_INT(harness_motcua(&H, args), 2);
    CHECK(out_has("\"reason\":\"FORBIDDEN\""));
    snprintf(args, sizeof args, "-k %s/keys/HARNESS_PORTAL.key supplement %s --secret %s --json",
             H.dir, file, secret);
    CHECK_INT(harness_motcua(&H, args), 2);
    CHECK(out_has("\"reason\":\"WRONG_STATE\""));
    CHECK_INT(harness_run("grep -qF -- '%s' %s/motcua.out", secret, H.dir), 1); /* never echoed */
    CHECK_INT(harness_motcua(&H, "supplement --secret"), 64);
}

MC_TEST(bad_dossier_file_is_refused_before_sending)
{
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad-dossier.yaml", H.dir);
    FILE *f = fopen(bad, "w");
    REQUIRE(f);
    fprintf(f, "submission_id: \"it-cli-bad-0001\"\ndossier:\n  procedure: \"1.001193\"\n"
               "  ward: \"00229\"\n  channel: carrier-pigeon\n  favourite_colour: red\n");
    fclose(f);
    long before = harness_count(&H, "SELECT count(*) FROM dossier", NULL);
    char args[700];
    snprintf(args, sizeof args, "submit %s", bad);
    CHECK_INT(harness_motcua(&H, args), 65);
    CHECK(out_has("bad-dossier.yaml:5:"));
    CHECK(out_has("favourite_colour"));
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier", NULL), before);
    snprintf(args, sizeof args, "submit %s/does-not-exist.yaml", H.dir);
    CHECK_INT(harness_motcua(&H, args), 65);
}

MC_TEST(usage_errors_and_help)
{
    CHECK_INT(harness_motcua(&H, "--help"), 0);
    CHECK_INT(harness_motcua(&H, "submit --help"), 0);
    CHECK_INT(harness_motcua(&H, "frobnicate"), 64);
    CHECK_INT(harness_motcua(&H, "submit"), 64);
    CHECK_INT(harness_motcua(&H, "load --rate -5 --count 10"), 64);
    CHECK_INT(harness_motcua(&H, "load --rate 100 --count abc"), 64);
}

/* same_output - exit statuses of `motcua ARGS_A` and `PROGRAM ARGS_B` (both with -c),
 * outputs (stdout and stderr) into a.out and b.out; 0 when both exit 0 with
 * byte-identical outputs */
static int same_output(const char *args_a, const char *program, const char *args_b)
{
    int a = harness_run("%s/bin/motcua -c %s %s >%s/a.out 2>&1", H.build, H.config, args_a, H.dir);
    int b = harness_run("%s/bin/%s -c %s %s >%s/b.out 2>&1", H.build, program, H.config, args_b,
                        H.dir);
    if (a != 0 || b != 0) {
        printf("# motcua %s: exit %d; %s %s: exit %d\n", args_a, a, program, args_b, b);
        return -1;
    }
    /* the same bytes but the report's own time (generated_at): the two runs may fall in
     * different seconds */
    return harness_run("sed -E 's/\"generated_at\":\"[^\"]*\"//' %s/a.out >%s/a.cmp &&"
                       " sed -E 's/\"generated_at\":\"[^\"]*\"//' %s/b.out >%s/b.cmp &&"
                       " cmp -s %s/a.cmp %s/b.cmp && ! cmp -s %s/a.out /dev/null",
                       H.dir, H.dir, H.dir, H.dir, H.dir, H.dir, H.dir);
}

MC_TEST(moved_commands_run_their_programs)
{
    /* each program answers --help */
    static const char *const programs[] = {"motcua", "motcua-admin", "motcua-report",
                                           "motcua-load"};
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++)
        CHECK_INT(harness_run("%s/bin/%s --help >/dev/null", H.build, programs[i]), 0);
    CHECK_INT(harness_motcua(&H, "report --help"), 0);
    CHECK(out_has("usage: motcua-report"));
    CHECK_INT(harness_motcua(&H, "migrate --help"), 0);
    CHECK(out_has("usage: motcua-admin"));
    /* motcua report == motcua-report, options before or after */
    CHECK_INT(same_output("report --quarter 2025-Q3 --format json", "motcua-report",
                          "--quarter 2025-Q3 --format json"), 0);
    CHECK_INT(same_output("report --format=csv --from 2025-07-01 --to 2025-09-30", "motcua-report",
                          "--from 2025-07-01 --to 2025-09-30 --format csv"), 0);
    /* motcua migrate == motcua-admin migrate (nothing left to apply) */
    CHECK_INT(same_output("migrate", "motcua-admin", "migrate"), 0);
    /* usage errors keep their status through the forwarding */
    CHECK_INT(harness_motcua(&H, "report --format pdf --quarter 2025-Q3"), 64);
    CHECK_INT(harness_motcua(&H, "queues --frobnicate"), 64);
    CHECK_INT(harness_motcua(&H, "keygen"), 64);
}

MC_TEST(every_program_prints_its_version)
{
    /* "NAME VERSION", exit 0, the version from the VERSION file (mc_version) */
    static const char *const programs[] = {
        "motcua",        "motcua-admin",     "motcua-report", "motcua-load",   "motcua-agency",
        "motcua-intake", "motcua-router",    "motcua-lienthong", "motcua-notify", "motcua-portal"};
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++)
        CHECK_INT(harness_run("test \"$(%s/bin/%s --version)\" = \"%s $(cat VERSION)\"", H.build,
                              programs[i], programs[i]),
                  0);
    /* after the global options too, and forwarded by motcua under its own name */
    CHECK_INT(harness_motcua(&H, "--version"), 0);
    CHECK_INT(harness_run("grep -qx \"motcua $(cat VERSION)\" %s/motcua.out", H.dir), 0);
    /* the running intake's started line carries it (logged before READY, which setup awaited) */
    CHECK_INT(harness_run("grep -q \"event=started .*version=$(cat VERSION) \" %s/intake.log", H.dir),
              0);
}

MC_TEST(store_down_means_exit_3_and_nothing_stored)
{
    REQUIRE(harness_pg_stop(&H) == 0);
    CHECK_INT(harness_motcua(&H, "submit config/samples/khai-sinh.yaml"), 3);
    REQUIRE(harness_pg_start(&H) == 0);
}

MC_TEST(load_generator_gets_every_request_answered)
{
    CHECK_INT(harness_motcua(&H, "load --rate 200 --count 300 --clients 8"), 0);
    CHECK(out_has("acked=300"));
}

/* --trace: one line per receipt, each naming a dossier the store holds under that submission_id */
MC_TEST(load_trace_names_every_receipt)
{
    char args[512], path[300], line[256];
    snprintf(path, sizeof path, "%s/load-trace.txt", H.dir);
    snprintf(args, sizeof args, "load --rate 200 --count 40 --clients 4 --trace %s", path);
    CHECK_INT(harness_motcua(&H, args), 0);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    int lines = 0, found = 0;
    long long prev = 0;
    bool ordered = true;
    while (fgets(line, sizeof line, f)) {
        long long ms = 0;
        char code[64] = "", sid[64] = "", key[140];
        if (sscanf(line, "%lld %63s %63s", &ms, code, sid) != 3)
            continue;
        lines++;
        ordered = ordered && ms >= prev;
        prev = ms;
        snprintf(key, sizeof key, "%s %s", code, sid);
        if (harness_count(&H, "SELECT count(*) FROM dossier WHERE code || ' ' || submission_id = $1",
                          key) == 1)
            found++;
    }
    fclose(f);
    CHECK_INT(lines, 40);
    CHECK_INT(found, 40);
    CHECK(ordered);
}

int main(void)
{
    if (harness_setup(&H, "it_cli", 2) != 0 || harness_start_intake(&H) != 0) {
        printf("not ok - setup\n");
        harness_teardown(&H);
        printf("it_cli: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(config_check_refuses_the_shipped_config_until_its_keys_exist);
    mc_test_run(config_check_names_file_line_column_and_key);
    mc_test_run(every_sample_dossier_gets_its_answer);
    mc_test_run(resubmitting_a_file_returns_the_same_code);
    mc_test_run(the_applicants_secret_on_the_command_line);
    mc_test_run(bad_dossier_file_is_refused_before_sending);
    mc_test_run(usage_errors_and_help);
    mc_test_run(moved_commands_run_their_programs);
    mc_test_run(every_program_prints_its_version);
    mc_test_run(load_generator_gets_every_request_answered);
    mc_test_run(load_trace_names_every_receipt);
    mc_test_run(store_down_means_exit_3_and_nothing_stored);
    harness_teardown(&H);
    mc_transport_term();
    return mc_test_done("it_cli");
}
