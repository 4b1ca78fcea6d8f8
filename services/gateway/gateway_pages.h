/*
 * gateway_pages - the citizen's pages and the ward's dashboard inside
 * motcua-gateway (issue 15 parts 2 and 3): what gateway_pages.c and
 * gateway_staff.c share.
 *
 * Contract:
 *   * Staff accounts come from files.staff (config/staff.yaml): username,
 *     ward, password_hash (crypt(3): yescrypt `$y$` or SHA-512 `$6$`, made
 *     by `mkpasswd -m yescrypt` or `mkpasswd -m sha-512`; docs/web.md). A
 *     staff member sees only their own ward.
 *   * Sessions live in this process's memory (gw_staff_t), not in the
 *     store: the dashboard only reads, so a gateway restart or a switch to
 *     the other gateway host costs the clerk one login and nothing else,
 *     while the database login of the pages stays read-only (motcua_report)
 *     and no session table has to be cleaned. The cookie holds 32 random
 *     bytes; the table holds only their SHA-256. A session ends
 *     GW_SESSION_IDLE_S after its last use or GW_SESSION_MAX_S after login.
 *   * Login attempts are limited per username and per client address:
 *     GW_LOGIN_FAILURES failures within GW_LOGIN_WINDOW_S lock further
 *     attempts for the rest of the window (429 + Retry-After).
 *   * Every function here is thread-safe (libmicrohttpd's threads).
 */
#ifndef GATEWAY_PAGES_H
#define GATEWAY_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_cfg.h"
#include "mc_err.h"
#include "mc_limits.h"

#define GW_SESSION_IDLE_S   1800     /* a session unused this long ends */
#define GW_SESSION_MAX_S    (8 * 3600) /* a session ends this long after login whatever */
#define GW_SESSIONS_MAX     1024     /* sessions held at once (the oldest goes first) */
#define GW_LOGIN_FAILURES   5        /* failed logins per username or address ... */
#define GW_LOGIN_WINDOW_S   900      /* ... within this window lock it until the window ends */
#define GW_TOKEN_HEX        64       /* a session id or CSRF token: 32 random bytes in hex */
#define GW_USERNAME_MAX     64       /* bytes in a username */

typedef struct gw_staff gw_staff_t; /* accounts, sessions, login throttle */

/* what a session says about its staff member */
typedef struct gw_session_info {
    char username[GW_USERNAME_MAX + 1]; /* account name */
    char ward[MC_WARD_CODE_LEN + 1];    /* the ward they see */
    char csrf[GW_TOKEN_HEX + 1];        /* the session's CSRF token (X-CSRF-Token) */
} gw_session_info_t;

/* what a login attempt gave */
typedef enum gw_login_rc {
    GW_LOGIN_OK = 0,    /* a new session: *cookie and *info set */
    GW_LOGIN_BAD,       /* unknown user or wrong password (never said which) */
    GW_LOGIN_THROTTLED, /* too many failures: *retry_after_s set */
    GW_LOGIN_FAILED     /* out of memory, no randomness */
} gw_login_rc_t;

/* gw_staff_load - files.staff of cfg (every ward checked against cfg); no such file:
 * no accounts (the dashboard refuses every login); NULL with err */
gw_staff_t *gw_staff_load(const mc_cfg_t *cfg, mc_err_t *err);

/* gw_staff_count - the accounts loaded */
size_t gw_staff_count(const gw_staff_t *st);

/* gw_staff_destroy - free, wipe the sessions, NULL the pointer */
void gw_staff_destroy(gw_staff_t **st);

/* gw_staff_login - check username/password (remote: the client's address, for the
 * throttle) at now (epoch s); cookie gets the new session id (GW_TOKEN_HEX + 1 bytes) */
gw_login_rc_t gw_staff_login(gw_staff_t *st, const char *username, const char *password,
                             const char *remote, int64_t now, char *cookie,
                             gw_session_info_t *info, int *retry_after_s);

/* gw_staff_session - the live session of cookie (NULL: none) at now, its use noted; false if none */
bool gw_staff_session(gw_staff_t *st, const char *cookie, int64_t now, gw_session_info_t *info);

/* gw_staff_logout - end the session of cookie (no-op if none) */
void gw_staff_logout(gw_staff_t *st, const char *cookie);

/* gw_token_new - 32 random bytes as 64 lowercase hex digits into out (GW_TOKEN_HEX + 1) */
void gw_token_new(char *out);

/* gw_token_equal - two tokens compared in constant time (false if either is NULL or the lengths differ) */
bool gw_token_equal(const char *a, const char *b);

#endif
