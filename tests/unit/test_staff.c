/*
 * test_staff - the ward dashboard's staff accounts, sessions and login
 * throttle (services/gateway/gateway_staff.c): staff.yaml checked entry by
 * entry, passwords checked by libcrypt, sessions that end when unused or
 * too old or at logout, failures locking a username and an address for the
 * rest of their window. Time is passed in, so nothing here waits.
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway_pages.h"
#include "mc_cfg.h"
#include "mc_test.h"

#define T0 1764547200 /* an instant; sessions and the throttle count from it */

static mc_cfg_t *CFG;   /* config/motcua.yaml, staff_path pointed at the test's file */
static char      DIR_[64]; /* temp directory */

/* hash - crypt(3) of password with a new salt of prefix ("$y$", "$6$") into out */
static const char *hash(const char *password, const char *prefix, char *out, size_t size)
{
    struct crypt_data *cd = calloc(1, sizeof *cd);
    const char *salt = cd ? crypt_gensalt_rn(prefix, 0, NULL, 0, cd->setting, sizeof cd->setting) : NULL;
    const char *h = salt ? crypt_r(password, salt, cd) : NULL;
    snprintf(out, size, "%s", h ? h : "");
    free(cd);
    return out;
}

/* load - write text as the staff file and load it; the staff or NULL (messages in err) */
static gw_staff_t *load(const char *text, mc_err_t *err)
{
    char path[128];
    snprintf(path, sizeof path, "%s/staff.yaml", DIR_);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    free(CFG->staff_path);
    CFG->staff_path = strdup(path);
    mc_err_clear(err);
    return gw_staff_load(CFG, err);
}

/* good - two accounts: kimlien (yescrypt) and vanmieu (SHA-512) */
static gw_staff_t *good(void)
{
    char a[256], b[256], text[1024];
    snprintf(text, sizeof text,
             "staff:\n  - {username: canbo.kimlien, ward: \"00229\", password_hash: \"%s\"}\n"
             "  - {username: canbo.vanmieu, ward: \"00220\", password_hash: \"%s\"}\n",
             hash("mat-khau-1", "$y$", a, sizeof a), hash("mat-khau-2", "$6$", b, sizeof b));
    mc_err_t err;
    return load(text, &err);
}

MC_TEST(test_login_session_logout)
{
    gw_staff_t *st = good();
    REQUIRE(st != NULL);
    char cookie[GW_TOKEN_HEX + 1], other[GW_TOKEN_HEX + 1];
    gw_session_info_t info, again;
    int retry = 0;
    CHECK_INT(gw_staff_login(st, "canbo.kimlien", "mat-khau-1", "10.0.0.1", T0, cookie, &info, &retry),
              GW_LOGIN_OK);
    CHECK_INT(strlen(cookie), GW_TOKEN_HEX);
    CHECK_STR(info.ward, "00229");
    CHECK_STR(info.username, "canbo.kimlien");
    CHECK_INT(strlen(info.csrf), GW_TOKEN_HEX);
    CHECK(strcmp(info.csrf, cookie) != 0);
    CHECK(gw_staff_session(st, cookie, T0 + 10, &again));
    CHECK_STR(again.ward, "00229");
    CHECK_STR(again.csrf, info.csrf);
    /* the SHA-512 account, its own session and ward */
    CHECK_INT(gw_staff_login(st, "canbo.vanmieu", "mat-khau-2", "10.0.0.1", T0, other, &again, &retry),
              GW_LOGIN_OK);
    CHECK_STR(again.ward, "00220");
    CHECK(strcmp(other, cookie) != 0);
    /* not a session: garbage, a cookie with one digit changed, none */
    CHECK(!gw_staff_session(st, "abc", T0, &again));
    cookie[5] = cookie[5] == 'a' ? 'b' : 'a';
    CHECK(!gw_staff_session(st, cookie, T0, &again));
    cookie[5] = cookie[5] == 'a' ? 'b' : 'a';
    CHECK(!gw_staff_session(st, NULL, T0, &again));
    /* logout ends it, the other stays */
    gw_staff_logout(st, cookie);
    CHECK(!gw_staff_session(st, cookie, T0 + 20, &again));
    CHECK(gw_staff_session(st, other, T0 + 20, &again));
    gw_staff_destroy(&st);
    CHECK(st == NULL);
}

