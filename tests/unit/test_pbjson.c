/*
 * test_pbjson - mc_pbjson: canonical proto3 JSON of the wire messages, both
 * ways: names, enums, 64-bit integers, bytes, repeated, nested, oneof, and
 * every strictness rule with the field path it reports.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mc_pbjson.h"
#include "mc_test.h"
#include "motcua/v1/dossier.pb-c.h"
#include "motcua/v1/intake.pb-c.h"

/* encode - msg as JSON (caller frees) */
static char *encode(const ProtobufCMessage *msg)
{
    char *json = NULL;
    size_t len = 0;
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_pbjson_encode(msg, &json, &len, &err) != 0)
        return NULL;
    return json;
}

/* decode - text as desc; NULL with *p filled */
static ProtobufCMessage *decode(const ProtobufCMessageDescriptor *desc, const char *text,
                                mc_pbjson_problem_t *p)
{
    ProtobufCMessage *m = NULL;
    if (mc_pbjson_decode(desc, text, strlen(text), 65536, &m, p) != 0)
        return NULL;
    return m;
}

/* refused - text does not decode as a SubmitDossier; the error kind and field */
static bool refused(const char *text, mc_pbjson_error_t error, const char *field)
{
    mc_pbjson_problem_t p;
    ProtobufCMessage *m = decode(&motcua__v1__submit_dossier__descriptor, text, &p);
    if (m) {
        protobuf_c_message_free_unpacked(m, NULL);
        printf("  decoded: %s\n", text);
        return false;
    }
    if (p.error != error || strcmp(p.field, field) != 0) {
        printf("  got error %d field '%s' (%s) for %s\n", p.error, p.field, p.message, text);
        return false;
    }
    return true;
}

MC_TEST(receipt_encodes_canonically)
{
    Motcua__V1__ReceivedDocument doc = MOTCUA__V1__RECEIVED_DOCUMENT__INIT;
    doc.name = "Tờ khai";
    doc.form = MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ORIGINAL;
    doc.copies = 2;
    Motcua__V1__ReceivedDocument *docs[] = {&doc};
    Motcua__V1__Receipt r = MOTCUA__V1__RECEIPT__INIT;
    r.dossier_code = "000.00.12.H26-251001-0001";
    r.submission_id = "abc-12345";
    r.channel = MOTCUA__V1__CHANNEL__CHANNEL_ONLINE;
    r.n_documents = 1;
    r.documents = docs;
    r.received_at = 1759300000;
    r.fee_vnd = 18446744073709551615ull;
    char *json = encode(&r.base);
    REQUIRE(json);
    CHECK_STR(json, "{\"dossierCode\":\"000.00.12.H26-251001-0001\",\"submissionId\":\"abc-12345\","
                    "\"channel\":\"CHANNEL_ONLINE\",\"documents\":[{\"name\":\"Tờ khai\","
                    "\"form\":\"DOCUMENT_FORM_ORIGINAL\",\"copies\":2}],"
                    "\"receivedAt\":\"1759300000\",\"feeVnd\":\"18446744073709551615\"}");
    free(json);
}

MC_TEST(defaults_are_left_out_and_strings_escaped)
{
    Motcua__V1__Rejection r = MOTCUA__V1__REJECTION__INIT;
    char *json = encode(&r.base);
    CHECK_STR(json, "{}");
    free(json);
    r.reason = MOTCUA__V1__REASON__REASON_FORBIDDEN;
    r.message = "a \"b\"\n\x01";
    r.retryable = 1;
    r.retry_after_ms = 1500;
    json = encode(&r.base);
    CHECK_STR(json, "{\"reason\":\"REASON_FORBIDDEN\",\"message\":\"a \\\"b\\\"\\n\\u0001\","
                    "\"retryable\":true,\"retryAfterMs\":1500}");
    free(json);
    r.reason = 999; /* a number the enum does not name goes out as the number */
    r.message = "";
    r.retryable = 0;
    r.retry_after_ms = 0;
    json = encode(&r.base);
    CHECK_STR(json, "{\"reason\":999}");
    free(json);
}

static const char *const SUBMIT =
    "{\"submissionId\":\"sub-000001\",\"dossier\":{\"procedure_code\":\"1.001193\","
    "\"wardCode\":\"00229\",\"channel\":\"CHANNEL_ONLINE\",\"applicant\":{\"person\":"
    "{\"fullName\":\"Nguy\\u1ec5n V\\u0103n A\",\"citizenId\":\"001099012345\"},"
    "\"phone\":\"0912345678\",\"address\":\"Hà Nội\"},\"documents\":[{\"documentType\":\"TK\","
    "\"name\":\"Tờ khai\",\"sizeBytes\":\"12345\",\"sha256\":"
    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"form\":2,\"copies\":1},"
    "{\"name\":\"Ảnh\",\"sizeBytes\":99,\"sha256\":\"-_8\",\"uri\":\"https://x/y\"}]},"
    "\"receivedBy\":null}";

