/*
 * it_delegation - the web door's side of the intake contract, through a real
 * motcua-intake over CURVE (issue 15): IntakeRequest.on_behalf_of and
 * CatalogQuery (proto/motcua/v1/intake.proto, "Delegation", Catalog).
 *
 * Clients (tests/harness): HARNESS_GATEWAY (role gateway), HARNESS_PORTAL
 * (portal, both wards), QUAY_00220 (counter, ward 00220), HARNESS_COUNTER,
 * and HARNESS_WEB (portal, ward 00220, a token and no CURVE key: it exists
 * for intake only through the gateway). The checks: the catalog lists what
 * procedures.yaml holds and a dossier built from it alone is received (no
 * REASON_MISSING_DOCUMENT); a gateway acting for a client is that client
 * (its wards, its role, its code in the history); every misuse of
 * on_behalf_of is REASON_FORBIDDEN on field "on_behalf_of" and stores
 * nothing; the logs name the codes and nothing personal.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mc_cfg.h"
#include "mc_test.h"

static harness_t H;

/* ask - req (on_behalf_of = obo, NULL none) as who; the reply or NULL */
static Motcua__V1__IntakeReply *ask(harness_client_t who, Motcua__V1__IntakeRequest *req,
                                    const char *obo)
{
    req->on_behalf_of = (char *)(obo ? obo : "");
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request_as(&H, who, req, 10000, &r) != 0)
        return NULL;
    return r;
}

/* catalog_as - CatalogQuery (procedure_code may be "") as who for obo */
static Motcua__V1__IntakeReply *catalog_as(harness_client_t who, const char *obo,
                                           const char *procedure_code)
{
    Motcua__V1__CatalogQuery q = MOTCUA__V1__CATALOG_QUERY__INIT;
    q.procedure_code = (char *)procedure_code;
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_CATALOG;
    req.catalog = &q;
    return ask(who, &req, obo);
}

/* refused_with - r is a Rejection with this reason on this field (r freed) */
static bool refused_with(Motcua__V1__IntakeReply *r, Motcua__V1__Reason reason, const char *field)
{
    bool ok = r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION &&
              r->rejection->reason == reason && strcmp(r->rejection->field, field) == 0 &&
              !r->rejection->retryable;
    if (!ok)
        printf("  info: expected %s on %s, got %s %s\n", harness_reason_name(reason), field,
               !r ? "no reply"
               : r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION
                   ? harness_reason_name(r->rejection->reason)
                   : "an answer",
               r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION ? r->rejection->field
                                                                             : "");
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    return ok;
}

/* dossier_rows - dossiers stored */
static long dossier_rows(void)
{
    return harness_count(&H, "SELECT count(*) FROM dossier", NULL);
}

/* find_procedure - the Procedure with this code in a Catalog, or NULL */
static const Motcua__V1__Procedure *find_procedure(const Motcua__V1__Catalog *c, const char *code)
{
    for (size_t i = 0; i < c->n_procedures; i++)
        if (strcmp(c->procedures[i]->code, code) == 0)
            return c->procedures[i];
    return NULL;
}

