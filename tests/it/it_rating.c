/*
 * it_rating - the satisfaction rating (issue 4, part 3), end to end with
 * everything real: a throwaway PostgreSQL, motcua-intake, motcua-router,
 * motcua-lienthong (CURVE keys made in the test directory), motcua-notify
 * spooling into the test directory, and two simulated desks: TU_PHAP
 * approves everything (birth registrations reach RESULT_READY), VAN_HOA_XA_HOI
 * rejects everything (labour rules are REFUSED). DIA_CHINH is never started,
 * so a land dossier stays ROUTED: a dossier that is not decided yet.
 *
 * The rating link is read the way an applicant gets it: from the spool file
 * of the result_ready (or refused) notice. The checks: one rating per
 * dossier, byte-identical replays, every refusal with its reason and
 * nothing stored, the CLI's exit statuses, and no token or comment in any
 * daemon's log.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mc_states.h"
#include "harness.h"
#include "mc_test.h"
#include "mc_transport.h"

#define MAX_AGENCIES 32
/* the survey page of this test: it has a query already, so the link must continue with '&' */
#define RATING_URL "https://danhgia.test.vn/khao-sat?src=motcua"
#define COMMENT    "Cán bộ hướng dẫn tận tình, trả kết quả sớm (ý-kiến-7781)"

static harness_t H;
static char      keys[400];
static pid_t     router_pid, hub_pid, notify_pid;
static int       n_agencies;
static char      agency_code[MAX_AGENCIES][64];
static pid_t     agency_pid[MAX_AGENCIES];
static char      seen_tokens[16][40]; /* every token this program used, for the log check */
static int       n_seen;

/* query_text - the one text value of a query with one parameter into buf; -1 if none */
static int query_text(const char *sql, const char *param, char *buf, size_t size)
{
    const char *p[1] = {param};
    PGresult *res = PQexecParams(harness_db(&H), sql, 1, NULL, p, NULL, NULL, 0);
    int rc = -1;
    buf[0] = '\0';
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        snprintf(buf, size, "%s", PQgetvalue(res, 0, 0));
        rc = 0;
    }
    PQclear(res);
    return rc;
}

/* remember_token - keep a token for the log check */
static void remember_token(const char *token)
{
    if (n_seen < (int)(sizeof seen_tokens / sizeof seen_tokens[0]))
        snprintf(seen_tokens[n_seen++], sizeof seen_tokens[0], "%s", token);
}

/* submit - hand a dossier to intake; its code into code (64 bytes) */
static int submit(harness_dossier_t *d, char *code)
{
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request(&H, &d->request, 10000, &r) != 0)
        return -1;
    int ok = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    if (ok)
        snprintf(code, 64, "%s", r->receipt->dossier_code);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* resolved_dossier - a birth registration through the whole pipeline to RESULT_READY */
static int resolved_dossier(const char *sid, char *code)
{
    harness_dossier_t d;
    harness_dossier_init(&d, sid);
    if (submit(&d, code) != 0)
        return -1;
    return harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", code, MC_DOSSIER_RESULT_READY, 20000) == MC_DOSSIER_RESULT_READY
               ? 0 : -1;
}

/* noi_quy_dossier - procedure 1.009469 (VAN_HOA_XA_HOI, which rejects in this test) */
static void noi_quy_dossier(harness_dossier_t *d, const char *sid)
{
    harness_dossier_init(d, sid);
    d->dossier.procedure_code = (char *)"1.009469";
    d->docs[0].document_type = (char *)"VAN_BAN_DE_NGHI";
    d->docs[0].name = (char *)"Văn bản đề nghị đăng ký nội quy lao động";
    d->docs[1].document_type = (char *)"NOI_QUY_LAO_DONG";
    d->docs[1].name = (char *)"Nội quy lao động";
    d->docs[2].document_type = (char *)"VAN_BAN_GOP_Y_CONG_DOAN";
    d->docs[2].name = (char *)"Văn bản góp ý của tổ chức đại diện người lao động";
    d->docs[2].form = MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_COPY;
}

