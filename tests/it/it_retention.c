/*
 * it_retention - `motcua retention [--dry-run]` (services/admin/admin_retention.c,
 * common/store/mc_store_retention.c) on a real store filled through a real
 * motcua-intake.
 *
 * Six dossiers: three closed 11 years ago (past retention.dossier_years =
 * 10), one received 12 years ago and still open, one closed today, one
 * closed 11 years ago whose received notice is still to send. Their
 * idempotency keys: all but the young closed one's 40 days old (past
 * retention.key_days = 30). Spool files: a settled one and a pending one
 * 40 days old, a young one, and a name that is not a spool file. Then:
 * --dry-run counts and changes nothing; a run that cannot write its
 * export deletes no dossier; a run deletes exactly the old
 * keys, the settled old spool file and the three old closed dossiers with
 * everything hanging on them, after exporting them to one JSON lines file
 * (each line parsed by PostgreSQL's jsonb); a late retry under an expired
 * key is REASON_DUPLICATE_SUBMISSION with nothing stored, one under a live
 * key replays its receipt; a second run is a no-op and makes no file.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mc_test.h"

static harness_t H;                      /* the cluster and intake */
#define N_DOSSIERS 6
static char      codes[N_DOSSIERS][64]; /* 0-2 old closed, 3 old open, 4 young closed, 5 old closed with a notice to send */
static const char *const sids[N_DOSSIERS] = {"ret-old-1", "ret-old-2", "ret-old-3", "ret-open",
                                             "ret-young", "ret-pending"};
static long      settled_notice;         /* a notification id with no row (spool: settled) */
static long      pending_notice;         /* the young closed dossier's received notice (pending) */

/* submit - one dossier under sid; its code into code (64 bytes), 0 or -1 */
static int submit(const char *sid, char *code)
{
    harness_dossier_t d;
    harness_dossier_init(&d, sid);
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request(&H, &d.request, 10000, &r) != 0 || !r ||
        r->body_case != MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT) {
        if (r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION)
            printf("  %s: %s\n", sid, harness_reason_name(r->rejection->reason));
        if (r)
            motcua__v1__intake_reply__free_unpacked(r, NULL);
        return -1;
    }
    snprintf(code, 64, "%s", r->receipt->dossier_code);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return 0;
}

/* sql - run a statement on the assertion connection; 0 or -1 */
static int sql(const char *text)
{
    PGresult *res = PQexec(harness_db(&H), text);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        printf("  sql: %s", PQerrorMessage(harness_db(&H)));
    PQclear(res);
    return ok ? 0 : -1;
}

/* archive_files - how many files the export directory holds; the last one's path in path */
static int archive_files(char *path, size_t size)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/archive", H.dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        snprintf(path, size, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    return n;
}

/* spool_exists - does DIR/spool/<name> exist */
static bool spool_exists(const char *name)
{
    return harness_run("test -e %s/spool/%s", H.dir, name) == 0;
}

/* retention - run `motcua retention ARGS`, expect the summary line want; 0 when both hold */
static int retention(const char *args, const char *want)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "retention %s", args);
    if (harness_motcua(&H, cmd) != 0) {
        harness_run("cat %s/motcua.out", H.dir);
        return -1;
    }
    int rc = harness_run("grep -qx '%s' %s/motcua.out", want, H.dir);
    if (rc != 0)
        harness_run("cat %s/motcua.out", H.dir);
    return rc == 0 ? 0 : -1;
}

/* counts - dossiers, keys, events of the old closed three */
static void counts(long *dossiers, long *keys, long *old_events)
{
    *dossiers = harness_count(&H, "SELECT count(*) FROM dossier", NULL);
    /* live keys: an expired submission key whose dossier remains is a tombstone (response '') */
    *keys = harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE response <> ''::bytea", NULL);
    *old_events = harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                                    " ON d.id = e.dossier_id WHERE d.submission_id LIKE 'ret-old-%'",
                                NULL);
}