MC_TEST(the_catalog_is_procedures_yaml)
{
    mc_cfg_t *cfg = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    REQUIRE(mc_cfg_load(H.config, &cfg, &err) == 0);
    Motcua__V1__IntakeReply *r = catalog_as(HARNESS_COUNTER, NULL, "");
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_CATALOG);
    const Motcua__V1__Catalog *c = r->catalog;
    CHECK_INT(c->n_procedures, cfg->catalog->count);
    CHECK_INT(c->max_documents, cfg->intake.max_documents);
    /* every procedure as the catalog holds it, in its order */
    for (size_t i = 0; i < c->n_procedures && i < cfg->catalog->count; i++) {
        const mc_procedure_t *want = &cfg->catalog->procedures[i];
        const Motcua__V1__Procedure *got = c->procedures[i];
        CHECK_STR(got->code, want->code);
        CHECK_STR(got->name, want->name);
        CHECK_INT(got->processing_time, want->processing_time);
        CHECK_INT(got->fee_vnd, want->fee_vnd);
        CHECK_INT(got->n_documents, want->n_documents);
        for (size_t k = 0; k < got->n_documents && k < want->n_documents; k++) {
            CHECK_STR(got->documents[k]->code, want->documents[k].code);
            CHECK_INT(got->documents[k]->required, want->documents[k].required);
        }
        unsigned bits = 0;
        for (size_t k = 0; k < got->n_channels; k++)
            bits |= MC_CHANNEL_BIT((unsigned)got->channels[k]);
        CHECK_INT(bits, want->channels);
        CHECK_INT(got->interagency, want->n_steps > 0);
    }
    /* birth registration: same day, three required papers, every channel */
    const Motcua__V1__Procedure *ks = find_procedure(c, "1.001193");
    REQUIRE(ks);
    CHECK_INT(ks->processing_unit, MOTCUA__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS);
    CHECK_INT(ks->n_channels, 3);
    CHECK_STR(ks->cutoff_text, "15:00");
    CHECK(ks->n_documents >= 1 && strcmp(ks->documents[0]->code, "TO_KHAI_KS") == 0);
    /* a per-channel fee is listed per channel */
    const Motcua__V1__Procedure *ct = find_procedure(c, "1.004222");
    REQUIRE(ct);
    CHECK_INT(ct->n_channel_fees, 3);
    if (ct->n_channel_fees == 3)
        CHECK_INT(ct->channel_fees[1]->fee_vnd, 10000); /* online */
    /* HARNESS_COUNTER acts for both wards */
    CHECK_INT(c->n_wards, 2);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    mc_cfg_destroy(&cfg);
    /* one procedure, or an unknown one */
    r = catalog_as(HARNESS_PORTAL, NULL, "1.004222");
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_CATALOG);
    CHECK_INT(r->catalog->n_procedures, 1);
    if (r->catalog->n_procedures == 1)
        CHECK_STR(r->catalog->procedures[0]->code, "1.004222");
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK(refused_with(catalog_as(HARNESS_PORTAL, NULL, "9.999999"),
                       MOTCUA__V1__REASON__REASON_UNKNOWN_PROCEDURE, "catalog.procedure_code"));
}

MC_TEST(a_dossier_built_from_the_catalog_alone_is_received)
{
    /* the gateway for the token-only web client of ward 00220: its wards */
    Motcua__V1__IntakeReply *cat = catalog_as(HARNESS_GATEWAY, HARNESS_WEB, "1.004222");
    REQUIRE(cat && cat->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_CATALOG);
    REQUIRE(cat->catalog->n_wards == 1 && cat->catalog->n_procedures == 1);
    CHECK_STR(cat->catalog->wards[0]->code, "00220");
    const Motcua__V1__Procedure *p = cat->catalog->procedures[0];
    harness_dossier_t d;
    harness_dossier_init(&d, "it-deleg-catalog-01");
    /* documents: exactly the required ones the catalog names */
    size_t n = 0;
    for (size_t k = 0; k < p->n_documents && n < 3; k++)
        if (p->documents[k]->required) {
            d.docs[n].document_type = p->documents[k]->code;
            d.docs[n].name = p->documents[k]->name;
            n++;
        }
    CHECK(n >= 1);
    d.dossier.n_documents = n;
    d.dossier.procedure_code = p->code;
    d.dossier.ward_code = cat->catalog->wards[0]->code;
    d.dossier.channel = p->channels[0];
    Motcua__V1__IntakeReply *r = ask(HARNESS_GATEWAY, &d.request, HARNESS_WEB);
    REQUIRE(r);
    if (r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION)
        printf("  info: %s %s\n", harness_reason_name(r->rejection->reason), r->rejection->field);
    REQUIRE(r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    char code[64];
    snprintf(code, sizeof code, "%s", r->receipt->dossier_code);
    CHECK_STR(r->receipt->ward_code, "00220");
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    motcua__v1__intake_reply__free_unpacked(cat, NULL);
    /* the history names the client acted for, never the gateway */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d"
                                " ON d.id = e.dossier_id WHERE d.code = $1 AND e.kind = 'received'"
                                " AND e.actor = 'HARNESS_WEB'", code), 1);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier_event WHERE actor = $1",
                            "HARNESS_GATEWAY"), 0);
}