/* dat_dai_dossier - procedure 1.013978, whose desk DIA_CHINH never connects here */
static void dat_dai_dossier(harness_dossier_t *d, const char *sid)
{
    harness_dossier_init(d, sid);
    d->dossier.procedure_code = (char *)"1.013978";
    d->docs[0].document_type = (char *)"DON_DANG_KY";
    d->docs[0].name = (char *)"Đơn đăng ký đất đai, tài sản gắn liền với đất";
    d->docs[1].document_type = (char *)"GIAY_TO_NGUON_GOC_DAT";
    d->docs[1].name = (char *)"Giấy tờ về nguồn gốc đất";
    d->docs[1].form = MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_COPY;
    d->dossier.n_documents = 2;
}

/* read_spool - the spool file of notification id (malloc'd text), NULL if none */
static char *read_spool(const char *id)
{
    char path[600];
    snprintf(path, sizeof path, "%s/spool/%s.txt", H.dir, id);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = calloc(1, 65536);
    if (text && fread(text, 1, 65535, f) == 0) {
        free(text);
        text = NULL;
    }
    fclose(f);
    return text;
}

/*
 * link_from_spool - wait for the kind's notice of code to be sent, read its
 * spool file and take the rating link's token out of it (token: 40 bytes).
 * Also checks the link names the dossier and appears in the SMS and the body.
 */
static int link_from_spool(const char *code, const char *kind, char *token)
{
    char sql[400], id[32];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
             " WHERE d.code = $1 AND n.kind = '%s' AND n.state = " MC_SQL(MC_NOTIFICATION_SENT), kind);
    if (harness_wait_count(&H, sql, code, 1, 15000) != 1)
        return -1;
    snprintf(sql, sizeof sql,
             "SELECT n.id FROM notification n JOIN dossier d ON d.id = n.dossier_id"
             " WHERE d.code = $1 AND n.kind = '%s'", kind);
    if (query_text(sql, code, id, sizeof id) != 0)
        return -1;
    char *text = read_spool(id);
    if (!text)
        return -1;
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s&ma=%s&t=", RATING_URL, code);
    int found = 0, rc = -1;
    const char *at = text;
    while ((at = strstr(at, prefix))) {
        found++;
        const char *t = at + strlen(prefix);
        size_t n = strspn(t, "0123456789abcdef-");
        if (n == 36) {
            memcpy(token, t, 36);
            token[36] = '\0';
            rc = 0;
        }
        at = t;
    }
    const char *sms = strstr(text, "\nSMS: ");
    if (!sms || !strstr(sms, prefix) || found != 2 || !strstr(text, "rất hài lòng")) {
        printf("  the %s notice of %s lacks the rating link in SMS and body (%d found)\n", kind,
               code, found);
        rc = -1;
    }
    free(text);
    if (rc == 0)
        remember_token(token);
    return rc;
}

/* rate_request - a RateService in req (pointers into the caller's strings) */
static void rate_request(Motcua__V1__IntakeRequest *req, Motcua__V1__RateService *r,
                         const char *sid, const char *code, const char *token, int level,
                         const char *comment)
{
    motcua__v1__rate_service__init(r);
    r->submission_id = (char *)sid;
    r->dossier_code = (char *)code;
    r->token = (char *)token;
    r->level = (Motcua__V1__Satisfaction)level;
    r->comment = (char *)comment;
    motcua__v1__intake_request__init(req);
    req->body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_RATE;
    req->rate = r;
}

/* rate - send one rating as the portal (the rating page); the reply (free it) or NULL */
static Motcua__V1__IntakeReply *rate(const char *sid, const char *code, const char *token,
                                     int level, const char *comment)
{
    Motcua__V1__IntakeRequest req;
    Motcua__V1__RateService r;
    rate_request(&req, &r, sid, code, token, level, comment);
    Motcua__V1__IntakeReply *reply = NULL;
    if (harness_request_as(&H, HARNESS_PORTAL, &req, 10000, &reply) != 0)
        return NULL;
    return reply;
}

