/*
 * test_fakeportal - the judge the demo relies on (tests/fakeportal): a
 * body exactly as the migration's trigger writes it passes, each way of
 * breaking the documented shape is refused with its reason, and the ledger
 * counts a resend, a changed duplicate, an event before its predecessor,
 * a hole, and, against the store's list, what is missing or extra. A judge
 * that found nothing wrong with anything would make the demo's "0
 * duplicates, in order" worthless; these tests make it fail when it should.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakeportal/fakeportal.h"
#include "mc_test.h"

/* body - a document as mc_portal_outbox() builds it, for code/seq, kind and state */
static void body(char *out, size_t size, const char *code, int seq, const char *kind,
                 const char *state)
{
    bool result = strcmp(state, "RESULT_READY") == 0 || strcmp(state, "DELIVERED") == 0;
    snprintf(out, size,
             "{\"schema\" : \"motcua.portal.v1\", \"event_id\" : \"%s/%d\", \"dossier_code\" : \"%s\","
             " \"seq\" : %d, \"event\" : \"%s\", \"state\" : \"%s\", \"at\" : \"2026-12-01T02:15:07.123Z\","
             " \"due_at\" : \"2026-12-05T10:00:00.000Z\", \"result\" : %s, \"procedure_code\" :"
             " \"1.001193\", \"ward_code\" : \"00229\"}",
             code, seq, code, seq, kind, state, result ? "true" : "false");
}

