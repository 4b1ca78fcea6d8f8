/*
 * it_intake - motcua-intake against a real PostgreSQL over real ZeroMQ.
 *
 * One cluster and one daemon for the whole program (start-up is the slow
 * part); each test uses its own submission ids so they do not interfere,
 * and the tests that stop things (PostgreSQL down, kill -9, SIGTERM) run
 * last and leave the daemon running again for the next.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <zmq.h>

#include "mc_states.h"
#include "harness.h"
#include "mc_calendar.h"
#include "mc_code.h"
#include "mc_test.h"
#include "mc_transport.h"

static harness_t H; /* the shared cluster and daemon */

/* submit - send a dossier, expect a reply */
static Motcua__V1__IntakeReply *submit(harness_dossier_t *d)
{
    Motcua__V1__IntakeReply *reply = NULL;
    if (harness_request(&H, &d->request, 10000, &reply) != 0)
        return NULL;
    return reply;
}

/* dossier_rows - how many dossiers the store holds */
static long dossier_rows(void)
{
    return harness_count(&H, "SELECT count(*) FROM dossier", NULL);
}

MC_TEST(valid_submit_is_stored_and_receipt_matches_row)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "it-valid-0001");
    long before = dossier_rows();
    Motcua__V1__IntakeReply *r = submit(&d);
    REQUIRE(r);
    REQUIRE(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    Motcua__V1__Receipt *rc = r->receipt;
    CHECK_INT(dossier_rows(), before + 1);
    /* the code has the national shape and the unit of the ward */
    char unit[64];
    mc_date_t day;
    int seq;
    CHECK(mc_code_parse(rc->dossier_code, unit, sizeof unit, &day, &seq) == 0);
    CHECK_STR(unit, "000.22.29.H26");
    mc_date_t today = mc_date_of(rc->received_at, NULL);
    CHECK_INT(day.year, today.year);
    CHECK_INT(day.month, today.month);
    CHECK_INT(day.day, today.day);
    CHECK(seq >= 1);
    /* the row says what the receipt says */
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM due_at)::bigint FROM dossier WHERE code = $1",
                            rc->dossier_code), rc->due_at);
    CHECK_INT(harness_count(&H, "SELECT extract(epoch FROM received_at)::bigint FROM dossier WHERE code = $1",
                            rc->dossier_code), rc->received_at);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1 AND procedure_code = '1.001193'"
                            " AND channel = 1 AND state = " MC_SQL(MC_DOSSIER_RECEIVED) " AND ward_code = '00229'", rc->dossier_code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id"
                            " WHERE d.code = $1 AND e.kind = 'received'", rc->dossier_code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE key = $1 AND dossier_id IS NOT NULL",
                            "it-valid-0001"), 1);
    /* the receipt carries the form's fields */
    CHECK_STR(rc->procedure_code, "1.001193");
    CHECK(rc->procedure_name && strstr(rc->procedure_name, "khai sinh"));
    CHECK_STR(rc->applicant_name, "Trần Văn Minh");
    CHECK_INT(rc->n_documents, 3);
    CHECK_INT(rc->document_count, 3);
    CHECK(rc->due_at >= rc->received_at);
    CHECK(rc->due_text && strstr(rc->due_text, "ngày"));
    CHECK_STR(rc->submission_id, "it-valid-0001");
    CHECK(rc->receiving_unit_name && strstr(rc->receiving_unit_name, "Kim Liên"));
    /* the payload is stored whole: it unpacks to the same applicant */
    PGresult *res = PQexecParams(harness_db(&H), "SELECT payload FROM dossier WHERE code = $1", 1,
                                 NULL, (const char *const[]){rc->dossier_code}, NULL, NULL, 1);
    REQUIRE(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
    Motcua__V1__Dossier *stored = motcua__v1__dossier__unpack(
        NULL, (size_t)PQgetlength(res, 0, 0), (const uint8_t *)PQgetvalue(res, 0, 0));
    PQclear(res);
    REQUIRE(stored);
    CHECK_STR(stored->applicant->person->citizen_id, "001085012345");
    CHECK_INT(stored->n_documents, 3);
    motcua__v1__dossier__free_unpacked(stored, NULL);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
}

MC_TEST(retry_with_same_submission_id_returns_same_receipt_and_one_row)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "it-retry-0001");
    size_t n = motcua__v1__intake_request__get_packed_size(&d.request);
    uint8_t *buf = malloc(n);
    REQUIRE(buf);
    motcua__v1__intake_request__pack(&d.request, buf);
    uint8_t *first = NULL, *second = NULL;
    size_t first_len = 0, second_len = 0;
    CHECK(harness_request_raw(&H, buf, n, 10000, &first, &first_len) == 0);
    /* the clock moves on before the retry: a retry that made a new receipt would
     * show a later received_at */
    CHECK(harness_wait_next_second() == 0);
    CHECK(harness_request_raw(&H, buf, n, 10000, &second, &second_len) == 0);
    REQUIRE(first && second);
    CHECK_INT(first_len, second_len);
    CHECK(first_len == second_len && memcmp(first, second, first_len) == 0);
    Motcua__V1__IntakeReply *r = motcua__v1__intake_reply__unpack(NULL, first_len, first);
    REQUIRE(r);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE submission_id = $1", "it-retry-0001"), 1);
    /* the receipt's notification is queued once, not once per retry */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM notification n JOIN dossier d ON d.id = n.dossier_id"
                            " WHERE d.submission_id = $1 AND n.kind = 'received'", "it-retry-0001"), 1);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    free(first);
    free(second);
    free(buf);
}

MC_TEST(same_submission_id_for_other_dossier_is_refused)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "it-conflict-0001");
    Motcua__V1__IntakeReply *r = submit(&d);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    long before = dossier_rows();
    d.person.full_name = (char *)"Người Khác";
    r = submit(&d);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION);
    CHECK_STR(harness_reason_name(r->rejection->reason), "REASON_DUPLICATE_SUBMISSION");
    CHECK(!r->rejection->retryable);
    CHECK_INT(dossier_rows(), before);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
}

/* expect_rejection - submit d, expect reason and field, and no new row */
static void expect_rejection(harness_dossier_t *d, const char *reason, const char *field)
{
    long before = dossier_rows();
    Motcua__V1__IntakeReply *r = submit(d);
    if (!r) {
        printf("  FAIL no reply for %s\n", reason);
        mc_test_current_bad++;
        return;
    }
    if (r->body_case != MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION) {
        printf("  FAIL expected %s, got a receipt\n", reason);
        mc_test_current_bad++;
    } else {
        CHECK_STR(harness_reason_name(r->rejection->reason), reason);
        if (field)
            CHECK_STR(r->rejection->field, field);
        CHECK(r->rejection->message && strlen(r->rejection->message) > 5);
        CHECK(!r->rejection->retryable);
    }
    CHECK_INT(dossier_rows(), before);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
}