/* expect_refusal - rate and expect reason on field; prints what came instead */
static void expect_refusal(const char *sid, const char *code, const char *token, int level,
                           const char *comment, const char *reason, const char *field)
{
    Motcua__V1__IntakeReply *r = rate(sid, code, token, level, comment);
    if (!r || r->body_case != MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION) {
        printf("  FAIL expected %s for %s, got %s\n", reason, sid, r ? "an acknowledgement" : "no reply");
        mc_test_current_bad++;
    } else {
        CHECK_STR(harness_reason_name(r->rejection->reason), reason);
        CHECK_STR(r->rejection->field, field);
        CHECK(!r->rejection->retryable);
        CHECK(r->rejection->message && strlen(r->rejection->message) > 10);
    }
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
}

/* stored_for - ratings, `rated` events and rate:* keys of one dossier, as one number
 * (rows * 100 + events * 10 + keys) so one check says "nothing was stored" */
static long stored_for(const char *code)
{
    return harness_count(&H,
                         "SELECT (SELECT count(*) FROM rating r JOIN dossier d ON d.id = r.dossier_id"
                         "         WHERE d.code = $1) * 100"
                         " + (SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                         "         WHERE d.code = $1 AND e.kind = 'rated') * 10"
                         " + (SELECT count(*) FROM idempotency_key k JOIN dossier d ON d.id = k.dossier_id"
                         "         WHERE d.code = $1 AND k.scope LIKE 'rate:%')",
                         code);
}

/* --- tests ---------------------------------------------------------------- */

static char ready_code[64]; /* the first dossier: rated through its notice's link */

MC_TEST(rating_from_the_result_notice_link_is_recorded_once)
{
    REQUIRE(resolved_dossier("rt-ready-0001", ready_code) == 0);
    char token[40] = "", db_token[40] = "";
    REQUIRE(link_from_spool(ready_code, "result_ready", token) == 0);
    REQUIRE(query_text("SELECT rating_token::text FROM dossier WHERE code = $1", ready_code,
                       db_token, sizeof db_token) == 0);
    CHECK_STR(token, db_token);
    CHECK_INT(stored_for(ready_code), 0);

    Motcua__V1__IntakeRequest req;
    Motcua__V1__RateService rs;
    rate_request(&req, &rs, "rt-rate-0001", ready_code, token,
                 MOTCUA__V1__SATISFACTION__SATISFACTION_VERY_SATISFIED, COMMENT);
    size_t n = motcua__v1__intake_request__get_packed_size(&req);
    uint8_t *bytes = malloc(n);
    REQUIRE(bytes);
    motcua__v1__intake_request__pack(&req, bytes);
    uint8_t *first = NULL, *second = NULL;
    size_t first_len = 0, second_len = 0;
    CHECK(harness_request_raw_as(&H, HARNESS_PORTAL, bytes, n, 10000, &first, &first_len) == 0);
    REQUIRE(first);
    Motcua__V1__IntakeReply *r = motcua__v1__intake_reply__unpack(NULL, first_len, first);
    REQUIRE(r);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK);
    if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK) {
        CHECK_STR(r->ack->dossier_code, ready_code);
        CHECK_INT(r->ack->state, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RESULT_READY);
        CHECK_INT(r->ack->due_at, 0);
        CHECK_STR(r->ack->due_text, "");
        CHECK_STR(r->ack->submission_id, "rt-rate-0001");
        CHECK(r->ack->message && strstr(r->ack->message, "Cảm ơn Ông/Bà đã đánh giá"));
        CHECK(r->ack->message && strstr(r->ack->message, "Rất hài lòng"));
    } else if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION) {
        printf("  refused: %s %s\n", harness_reason_name(r->rejection->reason), r->rejection->field);
    }
    motcua__v1__intake_reply__free_unpacked(r, NULL);

    /* the store: one rating with the level and the comment, one `rated` event without it */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM rating r JOIN dossier d ON d.id = r.dossier_id"
                            " WHERE d.code = $1 AND r.level = 1", ready_code), 1);
    char comment[300];
    CHECK(query_text("SELECT r.comment FROM rating r JOIN dossier d ON d.id = r.dossier_id"
                     " WHERE d.code = $1", ready_code, comment, sizeof comment) == 0);
    CHECK_STR(comment, COMMENT);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind = 'rated' AND e.actor = 'HARNESS_PORTAL'"
                            " AND e.detail LIKE '%Rất hài lòng%' AND e.detail NOT LIKE '%7781%'",
                            ready_code), 1);
    CHECK_INT(stored_for(ready_code), 111);
    /* a rating changes nothing else: the state and the closing time stay */
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", ready_code), MC_DOSSIER_RESULT_READY);

    /* the same bytes again: the same answer, byte for byte, and still one of everything */
    /* the clock moves on first: a replay that rebuilt its answer would show a different time */
    CHECK(harness_wait_next_second() == 0);
    CHECK(harness_request_raw_as(&H, HARNESS_PORTAL, bytes, n, 10000, &second, &second_len) == 0);
    REQUIRE(second);
    CHECK_INT(second_len, first_len);
    CHECK(second_len == first_len && memcmp(first, second, first_len) == 0);
    CHECK_INT(stored_for(ready_code), 111);

    /* the same id with another request: a duplicate submission, nothing changes */
    expect_refusal("rt-rate-0001", ready_code, token, MOTCUA__V1__SATISFACTION__SATISFACTION_SATISFIED,
                   COMMENT, "REASON_DUPLICATE_SUBMISSION", "submission_id");
    /* another id: the dossier is rated already */
    expect_refusal("rt-rate-0002", ready_code, token, MOTCUA__V1__SATISFACTION__SATISFACTION_NOT_SATISFIED,
                   "", "REASON_ALREADY_RATED", "dossier_code");
    CHECK_INT(stored_for(ready_code), 111);
    CHECK_INT(harness_count(&H, "SELECT level FROM rating r JOIN dossier d ON d.id = r.dossier_id"
                            " WHERE d.code = $1", ready_code), 1);
    free(first);
    free(second);
    free(bytes);
}

