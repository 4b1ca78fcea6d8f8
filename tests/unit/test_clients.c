/*
 * test_clients - mc_clients: role gateway, token_sha256 (instead of or
 * besides a CURVE key), mc_clients_find_token, mc_clients_token_new, and
 * the errors a wrong entry gets.
 *
 * Contract: each clients.yaml variant is written into a fresh temporary
 * directory and removed at the end.
 */
#include <stdlib.h>
#include <unistd.h>

#include "mc_test.h"
#include "mc_clients.h"
#include "mc_curve.h"

static char tmpdir[64];   /* per-run scratch directory */
static char path[256];    /* tmpdir/clients.yaml */
static char key[41];      /* a valid Z85 public key */
static char key2[41];     /* another one */

#define TOKEN_A "token-of-portal-a-0123456789"
#define TOKEN_B "token-of-web-b-0123456789abc"

/* load - write text as clients.yaml and load it; the first error in first */
static int load(const char *text, mc_clients_t **clients, char *first, size_t size)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -2;
    fputs(text, f);
    fclose(f);
    mc_err_t err;
    mc_err_clear(&err);
    int rc = mc_clients_load(path, clients, &err);
    mc_err_first(&err, first, size);
    return rc;
}

/* yaml - a clients.yaml: a keyed portal with token A, a token-only portal with
 * token B, a gateway without wards */
static const char *yaml(char *buf, size_t size)
{
    char ha[65], hb[65];
    if (mc_clients_token_hash(TOKEN_A, ha) != 0 || mc_clients_token_hash(TOKEN_B, hb) != 0)
        return NULL;
    snprintf(buf, size,
             "clients:\n"
             "  - {code: PORTAL_A, name: \"Cổng A\", role: portal, wards: [\"00229\"],\n"
             "     public_key: \"%s\", token_sha256: \"%s\"}\n"
             "  - {code: WEB_B, name: \"Trang B\", role: portal, wards: [\"00220\"],\n"
             "     token_sha256: \"%s\"}\n"
             "  - {code: GATE, name: \"Cổng HTTP\", role: gateway, public_key: \"%s\"}\n",
             key, ha, hb, key2);
    return buf;
}

MC_TEST(test_gateway_and_tokens_load)
{
    char text[2048], first[512];
    mc_clients_t *c = NULL;
    REQUIRE(yaml(text, sizeof text));
    REQUIRE(load(text, &c, first, sizeof first) == 0);
    CHECK_INT(c->count, 3);
    const mc_client_t *gate = mc_clients_find(c, "GATE");
    REQUIRE(gate);
    CHECK_INT(gate->role, MC_CLIENT_GATEWAY);
    CHECK_STR(mc_client_role_name(gate->role), "gateway");
    CHECK_INT(gate->n_wards, 0);
    CHECK(!mc_client_acts_for(gate, "00229"));
    CHECK(!gate->has_token);
    const mc_client_t *web = mc_clients_find(c, "WEB_B");
    REQUIRE(web);
    CHECK_STR(web->public_key, ""); /* token only: no ZeroMQ */
    CHECK(web->has_token);
    CHECK(mc_clients_by_key(c, key) == mc_clients_find(c, "PORTAL_A"));
    CHECK(mc_clients_by_key(c, "") == NULL);
    mc_clients_destroy(&c);
    CHECK(c == NULL);
}

MC_TEST(test_find_token)
{
    char text[2048], first[512];
    mc_clients_t *c = NULL;
    REQUIRE(yaml(text, sizeof text));
    REQUIRE(load(text, &c, first, sizeof first) == 0);
    CHECK(mc_clients_find_token(c, TOKEN_A) == mc_clients_find(c, "PORTAL_A"));
    CHECK(mc_clients_find_token(c, TOKEN_B) == mc_clients_find(c, "WEB_B"));
    CHECK(mc_clients_find_token(c, "token-of-portal-a-0123456780") == NULL); /* last byte */
    CHECK(mc_clients_find_token(c, TOKEN_A "x") == NULL);
    CHECK(mc_clients_find_token(c, "") == NULL);
    CHECK(mc_clients_find_token(c, "short") == NULL);
    CHECK(mc_clients_find_token(c, NULL) == NULL);
    CHECK(mc_clients_find_token(NULL, TOKEN_A) == NULL);
    /* the hash of nothing-like-a-token never matches a client without one (zeros) */
    char zeros[40];
    memset(zeros, 'z', sizeof zeros - 1);
    zeros[sizeof zeros - 1] = '\0';
    CHECK(mc_clients_find_token(c, zeros) == NULL);
    mc_clients_destroy(&c);
}