/* fee_of - submit d and return the receipt's fee (-1 when refused) */
static long long fee_of(harness_dossier_t *d)
{
    Motcua__V1__IntakeReply *r = submit(d);
    long long fee = r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT
                        ? (long long)r->receipt->fee_vnd
                        : -1;
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    return fee;
}

/* chung_thuc - a chứng thực dossier (direct only): the original shown, the copy
 * to certify with the original's pages and the copies wanted */
static void chung_thuc(harness_dossier_t *d, const char *sid, uint32_t pages, uint32_t copies)
{
    harness_dossier_init(d, sid);
    d->dossier.procedure_code = (char *)"2.000815";
    d->dossier.channel = MOTCUA__V1__CHANNEL__CHANNEL_DIRECT;
    d->submit.received_by = (char *)"Cán bộ tiếp nhận";
    d->docs[0].document_type = (char *)"BAN_CHINH";
    d->docs[0].pages = pages; /* the original itself is never charged */
    d->docs[1].document_type = (char *)"BAN_SAO";
    d->docs[1].form = MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_COPY;
    d->docs[1].pages = pages;
    d->docs[1].copies = copies;
    d->dossier.n_documents = 2;
}

MC_TEST(fee_is_computed_from_the_dossier)
{
    harness_dossier_t d;
    /* Thông tư 226/2016 Điều 4: 2,000 đ for each of the first two pages, 1,000 đ further */
    chung_thuc(&d, "it-fee-ct-0001", 3, 1);
    CHECK_INT(fee_of(&d), 2000 * 2 + 1000);
    chung_thuc(&d, "it-fee-ct-0002", 3, 2); /* per copy */
    CHECK_INT(fee_of(&d), 2 * 5000);
    chung_thuc(&d, "it-fee-ct-0003", 500, 1); /* capped at 200,000 đ a copy */
    CHECK_INT(fee_of(&d), 200000);
    chung_thuc(&d, "it-fee-ct-0004", 0, 1); /* no pages given: the minimum, one page */
    CHECK_INT(fee_of(&d), 2000);
    /* the stored receipt says the same: a retry replays 5,000 đ */
    chung_thuc(&d, "it-fee-ct-0001", 3, 1);
    CHECK_INT(fee_of(&d), 5000);
    chung_thuc(&d, "it-fee-ct-0005", 10001, 1);
    expect_rejection(&d, "REASON_TOO_LARGE", "dossier.documents[0].pages");
    /* Thông tư 75/2022: đăng ký thường trú 20,000 đ at the counter, 10,000 đ online */
    static const struct {
        const char *sid;
        Motcua__V1__Channel channel;
        long long fee;
    } tt[] = {{"it-fee-tt-0001", MOTCUA__V1__CHANNEL__CHANNEL_DIRECT, 20000},
              {"it-fee-tt-0002", MOTCUA__V1__CHANNEL__CHANNEL_ONLINE, 10000}};
    for (size_t i = 0; i < sizeof tt / sizeof tt[0]; i++) {
        harness_dossier_init(&d, tt[i].sid);
        d.dossier.procedure_code = (char *)"1.004222";
        d.dossier.channel = tt[i].channel;
        if (tt[i].channel == MOTCUA__V1__CHANNEL__CHANNEL_DIRECT)
            d.submit.received_by = (char *)"Cán bộ tiếp nhận";
        d.docs[0].document_type = (char *)"TO_KHAI_CU_TRU";
        d.docs[1].document_type = (char *)"GIAY_TO_CHO_O_HOP_PHAP";
        d.dossier.n_documents = 2;
        CHECK_INT(fee_of(&d), tt[i].fee);
    }
}