MC_TEST(refused_dossier_wrong_token_is_forbidden_then_right_token_rates)
{
    harness_dossier_t d;
    noi_quy_dossier(&d, "rt-refused-0001");
    char code[64], token[40] = "";
    REQUIRE(submit(&d, code) == 0);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", code, MC_DOSSIER_REFUSED, 20000), MC_DOSSIER_REFUSED);
    REQUIRE(link_from_spool(code, "refused", token) == 0);

    /* a well-formed token of another dossier, and a made-up one */
    char other[40] = "";
    REQUIRE(query_text("SELECT rating_token::text FROM dossier WHERE code = $1", ready_code, other,
                       sizeof other) == 0);
    remember_token(other);
    expect_refusal("rt-forbid-0001", code, other, MOTCUA__V1__SATISFACTION__SATISFACTION_SATISFIED,
                   COMMENT, "REASON_FORBIDDEN", "token");
    char guess[40];
    snprintf(guess, sizeof guess, "%s", token);
    guess[35] = guess[35] == '0' ? '1' : '0'; /* one character off */
    expect_refusal("rt-forbid-0002", code, guess, MOTCUA__V1__SATISFACTION__SATISFACTION_SATISFIED,
                   COMMENT, "REASON_FORBIDDEN", "token");
    CHECK_INT(stored_for(code), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE key LIKE 'rt-forbid-%'",
                            NULL), 0);

    /* a refusal stored nothing, so the same id works with the right token */
    Motcua__V1__IntakeReply *r = rate("rt-forbid-0001", code, token,
                                      MOTCUA__V1__SATISFACTION__SATISFACTION_NOT_SATISFIED, "");
    REQUIRE(r);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK);
    if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK) {
        CHECK_INT(r->ack->state, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_REFUSED);
        CHECK(strstr(r->ack->message, "Không hài lòng"));
    }
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(stored_for(code), 111);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM rating r JOIN dossier d ON d.id = r.dossier_id"
                            " WHERE d.code = $1 AND r.level = 3 AND r.comment = ''", code), 1);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_REFUSED);
}

