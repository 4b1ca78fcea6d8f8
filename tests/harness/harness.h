/*
 * harness - real parts for integration tests: a throwaway PostgreSQL in a
 * temp directory (tests/pgtmp.sh), a generated motcua.yaml pointing at it,
 * the real daemons started as child processes, real ZeroMQ requests.
 *
 * Contract: harness_setup() gives a migrated, empty database and a config;
 * harness_teardown() stops everything it started and removes the
 * directory (unless MOTCUA_KEEP_TEST_DIR is set). Daemons are started with
 * NOTIFY_SOCKET pointing at a datagram socket the harness reads, so
 * "started" means the daemon itself said READY=1, as systemd would see it.
 *
 * Ports: the generated configuration lets intake and lienthong bind any free
 * port (HARNESS_ANY_PORT); each reports the one it got in its READY datagram
 * (X_MOTCUA_ENDPOINT), and harness_start_daemon() stores it (h->endpoint,
 * h->lienthong_endpoint) and writes it over the `*` in the configuration it
 * started the daemon with and in the generated one, so the CLI, agencies and
 * a restart of the daemon use that port. Only PostgreSQL's port is chosen by
 * the harness (harness_free_port: never the same port twice in a process).
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include "mc_transport.h"
#include "motcua/v1/intake.pb-c.h"

/* an endpoint that lets the daemon pick a free port and report it */
#define HARNESS_ANY_PORT "tcp://127.0.0.1:*"

/*
 * Intake's clients: harness_setup() writes DIR/keys (intake's keypair and one
 * per client) and DIR/clients.yaml registering every client below but
 * HARNESS_STRANGER, and the token-only HARNESS_WEB; the generated config points intake.server_key_file and
 * the CLI's client.key_file (HARNESS_COUNTER) at them.
 */
typedef enum harness_client {
    HARNESS_COUNTER    = 0, /* counter software acting for both wards (00229, 00220): the default */
    HARNESS_OTHER_WARD = 1, /* QUAY_00220: a counter acting for ward 00220 only */
    HARNESS_PORTAL     = 2, /* HARNESS_PORTAL: the online portal, both wards */
    HARNESS_STRANGER   = 3, /* a valid CURVE key that clients.yaml does not list */
    HARNESS_GATEWAY    = 4, /* HARNESS_GATEWAY: role gateway (on_behalf_of), no wards */
    HARNESS_N_CLIENTS  = 5,
} harness_client_t;

/* HARNESS_PORTAL's bearer token (clients.yaml holds its token_sha256 besides
 * its CURVE key), and a token-only portal client of ward 00220, HARNESS_WEB,
 * that can reach intake only through a gateway (on_behalf_of) */
#define HARNESS_PORTAL_TOKEN "harness-portal-token-0123456789abcdef"
#define HARNESS_WEB_TOKEN    "harness-web-token-0123456789abcdef"
#define HARNESS_WEB          "HARNESS_WEB"

typedef struct harness {
    char    dir[256];                /* temp directory holding everything */
    char    build[256];              /* build directory (binaries) */
    char    repo[512];               /* repository root (config/ files) */
    int     pg_port;                 /* PostgreSQL TCP port */
    char    conninfo[512];           /* libpq conninfo of the test database */
    char    config[512];             /* generated motcua.yaml */
    char    endpoint[128];           /* intake's; HARNESS_ANY_PORT until it reported one */
    char    lienthong_endpoint[128]; /* lienthong's as it reported it, or "" */
    pid_t   intake_pid;              /* running motcua-intake, 0 if none */
    int     notify_fd;               /* our NOTIFY_SOCKET datagram socket */
    char    notify_path[300];        /* its path */
    PGconn  *db;                     /* connection for assertions */
    mc_transport_keys_t keys[HARNESS_N_CLIENTS]; /* each client's keys and intake's public key */
} harness_t;

/* harness_setup - temp dir, PostgreSQL, config (workers intake workers), migrate */
int harness_setup(harness_t *h, const char *name, int workers);

/* harness_teardown - stop daemons and PostgreSQL, remove the directory */
void harness_teardown(harness_t *h);

/* harness_run - run a shell command line; returns its exit status (or -1) */
int harness_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* harness_motcua - run build/bin/motcua -c CONFIG ARGS, output to a file in dir */
int harness_motcua(harness_t *h, const char *args);

/* harness_now_ms - monotonic milliseconds */
int64_t harness_now_ms(void);

/* harness_wait_count - poll harness_count every 50 ms until it equals want or ms pass; the last value */
long harness_wait_count(harness_t *h, const char *sql, const char *param, long want, int ms);

/* harness_wait_next_second - wait until the wall clock's second changes (at most 2 s):
 * for tests where a replay must not show a later time; not a wait for the system */
int harness_wait_next_second(void);

/* harness_start_intake - harness_start_daemon(h, "intake", NULL, "intake.log"),
 * the pid kept in h->intake_pid; 0 or -1 */