MC_TEST(store_is_filled)
{
    for (int i = 0; i < N_DOSSIERS; i++)
        REQUIRE(submit(sids[i], codes[i]) == 0);
    /* 11 years closed (DELIVERED), with a rating-less history; the open one 12 years old */
    REQUIRE(sql("UPDATE dossier SET received_at = now() - interval '12 years',"
                " counted_from = now() - interval '12 years', due_at = now() - interval '12 years',"
                " closed_at = now() - interval '11 years', state = 6"
                " WHERE submission_id LIKE 'ret-old-%' OR submission_id = 'ret-pending'") == 0);
    REQUIRE(sql("UPDATE dossier SET received_at = now() - interval '12 years'"
                " WHERE submission_id = 'ret-open'") == 0);
    /* what the old three had to tell was told (no notify or portal runs here);
     * ret-pending's received notice is still to send: it keeps its dossier */
    REQUIRE(sql("UPDATE notification SET state = 1 WHERE dossier_id IN"
                " (SELECT id FROM dossier WHERE submission_id LIKE 'ret-old-%')") == 0);
    REQUIRE(sql("UPDATE portal_outbox SET state = 1 WHERE dossier_id IN"
                " (SELECT id FROM dossier WHERE submission_id LIKE 'ret-old-%'"
                " OR submission_id = 'ret-pending')") == 0);
    REQUIRE(sql("UPDATE dossier SET state = 6 WHERE submission_id = 'ret-young'") == 0);
    REQUIRE(sql("UPDATE idempotency_key SET created_at = now() - interval '40 days'"
                " WHERE key <> 'ret-young'") == 0);
    CHECK(harness_count(&H, "SELECT count(*) FROM dossier_history h JOIN dossier d"
                            " ON d.id = h.dossier_id WHERE d.submission_id LIKE 'ret-old-%'",
                        NULL) >= 3);
    pending_notice = harness_count(&H, "SELECT n.id FROM notification n JOIN dossier d"
                                       " ON d.id = n.dossier_id WHERE d.submission_id = $1",
                                   "ret-young");
    settled_notice = harness_count(&H, "SELECT max(id) + 1000 FROM notification", NULL);
    REQUIRE(pending_notice > 0 && settled_notice > 0);
    REQUIRE(harness_run("mkdir -p %s/spool && cd %s/spool && touch -d '40 days ago' %ld.txt %ld.txt"
                        " notes.txt && touch %ld.txt",
                        H.dir, H.dir, settled_notice, pending_notice, settled_notice + 1) == 0);
}

MC_TEST(dry_run_counts_and_changes_nothing)
{
    long d0, k0, e0, d1, k1, e1;
    counts(&d0, &k0, &e0);
    CHECK(retention("--dry-run", "retention: keys=5 spool=1 dossiers=3 dry_run=yes") == 0);
    counts(&d1, &k1, &e1);
    CHECK_INT(d1, d0);
    CHECK_INT(k1, k0);
    CHECK_INT(e1, e0);
    char path[1024];
    CHECK_INT(archive_files(path, sizeof path), 0);
    char name[32];
    snprintf(name, sizeof name, "%ld.txt", settled_notice);
    CHECK(spool_exists(name));
}

MC_TEST(failed_export_deletes_no_dossier)
{
    /* an export directory that cannot be made: the keys and spool passes run, the
     * dossier pass stops before any delete */
    char config[400], from[400];
    snprintf(config, sizeof config, "%s/motcua-noexport.yaml", H.dir);
    snprintf(from, sizeof from, "export_dir: \"%s/archive\"", H.dir);
    REQUIRE(harness_config_copy(&H, config, from, "export_dir: \"/dev/null/archive\"") == 0);
    long d0, k0, e0, d1, k1, e1;
    counts(&d0, &k0, &e0);
    CHECK_INT(harness_run("%s/bin/motcua -c %s retention > %s/noexport.out 2>&1", H.build, config,
                          H.dir), 1);
    CHECK_INT(harness_run("grep -q 'idempotency.*đã xóa 5$' %s/noexport.out", H.dir), 0);
    CHECK_INT(harness_run("grep -q '/dev/null/archive' %s/noexport.out", H.dir), 0);
    counts(&d1, &k1, &e1);
    CHECK_INT(d1, d0);
    CHECK_INT(e1, e0);
    CHECK_INT(k1, k0 - 5);
}