MC_TEST(each_invalid_input_gets_its_reason_and_no_row)
{
    harness_dossier_t d;
    Motcua__V1__DocumentRef *one_doc[1];
    Motcua__V1__DocumentRef many[60];
    Motcua__V1__DocumentRef *many_ptrs[60];

    harness_dossier_init(&d, "it-bad-cccd-01");
    d.person.citizen_id = (char *)"12345";
    expect_rejection(&d, "REASON_INVALID_FORMAT", "dossier.applicant.person.citizen_id");

    harness_dossier_init(&d, "it-bad-cccd-02");
    d.person.citizen_id = (char *)"999085012345"; /* province 999 does not exist */
    expect_rejection(&d, "REASON_INVALID_FORMAT", "dossier.applicant.person.citizen_id");

    harness_dossier_init(&d, "it-bad-phone-01");
    d.applicant.phone = (char *)"12345";
    expect_rejection(&d, "REASON_INVALID_FORMAT", "dossier.applicant.phone");

    harness_dossier_init(&d, "it-bad-mail-01");
    d.applicant.email = (char *)"not-an-email";
    expect_rejection(&d, "REASON_INVALID_FORMAT", "dossier.applicant.email");

    harness_dossier_init(&d, "it-bad-proc-01");
    d.dossier.procedure_code = (char *)"9.999999";
    expect_rejection(&d, "REASON_UNKNOWN_PROCEDURE", "dossier.procedure_code");

    harness_dossier_init(&d, "it-bad-ward-01");
    d.dossier.ward_code = (char *)"99999";
    expect_rejection(&d, "REASON_UNKNOWN_WARD", "dossier.ward_code");

    /* chứng thực bản sao needs the original in hand: counter only */
    harness_dossier_init(&d, "it-bad-chan-01");
    d.dossier.procedure_code = (char *)"2.000815";
    d.dossier.channel = MOTCUA__V1__CHANNEL__CHANNEL_ONLINE;
    expect_rejection(&d, "REASON_CHANNEL_NOT_ALLOWED", "dossier.channel");

    harness_dossier_init(&d, "it-bad-chan-02");
    d.dossier.channel = MOTCUA__V1__CHANNEL__CHANNEL_UNSPECIFIED;
    expect_rejection(&d, "REASON_MISSING_FIELD", "dossier.channel");

    harness_dossier_init(&d, "it-bad-docs-01");
    one_doc[0] = &d.docs[0];
    d.dossier.documents = one_doc;
    d.dossier.n_documents = 1;
    expect_rejection(&d, "REASON_MISSING_DOCUMENT", "dossier.documents");

    harness_dossier_init(&d, "it-bad-docs-02");
    for (int i = 0; i < 60; i++) {
        many[i] = d.docs[i % 3];
        many_ptrs[i] = &many[i];
    }
    d.dossier.documents = many_ptrs;
    d.dossier.n_documents = 60;
    expect_rejection(&d, "REASON_TOO_LARGE", "dossier.documents");

    harness_dossier_init(&d, "it-bad-sha-01");
    d.docs[1].sha256.len = 20;
    expect_rejection(&d, "REASON_INVALID_FORMAT", "dossier.documents[1].sha256");

    harness_dossier_init(&d, "it-bad-size-01");
    d.docs[2].size_bytes = 200ull * 1024 * 1024;
    expect_rejection(&d, "REASON_TOO_LARGE", "dossier.documents[2].size_bytes");

    harness_dossier_init(&d, "it-bad-uri-01");
    d.docs[0].uri = (char *)"no scheme here";
    expect_rejection(&d, "REASON_INVALID_FORMAT", "dossier.documents[0].uri");

    harness_dossier_init(&d, "it-bad-app-01");
    d.dossier.applicant = NULL;
    expect_rejection(&d, "REASON_MISSING_FIELD", "dossier.applicant");

    harness_dossier_init(&d, "it-bad-name-01");
    d.person.full_name = (char *)"";
    expect_rejection(&d, "REASON_MISSING_FIELD", "dossier.applicant.person.full_name");

    harness_dossier_init(&d, "bad id with spaces");
    expect_rejection(&d, "REASON_INVALID_FORMAT", "submission_id");

    harness_dossier_init(&d, "it-bad-addr-01");
    char longtext[700];
    memset(longtext, 'a', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    d.applicant.address = longtext;
    expect_rejection(&d, "REASON_TOO_LARGE", "dossier.applicant.address");

    harness_dossier_init(&d, "it-bad-org-01");
    Motcua__V1__Organization org = MOTCUA__V1__ORGANIZATION__INIT;
    org.name = (char *)"Công ty TNHH Kim Liên";
    org.enterprise_code = (char *)"12AB";
    org.filed_by = &d.person;
    d.applicant.kind_case = MOTCUA__V1__APPLICANT__KIND_ORGANIZATION;
    d.applicant.organization = &org;
    expect_rejection(&d, "REASON_INVALID_FORMAT", "dossier.applicant.organization.enterprise_code");
}

/* raw_reason - send raw bytes, return the rejection reason name (static buffer) */
static const char *raw_reason(const void *bytes, size_t len)
{
    static char name[64];
    uint8_t *out = NULL;
    size_t out_len = 0;
    snprintf(name, sizeof name, "(no reply)");
    if (harness_request_raw(&H, bytes, len, 10000, &out, &out_len) != 0)
        return name;
    Motcua__V1__IntakeReply *r = motcua__v1__intake_reply__unpack(NULL, out_len, out);
    free(out);
    if (!r)
        snprintf(name, sizeof name, "(garbage reply)");
    else if (r->body_case != MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION)
        snprintf(name, sizeof name, "(not a rejection)");
    else
        snprintf(name, sizeof name, "%s", harness_reason_name(r->rejection->reason));
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    return name;
}

MC_TEST(malformed_frames_are_answered_and_change_nothing)
{
    long before = dossier_rows();
    CHECK_STR(raw_reason("\xff\xff\xff\xff garbage", 13), "REASON_MALFORMED");
    CHECK_STR(raw_reason("\x0a\x05\x0a\x03", 4), "REASON_MALFORMED"); /* truncated */
    /* an IntakeRequest with no body */
    CHECK_STR(raw_reason("\x00", 0 + 1) , "REASON_MALFORMED");
    /* a frame over max_request_bytes (256 KiB) but under the hard bound */
    size_t big = 300 * 1024;
    uint8_t *blob = calloc(1, big);
    REQUIRE(blob);
    CHECK_STR(raw_reason(blob, big), "REASON_TOO_LARGE");
    free(blob);
    /* invalid UTF-8 inside a string field */
    harness_dossier_t d;
    harness_dossier_init(&d, "it-bad-utf8-01");
    d.person.full_name = (char *)"Tr\xc3\x28n";
    size_t n = motcua__v1__intake_request__get_packed_size(&d.request);
    uint8_t *buf = malloc(n);
    REQUIRE(buf);
    motcua__v1__intake_request__pack(&d.request, buf);
    const char *reason = raw_reason(buf, n);
    CHECK_STR(reason, "REASON_INVALID_UTF8");
    free(buf);
    CHECK_INT(dossier_rows(), before);
}

MC_TEST(two_payload_frames_and_req_sockets)
{
    mc_err_t err;
    mc_err_clear(&err);
    /* a DEALER that sends two payload frames gets MALFORMED */
    void *s = mc_transport_connect_as(ZMQ_DEALER, H.endpoint, NULL, &H.keys[HARNESS_COUNTER], &err);
    REQUIRE(s);
    zmq_send(s, "a", 1, ZMQ_SNDMORE);
    zmq_send(s, "b", 1, 0);
    int timeout = 10000;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    uint8_t buf[4096];
    int n = zmq_recv(s, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    Motcua__V1__IntakeReply *r = motcua__v1__intake_reply__unpack(NULL, (size_t)n, buf);
    REQUIRE(r);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION &&
          r->rejection->reason == MOTCUA__V1__REASON__REASON_MALFORMED);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    mc_transport_close(&s);

    /* a REQ socket (with its own delimiter) gets a receipt */
    harness_dossier_t d;
    harness_dossier_init(&d, "it-req-socket-01");
    size_t len = motcua__v1__intake_request__get_packed_size(&d.request);
    uint8_t *req = malloc(len);
    REQUIRE(req);
    motcua__v1__intake_request__pack(&d.request, req);
    s = mc_transport_connect_as(ZMQ_REQ, H.endpoint, NULL, &H.keys[HARNESS_COUNTER], &err);
    REQUIRE(s);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    CHECK(zmq_send(s, req, len, 0) == (int)len);
    n = zmq_recv(s, buf, sizeof buf, 0);
    REQUIRE(n > 0 && (size_t)n <= sizeof buf);
    r = motcua__v1__intake_reply__unpack(NULL, (size_t)n, buf);
    REQUIRE(r);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    mc_transport_close(&s);

    /* a DEALER without the delimiter gets a receipt (the replay) too */
    s = mc_transport_connect_as(ZMQ_DEALER, H.endpoint, NULL, &H.keys[HARNESS_COUNTER], &err);
    REQUIRE(s);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    CHECK(zmq_send(s, req, len, 0) == (int)len);
    n = zmq_recv(s, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    r = motcua__v1__intake_reply__unpack(NULL, (size_t)n, buf);
    REQUIRE(r);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    mc_transport_close(&s);
    free(req);
}

/* status - StatusQuery for code */
static Motcua__V1__IntakeReply *status(const char *code)
{
    Motcua__V1__StatusQuery q = MOTCUA__V1__STATUS_QUERY__INIT;
    q.dossier_code = (char *)code;
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS;
    req.status = &q;
    Motcua__V1__IntakeReply *r = NULL;
    harness_request(&H, &req, 10000, &r);
    return r;
}

MC_TEST(status_query_returns_state_and_history)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "it-status-0001");
    Motcua__V1__IntakeReply *r = submit(&d);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    char code[64];
    snprintf(code, sizeof code, "%s", r->receipt->dossier_code);
    int64_t due = r->receipt->due_at;
    motcua__v1__intake_reply__free_unpacked(r, NULL);

    r = status(code);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_STATUS);
    CHECK_STR(r->status->dossier_code, code);
    CHECK_INT(r->status->state, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RECEIVED);
    CHECK_INT(r->status->due_at, due);
    CHECK_INT(r->status->n_history, 1);
    if (r->status->n_history == 1)
        CHECK_STR(r->status->history[0]->kind, "received");
    motcua__v1__intake_reply__free_unpacked(r, NULL);

    r = status("000.22.29.H26-200101-9999");
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION);
    CHECK_STR(harness_reason_name(r->rejection->reason), "REASON_NOT_FOUND");
    motcua__v1__intake_reply__free_unpacked(r, NULL);

    r = status("'; DROP TABLE dossier; --");
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION);
    CHECK_STR(harness_reason_name(r->rejection->reason), "REASON_INVALID_FORMAT");
    motcua__v1__intake_reply__free_unpacked(r, NULL);
}

