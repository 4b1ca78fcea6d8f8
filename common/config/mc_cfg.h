/*
 * mc_cfg - the daemons' configuration, config/motcua.yaml, and the files it
 * names (procedures.yaml, calendar.yaml).
 *
 * Contract: mc_cfg_load() reads and checks everything, reporting every
 * problem it can find (file:line:col: key ...), and returns a configuration
 * that is immutable afterwards and safe to share between threads. Relative
 * file names inside motcua.yaml are relative to motcua.yaml's directory.
 * The environment variable MOTCUA_DATABASE, when set, replaces
 * database.conninfo (so test harnesses and the demo can point one config at
 * a throwaway cluster without editing files). Secrets (a password inside
 * conninfo) are never printed: use mc_cfg_conninfo_redacted().
 */
#ifndef MC_CFG_H
#define MC_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mc_calendar.h"
#include "mc_catalog.h"
#include "mc_err.h"
#include "mc_log.h"
#include "mc_store.h"

typedef struct mc_ward {
    char *code;          /* mã đơn vị hành chính of the ward/commune */
    char *name;          /* "Phường Kim Liên" */
    char *province;      /* "Thành phố Hà Nội" */
    char *unit_id;       /* mã định danh of its one-stop unit, first part of dossier codes */
    char *unit_name;     /* "Điểm Phục vụ hành chính công phường Kim Liên - Trung tâm ..." */
    char *address;       /* where results are returned */
} mc_ward_t;

typedef struct mc_cfg_intake {
    char    *endpoint;          /* ROUTER bind address, e.g. "tcp://127.0.0.1:5555" */
    int      workers;           /* store connections / worker threads, 1..64 */
    uint32_t max_request_bytes; /* biggest accepted frame */
    int      max_documents;     /* documents per dossier */
    int      retry_after_ms;    /* hint in retryable rejections */
    int      reconnect_ms;      /* least time between store reconnect attempts */
    int      shutdown_grace_ms; /* how long SIGTERM waits for in-flight work */
    char    *events_endpoint;   /* PUB bind: PipelineEvent after each commit (ipc:// in a private directory) */
    char   **events_connect;    /* every intake instance's publisher, for subscribers (default: ours) */
    size_t   n_events_connect;  /* entries in events_connect */
    char    *server_key_file;   /* intake's CURVE secret key (Z85), from `motcua keygen intake` */
    bool     plaintext;         /* no CURVE, no client registry: local development only (warned at start) */
    char   **connect;           /* intake.connect: every instance clients may reach, failover in turn */
    size_t   n_connect;         /* entries in connect (>= 1: default [endpoint made connectable]) */
    bool     connect_given;     /* connect came from motcua.yaml (else the one-host default) */
} mc_cfg_intake_t;

typedef struct mc_cfg_router {
    char *events_endpoint;  /* PUB bind: PipelineEvent (case queued, notification) */
    char **events_connect;  /* every router instance's publisher, for subscribers (default: ours) */
    size_t n_events_connect; /* entries in events_connect */
    int   poll_ms;          /* safety-net poll of the store */
    int   batch;            /* dossiers claimed per transaction */
    int   deadline_scan_ms; /* how often overdue dossiers and steps are looked for */
} mc_cfg_router_t;

/* rules: figures the law fixes (Nghị định 118/2025), one key per rule */
typedef struct mc_cfg_rules {
    int warn_before_days;    /* working days before the due date an open dossier is flagged (Điều 19 khoản 6) */
    int apology_before_days; /* working days before the due date the apology must go out at the latest (Điều 19 khoản 6) */
    int supplement_days;     /* working days to supplement after the one request, then the dossier is returned */
    int acceptance_hours;    /* working hours the desk has to accept an online dossier (Điều 17) */
    int forward_days;        /* boundary-free reception: working days to forward a dossier to the competent ward (Điều 20) */
} mc_cfg_rules_t;