MC_TEST(submit_decodes_both_names_enums_int64_bytes_oneof)
{
    mc_pbjson_problem_t p;
    Motcua__V1__SubmitDossier *s =
        (Motcua__V1__SubmitDossier *)decode(&motcua__v1__submit_dossier__descriptor, SUBMIT, &p);
    if (!s)
        printf("  %d %s %s\n", p.error, p.field, p.message);
    REQUIRE(s);
    CHECK_STR(s->submission_id, "sub-000001");
    CHECK_STR(s->received_by, "");
    REQUIRE(s->dossier);
    CHECK_STR(s->dossier->procedure_code, "1.001193");
    CHECK_STR(s->dossier->ward_code, "00229");
    CHECK_INT(s->dossier->channel, MOTCUA__V1__CHANNEL__CHANNEL_ONLINE);
    REQUIRE(s->dossier->applicant);
    CHECK_INT(s->dossier->applicant->kind_case, MOTCUA__V1__APPLICANT__KIND_PERSON);
    CHECK_STR(s->dossier->applicant->person->full_name, "Nguyễn Văn A");
    REQUIRE(s->dossier->n_documents == 2);
    Motcua__V1__DocumentRef *d = s->dossier->documents[0];
    CHECK_INT(d->size_bytes, 12345);
    CHECK_INT(d->sha256.len, 32);
    CHECK_INT(d->sha256.data[31], 31);
    CHECK_INT(d->form, MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_CERTIFIED_COPY);
    CHECK_INT(s->dossier->documents[1]->size_bytes, 99);
    CHECK_INT(s->dossier->documents[1]->sha256.len, 2); /* URL-safe, unpadded: fb ff */
    CHECK_INT(s->dossier->documents[1]->sha256.data[1], 0xff);

    /* and back: the canonical form decodes to the same wire bytes */
    char *json = encode(&s->base);
    REQUIRE(json);
    CHECK(strstr(json, "\"procedureCode\":\"1.001193\"") != NULL);
    CHECK(strstr(json, "\"sha256\":\"+/8=\"") != NULL);
    CHECK(strstr(json, "\"sizeBytes\":\"12345\"") != NULL);
    Motcua__V1__SubmitDossier *again =
        (Motcua__V1__SubmitDossier *)decode(&motcua__v1__submit_dossier__descriptor, json, &p);
    REQUIRE(again);
    size_t n1 = protobuf_c_message_get_packed_size(&s->base);
    size_t n2 = protobuf_c_message_get_packed_size(&again->base);
    uint8_t *b1 = malloc(n1), *b2 = malloc(n2);
    protobuf_c_message_pack(&s->base, b1);
    protobuf_c_message_pack(&again->base, b2);
    CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    free(b1);
    free(b2);
    free(json);
    protobuf_c_message_free_unpacked(&again->base, NULL);
    protobuf_c_message_free_unpacked(&s->base, NULL);
}