MC_TEST(test_sessions_end_unused_or_old)
{
    gw_staff_t *st = good();
    REQUIRE(st != NULL);
    char cookie[GW_TOKEN_HEX + 1];
    gw_session_info_t info;
    int retry = 0;
    REQUIRE(gw_staff_login(st, "canbo.kimlien", "mat-khau-1", "a", T0, cookie, &info, &retry) == GW_LOGIN_OK);
    CHECK(gw_staff_session(st, cookie, T0 + GW_SESSION_IDLE_S - 1, &info));
    CHECK(!gw_staff_session(st, cookie, T0 + 2 * GW_SESSION_IDLE_S, &info)); /* unused too long */
    REQUIRE(gw_staff_login(st, "canbo.kimlien", "mat-khau-1", "a", T0, cookie, &info, &retry) == GW_LOGIN_OK);
    int64_t t = T0;
    while (t + GW_SESSION_IDLE_S / 2 < T0 + GW_SESSION_MAX_S) { /* used all the time ... */
        t += GW_SESSION_IDLE_S / 2;
        CHECK(gw_staff_session(st, cookie, t, &info));
    }
    CHECK(!gw_staff_session(st, cookie, T0 + GW_SESSION_MAX_S, &info)); /* ... yet too old */
    gw_staff_destroy(&st);
}

MC_TEST(test_wrong_passwords_lock_the_username_then_the_window_ends)
{
    gw_staff_t *st = good();
    REQUIRE(st != NULL);
    char cookie[GW_TOKEN_HEX + 1];
    gw_session_info_t info;
    int retry = 0;
    CHECK_INT(gw_staff_login(st, "khong.co", "x", "10.0.0.2", T0, cookie, &info, &retry), GW_LOGIN_BAD);
    for (int i = 0; i < GW_LOGIN_FAILURES; i++) /* from as many addresses */
        CHECK_INT(gw_staff_login(st, "canbo.kimlien", "sai", i % 2 ? "10.0.0.3" : "10.0.0.4", T0 + i,
                                 cookie, &info, &retry), GW_LOGIN_BAD);
    retry = 0;
    CHECK_INT(gw_staff_login(st, "canbo.kimlien", "mat-khau-1", "10.0.0.5", T0 + 60, cookie, &info, &retry),
              GW_LOGIN_THROTTLED);
    CHECK_INT(retry, GW_LOGIN_WINDOW_S - 60);
    /* another username is not locked */
    CHECK_INT(gw_staff_login(st, "canbo.vanmieu", "mat-khau-2", "10.0.0.5", T0 + 60, cookie, &info, &retry),
              GW_LOGIN_OK);
    /* the window over: the right password works again */
    CHECK_INT(gw_staff_login(st, "canbo.kimlien", "mat-khau-1", "10.0.0.5", T0 + GW_LOGIN_WINDOW_S, cookie,
                             &info, &retry), GW_LOGIN_OK);
    gw_staff_destroy(&st);
}

MC_TEST(test_failures_from_one_address_lock_it)
{
    gw_staff_t *st = good();
    REQUIRE(st != NULL);
    char cookie[GW_TOKEN_HEX + 1], name[32];
    gw_session_info_t info;
    int retry = 0;
    for (int i = 0; i < GW_LOGIN_FAILURES; i++) { /* a different username each time */
        snprintf(name, sizeof name, "doan.%d", i);
        CHECK_INT(gw_staff_login(st, name, "x", "192.0.2.7", T0, cookie, &info, &retry), GW_LOGIN_BAD);
    }
    CHECK_INT(gw_staff_login(st, "canbo.kimlien", "mat-khau-1", "192.0.2.7", T0, cookie, &info, &retry),
              GW_LOGIN_THROTTLED);
    CHECK(retry > 0);
    CHECK_INT(gw_staff_login(st, "canbo.kimlien", "mat-khau-1", "192.0.2.8", T0, cookie, &info, &retry),
              GW_LOGIN_OK);
    gw_staff_destroy(&st);
}