/* status_as - StatusQuery for code (and secret, may be NULL) as client who */
static Motcua__V1__IntakeReply *status_as(harness_client_t who, const char *code,
                                          const char *secret)
{
    Motcua__V1__StatusQuery q = MOTCUA__V1__STATUS_QUERY__INIT;
    q.dossier_code = (char *)code;
    q.secret = (char *)(secret ? secret : "");
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS;
    req.status = &q;
    Motcua__V1__IntakeReply *r = NULL;
    harness_request_as(&H, who, &req, 10000, &r);
    return r;
}

/* refused_with - r is a Rejection with this reason on this field (r freed) */
static bool refused_with(Motcua__V1__IntakeReply *r, const char *reason, const char *field)
{
    bool ok = r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION &&
              strcmp(harness_reason_name(r->rejection->reason), reason) == 0 &&
              strcmp(r->rejection->field, field) == 0;
    if (!ok)
        printf("  info: expected %s on %s, got %s\n", reason, field,
               !r ? "no reply"
               : r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION
                   ? harness_reason_name(r->rejection->reason)
                   : "an answer");
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    return ok;
}

/* withdraw_as - WithdrawDossier of code with secret (may be "") as client who */
static Motcua__V1__IntakeReply *withdraw_as(harness_client_t who, const char *sid,
                                            const char *code, const char *secret)
{
    Motcua__V1__WithdrawDossier w = MOTCUA__V1__WITHDRAW_DOSSIER__INIT;
    w.submission_id = (char *)sid;
    w.dossier_code = (char *)code;
    w.secret = (char *)secret;
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_WITHDRAW;
    req.withdraw = &w;
    Motcua__V1__IntakeReply *r = NULL;
    harness_request_as(&H, who, &req, 10000, &r);
    return r;
}

/* submit_for - a receipt for a new dossier of ward as client who; code and secret copied out */
static bool submit_for(harness_client_t who, const char *sid, const char *ward, char code[64],
                       char secret[64])
{
    harness_dossier_t d;
    harness_dossier_init(&d, sid);
    d.dossier.ward_code = (char *)ward;
    Motcua__V1__IntakeReply *r = NULL;
    bool ok = harness_request_as(&H, who, &d.request, 10000, &r) == 0 && r &&
              r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
    if (ok) {
        snprintf(code, 64, "%s", r->receipt->dossier_code);
        snprintf(secret, 64, "%s", r->receipt->secret);
    }
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    return ok;
}

MC_TEST(an_unknown_key_gets_nothing)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "it-attack-stranger-01");
    long before = dossier_rows();
    Motcua__V1__IntakeReply *r = NULL;
    /* refused in the CURVE handshake: no reply at all, not even a rejection */
    CHECK(harness_request_as(&H, HARNESS_STRANGER, &d.request, 1500, &r) != 0);
    CHECK(r == NULL);
    CHECK_INT(dossier_rows(), before);
    /* and a plain-text client does not get through either */
    uint8_t *out = NULL;
    size_t out_len = 0;
    mc_err_t err;
    mc_err_clear(&err);
    CHECK(mc_transport_request(H.endpoint, "x", 1, 1500, 0, 1 << 20, (void **)&out, &out_len,
                               &err) != 0);
    free(out);
    CHECK(harness_count(&H, "SELECT 1", NULL) == 1);
    CHECK(harness_run("grep -q 'event=client_refused' %s/intake.log", H.dir) == 0);
}

MC_TEST(a_ward_office_acting_for_another_ward_is_refused)
{
    char code[64], secret[64], other[64], other_secret[64];
    REQUIRE(submit_for(HARNESS_COUNTER, "it-attack-ward-0001", "00229", code, secret));
    long before = dossier_rows();
    /* QUAY_00220 acts for 00220 only: it may not submit for 00229 ... */
    harness_dossier_t d;
    harness_dossier_init(&d, "it-attack-ward-0002");
    Motcua__V1__IntakeReply *r = NULL;
    CHECK(harness_request_as(&H, HARNESS_OTHER_WARD, &d.request, 10000, &r) == 0);
    CHECK(refused_with(r, "REASON_FORBIDDEN", "dossier.ward_code"));
    CHECK_INT(dossier_rows(), before);
    /* ... nor ask about, nor withdraw, a dossier of 00229, even with its secret */
    CHECK(refused_with(status_as(HARNESS_OTHER_WARD, code, NULL), "REASON_FORBIDDEN",
                       "dossier_code"));
    CHECK(refused_with(withdraw_as(HARNESS_OTHER_WARD, "it-attack-ward-w01", code, secret),
                       "REASON_FORBIDDEN", "dossier_code"));
    /* a code of 00229 that does not exist gets the same answer: no existence oracle */
    CHECK(refused_with(status_as(HARNESS_OTHER_WARD, "000.22.29.H26-200101-9999", NULL),
                       "REASON_FORBIDDEN", "dossier_code"));
    /* its own ward works */
    CHECK(submit_for(HARNESS_OTHER_WARD, "it-attack-ward-0003", "00220", other, other_secret));
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code),
              MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RECEIVED);
}

