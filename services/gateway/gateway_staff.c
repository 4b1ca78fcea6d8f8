/*
 * gateway_staff - the ward dashboard's staff accounts (files.staff), their
 * sessions in memory and the login throttle (contract in gateway_pages.h).
 *
 * Passwords are checked with crypt_r (libcrypt: yescrypt, SHA-512 crypt)
 * against the stored hash, compared in constant time; an unknown username
 * is checked against a dummy hash of the same kind so that the time taken
 * does not tell which usernames exist. Nothing here logs a username,
 * password, cookie or address: the caller logs the outcome.
 */
#include "gateway_pages.h"

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "mc_yaml.h"

#define STAFF_MAX     10000 /* accounts one file may list */
#define THROTTLE_KEYS 512   /* usernames and addresses whose failures are remembered */
#define HASH_MAX      512   /* bytes of a stored password hash */

/* one staff account */
typedef struct staff_account {
    char *username;      /* login name */
    char *ward;          /* ward code (motcua.yaml wards) */
    char *password_hash; /* crypt(3) hash */
} staff_account_t;

/* one session */
typedef struct staff_session {
    uint8_t           id_hash[crypto_hash_sha256_BYTES]; /* SHA-256 of the cookie's value */
    gw_session_info_t info;                              /* who, which ward, CSRF token */
    int64_t           created;                           /* login time (epoch s); 0 = free slot */
    int64_t           last_seen;                         /* last use (epoch s) */
} staff_session_t;

/* failures of one username ("u:...") or address ("a:...") */
typedef struct throttle_entry {
    char    key[GW_USERNAME_MAX + 70]; /* "u:<username>" or "a:<address>"; "" = free */
    int     failures;                  /* within the window */
    int64_t window_start;              /* epoch s */
} throttle_entry_t;

struct gw_staff {
    staff_account_t *accounts;                 /* from files.staff */
    size_t           n_accounts;               /* entries */
    char             dummy_hash[HASH_MAX];     /* checked for unknown usernames */
    pthread_mutex_t  lock;                     /* guards sessions and throttle */
    staff_session_t  sessions[GW_SESSIONS_MAX]; /* live sessions */
    throttle_entry_t throttle[THROTTLE_KEYS];  /* recent failures */
};

/* hash_ok - a hash crypt(3) can check with a method we accept (yescrypt, SHA-512, bcrypt) */
static bool hash_ok(const char *hash)
{
    return (strncmp(hash, "$y$", 3) == 0 || strncmp(hash, "$6$", 3) == 0 ||
            strncmp(hash, "$2b$", 4) == 0 || strncmp(hash, "$gy$", 4) == 0) &&
           crypt_checksalt(hash) == CRYPT_SALT_OK;
}

/* username_ok - 1..64 of [a-z0-9._-]: safe in messages, one spelling per person */
static bool username_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > GW_USERNAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '.' || name[i] == '_' || name[i] == '-'))
            return false;
    return true;
}

/* load_account - one entry of the staff list */
static int load_account(const mc_cfg_t *cfg, const mc_yaml_node_t *node, staff_account_t *a,
                        mc_err_t *err)
{
    static const char *const keys[] = {"username", "ward", "password_hash", NULL};
    char w[512];
    if (mc_yaml_check_keys(node, "staff member", keys, keys, err) < 0)
        return -1;
    if (mc_yaml_get_string(node, "username", true, GW_USERNAME_MAX, &a->username, err) < 0 ||
        mc_yaml_get_string(node, "ward", true, MC_WARD_CODE_LEN, &a->ward, err) < 0 ||
        mc_yaml_get_string(node, "password_hash", true, HASH_MAX - 1, &a->password_hash, err) < 0)
        return -1;
    int rc = 0;
    if (!username_ok(a->username)) {
        mc_err_add(err, "%s: username must be 1..64 of a-z 0-9 . _ -",
                   mc_yaml_where_key(node, "username", w, sizeof w));
        rc = -1;
    }
    if (!mc_cfg_ward(cfg, a->ward)) {
        mc_err_add(err, "%s: ward '%s' is not in motcua.yaml wards",
                   mc_yaml_where_key(node, "ward", w, sizeof w), a->ward);
        rc = -1;
    }
    if (!hash_ok(a->password_hash)) {
        mc_err_add(err, "%s: password_hash is not a yescrypt ($y$) or SHA-512 ($6$) crypt hash "
                   "(mkpasswd -m yescrypt)", mc_yaml_where_key(node, "password_hash", w, sizeof w));
        rc = -1;
    }
    return rc;
}