MC_TEST(the_gateway_gets_the_wards_and_role_of_the_client)
{
    long before = dossier_rows();
    /* HARNESS_WEB acts for 00220 only: 00229 is forbidden through the gateway */
    harness_dossier_t d;
    harness_dossier_init(&d, "it-deleg-wards-0001");
    CHECK(refused_with(ask(HARNESS_GATEWAY, &d.request, HARNESS_WEB),
                       MOTCUA__V1__REASON__REASON_FORBIDDEN, "dossier.ward_code"));
    /* so is QUAY_00220's: the same answer as over its own key */
    harness_dossier_init(&d, "it-deleg-wards-0002");
    CHECK(refused_with(ask(HARNESS_GATEWAY, &d.request, "QUAY_00220"),
                       MOTCUA__V1__REASON__REASON_FORBIDDEN, "dossier.ward_code"));
    CHECK_INT(dossier_rows(), before);
    /* for HARNESS_PORTAL (both wards) it is received; the portal's role then
     * holds: status without the secret shows no history, with it the history */
    harness_dossier_init(&d, "it-deleg-wards-0003");
    Motcua__V1__IntakeReply *r = ask(HARNESS_GATEWAY, &d.request, "HARNESS_PORTAL");
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    char code[64], secret[64];
    snprintf(code, sizeof code, "%s", r->receipt->dossier_code);
    snprintf(secret, sizeof secret, "%s", r->receipt->secret);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(dossier_rows(), before + 1);
    Motcua__V1__StatusQuery q = MOTCUA__V1__STATUS_QUERY__INIT;
    q.dossier_code = code;
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS;
    req.status = &q;
    r = ask(HARNESS_GATEWAY, &req, "HARNESS_PORTAL");
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_STATUS);
    CHECK_INT(r->status->n_history, 0);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    q.secret = secret;
    r = ask(HARNESS_GATEWAY, &req, "HARNESS_PORTAL");
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_STATUS);
    CHECK_INT(r->status->n_history, 1);
    if (r->status->n_history == 1)
        CHECK_STR(r->status->history[0]->actor, "HARNESS_PORTAL");
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    /* the counter of the ward reads the history without the secret */
    q.secret = (char *)"";
    r = ask(HARNESS_GATEWAY, &req, "HARNESS_COUNTER");
    REQUIRE(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_STATUS);
    CHECK_INT(r->status->n_history, 1);
    motcua__v1__intake_reply__free_unpacked(r, NULL);
    /* and HARNESS_WEB (ward 00220) may not ask about a dossier of 00229 */
    CHECK(refused_with(ask(HARNESS_GATEWAY, &req, HARNESS_WEB),
                       MOTCUA__V1__REASON__REASON_FORBIDDEN, "dossier_code"));
}