MC_TEST(the_portal_needs_the_applicants_secret)
{
    char code[64], secret[64];
    REQUIRE(submit_for(HARNESS_PORTAL, "it-attack-secret-01", "00229", code, secret));
    CHECK_INT((long)strlen(secret), 36);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE rating_token::text = $1",
                            secret), 1);
    char wrong[64];
    snprintf(wrong, sizeof wrong, "%s", secret);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    /* status by code alone: state and dates, nothing personal, no history */
    Motcua__V1__IntakeReply *r = status_as(HARNESS_PORTAL, code, NULL);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_STATUS);
    CHECK_INT(r->status->state, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RECEIVED);
    CHECK(r->status->due_at > 0);
    CHECK_INT(r->status->n_history, 0);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    /* with the secret: the history, naming the client that received it */
    r = status_as(HARNESS_PORTAL, code, secret);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_STATUS);
    CHECK_INT(r->status->n_history, 1);
    if (r->status->n_history == 1)
        CHECK_STR(r->status->history[0]->actor, "HARNESS_PORTAL");
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK(refused_with(status_as(HARNESS_PORTAL, code, wrong), "REASON_FORBIDDEN", "secret"));
    /* withdrawal without the secret, or with a wrong one: refused, nothing changes */
    CHECK(refused_with(withdraw_as(HARNESS_PORTAL, "it-attack-secret-w1", code, ""),
                       "REASON_FORBIDDEN", "secret"));
    CHECK(refused_with(withdraw_as(HARNESS_PORTAL, "it-attack-secret-w2", code, wrong),
                       "REASON_FORBIDDEN", "secret"));
    CHECK(refused_with(withdraw_as(HARNESS_COUNTER, "it-attack-secret-w3", code, wrong),
                       "REASON_FORBIDDEN", "secret"));
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code),
              MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RECEIVED);
    /* with it: accepted, and the history records the client */
    r = withdraw_as(HARNESS_PORTAL, "it-attack-secret-w4", code, secret);
    CHECK(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK);
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                                " ON d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'withdrawn'"
                                " AND e.actor = 'HARNESS_PORTAL'", code), 1);
}

MC_TEST(the_history_records_the_client_and_the_clerk)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "it-attack-history-1");
    d.submit.received_by = (char *)"Nguyễn Thị Lan";
    Motcua__V1__IntakeReply *r = submit(&d);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    char code[64];
    snprintf(code, sizeof code, "%s", r->receipt->dossier_code);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                                " ON d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'received'"
                                " AND e.actor = 'HARNESS_COUNTER'"
                                " AND e.detail LIKE '%người tiếp nhận: Nguyễn Thị Lan%'", code), 1);
    /* the counter client sees the history without a secret */
    r = status_as(HARNESS_COUNTER, code, NULL);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_STATUS);
    CHECK_INT(r->status->n_history, 1);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
}

/* find_bytes - the first place needle occurs in hay, or NULL (memmem is GNU only) */
static uint8_t *find_bytes(uint8_t *hay, size_t n, const void *needle, size_t k)
{
    for (size_t i = 0; k && k <= n && i <= n - k; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return hay + i;
    return NULL;
}

/* packed - d's request serialized (malloc'd) */
static uint8_t *packed(const Motcua__V1__IntakeRequest *req, size_t *n)
{
    *n = motcua__v1__intake_request__get_packed_size(req);
    uint8_t *buf = malloc(*n ? *n : 1);
    if (buf)
        motcua__v1__intake_request__pack(req, buf);
    return buf;
}

/* raw_as - send bytes as client who; the reply unpacked (NULL if none), raw bytes kept */
static Motcua__V1__IntakeReply *raw_as(harness_client_t who, const uint8_t *bytes, size_t n,
                                       uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (harness_request_raw_as(&H, who, bytes, n, 10000, out, out_len) != 0 || !*out)
        return NULL;
    return motcua__v1__intake_reply__unpack(NULL, *out_len, *out);
}

/* refused_raw - bytes as the counter: refused with reason on field, nothing stored,
 * and the reply does not carry `secret_bytes` (the smuggled value) back */
static void refused_raw(const uint8_t *bytes, size_t n, const char *reason, const char *field,
                        const char *sid, const char *secret_bytes)
{
    long before = dossier_rows();
    uint8_t *out = NULL;
    size_t out_len = 0;
    Motcua__V1__IntakeReply *r = raw_as(HARNESS_COUNTER, bytes, n, &out, &out_len);
    CHECK(refused_with(r, reason, field));
    CHECK_INT(dossier_rows(), before);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM idempotency_key WHERE key = $1", sid), 0);
    if (secret_bytes && out)
        CHECK(find_bytes(out, out_len, secret_bytes, strlen(secret_bytes)) == NULL);
    free(out);
}

MC_TEST(strict_decoding_refuses_what_protobuf_c_would_let_through)
{
    /* an unknown field at the top level: refused, not kept and stored */
    harness_dossier_t d;
    harness_dossier_init(&d, "it-wire-unknown-01");
    size_t n = 0;
    uint8_t *buf = packed(&d.request, &n);
    REQUIRE(buf);
    uint8_t *top = malloc(n + 4);
    REQUIRE(top);
    memcpy(top, buf, n);
    memcpy(top + n, "\x4a\x02hi", 4); /* field 9, length-delimited, "hi" */
    refused_raw(top, n + 4, "REASON_MALFORMED", "", "it-wire-unknown-01", NULL);
    free(top);
    free(buf);

    /* 60 KB of non-UTF-8 in an unknown field inside the dossier: refused with the
     * path; it would otherwise be stored in the payload and sent on to agencies */
    harness_dossier_init(&d, "it-wire-unknown-02");
    enum { SMUGGLED = 60 * 1024 };
    uint8_t *junk = malloc(SMUGGLED);
    REQUIRE(junk);
    memset(junk, 0xff, SMUGGLED);
    ProtobufCMessageUnknownField extra = {.tag = 99,
                                          .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
                                          .len = SMUGGLED, .data = junk};
    d.dossier.base.n_unknown_fields = 1;
    d.dossier.base.unknown_fields = &extra;
    buf = packed(&d.request, &n);
    REQUIRE(buf && n > SMUGGLED);
    refused_raw(buf, n, "REASON_MALFORMED", "dossier", "it-wire-unknown-02", NULL);
    free(buf);
    /* and one level deeper, inside the person */
    harness_dossier_init(&d, "it-wire-unknown-03");
    extra.len = 16;
    d.person.base.n_unknown_fields = 1;
    d.person.base.unknown_fields = &extra;
    buf = packed(&d.request, &n);
    REQUIRE(buf);
    refused_raw(buf, n, "REASON_MALFORMED", "dossier.applicant.person", "it-wire-unknown-03",
                NULL);
    free(buf);
    free(junk);

    /* a citizen ID of 12 good digits, a NUL, then 5,000 bytes: protobuf-c would
     * cut it at the NUL and the 12 digits would pass */
    harness_dossier_init(&d, "it-wire-nul-0001");
    enum { TAIL = 5000 };
    char *cccd = malloc(12 + 1 + TAIL + 1);
    REQUIRE(cccd);
    memcpy(cccd, "001085012345", 12);
    cccd[12] = 'Q'; /* becomes the NUL once packed */
    memset(cccd + 13, 'A', TAIL);
    cccd[13 + TAIL] = '\0';
    d.person.citizen_id = cccd;
    buf = packed(&d.request, &n);
    REQUIRE(buf);
    uint8_t *at = find_bytes(buf, n, cccd, 13 + TAIL);
    REQUIRE(at);
    at[12] = '\0';
    refused_raw(buf, n, "REASON_MALFORMED", "dossier.applicant.person.citizen_id",
                "it-wire-nul-0001", NULL);
    free(buf);
    free(cccd);

    /* bad UTF-8 in a name: refused on that field, and not echoed back */
    harness_dossier_init(&d, "it-wire-utf8-0001");
    d.person.full_name = (char *)"Tr\xc3\x28n Smuggled";
    buf = packed(&d.request, &n);
    REQUIRE(buf);
    refused_raw(buf, n, "REASON_INVALID_UTF8", "dossier.applicant.person.full_name",
                "it-wire-utf8-0001", "Smuggled");
    free(buf);
    CHECK(harness_run("grep -q 'Smuggled' %s/intake.log", H.dir) != 0);
    CHECK(harness_run("grep -q '5000\\|AAAAAAAA' %s/intake.log", H.dir) != 0);
}

/* other_ward_reply - the raw reply to req from QUAY_00220 (malloc'd, *len set) */
static uint8_t *other_ward_reply(const Motcua__V1__IntakeRequest *req, size_t *len)
{
    size_t n = 0;
    uint8_t *buf = packed(req, &n), *out = NULL;
    Motcua__V1__IntakeReply *r = buf ? raw_as(HARNESS_OTHER_WARD, buf, n, &out, len) : NULL;
    bool refused = r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION &&
                   r->rejection->reason == MOTCUA__V1__REASON__REASON_FORBIDDEN;
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    free(buf);
    if (!refused) {
        free(out);
        return NULL;
    }
    return out;
}

MC_TEST(another_wards_code_tells_nothing_about_its_existence)
{
    char code[64], secret[64];
    REQUIRE(submit_for(HARNESS_COUNTER, "it-oracle-0001", "00229", code, secret));
    /* an existing dossier of 00229, a code of 00229 that does not exist, and a unit
     * not served here: byte for byte one answer, for every request by code */
    const char *codes[3] = {code, "000.22.29.H26-200101-9999", "000.99.99.H26-200101-0001"};
    uint8_t *first[4] = {0};
    size_t first_len[4] = {0};
    for (int c = 0; c < 3; c++) {
        Motcua__V1__StatusQuery q = MOTCUA__V1__STATUS_QUERY__INIT;
        q.dossier_code = (char *)codes[c];
        q.secret = secret;
        Motcua__V1__DocumentRef *docs[1];
        harness_dossier_t d;
        harness_dossier_init(&d, "unused-id-0001");
        docs[0] = &d.docs[0];
        Motcua__V1__SupplementDossier su = MOTCUA__V1__SUPPLEMENT_DOSSIER__INIT;
        su.submission_id = (char *)"it-oracle-su-01";
        su.dossier_code = (char *)codes[c];
        su.documents = docs;
        su.n_documents = 1;
        su.secret = secret;
        Motcua__V1__WithdrawDossier w = MOTCUA__V1__WITHDRAW_DOSSIER__INIT;
        w.submission_id = (char *)"it-oracle-wd-01";
        w.dossier_code = (char *)codes[c];
        w.secret = secret;
        Motcua__V1__RateService ra = MOTCUA__V1__RATE_SERVICE__INIT;
        ra.submission_id = (char *)"it-oracle-ra-01";
        ra.dossier_code = (char *)codes[c];
        ra.token = secret;
        ra.level = MOTCUA__V1__SATISFACTION__SATISFACTION_SATISFIED;
        Motcua__V1__IntakeRequest req[4] = {
            MOTCUA__V1__INTAKE_REQUEST__INIT, MOTCUA__V1__INTAKE_REQUEST__INIT,
            MOTCUA__V1__INTAKE_REQUEST__INIT, MOTCUA__V1__INTAKE_REQUEST__INIT};
        req[0].body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS;
        req[0].status = &q;
        req[1].body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_SUPPLEMENT;
        req[1].supplement = &su;
        req[2].body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_WITHDRAW;
        req[2].withdraw = &w;
        req[3].body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_RATE;
        req[3].rate = &ra;
        for (int k = 0; k < 4; k++) {
            size_t len = 0;
            uint8_t *out = other_ward_reply(&req[k], &len);
            CHECK(out != NULL);
            if (c == 0) {
                first[k] = out;
                first_len[k] = len;
                continue;
            }
            CHECK(out && first[k] && len == first_len[k] && memcmp(out, first[k], len) == 0);
            free(out);
        }
    }
    for (int k = 0; k < 4; k++)
        free(first[k]);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code),
              MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RECEIVED);
}