MC_TEST(undecided_or_withdrawn_dossier_is_wrong_state)
{
    harness_dossier_t d;
    dat_dai_dossier(&d, "rt-open-0001");
    char code[64], token[40];
    REQUIRE(submit(&d, code) == 0);
    /* routed to DIA_CHINH, which is not connected: the dossier waits, undecided */
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", code, MC_DOSSIER_ROUTED, 10000), MC_DOSSIER_ROUTED);
    REQUIRE(query_text("SELECT rating_token::text FROM dossier WHERE code = $1", code, token,
                       sizeof token) == 0);
    remember_token(token);
    expect_refusal("rt-open-rate-01", code, token, MOTCUA__V1__SATISFACTION__SATISFACTION_SATISFIED,
                   COMMENT, "REASON_WRONG_STATE", "dossier_code");
    CHECK_INT(stored_for(code), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.code = $1 AND n.kind IN ('result_ready', 'refused')", code), 0);

    /* withdrawn: closed, but not decided, so no rating either */
    char args[300];
    snprintf(args, sizeof args, "withdraw %s --id rt-open-wd-01", code);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_WITHDRAWN);
    expect_refusal("rt-open-rate-02", code, token, MOTCUA__V1__SATISFACTION__SATISFACTION_SATISFIED,
                   "", "REASON_WRONG_STATE", "dossier_code");
    CHECK_INT(stored_for(code), 0);
}

MC_TEST(bad_fields_get_their_reasons_and_store_nothing)
{
    char code[64], token[40];
    REQUIRE(resolved_dossier("rt-fields-0001", code) == 0);
    REQUIRE(query_text("SELECT rating_token::text FROM dossier WHERE code = $1", code, token,
                       sizeof token) == 0);
    remember_token(token);
    const int ok_level = MOTCUA__V1__SATISFACTION__SATISFACTION_SATISFIED;
    long keys_before = harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE scope LIKE 'rate:%'", NULL);

    expect_refusal("rt-fields-r01", code, token, 0, COMMENT, "REASON_MISSING_FIELD", "level");
    expect_refusal("rt-fields-r02", code, token, 9, COMMENT, "REASON_INVALID_FORMAT", "level");
    expect_refusal("rt-fields-r03", code, token, -1, COMMENT, "REASON_INVALID_FORMAT", "level");

    char big[2002];
    memset(big, 'a', 2001);
    big[2001] = '\0';
    expect_refusal("rt-fields-r04", code, token, ok_level, big, "REASON_TOO_LARGE", "comment");
    expect_refusal("rt-fields-r05", code, token, ok_level, "Tr\xc3\x28n t\xe1\xba", "REASON_INVALID_UTF8",
                   "comment");

    /* the portal without the dossier's secret (the counter client needs none) */
    expect_refusal("rt-fields-r06", code, "", ok_level, "", "REASON_FORBIDDEN", "token");
    expect_refusal("rt-fields-r07", code, "not-a-token", ok_level, "", "REASON_INVALID_FORMAT", "token");
    char upper[40];
    snprintf(upper, sizeof upper, "%s", token);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    if (strcmp(upper, token) != 0) /* a token of digits only has no upper case */
        expect_refusal("rt-fields-r08", code, upper, ok_level, "", "REASON_INVALID_FORMAT", "token");
    char braces[48];
    snprintf(braces, sizeof braces, "{%.34s}", token); /* 36 characters, wrong shape */
    expect_refusal("rt-fields-r09", code, braces, ok_level, "", "REASON_INVALID_FORMAT", "token");
    char nodash[40];
    snprintf(nodash, sizeof nodash, "%s", token);
    nodash[8] = 'a';
    expect_refusal("rt-fields-r10", code, nodash, ok_level, "", "REASON_INVALID_FORMAT", "token");

    expect_refusal("bad id", code, token, ok_level, "", "REASON_INVALID_FORMAT", "submission_id");
    expect_refusal("", code, token, ok_level, "", "REASON_MISSING_FIELD", "submission_id");
    expect_refusal("rt-fields-r11", "", token, ok_level, "", "REASON_MISSING_FIELD", "dossier_code");
    expect_refusal("rt-fields-r12", "000.22.29.H26-200101-9999", token, ok_level, "",
                   "REASON_NOT_FOUND", "dossier_code");

    CHECK_INT(stored_for(code), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE scope LIKE 'rate:%'", NULL),
              keys_before);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code), MC_DOSSIER_RESULT_READY);

    /* the bound is 2000 bytes, not characters: 666 three-byte letters and two ASCII ones */
    char at_bound[2001] = "";
    for (int i = 0; i < 666; i++)
        strcat(at_bound, "ố");
    strcat(at_bound, "ab");
    REQUIRE(strlen(at_bound) == 2000);
    Motcua__V1__IntakeReply *r = rate("rt-fields-ok1", code, token, ok_level, at_bound);
    REQUIRE(r);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_count(&H, "SELECT octet_length(r.comment) FROM rating r JOIN dossier d"
                            " ON d.id = r.dossier_id WHERE d.code = $1 AND r.level = 2", code), 2000);
    CHECK_INT(stored_for(code), 111);
}

