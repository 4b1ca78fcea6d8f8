/*
 * chaos - the project's own fault test (issue 8): the whole pipeline on a
 * throwaway cluster under continuous load while daemons, agencies,
 * PostgreSQL and the SMS gateway fail at random (seeded) moments; then the
 * drain and the accounting. Shared declarations of the files in tests/chaos/.
 *
 * Contract: one run = chaos_run(opts); it prints its summary as the last
 * lines and returns 0 only when nothing was lost, duplicated, delivered
 * twice or left stuck. The same seed gives the same fault schedule (which
 * process, when relative to the start, how long it stays down); the
 * interleaving with the load is the machine's.
 */
#ifndef CHAOS_H
#define CHAOS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"
#include "mc_cfg.h"

#define CHAOS_MAX_AGENCIES 32
#define CHAOS_MAX_PROCS    (4 + CHAOS_MAX_AGENCIES)

/* the size of a run */
typedef struct chaos_opts {
    uint64_t seed;        /* PRNG seed: the fault schedule and the load's choices */
    bool     quick;       /* --short: the make check version */
    int      dossiers;    /* submissions to make */
    int      kills;       /* kill -9 events */
    int      load_s;      /* seconds over which the load and the faults are spread */
    int      drain_s;     /* bound on the wait for the drain */
    int      clients;     /* submitting threads */
} chaos_opts_t;

/* the personal values one submission put on the wire (chaos_logscan looks for them in the logs) */
typedef struct chaos_pii {
    char citizen_id[16];     /* the applicant's CCCD number */
    char phone[16];          /* mobile number, 0xxxxxxxxx */
    char email[64];          /* e-mail address */
    char name[128];          /* full name */
    char address[192];       /* postal address */
    char secret[48];         /* the receipt's secret (= the rating token), "" until acked */
    char submission_id[64];  /* the request's idempotency key */
} chaos_pii_t;

/* one submission of the load, by its index */
typedef struct chaos_sub {
    char          code[64];    /* the receipt's dossier code, "" until acked */
    atomic_bool   acked;       /* a receipt came back */
    int           sends;       /* times the request went out */
    bool          refused;     /* a non-retryable rejection (a bug in the generator or intake) */
    bool          withdraw;    /* this dossier will be withdrawn (seeded) */
    bool          rate;        /* ... rated once decided (seeded) */
    int           withdrawn;   /* withdrawal acknowledged (1) or refused as too late (2) */
    int           rated;       /* rating acknowledged (1) or refused (2) */
    int           supplements; /* supplements acknowledged */
    chaos_pii_t   pii;         /* written by the one submitter thread that owns the index */
} chaos_sub_t;

/* the fake SMS gateway (chaos_gateway.c) */
typedef struct chaos_gateway chaos_gateway_t;

/* one process under test */
typedef struct chaos_proc {
    char    name[64];     /* "intake", ..., or the agency code */
    bool    agency;       /* motcua-agency (else a daemon with READY=1) */
    pid_t   pid;          /* running, 0 when down */
    int64_t restart_at;   /* when to start it again (ms, monotonic), 0 = not scheduled */
    bool    stopped;      /* SIGSTOPped */
    int64_t cont_at;      /* when to SIGCONT it */
    int     kills;        /* kill -9 received from us */
    int     stops;        /* SIGSTOPs received */
    int     restarts;     /* successful restarts */
    int     failed_starts;/* starts that did not come up (retried) */
    int     crashes;      /* exits we did not cause */
    int     runs;         /* starts, names each run's log */
} chaos_proc_t;

/* the whole run's shared state */
typedef struct chaos {
    chaos_opts_t     opts;
    harness_t        h;                 /* cluster, config, directory */
    mc_cfg_t        *cfg;               /* loaded test config (catalog for the generator) */
    char             keys[400];         /* DIR/keys */
    bool             state_dir;         /* motcua-agency supports --state-dir */
    int              lease_ms;          /* lienthong lease (configured when supported) */
    bool             leases;            /* the hub keeps sessions and leases (migration 0006) */
    chaos_proc_t     procs[CHAOS_MAX_PROCS];
    int              n_procs;
    chaos_gateway_t *gateway;
    int              gateway_port;
    chaos_sub_t     *subs;              /* opts.dossiers entries */
    atomic_int       next_sub;          /* the next index a client takes */
    atomic_int       submitting;        /* submitter threads still running */
    atomic_bool      stop;              /* every thread: finish now */
    atomic_long      resends;           /* requests sent again (timeout or retryable) */
    atomic_long      followups;         /* supplements + withdrawals + ratings acknowledged */
    int              pg_restarts;       /* PostgreSQL immediate stops */
    int              agency_cuts;       /* agencies cut off longer than a lease */
    int              gateway_outages;   /* SMS gateway failing windows */
    int64_t          t0;                /* start of the load (ms) */
} chaos_t;

/* --- chaos_gateway.c ---------------------------------------------------- */

/* chaos_gateway_start - an HTTP SMS gateway on 127.0.0.1 (thread); its port in *port */
chaos_gateway_t *chaos_gateway_start(int *port);