/* make_dummy - a yescrypt hash of random bytes, checked when the username is unknown */
static int make_dummy(gw_staff_t *st)
{
    char pass[GW_TOKEN_HEX + 1];
    gw_token_new(pass);
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return -1;
    const char *salt = crypt_gensalt_rn("$y$", 0, NULL, 0, cd->setting, sizeof cd->setting);
    const char *h = salt ? crypt_r(pass, salt, cd) : NULL;
    int rc = h && h[0] == '$' && strlen(h) < sizeof st->dummy_hash ? 0 : -1;
    if (rc == 0)
        snprintf(st->dummy_hash, sizeof st->dummy_hash, "%s", h);
    sodium_memzero(cd, sizeof *cd);
    free(cd);
    return rc;
}

gw_staff_t *gw_staff_load(const mc_cfg_t *cfg, mc_err_t *err)
{
    gw_staff_t *st = calloc(1, sizeof *st);
    if (!st || sodium_init() < 0 || pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        mc_err_add(err, "out of memory");
        return NULL;
    }
    if (make_dummy(st) != 0) {
        mc_err_add(err, "libcrypt cannot make a yescrypt hash");
        gw_staff_destroy(&st);
        return NULL;
    }
    /* no file at all: a gateway without the dashboard's logins (the API and the
     * citizen pages need none); a file that is there must be right */
    if (access(cfg->staff_path, F_OK) != 0 && errno == ENOENT)
        return st;
    mc_yaml_doc_t *doc = NULL;
    if (mc_yaml_load_file(cfg->staff_path, &doc, err) < 0) {
        gw_staff_destroy(&st);
        return NULL;
    }
    static const char *const top[] = {"staff", NULL};
    const mc_yaml_node_t *root = mc_yaml_root(doc), *list = NULL;
    int rc = mc_yaml_check_keys(root, "staff.yaml", top, top, err);
    if (rc == 0 && mc_yaml_expect_list(list = mc_yaml_get(root, "staff"), "staff", STAFF_MAX,
                                       "staff members", err) < 0)
        rc = -1;
    if (rc == 0 && list->count > 0 && !(st->accounts = calloc(list->count, sizeof *st->accounts))) {
        mc_err_add(err, "out of memory");
        rc = -1;
    }
    /* every problem in one run: keep checking after the first bad entry */
    for (size_t i = 0; st->accounts && i < list->count; i++) {
        st->n_accounts++;
        if (load_account(cfg, list->items[i], &st->accounts[i], err) != 0)
            rc = -1;
        for (size_t k = 0; k < i && st->accounts[i].username; k++)
            if (st->accounts[k].username && strcmp(st->accounts[k].username, st->accounts[i].username) == 0) {
                char w[512];
                mc_err_add(err, "%s: username '%s' listed twice", mc_yaml_where(list->items[i], w, sizeof w),
                           st->accounts[i].username);
                rc = -1;
            }
    }
    mc_yaml_destroy(&doc);
    if (rc != 0)
        gw_staff_destroy(&st);
    return st;
}

size_t gw_staff_count(const gw_staff_t *st)
{
    return st->n_accounts;
}

void gw_staff_destroy(gw_staff_t **pst)
{
    gw_staff_t *st = *pst;
    if (!st)
        return;
    for (size_t i = 0; i < st->n_accounts; i++) {
        free(st->accounts[i].username);
        free(st->accounts[i].ward);
        free(st->accounts[i].password_hash);
    }
    free(st->accounts);
    pthread_mutex_destroy(&st->lock);
    sodium_memzero(st, sizeof *st);
    free(st);
    *pst = NULL;
}