MC_TEST(test_bad_files_say_where)
{
    char h[256], text[2048];
    hash("x", "$y$", h, sizeof h);
    mc_err_t err;
    snprintf(text, sizeof text,
             "staff:\n  - {username: a.b, ward: \"99999\", password_hash: \"%s\"}\n"   /* ward */
             "  - {username: c.d, ward: \"00229\", password_hash: \"mat-khau\"}\n"    /* no hash */
             "  - {username: A B, ward: \"00229\", password_hash: \"%s\"}\n"           /* name */
             "  - {username: a.b, ward: \"00229\", password_hash: \"%s\"}\n"           /* twice */
             "  - {username: e.f, ward: \"00229\", password_hash: \"%s\", role: x}\n", /* key */
             h, h, h, h);
    CHECK(load(text, &err) == NULL);
    CHECK(strstr(err.text, "staff.yaml:2:") && strstr(err.text, "ward '99999'"));
    CHECK(strstr(err.text, "staff.yaml:3:") && strstr(err.text, "password_hash"));
    CHECK(strstr(err.text, "staff.yaml:4:") && strstr(err.text, "username must be"));
    CHECK(strstr(err.text, "listed twice"));
    CHECK(strstr(err.text, "role"));
    gw_staff_t *st = load("staff: []\n", &err);
    CHECK(st != NULL);
    gw_staff_destroy(&st);
    CHECK(load("staff: 3\n", &err) == NULL);
    /* no file at all: no accounts, every login refused */
    free(CFG->staff_path);
    CFG->staff_path = strdup("/nonexistent/staff.yaml");
    st = gw_staff_load(CFG, &err);
    REQUIRE(st != NULL);
    CHECK_INT(gw_staff_count(st), 0);
    char cookie[GW_TOKEN_HEX + 1];
    gw_session_info_t info;
    int retry = 0;
    CHECK_INT(gw_staff_login(st, "canbo.kimlien", "x", "a", T0, cookie, &info, &retry), GW_LOGIN_BAD);
    gw_staff_destroy(&st);
    CHECK(load("personnel: []\n", &err) == NULL);
}

MC_TEST(test_tokens)
{
    char a[GW_TOKEN_HEX + 1], b[GW_TOKEN_HEX + 1];
    gw_token_new(a);
    gw_token_new(b);
    CHECK_INT(strlen(a), GW_TOKEN_HEX);
    CHECK(strspn(a, "0123456789abcdef") == GW_TOKEN_HEX);
    CHECK(strcmp(a, b) != 0);
    CHECK(gw_token_equal(a, a));
    CHECK(!gw_token_equal(a, b));
    CHECK(!gw_token_equal(a, NULL));
    CHECK(!gw_token_equal("", ""));
    CHECK(!gw_token_equal("abc", "abcd"));
}

int main(void)
{
    mc_err_t err;
    mc_err_clear(&err);
    snprintf(DIR_, sizeof DIR_, "/tmp/test_staff.XXXXXX");
    if (!mkdtemp(DIR_) || mc_cfg_load("config/motcua.yaml", &CFG, &err) != 0) {
        printf("  FAIL setup: %s\n", err.text);
        return 1;
    }
    mc_test_run(test_login_session_logout);
    mc_test_run(test_sessions_end_unused_or_old);
    mc_test_run(test_wrong_passwords_lock_the_username_then_the_window_ends);
    mc_test_run(test_failures_from_one_address_lock_it);
    mc_test_run(test_bad_files_say_where);
    mc_test_run(test_tokens);
    mc_cfg_destroy(&CFG);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", DIR_);
    if (system(cmd) != 0)
        printf("  could not remove %s\n", DIR_);
    return mc_test_done("test_staff");
}