MC_TEST(cli_rate_and_its_exit_statuses)
{
    char code[64], token[40], args[1200];
    REQUIRE(resolved_dossier("rt-cli-0001", code) == 0);
    REQUIRE(link_from_spool(code, "result_ready", token) == 0);

    /* usage errors never reach the daemon */
    snprintf(args, sizeof args, "rate %s --token %s --level happy --id rt-cli-r01", code, token);
    CHECK_INT(harness_motcua(&H, args), 64);
    CHECK_INT(harness_run("grep -q 'very_satisfied, satisfied or not_satisfied' %s/motcua.out", H.dir), 0);
    snprintf(args, sizeof args, "rate %s --token %s --level satisfied", code, token);
    CHECK_INT(harness_motcua(&H, args), 64);
    snprintf(args, sizeof args, "rate %s --token %s --secret 11111111-0000-4000-8000-000000000000"
                                " --level satisfied --id rt-cli-r01", code, token);
    CHECK_INT(harness_motcua(&H, args), 64); /* two different secrets */
    CHECK_INT(harness_run("grep -qF -- '%s' %s/motcua.out", token, H.dir), 1); /* never echoed */
    snprintf(args, sizeof args, "rate --token %s --level satisfied --id rt-cli-r01", token);
    CHECK_INT(harness_motcua(&H, args), 64);
    CHECK_INT(harness_motcua(&H, "rate --help"), 0);
    CHECK_INT(harness_run("grep -q 'not_satisfied' %s/motcua.out", H.dir), 0);
    CHECK_INT(stored_for(code), 0);

    /* a wrong token: refused for good */
    snprintf(args, sizeof args, "rate %s --token 00000000-0000-4000-8000-000000000000"
                                " --level satisfied --id rt-cli-r02 --json", code);
    CHECK_INT(harness_motcua(&H, args), 2);
    CHECK_INT(harness_run("grep -q '\"reason\":\"FORBIDDEN\"' %s/motcua.out", H.dir), 0);

    /* recorded; the same command again is a retry and answers the same */
    snprintf(args, sizeof args, "rate %s --secret %s --level satisfied --id rt-cli-r03"
                                " --comment 'Thủ tục nhanh gọn (ý-kiến-7782)' --json", code, token);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_run("grep -q '\"result\":\"ack\"' %s/motcua.out", H.dir), 0);
    CHECK_INT(harness_run("grep -q '\"state\":\"RESULT_READY\"' %s/motcua.out", H.dir), 0);
    CHECK_INT(harness_run("cp %s/motcua.out %s/rate-first.out", H.dir, H.dir), 0);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_run("cmp -s %s/motcua.out %s/rate-first.out", H.dir, H.dir), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM rating r JOIN dossier d ON d.id = r.dossier_id"
                            " WHERE d.code = $1 AND r.level = 2 AND r.comment LIKE '%7782%'", code), 1);
    CHECK_INT(stored_for(code), 111);

    /* the people's form, and a second rating under another id */
    snprintf(args, sizeof args, "rate %s --token %s --level very_satisfied --id rt-cli-r04", code, token);
    CHECK_INT(harness_motcua(&H, args), 2);
    CHECK_INT(harness_run("grep -q 'ALREADY_RATED' %s/motcua.out", H.dir), 0);
    CHECK_INT(harness_run("grep -q 'đã được đánh giá' %s/motcua.out", H.dir), 0);
    CHECK_INT(stored_for(code), 111);

    /* without the secret: the portal is refused, the ward's counter (the applicant
     * is there in person) may rate; intake decides, the CLI sends either */
    char counter_code[64];
    REQUIRE(resolved_dossier("rt-cli-0002", counter_code) == 0);
    snprintf(args, sizeof args, "-k %s/keys/HARNESS_PORTAL.key rate %s --level satisfied"
                                " --id rt-cli-p01", H.dir, counter_code);
    CHECK_INT(harness_motcua(&H, args), 2);
    CHECK_INT(harness_run("grep -q 'FORBIDDEN' %s/motcua.out", H.dir), 0);
    CHECK_INT(stored_for(counter_code), 0);
    snprintf(args, sizeof args, "rate %s --level not_satisfied --id rt-cli-c01", counter_code);
    CHECK_INT(harness_motcua(&H, args), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM rating r JOIN dossier d ON d.id = r.dossier_id"
                            " WHERE d.code = $1 AND r.level = 3", counter_code), 1);

    /* nobody answers: retry later */
    char dead[700], to[200];
    snprintf(dead, sizeof dead, "%s/motcua-dead.yaml", H.dir);
    int port = harness_free_port(H.pg_port);
    REQUIRE(port > 0);
    snprintf(to, sizeof to, "client:\n  timeout_ms: 300\n  retries: 0\n");
    REQUIRE(harness_config_copy(&H, dead, "client:\n  timeout_ms: 5000\n  retries: 2\n", to) == 0);
    char from[160], endpoint[160];
    snprintf(from, sizeof from, "endpoint: \"%s\"", H.endpoint);
    snprintf(endpoint, sizeof endpoint, "endpoint: \"tcp://127.0.0.1:%d\"", port);
    char dead2[700];
    snprintf(dead2, sizeof dead2, "%s/motcua-dead2.yaml", H.dir);
    /* harness_config_copy works on the generated config: apply both edits through a copy */
    CHECK_INT(harness_run("sed -e 's|%s|%s|' %s > %s", from, endpoint, dead, dead2), 0);
    CHECK_INT(harness_run("%s/bin/motcua -c %s rate %s --token %s --level satisfied --id rt-cli-r05"
                          " > %s/dead.out 2>&1", H.build, dead2, code, token, H.dir), 3);
}