/* seq_of - the sequence number in a receipt's code, -1 if none */
static int seq_of(Motcua__V1__IntakeReply *r)
{
    char unit[64];
    mc_date_t day;
    int seq = -1;
    if (!r || r->body_case != MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT ||
        mc_code_parse(r->receipt->dossier_code, unit, sizeof unit, &day, &seq) != 0)
        seq = -1;
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    return seq;
}

static void *connected_dealer(void);

/* race_one - the same first submission from `n` connected clients at the same
 * instant (intake's workers take them in parallel); 0 when every client got
 * the same receipt bytes, and its sequence number in *seq */
static int race_one(const char *sid, int n, int *seq)
{
    harness_dossier_t d;
    harness_dossier_init(&d, sid);
    size_t len = 0;
    uint8_t *buf = packed(&d.request, &len);
    void *s[8] = {0};
    int rc = buf && n <= 8 ? 0 : -1;
    for (int i = 0; rc == 0 && i < n; i++)
        if (!(s[i] = connected_dealer()))
            rc = -1;
    for (int i = 0; rc == 0 && i < n; i++) /* back to back: all in flight together */
        if (zmq_send(s[i], buf, len, 0) != (int)len)
            rc = -1;
    uint8_t first[4096];
    int first_len = -1;
    for (int i = 0; rc == 0 && i < n; i++) {
        uint8_t got[4096];
        int timeout = 20000;
        zmq_setsockopt(s[i], ZMQ_RCVTIMEO, &timeout, sizeof timeout);
        int k = zmq_recv(s[i], got, sizeof got, 0);
        if (k <= 0 || k > (int)sizeof got)
            rc = -1;
        else if (first_len < 0)
            memcpy(first, got, (size_t)(first_len = k));
        else if (k != first_len || memcmp(got, first, (size_t)k) != 0)
            rc = -1;
    }
    for (int i = 0; i < n; i++)
        mc_transport_close(&s[i]);
    free(buf);
    *seq = rc == 0 ? seq_of(motcua__v1__intake_reply__unpack(NULL, (size_t)first_len, first)) : -1;
    return rc;
}