/* chaos_gateway_fail - answer 500 for the next ms milliseconds (half before, half after delivering) */
void chaos_gateway_fail(chaos_gateway_t *g, int ms);

/* the gateway's record, for the accounting */
typedef struct chaos_gateway_stats {
    long posts;             /* raw POSTs */
    long refs;              /* distinct refs (idempotency keys, else bodies) */
    long deliveries;        /* messages handed on to phones */
    long duplicate;         /* messages handed on twice (same body without a key, or one notification under 2 keys) */
    long keyed;             /* refs that came with an Idempotency-Key or ref */
    long failed_answers;    /* POSTs answered 500 */
} chaos_gateway_stats_t;

/* chaos_gateway_stats - the counters now */
void chaos_gateway_stats(chaos_gateway_t *g, chaos_gateway_stats_t *out);

/* chaos_gateway_delivered - was notification id delivered (by key "motcua-<id>" or ref <id>)? -1 unknown (no keys) */
int chaos_gateway_delivered(chaos_gateway_t *g, int64_t id);

/* chaos_gateway_stop - stop the thread and free; NULLs *g */
void chaos_gateway_stop(chaos_gateway_t **g);

/* --- chaos_load.c ------------------------------------------------------- */

/* chaos_load_start - start the submitting clients and the applicant (follow-ups) thread */
int chaos_load_start(chaos_t *c, pthread_t *threads, int *n_threads);

/* chaos_applicant_round - one pass of the applicant's follow-ups on conn (supplements, withdrawals, ratings) */
void chaos_applicant_round(chaos_t *c, PGconn *conn);

/* --- chaos_check.c ------------------------------------------------------ */

/* what the accounting found */
typedef struct chaos_result {
    long acked;            /* submissions with a receipt */
    long lost;             /* acked without a dossier */
    long duplicated;       /* more than one dossier per submission_id or per code */
    long dup_deliveries;   /* a notice delivered twice (gateway, milestone rows, spool files) */
    long stuck;            /* dossiers not final nor legitimately waiting after the drain */
    long double_takes;     /* an agency took one (case, revision) twice as new work */
    long outcome_mismatch; /* an agency's outcome differs from the stored one */
    long missing_notices;  /* sent notices the gateway or the spool never got */
    long refused;          /* submissions refused for good (should be 0) */
} chaos_result_t;

/* chaos_check - the accounting, from the store, the agencies' journals/logs, the gateway, the spool */
int chaos_check(chaos_t *c, chaos_result_t *r);

/* --- chaos_logscan.c --------------------------------------------------- */

/* the kinds of personal value the log scan reports (never the value itself) */
typedef enum chaos_pii_kind {
    CHAOS_PII_CITIZEN_ID,
    CHAOS_PII_PHONE,
    CHAOS_PII_EMAIL,
    CHAOS_PII_NAME,
    CHAOS_PII_ADDRESS,
    CHAOS_PII_SECRET,
    CHAOS_PII_SUBMISSION_ID,
    CHAOS_PII_KINDS
} chaos_pii_kind_t;

/* a set of personal values to look for in logs */
typedef struct chaos_logscan chaos_logscan_t;

/* chaos_logscan_new - an empty set; NULL on OOM */
chaos_logscan_t *chaos_logscan_new(void);

/* chaos_logscan_add - look for value (of kind) too; "" and values under 6 bytes are ignored; -1 on OOM */
int chaos_logscan_add(chaos_logscan_t *s, chaos_pii_kind_t kind, const char *value);

/* chaos_logscan_add_sub - every personal value of one submission; -1 on OOM */
int chaos_logscan_add_sub(chaos_logscan_t *s, const chaos_pii_t *pii);

/* chaos_logscan_file - hits per kind in one file (added to hits[]); their total, -1 if unreadable */
long chaos_logscan_file(const chaos_logscan_t *s, const char *path, long hits[CHAOS_PII_KINDS]);

/* chaos_logscan_dir - scan dir's *.log (ours: counted, returned) and pg/server.log
 * (PostgreSQL's: printed, not counted); one line per file and kind with hits; -1 on error */
long chaos_logscan_dir(const chaos_logscan_t *s, const char *dir);

/* chaos_logscan_destroy - free; NULLs *s */
void chaos_logscan_destroy(chaos_logscan_t **s);

/* chaos_logscan_selftest - plant one phone number among decoys in a fake log: 0 when exactly it is found */
int chaos_logscan_selftest(void);

/* --- chaos.c ------------------------------------------------------------ */

/* chaos_rand - the seeded PRNG (splitmix64) on *state */
uint64_t chaos_rand(uint64_t *state);

/* chaos_mix - a per-item pseudo-random number from the seed and n (same seed, same answer) */
uint64_t chaos_mix(uint64_t seed, uint64_t n);

/* chaos_conn - a fresh connection to the test database; NULL if impossible (message on stderr) */
PGconn *chaos_conn(chaos_t *c);

#endif