MC_TEST(logs_hold_neither_tokens_nor_comments)
{
    REQUIRE(n_seen >= 4);
    /* the spool does carry the tokens (that is the delivery): the grep below can find them */
    CHECK_INT(harness_run("grep -rqF -- '%s' %s/spool", seen_tokens[0], H.dir), 0);
    CHECK_INT(harness_run("grep -q 'event=rated' %s/intake.log", H.dir), 0);
    for (int i = 0; i < n_seen; i++) {
        int found = harness_run("cat %s/*.log | grep -qF -- '%s'", H.dir, seen_tokens[i]);
        if (found != 1)
            printf("  FAIL token %d appears in a log\n", i);
        CHECK_INT(found, 1);
    }
    /* the comments' markers (and a Vietnamese fragment of the first); whole
     * markers, since bare digits like "7781" can be part of a pid or port */
    const char *words[] = {"ý-kiến-7781", "ý-kiến-7782", "tận tình", "Thủ tục nhanh gọn"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        CHECK_INT(harness_run("cat %s/*.log | grep -qF -- '%s'", H.dir, words[i]), 1);
    /* nor in the history: the comment stays in the rating row */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event WHERE detail LIKE '%ý-kiến-778%'"
                            " OR detail ~ '[0-9a-f]{8}-[0-9a-f]{4}-'", NULL), 0);
}

MC_TEST(everything_stops_cleanly)
{
    for (int i = 0; i < n_agencies; i++)
        if (agency_pid[i] > 0) {
            CHECK_INT(harness_stop_daemon(agency_pid[i], SIGTERM), 0);
            agency_pid[i] = 0;
        }
    CHECK_INT(harness_stop_daemon(notify_pid, SIGTERM), 0);
    CHECK_INT(harness_stop_daemon(hub_pid, SIGTERM), 0);
    CHECK_INT(harness_stop_daemon(router_pid, SIGTERM), 0);
    notify_pid = hub_pid = router_pid = 0;
    CHECK_INT(harness_signal_intake(&H, SIGTERM), 0);
}