typedef struct mc_cfg_lienthong {
    char *endpoint;         /* ROUTER bind for agencies (CURVE server) */
    char *events_endpoint;  /* PUB bind: PipelineEvent (results, notifications) */
    char **events_connect;  /* every lienthong instance's publisher, for subscribers (default: ours) */
    size_t n_events_connect; /* entries in events_connect */
    char *server_key_file;  /* the hub's CURVE secret key (Z85), from `motcua keygen` */
    int   heartbeat_ms;     /* heartbeat interval both ways */
    int   ack_timeout_ms;   /* a sent case not acked by then is sent again */
    int   max_attempts;     /* sends before a case becomes a dead letter */
    int   window_max;       /* most unacked cases per agency (concurrency window) */
    int   poll_ms;          /* safety-net poll of the store */
    int   lease_ms;         /* an acked case outlives a silent agency session this long */
    char **connect;         /* lienthong.connect: the hubs an agency may use, in turn on failover */
    size_t n_connect;       /* entries in connect (>= 1: default [endpoint made connectable]) */
    bool   connect_given;   /* connect came from motcua.yaml (else the one-host default) */
} mc_cfg_lienthong_t;

typedef struct mc_cfg_notify {
    char *spool_dir;          /* built-in channel: one file per message */
    char *sms_url;            /* HTTP SMS gateway; "" = SMS off */
    char *sms_token_file;     /* file with the gateway's bearer token; "" = none */
    char *smtp_url;           /* "smtp://host:port" or "smtps://..."; "" = e-mail off */
    char *smtp_from;          /* envelope and header From */
    char *smtp_user;          /* "" = no authentication */
    char *smtp_password_file; /* file with the SMTP password */
    int   poll_ms;            /* safety-net poll of the store */
    int   retry_initial_ms;   /* first backoff after a failure */
    int   retry_max_ms;       /* backoff ceiling */
    int   max_attempts;       /* tries before a notification is failed for good */
    int   send_lease_ms;      /* how long a claimed notification is held for its sends (notify.h) */
    int   batch;              /* notifications claimed, sent and recorded together (notify.h) */
    char *rating_url;         /* the satisfaction survey page: {rating_link} = rating_url?ma=<code>&t=<token> */
    bool  sms_ascii;          /* SMS without diacritics (không dấu): GSM-7, 160 characters a part */
} mc_cfg_notify_t;

/* retention: what `motcua-admin retention` removes, and when (docs/operations.md "Retention") */
typedef struct mc_cfg_retention {
    int   key_days;     /* idempotency keys (stored receipts) older than this are deleted */
    int   spool_days;   /* spool files of settled notifications older than this are deleted */
    int   dossier_years; /* closed dossiers closed longer ago than this are exported, then deleted */
    int   batch;        /* rows per transaction (keys, dossiers) */
    char *export_dir;   /* where each run's JSON lines export of dossiers goes */
} mc_cfg_retention_t;

typedef struct mc_cfg_portal {
    char *url;              /* the national portal's endpoint (POST, JSON); "" = synchronisation off */
    char *token_file;       /* file with the portal's bearer token (0600); "" = none */
    int   poll_ms;          /* how often the outbox is read when idle */
    int   retry_initial_ms; /* first backoff after a failed push */
    int   retry_max_ms;     /* backoff ceiling (a push is retried for ever: order per dossier) */
    int   batch;            /* events claimed at once (each of another dossier) */
    int   send_lease_ms;    /* how long claimed events are held for their pushes (docs/portal.md) */
} mc_cfg_portal_t;