MC_TEST(run_exports_then_deletes_only_what_is_due)
{
    /* keys and the spool file went in the failed run above */
    CHECK(retention("", "retention: keys=0 spool=0 dossiers=3 dry_run=no") == 0);
    long d, k, e;
    counts(&d, &k, &e);
    CHECK_INT(d, 3);
    CHECK_INT(e, 0);
    CHECK_INT(k, 1); /* the young dossier's key */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE submission_id IN"
                                 " ('ret-open', 'ret-young', 'ret-pending')", NULL), 3);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE key = $1", "ret-young"), 1);
    /* the old keys of the dossiers that remain are tombstones: no receipt, a zero fingerprint */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM idempotency_key k JOIN dossier d ON d.id = k.dossier_id"
                                " WHERE d.submission_id IN ('ret-open', 'ret-pending') AND k.response = ''::bytea"
                                " AND k.request_sha256 = decode(repeat('00', 32), 'hex')", NULL), 2);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE response = ''::bytea"
                                " AND request_sha256 <> decode(repeat('00', 32), 'hex')", NULL), 0);
    /* nothing left that hung on the deleted dossiers */
    CHECK_INT(harness_count(&H, "SELECT (SELECT count(*) FROM dossier_history WHERE dossier_id NOT IN"
                                " (SELECT id FROM dossier)) + (SELECT count(*) FROM notification"
                                " WHERE dossier_id NOT IN (SELECT id FROM dossier))", NULL), 0);
    /* spool: only the old file of a settled notification went */
    char name[32];
    snprintf(name, sizeof name, "%ld.txt", settled_notice);
    CHECK(!spool_exists(name));
    snprintf(name, sizeof name, "%ld.txt", pending_notice);
    CHECK(spool_exists(name));
    snprintf(name, sizeof name, "%ld.txt", settled_notice + 1);
    CHECK(spool_exists(name));
    CHECK(spool_exists("notes.txt"));
    /* the export: one file, mode 0600, one valid JSON object per old dossier */
    char path[1024];
    REQUIRE(archive_files(path, sizeof path) == 1);
    CHECK_INT(harness_run("test \"$(stat -c %%a %s)\" = 600", path), 0);
    FILE *f = fopen(path, "r");
    REQUIRE(f);
    char line[65536];
    int lines = 0, found[3] = {0, 0, 0};
    while (fgets(line, sizeof line, f)) {
        lines++;
        REQUIRE(strchr(line, '\n'));
        *strchr(line, '\n') = '\0';
        const char *p[1] = {line};
        PGresult *res = PQexecParams(harness_db(&H),
                                     "SELECT $1::jsonb->>'schema', $1::jsonb->'dossier'->>'code',"
                                     " jsonb_array_length($1::jsonb->'events'),"
                                     " jsonb_array_length($1::jsonb->'history')",
                                     1, NULL, p, NULL, NULL, 0);
        CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            CHECK_STR(PQgetvalue(res, 0, 0), "motcua.archive.v1");
            CHECK(atoi(PQgetvalue(res, 0, 2)) >= 1);
            CHECK(atoi(PQgetvalue(res, 0, 3)) >= 1);
            for (int i = 0; i < 3; i++)
                found[i] += strcmp(PQgetvalue(res, 0, 1), codes[i]) == 0;
        }
        PQclear(res);
    }
    fclose(f);
    CHECK_INT(lines, 3);
    for (int i = 0; i < 3; i++)
        CHECK_INT(found[i], 1);
}

MC_TEST(late_retry_of_an_expired_key_is_a_duplicate)
{
    long dossiers = harness_count(&H, "SELECT count(*) FROM dossier", NULL);
    long last = harness_count(&H, "SELECT sum(last_seq) FROM dossier_code_counter", NULL);
    harness_dossier_t d;
    harness_dossier_init(&d, "ret-open"); /* the same dossier, its key expired */
    Motcua__V1__IntakeReply *r = NULL;
    REQUIRE(harness_request(&H, &d.request, 10000, &r) == 0 && r);
    REQUIRE(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION);
    CHECK_STR(harness_reason_name(r->rejection->reason), "REASON_DUPLICATE_SUBMISSION");
    CHECK(!r->rejection->retryable);
    CHECK_STR(r->rejection->field, "submission_id");
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier", NULL), dossiers);
    CHECK_INT(harness_count(&H, "SELECT sum(last_seq) FROM dossier_code_counter", NULL), last);
    /* a key still kept replays its receipt */
    char code[64];
    CHECK(submit("ret-young", code) == 0);
    CHECK_STR(code, codes[4]);
    /* a new submission_id makes a new dossier as ever */
    CHECK(submit("ret-new-1", code) == 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier", NULL), dossiers + 1);
}

MC_TEST(second_run_is_a_no_op)
{
    char before[1024], after[1024];
    REQUIRE(archive_files(before, sizeof before) == 1);
    CHECK(retention("", "retention: keys=0 spool=0 dossiers=0 dry_run=no") == 0);
    CHECK_INT(archive_files(after, sizeof after), 1);
    CHECK_STR(after, before);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier", NULL), 4);
}

int main(void)
{
    if (harness_setup(&H, "it_retention", 2) != 0 ||
        harness_config_append(&H, "retention:\n  key_days: 30\n  spool_days: 30\n"
                                  "  dossier_years: 10\n  batch: 2\n  export_dir: \"%s/archive\"\n",
                              H.dir) != 0 ||
        harness_start_intake(&H) != 0) {
        printf("not ok - setup\n");
        harness_teardown(&H);
        printf("it_retention: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(store_is_filled);
    mc_test_run(dry_run_counts_and_changes_nothing);
    mc_test_run(failed_export_deletes_no_dossier);
    mc_test_run(run_exports_then_deletes_only_what_is_due);
    mc_test_run(late_retry_of_an_expired_key_is_a_duplicate);
    mc_test_run(second_run_is_a_no_op);
    harness_teardown(&H);
    return mc_test_done("it_retention");
}
