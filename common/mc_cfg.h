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

#include "mc_calendar.h"
#include "mc_catalog.h"
#include "mc_err.h"
#include "mc_log.h"

typedef struct mc_ward {
    char *code;          /* mã đơn vị hành chính of the ward/commune */
    char *name;          /* "Phường Kim Liên" */
    char *province;      /* "Thành phố Hà Nội" */
    char *unit_id;       /* mã định danh of its one-stop unit, first part of dossier codes */
    char *unit_name;     /* "Bộ phận Một cửa UBND phường Kim Liên" */
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
} mc_cfg_intake_t;

typedef struct mc_cfg_client {
    int timeout_ms; /* CLI: how long to wait for a reply before retrying */
    int retries;    /* CLI: resend attempts after a timeout */
} mc_cfg_client_t;

typedef struct mc_cfg {
    char            *path;                 /* motcua.yaml as given */
    char            *conninfo;             /* libpq connection string ("" = libpq env) */
    int              connect_timeout_s;    /* libpq connect_timeout */
    int              statement_timeout_ms; /* per statement, 0 = none */
    mc_log_level_t   log_level;            /* from log.level */
    mc_cfg_intake_t  intake;               /* intake daemon */
    mc_cfg_client_t  client;               /* motcua CLI */
    mc_ward_t       *wards;                /* wards served */
    size_t           n_wards;              /* entries in wards */
    char            *procedures_path;      /* resolved path */
    char            *calendar_path;        /* resolved path */
    mc_catalog_t    *catalog;              /* loaded procedures.yaml */
    mc_calendar_t   *calendar;             /* loaded calendar.yaml */
} mc_cfg_t;

/* mc_cfg_load - read motcua.yaml and its companions; every error reported */
int mc_cfg_load(const char *path, mc_cfg_t **cfg, mc_err_t *err);

/* mc_cfg_destroy - free and NULL the caller's pointer */
void mc_cfg_destroy(mc_cfg_t **cfg);

/* mc_cfg_ward - the ward with this code, or NULL */
const mc_ward_t *mc_cfg_ward(const mc_cfg_t *cfg, const char *code);

/* mc_cfg_conninfo_redacted - conninfo with any password=... replaced by *** */
const char *mc_cfg_conninfo_redacted(const mc_cfg_t *cfg, char *buf, size_t size);

/* mc_cfg_default_path - $MOTCUA_CONFIG, else "/etc/motcua/motcua.yaml" if it exists, else "config/motcua.yaml" */
const char *mc_cfg_default_path(void);

#endif
