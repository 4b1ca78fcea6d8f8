/*
 * mc_store - PostgreSQL, the source of truth.
 *
 * Contract:
 *   * One mc_store_t belongs to one thread. It holds one libpq connection,
 *     synchronous_commit on: every state change is durable when its call
 *     returns OK (a dossier's number commits with its dossier, see
 *     mc_store_create_dossiers).
 *   * Every statement is prepared once per connection and run with
 *     parameters; there is no string-built SQL.
 *   * A state change and its event are written in one transaction.
 *   * Every call returns MC_STORE_OK or MC_STORE_EXISTS when it decided;
 *     MC_STORE_UNAVAILABLE when the server cannot be reached, or the
 *     transaction was a deadlock or serialisation victim (the store then
 *     drops its connections; the next mc_store_connect() retries) - nothing
 *     was committed, or, for a write cut off at commit, the write is either
 *     committed or not and a retry with the same idempotency key tells
 *     which; MC_STORE_FAILED for any other error (message in err).
 *   * A commit whose outcome is unknown (the connection lost while a COMMIT
 *     or an autocommit statement was under way, or the server's warning that
 *     the wait for synchronous replication was cancelled: "committed
 *     locally, but might not have been replicated") is MC_STORE_UNAVAILABLE
 *     with err->code MC_ERR_UNKNOWN_COMMIT: never done, retried by the
 *     caller under the same idempotency key. The connection is then dropped;
 *     every new connection first commits a durability barrier (a transaction
 *     that takes an xid: with synchronous replication its commit waits until
 *     the standby has everything before it) and answers nothing until it
 *     committed cleanly (docs/reliability.md, "Several hosts: failover").
 *   * Connections get TCP keepalives and tcp_user_timeout (mc_store_set_tcp);
 *     a multi-host conninfo (target_session_attrs=read-write) follows the
 *     primary; a failed connect reports every host's error on one line.
 *   * Never logs parameters (they hold personal data).
 */
#ifndef MC_STORE_H
#define MC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_calendar.h"
#include "mc_err.h"
#include "mc_limits.h"

typedef enum mc_store_rc {
    MC_STORE_OK          = 0,  /* done */
    MC_STORE_EXISTS      = 1,  /* the idempotency key was already used: see existing */
    MC_STORE_NOT_FOUND   = 2,  /* no such row */
    MC_STORE_UNAVAILABLE = -1, /* cannot reach PostgreSQL: retry later */
    MC_STORE_FAILED      = -2, /* anything else */
} mc_store_rc_t;

typedef struct mc_store mc_store_t;

/* TCP settings every connection gets unless its conninfo sets them (database.keepalives_*,
 * database.tcp_user_timeout_ms; docs/reliability.md "Several hosts: failover") */
typedef struct mc_store_tcp {
    int keepalives_idle_s;     /* libpq keepalives_idle: idle seconds before the first probe */
    int keepalives_interval_s; /* libpq keepalives_interval: seconds between probes */
    int keepalives_count;      /* libpq keepalives_count: probes lost before the link is dead */
    int tcp_user_timeout_ms;   /* libpq tcp_user_timeout: unacknowledged data this long = dead; 0 = kernel's */
} mc_store_tcp_t;

#define MC_STORE_KEEPALIVES_IDLE_S     5     /* default keepalives_idle */
#define MC_STORE_KEEPALIVES_INTERVAL_S 2     /* default keepalives_interval */
#define MC_STORE_KEEPALIVES_COUNT      3     /* default keepalives_count */
#define MC_STORE_TCP_USER_TIMEOUT_MS   10000 /* default tcp_user_timeout */
#define MC_STORE_CODE_GAP              1000  /* default intake.code_gap_after_failover */

/* mc_store_new - a store that is not connected yet; NULL only on out of memory */
mc_store_t *mc_store_new(const char *conninfo, int connect_timeout_s, int statement_timeout_ms);

/* mc_store_set_tcp - the keepalive defaults of the next connections (a store starts with the
 * MC_STORE_* defaults above); a value the conninfo sets wins */
void mc_store_set_tcp(mc_store_t *store, const mc_store_tcp_t *tcp);

/*
 * mc_store_set_code_gap - intake's stores: on each new connection, when the
 * primary is on another timeline than the store last noted (a promotion:
 * failover, switchover or point-in-time recovery), move the dossier code
 * counters of yesterday, today and later forward by gap in one transaction
 * before anything else (mc_follow_timeline, migration 0024), so that a
 * number handed out on the old primary and lost with it is never handed
 * out again. 0 (the default) leaves counters alone.
 */
void mc_store_set_code_gap(mc_store_t *store, int gap);

/* mc_store_conn_error - libpq's connect error (one line per host tried) as one line for
 * the log: lines joined with " | ", password=... redacted; into buf, returned */