MC_TEST(strict_errors_name_the_field)
{
    CHECK(refused("{\"submissionId\":\"x\",\"bogus\":1}", MC_PBJSON_UNKNOWN, "bogus"));
    CHECK(refused("{\"dossier\":{\"documents\":[{},{\"nam\":\"x\"}]}}", MC_PBJSON_UNKNOWN,
                  "dossier.documents[1].nam"));
    CHECK(refused("{\"submissionId\":5}", MC_PBJSON_TYPE, "submission_id"));
    CHECK(refused("{\"dossier\":{\"channel\":\"CHANNEL_FAX\"}}", MC_PBJSON_TYPE, "dossier.channel"));
    CHECK(refused("{\"dossier\":{\"channel\":9}}", MC_PBJSON_TYPE, "dossier.channel"));
    CHECK(refused("{\"dossier\":{\"documents\":[{\"copies\":-1}]}}", MC_PBJSON_TYPE,
                  "dossier.documents[0].copies"));
    CHECK(refused("{\"dossier\":{\"documents\":[{\"copies\":1.5}]}}", MC_PBJSON_TYPE,
                  "dossier.documents[0].copies"));
    CHECK(refused("{\"dossier\":{\"documents\":[{\"copies\":4294967296}]}}", MC_PBJSON_TYPE,
                  "dossier.documents[0].copies"));
    CHECK(refused("{\"dossier\":{\"documents\":[{\"sizeBytes\":\"12a\"}]}}", MC_PBJSON_TYPE,
                  "dossier.documents[0].size_bytes"));
    CHECK(refused("{\"dossier\":{\"documents\":[{\"sha256\":\"***\"}]}}", MC_PBJSON_TYPE,
                  "dossier.documents[0].sha256"));
    CHECK(refused("{\"dossier\":{\"documents\":{}}}", MC_PBJSON_TYPE, "dossier.documents"));
    CHECK(refused("{\"dossier\":{\"applicant\":{\"person\":{},\"organization\":{}}}}",
                  MC_PBJSON_TYPE, "dossier.applicant.organization"));
    CHECK(refused("{\"submissionId\":\"a\",\"submission_id\":\"b\"}", MC_PBJSON_TYPE,
                  "submission_id"));
    CHECK(refused("{\"receivedBy\":\"\\u0000\"}", MC_PBJSON_UTF8, "received_by"));
    CHECK(refused("{\"receivedBy\":\"\xc3\x28\"}", MC_PBJSON_UTF8, "received_by"));
    CHECK(refused("{\"receivedBy\":\"\\ud800\"}", MC_PBJSON_UTF8, "received_by"));
    CHECK(refused("{\"receivedBy\":\"a\"", MC_PBJSON_SYNTAX, ""));
    CHECK(refused("{\"receivedBy\":\"a\"} x", MC_PBJSON_SYNTAX, ""));
    CHECK(refused("[]", MC_PBJSON_SYNTAX, ""));
    CHECK(refused("{\"dossier\":", MC_PBJSON_SYNTAX, "dossier"));
    CHECK(refused("{\"dossier\":{\"documents\":[{}, ", MC_PBJSON_SYNTAX, "dossier.documents[1]"));
    CHECK(refused("", MC_PBJSON_SYNTAX, ""));
    CHECK(refused("{\"dossier\":{\"channel\":true}}", MC_PBJSON_TYPE, "dossier.channel"));
}

MC_TEST(bounds_depth_and_size)
{
    /* nesting past the bound is refused without recursing further */
    char deep[4096] = "{\"dossier\":{\"documents\":";
    for (int i = 0; i < 200; i++)
        strcat(deep, "[");
    CHECK(refused(deep, MC_PBJSON_TYPE, "dossier.documents[0]"));
    char *big = malloc(70000);
    REQUIRE(big);
    memset(big, ' ', 69999);
    big[0] = '{';
    big[69998] = '}';
    big[69999] = '\0';
    CHECK(refused(big, MC_PBJSON_TOO_LARGE, ""));
    free(big);
    /* a deep but legal chain of objects: Applicant.organization.filed_by */
    mc_pbjson_problem_t p;
    ProtobufCMessage *m = decode(&motcua__v1__applicant__descriptor,
                                 "{\"organization\":{\"filedBy\":{\"fullName\":\"B\"}}}", &p);
    CHECK(m != NULL);
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

MC_TEST(status_reply_roundtrips)
{
    Motcua__V1__StatusEvent e1 = MOTCUA__V1__STATUS_EVENT__INIT, e2 = MOTCUA__V1__STATUS_EVENT__INIT;
    e1.at = -5;
    e1.kind = "received";
    e2.at = 9007199254740993LL; /* past a double's integers: only a string keeps it */
    e2.kind = "routed";
    Motcua__V1__StatusEvent *hist[] = {&e1, &e2};
    Motcua__V1__DossierStatus st = MOTCUA__V1__DOSSIER_STATUS__INIT;
    st.dossier_code = "X-1";
    st.state = MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RECEIVED;
    st.n_history = 2;
    st.history = hist;
    char *json = encode(&st.base);
    REQUIRE(json);
    CHECK(strstr(json, "\"at\":\"9007199254740993\"") != NULL);
    CHECK(strstr(json, "\"at\":\"-5\"") != NULL);
    mc_pbjson_problem_t p;
    Motcua__V1__DossierStatus *back =
        (Motcua__V1__DossierStatus *)decode(&motcua__v1__dossier_status__descriptor, json, &p);
    REQUIRE(back);
    CHECK_INT(back->n_history, 2);
    CHECK_INT(back->history[1]->at, 9007199254740993LL);
    CHECK_INT(back->history[0]->at, -5);
    CHECK_INT(back->state, MOTCUA__V1__DOSSIER_STATE__DOSSIER_STATE_RECEIVED);
    protobuf_c_message_free_unpacked(&back->base, NULL);
    free(json);
}

int main(void)
{
    mc_test_run(receipt_encodes_canonically);
    mc_test_run(defaults_are_left_out_and_strings_escaped);
    mc_test_run(submit_decodes_both_names_enums_int64_bytes_oneof);
    mc_test_run(strict_errors_name_the_field);
    mc_test_run(bounds_depth_and_size);
    mc_test_run(status_reply_roundtrips);
    return mc_test_done("test_pbjson");
}
