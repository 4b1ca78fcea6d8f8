/*
 * it_gateway - motcua-gateway, the web door, end to end with everything
 * real: a throwaway PostgreSQL, motcua-intake, two motcua-gateway instances
 * over real HTTP (libcurl, and raw sockets for the slow and the greedy).
 *
 * 1. Submit, status, supplement, withdraw and rate over HTTP as the portal's
 *    bearer token give the same answers as the same requests over ZeroMQ
 *    with the portal's CURVE key (decoded protobuf compared byte for byte);
 *    a receipt is 201, its replay 200 with the same receipt.
 * 2. Who: no token or a wrong one is 401 before anything reaches intake; a
 *    client of another ward gets 403; an unknown dossier 404; a finished
 *    dossier 409; an Idempotency-Key the body contradicts 400.
 * 3. Bad input at the door (second gateway, tight limits): 413 by
 *    Content-Length and by a chunked body, 400 for malformed JSON and an
 *    unknown field (reason and field in the body), 415, 431 for too many
 *    headers, 429 with Retry-After past the token bucket, the per-address
 *    and the total connection limits (a second client address: 127.0.0.2),
 *    a header block over 32 KiB, a slow client cut at timeout_s; none of it stored.
 *    Every reply carries the security headers; the API's Cache-Control no-store.
 * 4. With tls_cert_file/tls_key_file (a self-signed certificate made by
 *    openssl, when present) the gateway serves HTTPS.
 * 5. Intake stopped: 503, Retry-After, REASON_UNAVAILABLE retryable.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"
#include "mc_pbjson.h"
#include "mc_states.h"
#include "mc_test.h"

static harness_t H;
static int   port;       /* the main gateway */
static int   tight_port; /* the gateway with tight limits */
static pid_t gw_pid, tight_pid;
static char  code[64];   /* the dossier of test 1 */
static char  secret[64]; /* its secret */

/* one HTTP exchange's answer */
typedef struct http_res {
    long   status;        /* 0: no answer */
    char  *body;          /* NUL-terminated */
    size_t len;           /* bytes in body */
    char   headers[8192]; /* the response headers as received */
} http_res_t;

/* on_body - CURLOPT_WRITEFUNCTION */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    http_res_t *r = arg;
    char *b = realloc(r->body, r->len + size * n + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, p, size * n);
    r->body = b;
    r->len += size * n;
    b[r->len] = '\0';
    return size * n;
}

/* on_header - CURLOPT_HEADERFUNCTION */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    http_res_t *r = arg;
    size_t have = strlen(r->headers);
    if (have + size * n < sizeof r->headers)
        memcpy(r->headers + have, p, size * n), r->headers[have + size * n] = '\0';
    return size * n;
}

/* http - method path on gateway port p; extra: header lines ("" none, '\n'
 * separated); body NULL: none */
static http_res_t http(int p, const char *method, const char *path, const char *token,
                       const char *extra, const char *body)
{
    http_res_t r = {0};
    CURL *c = curl_easy_init();
    if (!c)
        return r;
    char url[512], auth[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", p, path);
    struct curl_slist *hl = NULL;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, auth);
    }
    if (body && !strstr(extra, "Content-Type"))
        hl = curl_slist_append(hl, "Content-Type: application/json");
    char *lines = strdup(extra);
    for (char *save = NULL, *l = lines ? strtok_r(lines, "\n", &save) : NULL; l;
         l = strtok_r(NULL, "\n", &save))
        hl = curl_slist_append(hl, l);
    free(lines);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    if (!r.body)
        r.body = calloc(1, 1);
    return r;
}