const char *mc_store_conn_error(const char *msg, char *buf, size_t size);

/* mc_store_destroy - disconnect, free, NULL the caller's pointer */
void mc_store_destroy(mc_store_t **store);

/* mc_store_connect - (re)connect and prepare statements if not connected */
mc_store_rc_t mc_store_connect(mc_store_t *store, mc_err_t *err);

/* mc_store_connected - are both connections up (as far as libpq knows)? */
bool mc_store_connected(const mc_store_t *store);

/* mc_store_disconnect - drop both connections */
void mc_store_disconnect(mc_store_t *store);

/*
 * mc_store_migrate - apply every embedded migration whose version has no
 * row in schema_migration (in version order; a gap left by a migration that
 * landed later than a newer one is filled, never skipped), each in its own
 * transaction with its row, or statement by statement for a file marked
 * `-- motcua:no-transaction` (mc_store_migrate.c); concurrent migrators
 * serialise on an advisory lock. *version is the highest version recorded
 * afterwards. The default waits (mc_store_migrate_defaults).
 * Needs no prepared statements (run before the schema exists).
 */
mc_store_rc_t mc_store_migrate(mc_store_t *store, int *applied, int *version, mc_err_t *err);

/* how the migration runner waits (mc_store_migrate_with; docs/operations.md "Migrations") */
typedef struct mc_store_migrate_opts {
    int target;          /* apply versions up to this one only; 0 = every embedded one */
    int lock_timeout_ms; /* the longest one statement waits for a lock (lock_timeout) */
    int lock_retries;    /* attempts after a lock timeout before giving up */
    int backoff_ms;      /* first wait between attempts, doubled each time (at most 30 s) */
} mc_store_migrate_opts_t;

#define MC_STORE_MIGRATE_LOCK_TIMEOUT_MS 2000 /* default lock_timeout of the runner */
#define MC_STORE_MIGRATE_LOCK_RETRIES    10   /* default attempts after a lock timeout */
#define MC_STORE_MIGRATE_BACKOFF_MS      500  /* default first backoff */

/* mc_store_migrate_defaults - the defaults above, target 0 */
void mc_store_migrate_defaults(mc_store_migrate_opts_t *opts);

/*
 * mc_store_migrate_with - mc_store_migrate with explicit waits. The session
 * runs without statement_timeout and with opts->lock_timeout_ms; a unit (a
 * transactional migration, or one statement of a `-- motcua:no-transaction`
 * one) whose lock is not granted is retried after a backoff, logged
 * (migration_lock_retry), and fails with a clear error after
 * opts->lock_retries retries. The file markers are described in
 * docs/operations.md.
 */
mc_store_rc_t mc_store_migrate_with(mc_store_t *store, const mc_store_migrate_opts_t *opts,
                                    int *applied, int *version, mc_err_t *err);

/* one embedded migration as the database knows it (mc_store_migrate_status) */
typedef struct mc_store_migration_state {
    int         version;        /* NNNN */
    const char *name;           /* the embedded file's name (static) */
    bool        applied;        /* schema_migration has its row */
    char        applied_at[40]; /* when, "YYYY-MM-DD HH:MM:SS+TZ"; "" when pending */
} mc_store_migration_state_t;

/*
 * mc_store_migrate_status - each embedded migration (mc_migrations_count
 * entries into states, in file order) applied or pending; *pending counts the
 * pending ones. Reads only; an empty database has every migration pending.
 */
mc_store_rc_t mc_store_migrate_status(mc_store_t *store, mc_store_migration_state_t *states,
                                      int *pending, mc_err_t *err);

/* a response stored under an idempotency key */
typedef struct mc_stored_response {
    uint8_t  request_sha256[32]; /* hash of the request that created it */
    uint8_t *bytes;              /* malloc'd response (e.g. a serialized Receipt) */
    size_t   length;             /* bytes in bytes */
} mc_stored_response_t;

/* mc_stored_response_clear - free bytes, zero the struct */
void mc_stored_response_clear(mc_stored_response_t *response);

typedef struct mc_new_dossier mc_new_dossier_t;

/*
 * mc_new_dossier_pack_fn - the daemon's receipt for a dossier whose number
 * is now known: format the code of seq and pack the response to store for
 * replays, then point d->code, d->response and d->response_len at them (the
 * caller's memory, valid until the store call returns). Called inside the
 * transaction, with no I/O; called again with another seq if the batch is
 * retried, so it must release what a previous call made. 0, or -1 with err.
 */
typedef int (*mc_new_dossier_pack_fn)(void *arg, int seq, mc_new_dossier_t *d, mc_err_t *err);