MC_TEST(on_behalf_of_is_only_for_a_gateway)
{
    long before = dossier_rows();
    harness_dossier_t d;
    harness_dossier_init(&d, "it-deleg-forbid-001");
    /* a counter or a portal naming anyone, itself included */
    CHECK(refused_with(ask(HARNESS_COUNTER, &d.request, "HARNESS_PORTAL"),
                       MOTCUA__V1__REASON__REASON_FORBIDDEN, "on_behalf_of"));
    CHECK(refused_with(ask(HARNESS_PORTAL, &d.request, "HARNESS_PORTAL"),
                       MOTCUA__V1__REASON__REASON_FORBIDDEN, "on_behalf_of"));
    CHECK(refused_with(catalog_as(HARNESS_PORTAL, "HARNESS_COUNTER", ""),
                       MOTCUA__V1__REASON__REASON_FORBIDDEN, "on_behalf_of"));
    /* the gateway naming nobody known, or another gateway: the same bytes */
    uint8_t *a = NULL, *b = NULL;
    size_t a_len = 0, b_len = 0;
    d.request.on_behalf_of = (char *)"NOBODY_HERE";
    size_t n = motcua__v1__intake_request__get_packed_size(&d.request);
    uint8_t *buf = malloc(n);
    REQUIRE(buf);
    motcua__v1__intake_request__pack(&d.request, buf);
    CHECK(harness_request_raw_as(&H, HARNESS_GATEWAY, buf, n, 10000, &a, &a_len) == 0);
    free(buf);
    d.request.on_behalf_of = (char *)"HARNESS_GATEWAY";
    n = motcua__v1__intake_request__get_packed_size(&d.request);
    buf = malloc(n);
    REQUIRE(buf);
    motcua__v1__intake_request__pack(&d.request, buf);
    CHECK(harness_request_raw_as(&H, HARNESS_GATEWAY, buf, n, 10000, &b, &b_len) == 0);
    free(buf);
    CHECK(a && b && a_len == b_len && memcmp(a, b, a_len) == 0);
    CHECK(refused_with(a ? motcua__v1__intake_reply__unpack(NULL, a_len, a) : NULL,
                       MOTCUA__V1__REASON__REASON_FORBIDDEN, "on_behalf_of"));
    free(a);
    free(b);
    /* the gateway for itself: catalog only */
    CHECK(refused_with(ask(HARNESS_GATEWAY, &d.request, NULL),
                       MOTCUA__V1__REASON__REASON_FORBIDDEN, "on_behalf_of"));
    Motcua__V1__IntakeReply *r = catalog_as(HARNESS_GATEWAY, NULL, "");
    CHECK(r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_CATALOG);
    if (r && r->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_CATALOG)
        CHECK_INT(r->catalog->n_wards, 0); /* it acts for no ward itself */
    if (r)
        motcua__v1__intake_reply__free_unpacked(r, NULL);
    CHECK_INT(dossier_rows(), before);
    /* the token-only client has no key: it cannot be anyone over ZeroMQ, and
     * a too-long code is just unknown */
    char longcode[200];
    memset(longcode, 'A', sizeof longcode - 1);
    longcode[sizeof longcode - 1] = '\0';
    CHECK(refused_with(catalog_as(HARNESS_GATEWAY, longcode, ""),
                       MOTCUA__V1__REASON__REASON_FORBIDDEN, "on_behalf_of"));
}

MC_TEST(the_log_names_codes_and_nothing_personal)
{
    CHECK(harness_run("grep -q 'event=forbidden.*client=HARNESS_COUNTER field=on_behalf_of"
                      " why=not_gateway' %s/intake.log", H.dir) == 0);
    CHECK(harness_run("grep -q 'event=forbidden.*client=HARNESS_GATEWAY field=on_behalf_of"
                      " why=unknown_client' %s/intake.log", H.dir) == 0);
    /* an unknown code is the caller's text: never logged */
    CHECK(harness_run("grep -q NOBODY_HERE %s/intake.log", H.dir) != 0);
    /* nothing of the applicant (harness_dossier_init's citizen, phone, name) */
    CHECK(harness_run("grep -q -e 001085012345 -e 0912345678 -e 'Trần Văn Minh' %s/intake.log",
                      H.dir) != 0);
}

MC_TEST(intake_stops_cleanly)
{
    /* under make asan a leak or a sanitizer report makes this exit status non-zero */
    CHECK_INT(harness_signal_intake(&H, SIGTERM), 0);
}

int main(void)
{
    if (harness_setup(&H, "it_delegation", 2) != 0 || harness_start_intake(&H) != 0) {
        printf("not ok - setup\n");
        harness_teardown(&H);
        printf("it_delegation: 0 passed, 1 failed\n");
        return 1;
    }
    mc_test_run(the_catalog_is_procedures_yaml);
    mc_test_run(a_dossier_built_from_the_catalog_alone_is_received);
    mc_test_run(the_gateway_gets_the_wards_and_role_of_the_client);
    mc_test_run(on_behalf_of_is_only_for_a_gateway);
    mc_test_run(the_log_names_codes_and_nothing_personal);
    mc_test_run(intake_stops_cleanly);
    harness_teardown(&H);
    return mc_test_done("it_delegation");
}