/* has_header - the response has this header line (case-insensitive name, exact value) */
static bool has_header(const http_res_t *r, const char *name, const char *value)
{
    char want[256], low[sizeof r->headers];
    size_t n = strlen(name);
    snprintf(want, sizeof want, "%s: %s\r\n", name, value);
    for (size_t i = 0; i < n; i++)
        want[i] = (char)tolower((unsigned char)want[i]);
    /* header names are case-insensitive: compare them in lower case, values as they are */
    snprintf(low, sizeof low, "%s", r->headers);
    for (char *l = low; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        for (char *c = l; *c && *c != ':'; c++)
            *c = (char)tolower((unsigned char)*c);
    return strstr(low, want) != NULL;
}

/* secure - every reply's security headers */
static bool secure(const http_res_t *r)
{
    bool ok = has_header(r, "X-Content-Type-Options", "nosniff") &&
              has_header(r, "Content-Security-Policy", "frame-ancestors 'none'") &&
              has_header(r, "X-Frame-Options", "DENY") &&
              has_header(r, "Referrer-Policy", "no-referrer");
    if (!ok)
        printf("  info: headers %s\n", r->headers);
    return ok;
}

/* same_as - the JSON body decodes to the same wire bytes as the ZeroMQ reply's message */
static bool same_as(const http_res_t *r, const ProtobufCMessage *want)
{
    ProtobufCMessage *got = NULL;
    mc_pbjson_problem_t p;
    if (!want || mc_pbjson_decode(want->descriptor, r->body, r->len, 1 << 20, &got, &p) != 0) {
        printf("  info: body %s does not decode (%s %s)\n", r->body, p.field, p.message);
        return false;
    }
    size_t n1 = protobuf_c_message_get_packed_size(got), n2 = protobuf_c_message_get_packed_size(want);
    uint8_t *b1 = malloc(n1 + 1), *b2 = malloc(n2 + 1);
    protobuf_c_message_pack(got, b1);
    protobuf_c_message_pack(want, b2);
    bool same = n1 == n2 && memcmp(b1, b2, n1) == 0;
    if (!same)
        printf("  info: HTTP and ZeroMQ differ: %s\n", r->body);
    free(b1);
    free(b2);
    protobuf_c_message_free_unpacked(got, NULL);
    return same;
}

/* zmq_portal - req over ZeroMQ as the portal's CURVE client */
static Motcua__V1__IntakeReply *zmq_portal(Motcua__V1__IntakeRequest *req)
{
    Motcua__V1__IntakeReply *r = NULL;
    if (harness_request_as(&H, HARNESS_PORTAL, req, 10000, &r) != 0)
        return NULL;
    return r;
}

/* reply_msg - the message in an IntakeReply, whatever its case */
static const ProtobufCMessage *reply_msg(const Motcua__V1__IntakeReply *r)
{
    if (!r)
        return NULL;
    switch (r->body_case) {
    case MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT: return &r->receipt->base;
    case MOTCUA__V1__INTAKE_REPLY__BODY_REJECTION: return &r->rejection->base;
    case MOTCUA__V1__INTAKE_REPLY__BODY_STATUS: return &r->status->base;
    case MOTCUA__V1__INTAKE_REPLY__BODY_ACK: return &r->ack->base;
    case MOTCUA__V1__INTAKE_REPLY__BODY_CATALOG: return &r->catalog->base;
    default: return NULL;
    }
}

/* json_of - msg as JSON (caller frees) */
static char *json_of(const ProtobufCMessage *msg)
{
    char *json = NULL;
    size_t len = 0;
    mc_err_t err;
    mc_err_clear(&err);
    return mc_pbjson_encode(msg, &json, &len, &err) == 0 ? json : NULL;
}

/* the dossier of test 1: the harness's, filed online */
static harness_dossier_t D;

/* both_ways - the follow-up body_json over HTTP (POST path, key) and req over
 * ZeroMQ: same status family and same message; returns the HTTP status */
static long both_ways(const char *path, const char *key, const char *body_json,
                      Motcua__V1__IntakeRequest *req)
{
    char extra[256];
    snprintf(extra, sizeof extra, "Idempotency-Key: %s\nX-Dossier-Secret: %s", key, secret);
    http_res_t r = http(port, "POST", path, HARNESS_PORTAL_TOKEN, extra, body_json);
    Motcua__V1__IntakeReply *z = zmq_portal(req);
    CHECK(z != NULL);
    CHECK(same_as(&r, reply_msg(z)));
    CHECK(secure(&r));
    if (z)
        motcua__v1__intake_reply__free_unpacked(z, NULL);
    free(r.body);
    return r.status;
}

MC_TEST(http_and_zeromq_give_the_same_answers)
{
    harness_dossier_init(&D, "gw-submit-0001");
    D.dossier.channel = MOTCUA__V1__CHANNEL__CHANNEL_ONLINE;
    D.submit.received_by = "";
    char *body = json_of(&D.submit.base);
    REQUIRE(body);
    /* the key comes from the header: the body leaves submissionId out */
    D.submit.submission_id = "";
    char *body_nokey = json_of(&D.submit.base);
    D.submit.submission_id = D.submission_id;
    http_res_t r = http(port, "POST", "/v1/dossiers", HARNESS_PORTAL_TOKEN,
                        "Idempotency-Key: gw-submit-0001", body_nokey);
    CHECK_INT(r.status, 201);
    CHECK(secure(&r));
    CHECK(has_header(&r, "Cache-Control", "no-store"));
    Motcua__V1__IntakeReply *z = zmq_portal(&D.request); /* a replay over ZeroMQ */
    REQUIRE(z && z->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
    CHECK(same_as(&r, &z->receipt->base));
    snprintf(code, sizeof code, "%s", z->receipt->dossier_code);
    snprintf(secret, sizeof secret, "%s", z->receipt->secret);
    int64_t received_at = z->receipt->received_at;
    motcua__v1__intake_reply__free_unpacked(z, NULL);
    free(r.body);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier", NULL), 1);

    /* the replay over HTTP, once the receipt is visibly older than the request */
    long deadline = (long)harness_now_ms() + 5000;
    while (time(NULL) < received_at + 2 && (long)harness_now_ms() < deadline)
        usleep(50000);
    r = http(port, "POST", "/v1/dossiers", HARNESS_PORTAL_TOKEN, "Idempotency-Key: gw-submit-0001",
             body);
    CHECK_INT(r.status, 200);
    CHECK(strstr(r.body, code) != NULL);
    free(r.body);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier", NULL), 1);

    /* status with the secret: the history too, as over ZeroMQ */
    Motcua__V1__StatusQuery q = MOTCUA__V1__STATUS_QUERY__INIT;
    q.dossier_code = code;
    q.secret = secret;
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_STATUS;
    req.status = &q;
    char path[256], extra[256];
    snprintf(path, sizeof path, "/v1/dossiers/%s", code);
    snprintf(extra, sizeof extra, "X-Dossier-Secret: %s", secret);
    r = http(port, "GET", path, HARNESS_PORTAL_TOKEN, extra, NULL);
    CHECK_INT(r.status, 200);
    z = zmq_portal(&req);
    CHECK(same_as(&r, reply_msg(z)));
    CHECK(strstr(r.body, "\"history\"") != NULL);
    if (z)
        motcua__v1__intake_reply__free_unpacked(z, NULL);
    free(r.body);

    /* supplement and rating: not in this state, 409, the same Rejection */
    Motcua__V1__SupplementDossier sup = MOTCUA__V1__SUPPLEMENT_DOSSIER__INIT;
    sup.submission_id = "gw-supp-0001";
    sup.dossier_code = code;
    sup.secret = secret;
    sup.n_documents = 1;
    sup.documents = D.doc_ptrs;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_SUPPLEMENT;
    req.supplement = &sup;
    sup.dossier_code = "";
    sup.submission_id = "";
    sup.secret = "";
    char *sup_json = json_of(&sup.base); /* code, key and secret from the URL and headers */
    sup.dossier_code = code;
    sup.submission_id = "gw-supp-0001";
    sup.secret = secret;
    snprintf(path, sizeof path, "/v1/dossiers/%s/supplement", code);
    CHECK_INT(both_ways(path, "gw-supp-0001", sup_json, &req), 409);
    free(sup_json);

    Motcua__V1__RateService rate = MOTCUA__V1__RATE_SERVICE__INIT;
    rate.submission_id = "gw-rate-0001";
    rate.dossier_code = code;
    rate.token = secret;
    rate.level = MOTCUA__V1__SATISFACTION__SATISFACTION_SATISFIED;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_RATE;
    req.rate = &rate;
    snprintf(path, sizeof path, "/v1/dossiers/%s/rating", code);
    CHECK_INT(both_ways(path, "gw-rate-0001", "{\"level\":\"SATISFACTION_SATISFIED\"}", &req), 409);

    /* withdraw: 200 Acknowledgement over HTTP, the same (a replay) over ZeroMQ */
    Motcua__V1__WithdrawDossier wd = MOTCUA__V1__WITHDRAW_DOSSIER__INIT;
    wd.submission_id = "gw-withdraw-0001";
    wd.dossier_code = code;
    wd.secret = secret;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_WITHDRAW;
    req.withdraw = &wd;
    snprintf(path, sizeof path, "/v1/dossiers/%s/withdraw", code);
    CHECK_INT(both_ways(path, "gw-withdraw-0001", "{}", &req), 200);
    CHECK_INT(harness_count(&H, "SELECT state FROM dossier WHERE code = $1", code),
              MC_DOSSIER_WITHDRAWN);
    /* withdrawn: another withdrawal is 409 */
    wd.submission_id = "gw-withdraw-0002";
    CHECK_INT(both_ways(path, "gw-withdraw-0002", "{}", &req), 409);

    /* the catalog, with and without a token */
    r = http(port, "GET", "/v1/procedures?procedureCode=1.001193", NULL, "", NULL);
    CHECK_INT(r.status, 200);
    CHECK(strstr(r.body, "\"procedures\":[{") != NULL);
    free(r.body);
    free(body);
    free(body_nokey);
}

MC_TEST(who_may_ask)
{
    char path[256], extra[256];
    snprintf(path, sizeof path, "/v1/dossiers/%s", code);
    long before = harness_count(&H, "SELECT count(*) FROM dossier", NULL);
    http_res_t r = http(port, "GET", path, NULL, "", NULL);
    CHECK_INT(r.status, 401);
    CHECK(strstr(r.body, "\"reason\":\"REASON_FORBIDDEN\"") != NULL);
    CHECK(secure(&r));
    free(r.body);
    r = http(port, "GET", path, "not-a-token-of-anyone-at-all", "", NULL);
    CHECK_INT(r.status, 401);
    free(r.body);
    /* HARNESS_WEB acts for ward 00220 only: the 00229 dossier is 403 */
    snprintf(extra, sizeof extra, "X-Dossier-Secret: %s", secret);
    r = http(port, "GET", path, HARNESS_WEB_TOKEN, extra, NULL);
    CHECK_INT(r.status, 403);
    free(r.body);
    /* a code of the same unit never issued: 404 */
    char unknown[64];
    snprintf(unknown, sizeof unknown, "%s", code);
    memcpy(unknown + strlen(unknown) - 4, "9999", 4);
    snprintf(path, sizeof path, "/v1/dossiers/%s", unknown);
    r = http(port, "GET", path, HARNESS_PORTAL_TOKEN, "", NULL);
    CHECK_INT(r.status, 404);
    free(r.body);
    r = http(port, "GET", "/v1/nothing-here", HARNESS_PORTAL_TOKEN, "", NULL);
    CHECK_INT(r.status, 404);
    CHECK(secure(&r));
    free(r.body);
    r = http(port, "DELETE", "/v1/dossiers", HARNESS_PORTAL_TOKEN, "", NULL);
    CHECK_INT(r.status, 405);
    free(r.body);
    /* an Idempotency-Key the body contradicts: 400, nothing sent */
    harness_dossier_init(&D, "gw-submit-0002");
    D.dossier.channel = MOTCUA__V1__CHANNEL__CHANNEL_ONLINE;
    char *body = json_of(&D.submit.base);
    r = http(port, "POST", "/v1/dossiers", HARNESS_PORTAL_TOKEN, "Idempotency-Key: gw-other-0002",
             body);
    CHECK_INT(r.status, 400);
    CHECK(strstr(r.body, "\"field\":\"submission_id\"") != NULL);
    free(r.body);
    free(body);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier", NULL), before);
    r = http(port, "GET", "/healthz", NULL, "", NULL);
    CHECK_INT(r.status, 200);
    CHECK(has_header(&r, "Cache-Control", "no-store"));
    free(r.body);
    /* the OpenAPI document, without a token: gateway.openapi_file */
    r = http(port, "GET", "/v1/openapi.json", NULL, "", NULL);
    CHECK_INT(r.status, 200);
    CHECK(strstr(r.body, "\"openapi\"") != NULL && strstr(r.body, "/v1/dossiers/{code}") != NULL);
    CHECK(secure(&r));
    free(r.body);
}

/* raw_connect - a plain TCP connection to the tight gateway from address
 * src (any of 127/8: another client address on one host), or -1 */
static int raw_connect(const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)tight_port)};
    struct sockaddr_in from = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    inet_pton(AF_INET, src, &from.sin_addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof from) != 0 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* closed_within - the server closes fd (EOF or reset) within ms */