/* one dossier to create, with its idempotency key and first event */
struct mc_new_dossier {
    const char    *scope;          /* idempotency scope, e.g. "submit:<ward>" */
    const char    *key;            /* submission_id */
    const uint8_t *request_sha256; /* 32 bytes: hash of the serialized Dossier */
    const char    *code;           /* set by pack: the dossier code from mc_code_format() */
    const char    *ward_code;
    const char    *unit_id;
    mc_date_t      day;            /* receipt day in the code */
    const char    *procedure_code;
    int            channel;        /* motcua.v1.Channel */
    int64_t        received_at;
    int64_t        counted_from;
    int64_t        due_at;
    const uint8_t *payload;        /* serialized motcua.v1.Dossier as submitted */
    size_t         payload_len;
    const uint8_t *response;       /* set by pack: serialized Receipt to replay on retries */
    size_t         response_len;   /* set by pack: bytes in response */
    mc_new_dossier_pack_fn pack;   /* makes code and response once the number is known */
    void          *pack_arg;       /* pack's first argument */
    const char    *event_actor;    /* who received it */
    const char    *event_detail;   /* human text, no personal data */
    const char    *secret;         /* the applicant's secret (rating_token), UUID text, as in response */
    int            state;          /* motcua.v1.DossierState it starts in: RECEIVED, or PENDING_ACCEPTANCE (online) */
    int64_t        accept_due_at;  /* PENDING_ACCEPTANCE: the acceptance deadline; 0 otherwise */
    const char    *receiving_ward; /* boundary-free reception: the ward that received it when it is not ward_code, else NULL */
    int64_t        forward_due_at; /* with receiving_ward: when it must reach the competent unit */
    const char    *forward_detail; /* with receiving_ward: the `forward_due` event's detail */
};

typedef struct mc_new_dossier_result {
    mc_store_rc_t        rc;       /* OK: created; EXISTS: key was used, see existing; < 0: not stored */
    int64_t              id;       /* dossier id when created */
    mc_stored_response_t existing; /* when EXISTS: the first response */
} mc_new_dossier_result_t;

/*
 * mc_store_create_dossiers - receive n dossiers in ONE transaction (one
 * synchronous commit for all: group commit). For each item in order: lock
 * its (scope, key) until the commit, and either find the key's stored
 * response (results[i].rc = MC_STORE_EXISTS, nothing written, pack not
 * called) or take the next number of (unit_id, day), call pack, and write
 * the dossier, its "received" event, its notification and its key.
 * Numbers are taken in the same transaction, so codes have no gaps from
 * retries or failures and are never duplicated. When an item fails for
 * any reason but a lost server, the transaction is rolled back and every
 * item is received again in a transaction of its own, so one bad dossier
 * fails alone. A lost server (or a cut-off COMMIT) fails every item with
 * MC_STORE_UNAVAILABLE: a retry under the same key tells what was stored.
 * The keys of one call must differ: a repeated key would take a number
 * before the first one's key is written, and that number would be a gap
 * (the repeat still gets EXISTS). Returns MC_STORE_OK when every item was
 * decided (OK or EXISTS), else the first item's failure; results[i].rc is
 * always set.
 */
mc_store_rc_t mc_store_create_dossiers(mc_store_t *store, mc_new_dossier_t *items, size_t n,
                                       mc_new_dossier_result_t *results, mc_err_t *err);

/* one line of a dossier's history */
typedef struct mc_store_event {
    int64_t at;
    char    actor[64];
    char    kind[32];
    char    detail[256];
} mc_store_event_t;

/* a dossier as the status query shows it */
typedef struct mc_dossier_status {
    int64_t           id;
    char              code[MC_CODE_MAX];
    char              ward_code[MC_WARD_CODE_LEN + 1];
    char              procedure_code[MC_PROCEDURE_CODE_LEN + 1];
    int               state;                                /* motcua.v1.DossierState */
    int               channel;                              /* motcua.v1.Channel */
    int64_t           received_at;
    int64_t           counted_from;
    int64_t           due_at;                               /* 0 while pending acceptance */
    int64_t           accept_due_at;                        /* online: the acceptance deadline, 0 if none */
    int64_t           accepted_at;                          /* online: when the desk accepted it, 0 if not (yet) */
    char              secret[40];                           /* dossier.rating_token as UUID text: the applicant's secret (never log it) */
    char              receiving_ward[MC_WARD_CODE_LEN + 1]; /* the ward that received it when not ward_code (boundary-free reception), else "" */
    size_t            n_events;                             /* entries in events, oldest first */
    mc_store_event_t *events;
} mc_dossier_status_t;

/* mc_store_dossier_status - the dossier and its newest max_events events */
mc_store_rc_t mc_store_dossier_status(mc_store_t *store, const char *code, size_t max_events,
                                      mc_dossier_status_t **status, mc_err_t *err);

/* mc_dossier_status_destroy - free and NULL the caller's pointer */
void mc_dossier_status_destroy(mc_dossier_status_t **status);

#endif