/* refused - the reason fp_check_body gives after replacing from by to in a good body */
static const char *refused(const char *from, const char *to)
{
    static char b[1024];
    char good[1024];
    fp_body_t parsed;
    body(good, sizeof good, "000.22.29.H26-261201-0007", 3, "routed", "ROUTED");
    const char *at = strstr(good, from);
    if (!at)
        return "pattern_not_found";
    snprintf(b, sizeof b, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
    const char *why = fp_check_body(b, strlen(b), &parsed);
    return why ? why : "accepted";
}

/* feed - record a good body; its outcome, or -1 */
static int feed(fp_ledger_t *l, const char *code, int seq, const char *kind, const char *state)
{
    char b[1024];
    fp_body_t parsed;
    fp_outcome_t outcome;
    body(b, sizeof b, code, seq, kind, state);
    if (fp_check_body(b, strlen(b), &parsed) != NULL ||
        fp_ledger_record(l, &parsed, b, strlen(b), &outcome) != 0)
        return -1;
    return (int)outcome;
}

/* summary_has - does the summary of l contain text? the number of problems into *problems */
static bool summary_has(fp_ledger_t *l, const char *text, long *problems)
{
    char buf[4096] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    if (!f)
        return false;
    *problems = fp_ledger_summary(l, f);
    fclose(f);
    return strstr(buf, text) != NULL;
}

MC_TEST(the_trigger_s_body_passes_with_its_fields)
{
    char b[1024];
    fp_body_t p;
    body(b, sizeof b, "000.22.29.H26-261201-0007", 5, "result_ready", "RESULT_READY");
    CHECK(fp_check_body(b, strlen(b), &p) == NULL);
    CHECK_STR(p.event_id, "000.22.29.H26-261201-0007/5");
    CHECK_STR(p.code, "000.22.29.H26-261201-0007");
    CHECK_INT(p.seq, 5);
    CHECK_STR(p.kind, "result_ready");
    CHECK_STR(p.state, "RESULT_READY");
    /* no appointment yet and an unknown field: both allowed */
    CHECK_STR(refused("\"2026-12-05T10:00:00.000Z\"", "null"), "accepted");
    CHECK_STR(refused("\"ward_code\"", "\"new_field\" : [1, 2], \"ward_code\""),
              "not_a_flat_json_object");
    CHECK_STR(refused("\"ward_code\"", "\"new_field\" : \"x\\u00e9\", \"ward_code\""), "accepted");
}

MC_TEST(each_broken_shape_is_refused_with_its_reason)
{
    /* a good body with `from` replaced by `to` is refused for `reason` */
    static const struct {
        const char *from, *to, *reason;
    } broken[] = {
        {"motcua.portal.v1", "motcua.portal.v2", "schema_not_motcua.portal.v1"},
        {"\"seq\" : 3", "\"seq\" : \"3\"", "field_of_wrong_type"},
        {"\"seq\" : 3", "\"seq\" : 4", "event_id_not_dossier_code_slash_seq"},
        {"\"seq\" : 3, ", "", "field_missing"},
        {"\"result\" : false", "\"result\" : true", "result_disagrees_with_state"},
        {".123Z", "+07:00", "time_not_rfc3339_utc_ms"},
        {"\"ROUTED\"", "\"routed\"", "state_not_a_dossier_state"},
        {"\"routed\"", "\"Đã phân công\"", "event_not_a_machine_word"},
        {"\"00229\"", "\"\"", "procedure_or_ward_empty"},
        {"\"ward_code\"", "\"seq\" : 3, \"ward_code\"", "repeated_key"},
        {"}", "} x", "not_a_flat_json_object"},
        {"\"seq\" : 3", "\"seq\" : 03", "not_a_flat_json_object"},
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++)
        CHECK_STR(refused(broken[i].from, broken[i].to), broken[i].reason);
    CHECK(fp_check_body("", 0, &(fp_body_t){0}) != NULL);
}

MC_TEST(the_ledger_counts_resends_duplicates_disorder_and_holes)
{
    fp_ledger_t *l = fp_ledger_new();
    REQUIRE(l != NULL);
    long problems = -1;
    CHECK_INT(feed(l, "A", 1, "received", "RECEIVED"), FP_NEW);
    CHECK_INT(feed(l, "A", 2, "routed", "ROUTED"), FP_NEW);
    CHECK_INT(feed(l, "B", 1, "received", "RECEIVED"), FP_NEW);
    CHECK(summary_has(l, "events=3 dossiers=2 resent=0 duplicates=0 out_of_order=0 holes=0", &problems));
    CHECK_INT(problems, 0);
    /* a resend after a crash is harmless */
    CHECK_INT(feed(l, "A", 2, "routed", "ROUTED"), FP_RESENT);
    CHECK(summary_has(l, "resent=1 duplicates=0", &problems));
    CHECK_INT(problems, 0);
    /* the same event_id with other bytes, a successor before its predecessor */
    CHECK_INT(feed(l, "A", 2, "routed", "IN_PROGRESS"), FP_CHANGED);
    CHECK_INT(feed(l, "B", 3, "step_done", "IN_PROGRESS"), FP_EARLY);
    CHECK(summary_has(l, "duplicates=1 out_of_order=1 holes=1", &problems));
    CHECK(summary_has(l, "dossier=B out_of_order=1 holes=1\n", &problems));
    CHECK_INT(problems, 3);
    CHECK(summary_has(l, "FAILED problems=3", &problems));
    fp_ledger_destroy(&l);
    CHECK(l == NULL);
}

MC_TEST(against_the_store_it_counts_missing_extra_and_kinds)
{
    fp_ledger_t *l = fp_ledger_new();
    REQUIRE(l != NULL);
    CHECK_INT(feed(l, "A", 1, "received", "RECEIVED"), FP_NEW);
    CHECK_INT(feed(l, "A", 2, "routed", "ROUTED"), FP_NEW);
    CHECK_INT(feed(l, "C", 1, "received", "RECEIVED"), FP_NEW);
    char path[] = "/tmp/test_fakeportal_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    FILE *f = fdopen(fd, "w");
    REQUIRE(f != NULL);
    /* A/2 under another kind, B/1 never received, one event without an outbox row; C/1 extra */
    fputs("A/1 received\nA/2 step_done\nB/1 received\n- routed\n", f);
    fclose(f);
    CHECK_INT(fp_ledger_expect(l, path), 0);
    unlink(path);
    long problems = -1;
    CHECK(summary_has(l, "store_events=4 missing=2 extra=1 wrong_kind=1", &problems));
    CHECK(summary_has(l, "kind=received received=2 store=2", &problems));
    CHECK(summary_has(l, "kind=routed received=1 store=1", &problems));
    CHECK(summary_has(l, "kind=step_done received=0 store=1", &problems));
    CHECK(summary_has(l, "missing event_id=B/1\n", &problems));
    CHECK(summary_has(l, "missing event_id=-\n", &problems));
    CHECK_INT(problems, 4);
    CHECK_INT(fp_ledger_expect(l, "/nonexistent/store-events.txt"), -1);
    fp_ledger_destroy(&l);
}

int main(void)
{
    mc_test_run(the_trigger_s_body_passes_with_its_fields);
    mc_test_run(each_broken_shape_is_refused_with_its_reason);
    mc_test_run(the_ledger_counts_resends_duplicates_disorder_and_holes);
    mc_test_run(against_the_store_it_counts_missing_extra_and_kinds);
    return mc_test_done("test_fakeportal");
}