static bool closed_within(int fd, int ms)
{
    long deadline = (long)harness_now_ms() + ms;
    char buf[4096];
    while ((long)harness_now_ms() < deadline) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0)
                return true;
        }
    }
    return false;
}

MC_TEST(bad_input_stops_at_the_door)
{
    long before = harness_count(&H, "SELECT count(*) FROM dossier", NULL);
    const char *T = HARNESS_PORTAL_TOKEN;
    /* body over max_bytes (4096 here): by Content-Length, and chunked */
    char *big = malloc(20000);
    REQUIRE(big);
    memset(big, ' ', 19999);
    big[0] = '{';
    big[19998] = '}';
    big[19999] = '\0';
    http_res_t r = http(tight_port, "POST", "/v1/dossiers", T, "Idempotency-Key: gw-big-000001", big);
    CHECK_INT(r.status, 413);
    CHECK(strstr(r.body, "REASON_TOO_LARGE") != NULL);
    CHECK(secure(&r));
    free(r.body);
    r = http(tight_port, "POST", "/v1/dossiers", T,
             "Idempotency-Key: gw-big-000002\nTransfer-Encoding: chunked", big);
    CHECK_INT(r.status, 413);
    free(r.body);
    free(big);
    /* malformed JSON, an unknown field: 400 with the reason and the field */
    r = http(tight_port, "POST", "/v1/dossiers", T, "Idempotency-Key: gw-bad-000001", "{\"dossier\":");
    CHECK_INT(r.status, 400);
    CHECK(strstr(r.body, "\"reason\":\"REASON_MALFORMED\"") != NULL);
    free(r.body);
    r = http(tight_port, "POST", "/v1/dossiers", T, "Idempotency-Key: gw-bad-000002",
             "{\"dossier\":{\"wardCode\":\"00229\",\"colour\":\"red\"}}");
    CHECK_INT(r.status, 400);
    CHECK(strstr(r.body, "\"field\":\"dossier.colour\"") != NULL);
    free(r.body);
    r = http(tight_port, "POST", "/v1/dossiers", T, "Idempotency-Key: gw-bad-000003",
             "{\"dossier\":{\"channel\":[]}}");
    CHECK_INT(r.status, 400);
    CHECK(strstr(r.body, "\"reason\":\"REASON_INVALID_FORMAT\",\"field\":\"dossier.channel\"") != NULL);
    free(r.body);
    /* wrong content type */
    r = http(tight_port, "POST", "/v1/dossiers", T,
             "Idempotency-Key: gw-bad-000004\nContent-Type: text/plain", "{}");
    CHECK_INT(r.status, 415);
    free(r.body);
    /* too many headers */
    char many[8192] = "";
    for (int i = 0; i < 80; i++) {
        char line[64];
        snprintf(line, sizeof line, "X-Filler-%d: x\n", i);
        strcat(many, line);
    }
    r = http(tight_port, "GET", "/healthz", NULL, many, NULL);
    CHECK_INT(r.status, 431);
    free(r.body);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier", NULL), before);

    /* the token bucket: burst 10 at 1 per second; the time 16 requests take
     * refills a few at most, so one of them sees a 429 with Retry-After */
    bool limited = false;
    for (int i = 0; i < 16 && !limited; i++) {
        r = http(tight_port, "GET", "/v1/procedures", HARNESS_WEB_TOKEN, "", NULL);
        if (r.status == 429) {
            limited = true;
            CHECK(strstr(r.headers, "Retry-After: ") != NULL);
            CHECK(strstr(r.body, "REASON_UNAVAILABLE") != NULL);
            CHECK(strstr(r.body, "\"retryable\":true") != NULL);
        }
        free(r.body);
    }
    CHECK(limited);
    /* without a token the JSON routes are limited per address, the same way */
    limited = false;
    for (int i = 0; i < 16 && !limited; i++) {
        r = http(tight_port, "GET", "/v1/procedures", NULL, "", NULL);
        if (r.status == 429) {
            limited = true;
            CHECK(strstr(r.headers, "Retry-After: ") != NULL);
        }
        free(r.body);
    }
    CHECK(limited);

    /* request and header sizes past libmicrohttpd's memory for them: refused */
    char *huge = malloc(40100);
    REQUIRE(huge);
    strcpy(huge, "X-Huge: ");
    memset(huge + 8, 'x', 40000);
    huge[40008] = '\0';
    r = http(tight_port, "GET", "/healthz", NULL, huge, NULL);
    if (r.status != 431)
        printf("  info: a 40 KB header got %ld\n", r.status);
    CHECK(r.status == 431 || r.status == 414 || r.status == 413);
    free(r.body);
    free(huge);

    /* per-address connection limit (2): a third connection from 127.0.0.1 is closed at once */
    int a = raw_connect("127.0.0.1"), b = raw_connect("127.0.0.1");
    CHECK(a >= 0 && b >= 0);
    int c = raw_connect("127.0.0.1");
    CHECK(c < 0 || closed_within(c, 5000));
    if (c >= 0)
        close(c);
    /* total limit (3): one from 127.0.0.2 is served, a second from there is closed */
    int d = raw_connect("127.0.0.2");
    CHECK(d >= 0);
    if (d >= 0) {
        const char get[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        char buf[2048] = "";
        CHECK(write(d, get, sizeof get - 1) == (ssize_t)(sizeof get - 1));
        struct pollfd pd = {.fd = d, .events = POLLIN};
        CHECK(poll(&pd, 1, 10000) == 1 && read(d, buf, sizeof buf - 1) > 0 &&
              strncmp(buf, "HTTP/1.1 200", 12) == 0);
    }
    int e = raw_connect("127.0.0.2");
    CHECK(e < 0 || closed_within(e, 5000));
    if (e >= 0)
        close(e);
    if (d >= 0)
        close(d);
    /* a slow client (half a request line) is cut after timeout_s (2) */
    if (a >= 0) {
        CHECK(write(a, "GET /heal", 9) == 9);
        CHECK(closed_within(a, 10000));
        close(a);
    }
    if (b >= 0)
        close(b);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier", NULL), before);
}

MC_TEST(tls_when_given_a_certificate)
{
    if (harness_run("command -v openssl >/dev/null") != 0) {
        printf("  info: no openssl here: TLS not tried\n");
        return;
    }
    char cfg[600], from[64], to[64];
    int tls_port = harness_free_port(tight_port);
    snprintf(cfg, sizeof cfg, "%s/tls.yaml", H.dir);
    snprintf(from, sizeof from, "127.0.0.1:%d", port);
    snprintf(to, sizeof to, "127.0.0.1:%d", tls_port);
    REQUIRE(harness_run("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                        "-nodes -keyout tls.key -out tls.crt -days 2 -subj /CN=127.0.0.1 "
                        ">/dev/null 2>&1 && chmod 600 tls.key", H.dir) == 0);
    REQUIRE(harness_config_copy(&H, cfg, from, to) == 0);
    REQUIRE(harness_run("sed -i 's|^  listen: .*|&\\n  tls_cert_file: tls.crt\\n  tls_key_file: tls.key|' %s",
                        cfg) == 0);
    pid_t pid = harness_start_daemon(&H, "gateway", cfg, "gateway-tls.log");
    REQUIRE(pid > 0);
    CURL *c = curl_easy_init();
    http_res_t r = {0};
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/healthz", tls_port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L); /* self-signed: only the channel is tested */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    CHECK(curl_easy_perform(c) == CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(c);
    CHECK_INT(r.status, 200);
    CHECK(r.body && strcmp(r.body, "{\"status\":\"ok\"}") == 0);
    CHECK(secure(&r));
    free(r.body);
    /* plain HTTP to the TLS port gets no HTTP answer */
    http_res_t p = http(tls_port, "GET", "/healthz", NULL, "", NULL);
    CHECK(p.status != 200);
    free(p.body);
    CHECK_INT(harness_stop_daemon(pid, SIGTERM), 0);
}

MC_TEST(no_intake_is_503_with_retry_after)
{
    REQUIRE(harness_signal_intake(&H, SIGTERM) == 0);
    long t0 = (long)harness_now_ms();
    http_res_t r = http(tight_port, "GET", "/v1/procedures", NULL, "", NULL);
    CHECK_INT(r.status, 503);
    CHECK(strstr(r.headers, "Retry-After: 1\r\n") != NULL);
    CHECK(strstr(r.body, "\"reason\":\"REASON_UNAVAILABLE\"") != NULL);
    CHECK(strstr(r.body, "\"retryable\":true") != NULL);
    CHECK(secure(&r));
    printf("  info: answered in %ld ms (client.timeout_ms 1000, retries 0)\n",
           (long)harness_now_ms() - t0);
    free(r.body);
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || harness_setup(&H, "it_gateway", 2) != 0 ||
        harness_start_intake(&H) != 0) {
        printf("it_gateway: setup failed\n");
        return 1;
    }
    port = harness_free_port(0);
    tight_port = harness_free_port(port);
    char tight[600];
    snprintf(tight, sizeof tight, "%s/tight.yaml", H.dir);
    char from[64], to[64];
    snprintf(from, sizeof from, "127.0.0.1:%d", port);
    snprintf(to, sizeof to, "127.0.0.1:%d", tight_port);
    if (harness_config_append(&H, "gateway:\n  listen: \"%s\"\n  key_file: keys/HARNESS_GATEWAY.key\n"
                                  "  public_client: HARNESS_WEB\n  rate_per_s: 1000\n  burst: 1000\n"
                                  "  openapi_file: %s/docs/openapi.json\n",
                              from, H.repo) != 0 ||
        harness_config_copy(&H, tight, from, to) != 0 ||
        harness_run("sed -i 's/rate_per_s: 1000/rate_per_s: 1\\n  max_body_bytes: 4096\\n"
                    "  per_ip_connections: 2\\n  max_connections: 3\\n  timeout_s: 2/; s/burst: 1000/burst: 10/;"
                    " s/^  timeout_ms: 5000$/  timeout_ms: 1000/; s/^  retries: 2$/  retries: 0/' %s",
                    tight) != 0 ||
        (gw_pid = harness_start_daemon(&H, "gateway", NULL, "gateway.log")) <= 0 ||
        (tight_pid = harness_start_daemon(&H, "gateway", tight, "gateway-tight.log")) <= 0) {
        printf("it_gateway: gateways did not start\n");
        harness_teardown(&H);
        return 1;
    }
    mc_test_run(http_and_zeromq_give_the_same_answers);
    mc_test_run(who_may_ask);
    mc_test_run(bad_input_stops_at_the_door);
    mc_test_run(tls_when_given_a_certificate);
    mc_test_run(no_intake_is_503_with_retry_after);
    /* a clean stop: both say so with status 0 */
    int s1 = harness_stop_daemon(gw_pid, SIGTERM), s2 = harness_stop_daemon(tight_pid, SIGTERM);
    if (s1 != 0 || s2 != 0)
        printf("it_gateway: gateway stop statuses %d %d\n", s1, s2);
    harness_teardown(&H);
    curl_global_cleanup();
    return mc_test_done("it_gateway");
}