MC_TEST(replays_consume_no_dossier_number)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "it-seq-first-0001");
    int first = seq_of(submit(&d));
    REQUIRE(first > 0);
    for (int i = 0; i < 5; i++)
        CHECK_INT(seq_of(submit(&d)), first);
    /* a new submission from eight clients at once, five times over: a retry
     * sent while its first attempt is in flight takes no number either */
    enum { ROUNDS = 5, RACERS = 8 };
    for (int r = 0; r < ROUNDS; r++) {
        char sid[64];
        snprintf(sid, sizeof sid, "it-seq-race-%04d", r);
        int seq = -1;
        CHECK_INT(race_one(sid, RACERS, &seq), 0);
        CHECK_INT(seq, first + 1 + r);
        CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE submission_id = $1", sid), 1);
    }
    /* the next new dossier takes the next number: no gap */
    harness_dossier_init(&d, "it-seq-next-0001");
    CHECK_INT(seq_of(submit(&d)), first + ROUNDS + 1);
}

/* concurrent clients */
typedef struct client_job {
    int  client;        /* 0..N-1 */
    int  count;         /* submissions to make */
    char codes[64][64]; /* receipts' codes */
    int  ok;            /* receipts received */
} client_job_t;

/* client_main - one client thread: submit count dossiers */
static void *client_main(void *arg)
{
    client_job_t *job = arg;
    for (int i = 0; i < job->count; i++) {
        harness_dossier_t d;
        char id[64];
        snprintf(id, sizeof id, "it-conc-%02d-%04d", job->client, i);
        harness_dossier_init(&d, id);
        if (i % 2)
            d.dossier.ward_code = (char *)"00220"; /* two wards, two counters */
        Motcua__V1__IntakeReply *r = NULL;
        if (harness_request(&H, &d.request, 20000, &r) == 0 && r &&
            r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT) {
            snprintf(job->codes[job->ok++], 64, "%s", r->receipt->dossier_code);
        }
        if (r)
            motcua__v1__intake_reply__free_unpacked(r, NULL);
    }
    return NULL;
}

/* cmp_str - qsort strings */
static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

MC_TEST(two_hundred_concurrent_submits_get_distinct_codes)
{
    enum { CLIENTS = 8, EACH = 25 };
    static client_job_t jobs[CLIENTS];
    pthread_t threads[CLIENTS];
    long before = dossier_rows();
    for (int c = 0; c < CLIENTS; c++) {
        memset(&jobs[c], 0, sizeof jobs[c]);
        jobs[c].client = c;
        jobs[c].count = EACH;
        pthread_create(&threads[c], NULL, client_main, &jobs[c]);
    }
    static char all[CLIENTS * EACH][64];
    int n = 0;
    for (int c = 0; c < CLIENTS; c++) {
        pthread_join(threads[c], NULL);
        for (int i = 0; i < jobs[c].ok; i++)
            memcpy(all[n++], jobs[c].codes[i], 64);
    }
    CHECK_INT(n, CLIENTS * EACH);
    qsort(all, (size_t)n, 64, cmp_str);
    int dups = 0;
    for (int i = 1; i < n; i++)
        dups += strcmp(all[i - 1], all[i]) == 0;
    CHECK_INT(dups, 0);
    CHECK_INT(dossier_rows(), before + CLIENTS * EACH);
    CHECK_INT(harness_count(&H, "SELECT count(DISTINCT code) FROM dossier WHERE submission_id LIKE 'it-conc-%'", NULL),
              CLIENTS * EACH);
}

MC_TEST(kill_9_right_after_receipt_loses_nothing)
{
    harness_dossier_t d;
    harness_dossier_init(&d, "it-kill9-0001");
    Motcua__V1__IntakeReply *r = submit(&d);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    char code[64];
    snprintf(code, sizeof code, "%s", r->receipt->dossier_code);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(harness_signal_intake(&H, SIGKILL), 128 + SIGKILL);
    /* the store has it without any help from the dead daemon */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1", code), 1);
    REQUIRE(harness_start_intake(&H) == 0);
    r = status(code);
    REQUIRE(r);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_STATUS);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    /* and a retry after the crash still gets the same receipt, not a new dossier */
    r = submit(&d);
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    CHECK_STR(r->receipt->dossier_code, code);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE submission_id = $1", "it-kill9-0001"), 1);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
}

MC_TEST(postgres_down_gives_retryable_rejection_and_recovers)
{
    REQUIRE(harness_pg_stop(&H) == 0);
    harness_dossier_t d;
    harness_dossier_init(&d, "it-pgdown-0001");
    long long t0 = harness_now_ms();
    Motcua__V1__IntakeReply *r = submit(&d);
    long long took = harness_now_ms() - t0;
    REQUIRE(r);
    REQUIRE(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION);
    CHECK_STR(harness_reason_name(r->rejection->reason), "REASON_UNAVAILABLE");
    CHECK(r->rejection->retryable);
    CHECK(r->rejection->retry_after_ms > 0);
    CHECK(took < 5000); /* prompt, not a hang: a correctness bound, not a speed target */
    motcua__v1__intake_reply__free_unpacked(r, NULL);

    REQUIRE(harness_pg_start(&H) == 0);
    /* the same daemon, never restarted, takes dossiers again */
    int got = 0;
    for (int i = 0; i < 100 && !got; i++) {
        r = submit(&d);
        if (r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT)
            got = 1;
        else
            usleep(200000);
        if (r)
            motcua__v1__intake_reply__free_unpacked(r, NULL);
    }
    CHECK(got);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE submission_id = $1", "it-pgdown-0001"), 1);
}

/* in-flight job for the SIGTERM test */
/* clients whose request has left their socket (the test signals only after all did) */
static atomic_int term_sent;

typedef struct term_job {
    int                id;      /* client number */
    pthread_barrier_t *go;      /* all clients send together */
    int                replied; /* got any reply */
    int                receipt; /* it was a receipt */
} term_job_t;

/* connected_dealer - a DEALER to intake whose TCP connection is up (10 s at most),
 * NULL otherwise: with ZMQ_IMMEDIATE the socket has no pipe, hence no POLLOUT,
 * until the connection is made */
static void *connected_dealer(void)
{
    void *s = zmq_socket(mc_transport_ctx(), ZMQ_DEALER);
    int one = 1, zero = 0;
    if (!s || zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof one) != 0 ||
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, H.keys[HARNESS_COUNTER].server_public, 40) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, H.keys[HARNESS_COUNTER].public_key, 40) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, H.keys[HARNESS_COUNTER].secret_key, 40) != 0 ||
        zmq_connect(s, H.endpoint) != 0) {
        mc_transport_close(&s);
        return NULL;
    }
    zmq_pollitem_t it = {s, 0, ZMQ_POLLOUT, 0};
    if (zmq_poll(&it, 1, 10000) != 1)
        mc_transport_close(&s);
    return s;
}

/* term_client - connect first, then send on the barrier, so the request is
 * surely on the wire when SIGTERM lands */