/* gateway: motcua-gateway, the web door (docs/gateway.md) */
typedef struct mc_cfg_gateway {
    char *listen;             /* HTTP "HOST:PORT" ("[v6]:PORT"; port 0: any free one) */
    char *key_file;           /* the gateway's CURVE secret key to reach intake (clients.yaml: role gateway) */
    char *public_client;      /* the client code the citizen pages act as */
    char *openapi_file;       /* served at GET /v1/openapi.json */
    char *web_dir;            /* the citizen pages and the ward dashboard (web/; docs/web.md) */
    char *tls_cert_file;      /* PEM certificate chain; "" = plain HTTP (TLS at a reverse proxy) */
    char *tls_key_file;       /* its PEM key (0600); "" = plain HTTP */
    int   max_body_bytes;     /* biggest request body (413 above) */
    int   rate_per_s;         /* requests per second one client token may make on average */
    int   burst;              /* requests one client token may make at once */
    int   max_connections;    /* connections at once, in all */
    int   per_ip_connections; /* connections at once from one address */
    bool  rate_per_address;   /* token-less JSON requests: a bucket per remote address (off behind a proxy) */
    int   timeout_s;          /* an idle (slow) connection is closed after this */
} mc_cfg_gateway_t;

typedef struct mc_cfg_client {
    int   timeout_ms;             /* CLI: how long to wait for a reply before retrying */
    int   retries;                /* CLI: resend attempts after a timeout */
    char *key_file;               /* CLI: our CURVE secret key (clients.yaml lists its public key); "" = none */
    char *server_public_key_file; /* CLI: intake's public key; "" = intake.server_key_file with .pub */
} mc_cfg_client_t;

#define MC_CFG_PUBLISHERS_MAX 16 /* entries in an events_connect list */

/* events: the PipelineEvent bus between daemons (mc_events), on every host */
typedef struct mc_cfg_events {
    char *key_file; /* CURVE secret key shared by every instance (`motcua keygen events`); "" = local bus only */
} mc_cfg_events_t;

/* the programs that run under their own database role (docs/store.md, "Roles") */
typedef enum mc_db_program {
    MC_DB_INTAKE,    /* motcua-intake: role motcua_intake, database.login.intake */
    MC_DB_ROUTER,    /* motcua-router */
    MC_DB_LIENTHONG, /* motcua-lienthong */
    MC_DB_NOTIFY,    /* motcua-notify */
    MC_DB_REPORT,    /* motcua-report: the CLI's read-only commands (report, overdue, queues, deadletters) */
    MC_DB_PORTAL,    /* motcua-portal */
    MC_DB_PROGRAMS   /* how many */
} mc_db_program_t;

typedef struct mc_cfg {
    char            *path;                 /* motcua.yaml as given */
    char            *conninfo;             /* libpq connection string ("" = libpq env) */
    char            *login[MC_DB_PROGRAMS]; /* database.login.<program>: conninfo overrides ("" = none) */
    int              connect_timeout_s;    /* libpq connect_timeout */
    int              statement_timeout_ms; /* per statement, 0 = none */
    mc_store_tcp_t   db_tcp;               /* database.keepalives_*, tcp_user_timeout_ms (conninfo wins) */
    int              code_gap;             /* database.code_gap_after_failover: counters moved on a new timeline */
    mc_log_level_t   log_level;            /* from log.level (SIGHUP reloads it) */
    int              log_summary_ms;       /* log.summary_ms: a daemon's `summary` line this often */
    mc_cfg_intake_t  intake;               /* intake daemon */
    mc_cfg_client_t  client;               /* motcua CLI */
    mc_cfg_router_t  router;               /* motcua-router */
    mc_cfg_lienthong_t lienthong;          /* motcua-lienthong */
    mc_cfg_notify_t  notify;               /* motcua-notify */
    mc_cfg_portal_t  portal;               /* motcua-portal */
    mc_cfg_gateway_t gateway;              /* motcua-gateway */
    mc_cfg_rules_t   rules;                /* rules: figures of Nghị định 118/2025 */
    mc_cfg_retention_t retention;          /* motcua-admin retention */
    mc_cfg_events_t  events;               /* events: CURVE on the bus between hosts */
    mc_ward_t       *wards;                /* wards served */
    size_t           n_wards;              /* entries in wards */
    char            *procedures_path;      /* resolved path */
    char            *calendar_path;        /* resolved path */
    char            *routing_path;         /* resolved path of routing.yaml (router) */
    char            *agencies_path;        /* resolved path of agencies.yaml (lienthong) */
    char            *clients_path;         /* resolved path of clients.yaml (intake's client registry) */
    char            *staff_path;           /* resolved path of staff.yaml (the gateway's ward dashboard logins) */
    char            *notifications_path;   /* resolved path of notifications.yaml (notify) */
    mc_catalog_t    *catalog;              /* loaded procedures.yaml */
    mc_calendar_t   *calendar;             /* loaded calendar.yaml */
} mc_cfg_t;