MC_TEST(test_token_new)
{
    char t1[MC_TOKEN_NEW_LEN + 1], h1[65], t2[MC_TOKEN_NEW_LEN + 1], h2[65], again[65];
    REQUIRE(mc_clients_token_new(t1, h1) == 0);
    REQUIRE(mc_clients_token_new(t2, h2) == 0);
    CHECK_INT(strlen(t1), MC_TOKEN_NEW_LEN);
    CHECK_INT(strlen(h1), 64);
    CHECK(strcmp(t1, t2) != 0);
    CHECK(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          MC_TOKEN_NEW_LEN);
    CHECK(strspn(h1, "0123456789abcdef") == 64);
    REQUIRE(mc_clients_token_hash(t1, again) == 0);
    CHECK_STR(again, h1);
    /* a well-known vector: SHA-256("abc") */
    REQUIRE(mc_clients_token_hash("abc", again) == 0);
    CHECK_STR(again, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* refused - the text fails to load and its first error contains want */
static bool refused(const char *text, const char *want)
{
    char first[512] = "";
    mc_clients_t *c = NULL;
    int rc = load(text, &c, first, sizeof first);
    if (rc == 0)
        mc_clients_destroy(&c);
    if (rc == 0 || !strstr(first, want)) {
        printf("  refused? rc=%d first=%s (want %s)\n", rc, first, want);
        return false;
    }
    return true;
}

MC_TEST(test_wrong_entries)
{
    char text[2048], ha[65];
    REQUIRE(mc_clients_token_hash(TOKEN_A, ha) == 0);
    /* uppercase hex, 63 digits, not hex */
    snprintf(text, sizeof text,
             "clients:\n  - {code: A, name: a, role: portal, wards: [\"1\"], token_sha256: \"%.63s\"}\n",
             ha);
    CHECK(refused(text, "token_sha256"));
    CHECK(refused("clients:\n  - {code: A, name: a, role: portal, wards: [\"1\"], token_sha256: "
                  "\"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\"}\n",
                  "64 lowercase hex"));
    CHECK(refused("clients:\n  - {code: A, name: a, role: portal, wards: [\"1\"], token_sha256: "
                  "\"zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}\n",
                  "64 lowercase hex"));
    /* neither key nor token */
    CHECK(refused("clients:\n  - {code: A, name: a, role: portal, wards: [\"1\"]}\n",
                  "public_key"));
    /* the same token twice */
    snprintf(text, sizeof text,
             "clients:\n"
             "  - {code: A, name: a, role: portal, wards: [\"1\"], token_sha256: \"%s\"}\n"
             "  - {code: B, name: b, role: portal, wards: [\"1\"], token_sha256: \"%s\"}\n",
             ha, ha);
    CHECK(refused(text, "has the token of 'A'"));
    /* two token-only clients with one code */
    snprintf(text, sizeof text,
             "clients:\n"
             "  - {code: A, name: a, role: portal, wards: [\"1\"], token_sha256: \"%s\"}\n"
             "  - {code: A, name: b, role: counter, wards: [\"1\"], public_key: \"%s\"}\n",
             ha, key);
    CHECK(refused(text, "is listed twice"));
    /* counter and portal need wards; an unknown role names the three */
    snprintf(text, sizeof text,
             "clients:\n  - {code: A, name: a, role: counter, public_key: \"%s\"}\n", key);
    CHECK(refused(text, "'wards' is required for role counter"));
    snprintf(text, sizeof text,
             "clients:\n  - {code: A, name: a, role: admin, wards: [\"1\"], public_key: \"%s\"}\n",
             key);
    CHECK(refused(text, "counter, portal or gateway"));
    /* gateway_only: neither key nor token, on purpose; with either it is refused */
    mc_clients_t *c = NULL;
    char first[512];
    CHECK_INT(load("clients:\n  - {code: CONG, name: c, role: portal, wards: [\"1\"],"
                   " gateway_only: true}\n", &c, first, sizeof first), 0);
    if (c) {
        CHECK_STR(c->items[0].public_key, "");
        CHECK(!c->items[0].has_token);
        mc_clients_destroy(&c);
    }
    snprintf(text, sizeof text, "clients:\n  - {code: A, name: a, role: portal, wards: [\"1\"],"
             " gateway_only: true, public_key: \"%s\"}\n", key);
    CHECK(refused(text, "gateway_only: true takes neither a key nor a token"));
    CHECK(refused("clients:\n  - {code: A, name: a, role: portal, wards: [\"1\"],"
                  " gateway_only: yes}\n", "gateway_only"));
}

int main(void)
{
    strcpy(tmpdir, "/tmp/test_clients_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/clients.yaml", tmpdir);
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_curve_write_keys(tmpdir, "a", key, &err) != 0 ||
        mc_curve_write_keys(tmpdir, "b", key2, &err) != 0) {
        fprintf(stderr, "test_clients: cannot make keys\n");
        return 1;
    }
    mc_test_run(test_gateway_and_tokens_load);
    mc_test_run(test_find_token);
    mc_test_run(test_token_new);
    mc_test_run(test_wrong_entries);
    static const char *const files[] = {"clients.yaml", "a.key", "a.pub", "b.key", "b.pub"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[300];
        snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return mc_test_done("test_clients");
}