static void *term_client(void *arg)
{
    term_job_t *job = arg;
    harness_dossier_t d;
    char id[64];
    snprintf(id, sizeof id, "it-term-%04d", job->id);
    harness_dossier_init(&d, id);
    size_t len = motcua__v1__intake_request__get_packed_size(&d.request);
    uint8_t *req = malloc(len);
    void *s = connected_dealer();
    if (req && s) {
        motcua__v1__intake_request__pack(&d.request, req);
        int timeout = 15000;
        zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    }
    pthread_barrier_wait(job->go);
    int sent = req && s && zmq_send(s, req, len, 0) == (int)len;
    atomic_fetch_add(&term_sent, 1);
    if (sent) {
        uint8_t buf[8192];
        int n = zmq_recv(s, buf, sizeof buf, 0);
        if (n > 0 && (size_t)n <= sizeof buf) {
            Motcua__V1__IntakeReply *r = motcua__v1__intake_reply__unpack(NULL, (size_t)n, buf);
            if (r) {
                job->replied = 1;
                job->receipt = r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT;
                motcua__v1__intake_reply__free_unpacked(r, NULL);
            }
        }
    }
    mc_transport_close(&s);
    free(req);
    return NULL;
}

MC_TEST(sigterm_finishes_in_flight_work_and_exits_zero)
{
    enum { N = 48 };
    static term_job_t jobs[N];
    pthread_t t[N];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, N + 1);
    for (int i = 0; i < N; i++) {
        jobs[i] = (term_job_t){.id = i, .go = &go};
        pthread_create(&t[i], NULL, term_client, &jobs[i]);
    }
    atomic_store(&term_sent, 0);
    pthread_barrier_wait(&go);
    /* a loaded machine may not run a released client for a while: wait until every
     * request is on its way, so "not answered" can only mean the daemon dropped it */
    for (int waited = 0; atomic_load(&term_sent) < N && waited < 10000; waited++)
        usleep(1000);
    /* signal once some requests are done (the rest in flight or queued); if all
     * are done by then the test is weaker, not wrong */
    harness_wait_count(&H, "SELECT (count(*) > 0)::int FROM dossier WHERE submission_id LIKE 'it-term-%'",
                       NULL, 1, 10000);
    int code = harness_signal_intake(&H, SIGTERM);
    CHECK_INT(code, 0);
    int receipts = 0, replied = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        receipts += jobs[i].receipt;
        replied += jobs[i].replied;
    }
    pthread_barrier_destroy(&go);
    /* everyone was answered (receipt or retryable SHUTTING_DOWN), and every
     * receipt is a stored dossier and every stored dossier had its receipt */
    CHECK_INT(replied, N);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE submission_id LIKE 'it-term-%'", NULL),
              receipts);
    printf("  info: %d receipts, %d turned away during shutdown\n", receipts, N - receipts);
    REQUIRE(harness_start_intake(&H) == 0);
}

/* busy port for the bind test: a listener on intake's port, closed once
 * intake.log shows the daemon retrying (the positive sign it met the port busy) */
typedef struct port_holder {
    int fd;       /* the listening socket; -1 once closed */
    int released; /* 1 when closed after a bind_retry line, 0 if none came in 10 s */
} port_holder_t;

/* release_when_retried - wait for event=bind_retry in intake.log, then close the listener */
static void *release_when_retried(void *arg)
{
    port_holder_t *p = arg;
    long long deadline = harness_now_ms() + 10000;
    while (harness_now_ms() < deadline && !p->released) {
        if (harness_run("grep -q 'event=bind_retry endpoint=%s attempt=' %s/intake.log", H.endpoint,
                        H.dir) == 0)
            p->released = 1;
        else
            usleep(20000);
    }
    close(p->fd);
    p->fd = -1;
    return NULL;
}

MC_TEST(restart_waits_while_its_port_is_taken)
{
    /* after kill -9 something else may hold the port for a while (the source
     * port of an outgoing connection): intake must wait for it, not exit */
    REQUIRE(harness_signal_intake(&H, SIGKILL) == 128 + SIGKILL);
    const char *colon = strrchr(H.endpoint, ':');
    REQUIRE(colon);
    int port = atoi(colon + 1);
    REQUIRE(port > 0);
    port_holder_t holder = {socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), 0};
    REQUIRE(holder.fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(holder.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    REQUIRE(bind(holder.fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(holder.fd, 1) == 0);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, release_when_retried, &holder) == 0);
    int started = harness_start_intake(&H);
    pthread_join(t, NULL);
    CHECK(holder.released);
    CHECK_INT(started, 0);
    /* the port it was configured with, and it serves */
    char expected[64];
    snprintf(expected, sizeof expected, "tcp://127.0.0.1:%d", port);
    CHECK_STR(H.endpoint, expected);
    harness_dossier_t d;
    harness_dossier_init(&d, "it-busy-port-0001");
    Motcua__V1__IntakeReply *r = submit(&d);
    REQUIRE(r);
    CHECK(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
}

MC_TEST(migrate_twice_is_idempotent)
{
    CHECK_INT(harness_motcua(&H, "migrate"), 0);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM schema_migration", NULL),
              harness_count(&H, "SELECT max(version) FROM schema_migration", NULL));
    CHECK(harness_count(&H, "SELECT max(version) FROM schema_migration", NULL) >= 2);
    CHECK_INT(harness_run("grep -q 'applied 0' %s/motcua.out", H.dir), 0);
}

int main(void)
{
    if (harness_setup(&H, "it_intake", 4) != 0 || harness_start_intake(&H) != 0) {
        printf("not ok - setup\n");
        harness_teardown(&H);
        printf("it_intake: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(valid_submit_is_stored_and_receipt_matches_row);
    mc_test_run(fee_is_computed_from_the_dossier);
    mc_test_run(retry_with_same_submission_id_returns_same_receipt_and_one_row);
    mc_test_run(same_submission_id_for_other_dossier_is_refused);
    mc_test_run(each_invalid_input_gets_its_reason_and_no_row);
    mc_test_run(malformed_frames_are_answered_and_change_nothing);
    mc_test_run(two_payload_frames_and_req_sockets);
    mc_test_run(status_query_returns_state_and_history);
    mc_test_run(an_unknown_key_gets_nothing);
    mc_test_run(a_ward_office_acting_for_another_ward_is_refused);
    mc_test_run(the_portal_needs_the_applicants_secret);
    mc_test_run(the_history_records_the_client_and_the_clerk);
    mc_test_run(strict_decoding_refuses_what_protobuf_c_would_let_through);
    mc_test_run(another_wards_code_tells_nothing_about_its_existence);
    mc_test_run(replays_consume_no_dossier_number);
    mc_test_run(two_hundred_concurrent_submits_get_distinct_codes);
    mc_test_run(migrate_twice_is_idempotent);
    mc_test_run(kill_9_right_after_receipt_loses_nothing);
    mc_test_run(postgres_down_gives_retryable_rejection_and_recovers);
    mc_test_run(sigterm_finishes_in_flight_work_and_exits_zero);
    mc_test_run(restart_waits_while_its_port_is_taken);
    harness_teardown(&H);
    mc_transport_term();
    return mc_test_done("it_intake");
}