/* mc_cfg_same_province - both wards are served here and in the same province
 * (mc_ward_t.province compared as written): boundary-free reception allowed */
bool mc_cfg_same_province(const mc_ward_t *a, const mc_ward_t *b);

/* mc_cfg_load - read motcua.yaml and its companions; every error reported */
int mc_cfg_load(const char *path, mc_cfg_t **cfg, mc_err_t *err);

/* mc_cfg_destroy - free and NULL the caller's pointer */
void mc_cfg_destroy(mc_cfg_t **cfg);

/* mc_cfg_ward - the ward with this code, or NULL */
const mc_ward_t *mc_cfg_ward(const mc_cfg_t *cfg, const char *code);

/* mc_cfg_conninfo_redacted - conninfo with any password=... replaced by *** */
const char *mc_cfg_conninfo_redacted(const mc_cfg_t *cfg, char *buf, size_t size);

/*
 * mc_cfg_use_role - make cfg->conninfo the one program ("motcua-intake",
 * ...) connects with: database.conninfo, overridden by database.login.<name>
 * (its login role, passfile, ...), with application_name=<program> and
 * options "-c role=motcua_<name>", so every session of the program runs as
 * its group role from its first statement (the server refuses the
 * connection if the login may not take that role). "motcua-report" is the
 * CLI's read-only commands (role motcua_report, database.login.report);
 * motcua-gateway reads the store as that role too (its writes go through
 * intake).
 * Programs without a role (the CLI's other commands, motcua-agency) are
 * left as configured. Call once, right after
 * mc_cfg_load(), before the configuration is shared. 0 or -1 (err).
 */
int mc_cfg_use_role(mc_cfg_t *cfg, const char *program, mc_err_t *err);

/*
 * mc_cfg_endpoint_is_local - does a ZeroMQ endpoint stay on this host
 * (ipc://, inproc://, tcp:// on 127.x, localhost, [::1] or lo)? Without
 * events.key_file the events endpoints and events_connect lists must
 * (mc_cfg_load refuses others: they would be plain text); config check
 * warns on a plaintext intake bound elsewhere.
 */
bool mc_cfg_endpoint_is_local(const char *endpoint);

/* most entries in intake.connect / lienthong.connect */
#define MC_CFG_CONNECT_MAX 16

/* mc_cfg_endpoint_is_wildcard - a tcp bind on every address (host "*" or
 * 0.0.0.0): clients on other hosts need an explicit connect list */
bool mc_cfg_endpoint_is_wildcard(const char *endpoint);

/*
 * mc_cfg_open_secret - open a file holding a secret (CURVE secret key, SMS
 * token, SMTP password) for reading, or NULL with the reason in err: it
 * must be a regular file that neither its group nor others may read, write
 * or execute (mode 0600 or 0400; systemd's $CREDENTIALS_DIRECTORY files
 * are). what names the secret in messages ("sms token").
 */
FILE *mc_cfg_open_secret(const char *path, const char *what, mc_err_t *err);

/* mc_cfg_default_path - $MOTCUA_CONFIG, else "/etc/motcua/motcua.yaml" if it exists, else "config/motcua.yaml" */
const char *mc_cfg_default_path(void);

#endif