/* --- setup ---------------------------------------------------------------- */

/* start_agency - motcua-agency for code with outcomes; waits until it connected */
static int start_agency(const char *code, const char *outcomes)
{
    int i = 0;
    while (i < n_agencies && strcmp(agency_code[i], code) != 0)
        i++;
    if (i == n_agencies)
        return -1;
    char key[500], server[500], log[128];
    snprintf(key, sizeof key, "%s/%s.key", keys, code);
    snprintf(server, sizeof server, "%s/lienthong.pub", keys);
    snprintf(log, sizeof log, "agency-%s.log", code);
    const char *args[] = {"-c", H.config, "--agency", code, "--key", key, "--server-key", server,
                          "--delay-ms", "2", "--credit", "50", "--outcomes", outcomes, NULL};
    agency_pid[i] = harness_spawn(&H, "motcua-agency", log, args);
    if (agency_pid[i] <= 0)
        return -1;
    long long deadline = harness_now_ms() + 10000;
    while (harness_now_ms() < deadline) {
        if (harness_run("grep -q event=connected %s/%s", H.dir, log) == 0)
            return 0;
        usleep(50000);
    }
    return -1;
}

/* setup - config, keys, the four daemons, two desks */
static int setup(void)
{
    if (harness_setup(&H, "rating", 2) != 0)
        return -1;
    if (harness_pipeline_setup(&H, 300, 16, agency_code, MAX_AGENCIES, &n_agencies) != 0)
        return -1;
    snprintf(keys, sizeof keys, "%s/keys", H.dir);
    if (harness_config_copy(&H, H.config, "  retry_max_ms: 800\n",
                            "  retry_max_ms: 800\n  rating_url: \"" RATING_URL "\"\n") != 0)
        return -1;
    if (harness_start_intake(&H) != 0)
        return -1;
    if ((router_pid = harness_start_daemon(&H, "router", NULL, "router.log")) <= 0 ||
        (hub_pid = harness_start_daemon(&H, "lienthong", NULL, "lienthong.log")) <= 0 ||
        (notify_pid = harness_start_daemon(&H, "notify", NULL, "notify.log")) <= 0)
        return -1;
    if (start_agency("TU_PHAP", "approved=100") != 0 ||
        start_agency("VAN_HOA_XA_HOI", "rejected=100") != 0)
        return -1;
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long long t0 = harness_now_ms();
    if (setup() != 0) {
        printf("  FAIL setup\n");
        harness_run("tail -n 20 %s/*.log %s/motcua.out >&2 2>/dev/null", H.dir, H.dir);
        mc_test_failed++;
    } else {
        mc_test_run(rating_from_the_result_notice_link_is_recorded_once);
        mc_test_run(refused_dossier_wrong_token_is_forbidden_then_right_token_rates);
        mc_test_run(undecided_or_withdrawn_dossier_is_wrong_state);
        mc_test_run(bad_fields_get_their_reasons_and_store_nothing);
        mc_test_run(cli_rate_and_its_exit_statuses);
        mc_test_run(logs_hold_neither_tokens_nor_comments);
        mc_test_run(everything_stops_cleanly);
    }
    for (int i = 0; i < n_agencies; i++)
        if (agency_pid[i] > 0)
            harness_stop_daemon(agency_pid[i], SIGKILL);
    if (notify_pid > 0)
        harness_stop_daemon(notify_pid, SIGKILL);
    if (hub_pid > 0)
        harness_stop_daemon(hub_pid, SIGKILL);
    if (router_pid > 0)
        harness_stop_daemon(router_pid, SIGKILL);
    mc_transport_term();
    if (mc_test_failed)
        harness_run("grep -hE 'level=(err|warning|crit)|<[0-3]>' %s/*.log 2>/dev/null | head -n 20", H.dir);
    harness_teardown(&H);
    printf("  it_rating took %.1f s\n", (harness_now_ms() - t0) / 1000.0);
    return mc_test_done("it_rating");
}