void gw_token_new(char *out)
{
    uint8_t raw[GW_TOKEN_HEX / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, GW_TOKEN_HEX + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

bool gw_token_equal(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    size_t n = strlen(a);
    return n > 0 && n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

/* throttle_find - the entry of key, made (oldest replaced) when make; NULL if none. Locked. */
static throttle_entry_t *throttle_find(gw_staff_t *st, const char *key, int64_t now, bool make)
{
    throttle_entry_t *victim = &st->throttle[0];
    for (size_t i = 0; i < THROTTLE_KEYS; i++) {
        throttle_entry_t *e = &st->throttle[i];
        if (e->key[0] && now - e->window_start >= GW_LOGIN_WINDOW_S)
            e->key[0] = '\0'; /* its window is over: forget it */
        if (e->key[0] && strcmp(e->key, key) == 0)
            return e;
        if (!e->key[0] || (victim->key[0] && e->window_start < victim->window_start))
            victim = e;
    }
    if (!make)
        return NULL;
    snprintf(victim->key, sizeof victim->key, "%s", key);
    victim->failures = 0;
    victim->window_start = now;
    return victim;
}

/* throttled - seconds until key may try again, 0 if it may now. Locked. */
static int throttled(gw_staff_t *st, const char *key, int64_t now)
{
    throttle_entry_t *e = throttle_find(st, key, now, false);
    if (!e || e->failures < GW_LOGIN_FAILURES)
        return 0;
    return (int)(e->window_start + GW_LOGIN_WINDOW_S - now);
}

/* session_slot - a free slot, or the one used longest ago. Locked. */
static staff_session_t *session_slot(gw_staff_t *st, int64_t now)
{
    staff_session_t *victim = &st->sessions[0];
    for (size_t i = 0; i < GW_SESSIONS_MAX; i++) {
        staff_session_t *s = &st->sessions[i];
        if (s->created && (now - s->last_seen >= GW_SESSION_IDLE_S || now - s->created >= GW_SESSION_MAX_S))
            s->created = 0;
        if (!s->created)
            return s;
        if (s->last_seen < victim->last_seen)
            victim = s;
    }
    return victim;
}

/* password_matches - crypt_r(password, hash) equals hash, in constant time */
static bool password_matches(const char *password, const char *hash)
{
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return false;
    const char *h = crypt_r(password, hash, cd);
    bool ok = h && h[0] == '$' && strlen(h) == strlen(hash) && sodium_memcmp(h, hash, strlen(hash)) == 0;
    sodium_memzero(cd, sizeof *cd);
    free(cd);
    return ok;
}

gw_login_rc_t gw_staff_login(gw_staff_t *st, const char *username, const char *password,
                             const char *remote, int64_t now, char *cookie,
                             gw_session_info_t *info, int *retry_after_s)
{
    char ukey[GW_USERNAME_MAX + 70], akey[GW_USERNAME_MAX + 70];
    snprintf(ukey, sizeof ukey, "u:%.64s", username);
    snprintf(akey, sizeof akey, "a:%.64s", remote ? remote : "");
    pthread_mutex_lock(&st->lock);
    int wait_u = throttled(st, ukey, now), wait_a = throttled(st, akey, now);
    pthread_mutex_unlock(&st->lock);
    if (wait_u > 0 || wait_a > 0) {
        *retry_after_s = wait_u > wait_a ? wait_u : wait_a;
        return GW_LOGIN_THROTTLED;
    }
    const staff_account_t *a = NULL;
    for (size_t i = 0; i < st->n_accounts && strlen(username) <= GW_USERNAME_MAX; i++)
        if (strcmp(st->accounts[i].username, username) == 0)
            a = &st->accounts[i];
    /* the same work whether the username exists or not */
    bool ok = password_matches(password, a ? a->password_hash : st->dummy_hash) && a;
    pthread_mutex_lock(&st->lock);
    if (!ok) {
        throttle_entry_t *e = throttle_find(st, ukey, now, true);
        e->failures++;
        e = throttle_find(st, akey, now, true);
        e->failures++;
        pthread_mutex_unlock(&st->lock);
        return GW_LOGIN_BAD;
    }
    throttle_entry_t *e = throttle_find(st, ukey, now, false);
    if (e)
        e->key[0] = '\0'; /* a success forgets the username's failures */
    staff_session_t *s = session_slot(st, now);
    memset(s, 0, sizeof *s);
    gw_token_new(cookie);
    crypto_hash_sha256(s->id_hash, (const uint8_t *)cookie, GW_TOKEN_HEX);
    snprintf(s->info.username, sizeof s->info.username, "%s", a->username);
    snprintf(s->info.ward, sizeof s->info.ward, "%s", a->ward);
    gw_token_new(s->info.csrf);
    s->created = now;
    s->last_seen = now;
    *info = s->info;
    pthread_mutex_unlock(&st->lock);
    return GW_LOGIN_OK;
}

/* session_of - the live session of cookie, NULL if none. Locked. */
static staff_session_t *session_of(gw_staff_t *st, const char *cookie, int64_t now)
{
    if (!cookie || strlen(cookie) != GW_TOKEN_HEX)
        return NULL;
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const uint8_t *)cookie, GW_TOKEN_HEX);
    staff_session_t *found = NULL;
    for (size_t i = 0; i < GW_SESSIONS_MAX; i++) {
        staff_session_t *s = &st->sessions[i];
        if (s->created && sodium_memcmp(s->id_hash, h, sizeof h) == 0)
            found = s;
    }
    if (found && (now - found->last_seen >= GW_SESSION_IDLE_S || now - found->created >= GW_SESSION_MAX_S)) {
        found->created = 0;
        found = NULL;
    }
    return found;
}

bool gw_staff_session(gw_staff_t *st, const char *cookie, int64_t now, gw_session_info_t *info)
{
    pthread_mutex_lock(&st->lock);
    staff_session_t *s = session_of(st, cookie, now);
    if (s) {
        s->last_seen = now;
        *info = s->info;
    }
    pthread_mutex_unlock(&st->lock);
    return s != NULL;
}

void gw_staff_logout(gw_staff_t *st, const char *cookie)
{
    pthread_mutex_lock(&st->lock);
    staff_session_t *s = session_of(st, cookie, 0);
    if (s)
        sodium_memzero(s, sizeof *s);
    pthread_mutex_unlock(&st->lock);
}