int harness_start_intake(harness_t *h);

/* harness_signal_intake - send sig, wait for exit; returns exit status, 128+sig if killed */
int harness_signal_intake(harness_t *h, int sig);

/* harness_free_port - a TCP port on 127.0.0.1 nobody holds now, not avoid, below the
 * ephemeral range, never one this process was given before; -1 if none */
int harness_free_port(int avoid);

/* harness_config_append - append text (whole top-level YAML sections) to the config */
int harness_config_append(harness_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * harness_spawn - start build/bin/PROGRAM with argv (NULL-terminated, without
 * argv[0]), output appended to DIR/LOG; no readiness wait. Returns the pid or -1.
 */
pid_t harness_spawn(harness_t *h, const char *program, const char *log, const char *const *args);

/* harness_wait_exit - wait up to ms for *pid to exit (then zero it); exit status, or -1 if still running */
int harness_wait_exit(pid_t *pid, int ms);

/* harness_pg_stop / harness_pg_start - stop (fast) or start the cluster again */
int harness_pg_stop(harness_t *h);
int harness_pg_start(harness_t *h);

/* harness_db - (re)connect the assertion connection; NULL if impossible */
PGconn *harness_db(harness_t *h);

/* harness_count - run a query returning one integer; -1 on error */
long harness_count(harness_t *h, const char *sql, const char *param);

/* harness_exec - run a statement (or a few, no parameters) on the assertion connection;
 * 0, or -1 with the error printed */
int harness_exec(harness_t *h, const char *sql);

/* harness_request - send a serialized IntakeRequest; *reply unpacked (free with
 * motcua__v1__intake_reply__free_unpacked); -1 on timeout or garbage */
int harness_request(harness_t *h, const Motcua__V1__IntakeRequest *req, int timeout_ms,
                    Motcua__V1__IntakeReply **reply);

/* harness_request_raw - send raw bytes, get raw reply bytes (malloc'd) */
int harness_request_raw(harness_t *h, const void *bytes, size_t len, int timeout_ms,
                        uint8_t **reply, size_t *reply_len);

/* harness_request_as / harness_request_raw_as - the same as client who
 * (harness_request* use HARNESS_COUNTER); a refused key gets no reply: -1 */
int harness_request_as(harness_t *h, harness_client_t who, const Motcua__V1__IntakeRequest *req,
                       int timeout_ms, Motcua__V1__IntakeReply **reply);
int harness_request_raw_as(harness_t *h, harness_client_t who, const void *bytes, size_t len,
                           int timeout_ms, uint8_t **reply, size_t *reply_len);

/* harness_start_daemon - start build/bin/motcua-NAME -c CONFIG (NULL = the
 * generated one), output appended to DIR/LOG_NAME, and wait for its READY=1
 * (10 s); returns its pid or -1. The caller stops it (harness_stop_daemon).
 * For intake and lienthong the endpoint they report is remembered (see the
 * header: h->endpoint, h->lienthong_endpoint, the configurations). */
pid_t harness_start_daemon(harness_t *h, const char *name, const char *config,
                           const char *log_name);

/* harness_stop_daemon - send sig, reap; exit status, 128+sig if killed */
int harness_stop_daemon(pid_t pid, int sig);

/* harness_config_copy - write PATH: the generated config with the first
 * occurrence of FROM replaced by TO (e.g. a notify key) */
int harness_config_copy(harness_t *h, const char *path, const char *from, const char *to);

/* a valid birth-registration dossier that tests then spoil field by field */
typedef struct harness_dossier {
    Motcua__V1__SubmitDossier submit;
    Motcua__V1__Dossier       dossier;
    Motcua__V1__Applicant     applicant;
    Motcua__V1__Person        person;
    Motcua__V1__DocumentRef   docs[3];
    Motcua__V1__DocumentRef  *doc_ptrs[3];
    uint8_t                   sha[3][32];
    char                      submission_id[64];
    Motcua__V1__IntakeRequest request;
} harness_dossier_t;

/* harness_dossier_init - fill d with a valid counter (CHANNEL_DIRECT) dossier for ward 00229 */
void harness_dossier_init(harness_dossier_t *d, const char *submission_id);

/* harness_reason_name - "REASON_X" for messages */
const char *harness_reason_name(Motcua__V1__Reason reason);

/*
 * harness_pipeline_setup - make h's configuration run the whole pipeline:
 * router and lienthong sections (router poll_ms, lienthong window_max,
 * lienthong on HARNESS_ANY_PORT; intake's events endpoint is in every
 * generated configuration, ipc://DIR/intake-events), config/routing.yaml and config/agencies.yaml
 * beside it, and CURVE keypairs in DIR/keys for lienthong and for every
 * agency of agencies.yaml, whose codes (at most max) go to codes[0..*n).
 */
int harness_pipeline_setup(harness_t *h, int router_poll_ms, int window_max, char (*codes)[64],
                           int max, int *n);

#endif
