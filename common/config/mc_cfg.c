/*
 * mc_cfg - config/motcua.yaml and the files it names (see mc_cfg.h;
 * docs/configuration.md lists every key, default and bound).
 *
 * Contract: mc_cfg_load() keeps going after a problem so one run shows
 * every mistake in all three files (motcua.yaml, procedures.yaml,
 * calendar.yaml); it fails if there was any. Absent optional keys take the
 * documented defaults. The result is immutable: share it between threads.
 * The only environment read here is MOTCUA_DATABASE (load) and
 * MOTCUA_CONFIG (default path).
 */
#include "mc_cfg.h"
#include "mc_code.h"
#include "mc_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#define CFG_MAX_WARDS   1000 /* wards one deployment serves */
#define CFG_TEXT_MAX    500  /* bytes in names and addresses */
#define CFG_PATH_MAX    4096 /* bytes in file names */
#define CFG_CONNINFO_MAX 2048 /* bytes in a libpq connection string */
#define CFG_URL_MAX     1024 /* bytes in a URL that goes into messages */

/* get_int_field - an optional bounded integer into an int */
static int get_int_field(const mc_yaml_node_t *map, const char *key, int64_t min, int64_t max,
                         int *out, mc_err_t *err)
{
    int64_t v = *out;
    if (mc_yaml_get_int(map, key, false, min, max, &v, err) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* replace_text - an optional string replacing a default (kept when absent) */
static int replace_text(const mc_yaml_node_t *map, const char *key, size_t max, char **field,
                        mc_err_t *err)
{
    char *v = NULL;
    if (mc_yaml_get_string(map, key, false, max, &v, err) < 0)
        return -1;
    if (v) {
        free(*field);
        *field = v;
    }
    return 0;
}

/* section - a sub-mapping, checked against its keys; NULL when absent or bad */
static const mc_yaml_node_t *section(const mc_yaml_node_t *root, const char *name,
                                     const char *const *allowed, int *rc, mc_err_t *err)
{
    const mc_yaml_node_t *s = mc_yaml_get(root, name);
    if (!s)
        return NULL;
    return mc_yaml_check_item(s, name, allowed, NULL, rc, err) ? s : NULL;
}

/* the programs with a database role, in mc_db_program_t order: the key
 * under database.login, the group role, the application_name */
static const char *const db_program_keys[MC_DB_PROGRAMS] = {"intake", "router", "lienthong",
                                                            "notify", "report", "portal"};

/* load_login - database.login: {intake, router, lienthong, notify, report,
 * portal}, each a conninfo fragment that libpq parses and that holds no password */
static int load_login(const mc_yaml_node_t *db, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"intake", "router", "lienthong", "notify", "report",
                                       "portal", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(db, "login", keys, &rc, err);
    if (!s)
        return rc;
    for (int i = 0; i < MC_DB_PROGRAMS; i++) {
        if (replace_text(s, db_program_keys[i], CFG_CONNINFO_MAX, &cfg->login[i], err) < 0) {
            rc = -1;
            continue;
        }
        char w[512], *why = NULL;
        PQconninfoOption *opts = PQconninfoParse(cfg->login[i], &why);
        if (why)
            why[strcspn(why, "\n")] = '\0';
        if (!opts) {
            mc_err_add(err, "%s: key 'database.login.%s': not a libpq connection string: %s",
                       mc_yaml_where_key(s, db_program_keys[i], w, sizeof w), db_program_keys[i],
                       why ? why : "out of memory");
            rc = -1;
        }
        for (PQconninfoOption *o = opts; o && o->keyword; o++)
            if (o->val && strcmp(o->keyword, "password") == 0) {
                mc_err_add(err, "%s: key 'database.login.%s': no password here: use passfile=, "
                           "a file only the daemon can read (docs/store.md)",
                           mc_yaml_where_key(s, db_program_keys[i], w, sizeof w),
                           db_program_keys[i]);
                rc = -1;
            }
        PQfreemem(why);
        PQconninfoFree(opts);
    }
    return rc;
}

/* load_database - database: {conninfo, connect_timeout_s, statement_timeout_ms, login,
 * keepalives_idle_s, keepalives_interval_s, keepalives_count, tcp_user_timeout_ms,
 * code_gap_after_failover} */
static int load_database(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"conninfo", "connect_timeout_s",
                                       "statement_timeout_ms", "login",
                                       "keepalives_idle_s", "keepalives_interval_s",
                                       "keepalives_count", "tcp_user_timeout_ms",
                                       "code_gap_after_failover", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "database", keys, &rc, err);
    if (!s)
        return rc;
    if (replace_text(s, "conninfo", CFG_CONNINFO_MAX, &cfg->conninfo, err) < 0)
        rc = -1;
    if (load_login(s, cfg, err) < 0)
        rc = -1;
    if (get_int_field(s, "connect_timeout_s", 1, 300, &cfg->connect_timeout_s, err) < 0)
        rc = -1;
    if (get_int_field(s, "statement_timeout_ms", 0, 3600000, &cfg->statement_timeout_ms,
                      err) < 0)
        rc = -1;
    /* a dead primary is noticed within idle + interval * count s (keepalives) or
     * tcp_user_timeout (unacknowledged data): docs/reliability.md "Several hosts" */
    mc_store_tcp_t *t = &cfg->db_tcp;
    const struct { const char *key; int min, max; int *out; } ints[] = {
        {"keepalives_idle_s", 1, 3600, &t->keepalives_idle_s},
        {"keepalives_interval_s", 1, 600, &t->keepalives_interval_s},
        {"keepalives_count", 1, 100, &t->keepalives_count},
        {"tcp_user_timeout_ms", 0, 3600000, &t->tcp_user_timeout_ms},
        {"code_gap_after_failover", 0, 100000, &cfg->code_gap},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (get_int_field(s, ints[i].key, ints[i].min, ints[i].max, ints[i].out, err) < 0)
            rc = -1;
    return rc;
}

/* load_log - log: {level, summary_ms} */
static int load_log(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"level", "summary_ms", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "log", keys, &rc, err);
    if (!s)
        return rc;
    char *level = NULL, w[512];
    if (mc_yaml_get_string(s, "level", false, 16, &level, err) < 0 ||
        get_int_field(s, "summary_ms", 100, 86400000, &cfg->log_summary_ms, err) < 0)
        return -1;
    if (level && mc_log_level_parse(level, &cfg->log_level) < 0) {
        mc_err_add(err, "%s: key 'level': expected error, warning, notice, info or debug",
                   mc_yaml_where_key(s, "level", w, sizeof w));
        rc = -1;
    }
    free(level);
    return rc;
}

/* endpoint_ok - a ZeroMQ address with a transport we support */
static bool endpoint_ok(const char *e)
{
    static const char *const schemes[] = {"tcp://", "ipc://", "inproc://"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i]);
        if (strncmp(e, schemes[i], n) == 0 && e[n] != '\0' && !strpbrk(e, " \t\r\n"))
            return true;
    }
    return false;
}

static char *resolve(const char *cfg_path, const char *name);

/* mc_cfg_endpoint_is_local - ipc://, inproc:// or tcp:// on a loopback address */
bool mc_cfg_endpoint_is_local(const char *endpoint)
{
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return true; /* ipc:// and inproc:// stay on this host */
    const char *host = endpoint + 6;
    static const char *const local[] = {"127.", "localhost:", "[::1]:", "lo:"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        if (strncmp(host, local[i], strlen(local[i])) == 0)
            return true;
    return false;
}

/* endpoint_field - an optional ZeroMQ endpoint replacing a default */
static int endpoint_field(const mc_yaml_node_t *s, const char *key, char **field, mc_err_t *err)
{
    char w[512];
    if (replace_text(s, key, 256, field, err) < 0)
        return -1;
    if (!endpoint_ok(*field)) {
        mc_err_add(err, "%s: key '%s': expected tcp://, ipc:// or inproc:// and an address, "
                        "without spaces",
                   mc_yaml_where_key(s, key, w, sizeof w), key);
        return -1;
    }
    return 0;
}

/* mc_cfg_endpoint_is_wildcard - host "*" or 0.0.0.0 after tcp:// */
bool mc_cfg_endpoint_is_wildcard(const char *endpoint)
{
    return strncmp(endpoint, "tcp://*:", 8) == 0 || strncmp(endpoint, "tcp://0.0.0.0:", 14) == 0;
}

/* connect_field - an optional list of endpoints clients connect to (intake.connect,
 * lienthong.connect): 1..MC_CFG_CONNECT_MAX endpoints, none a wildcard; *given
 * says it was there (the default is set by connect_default after the sections) */
static int connect_field(const mc_yaml_node_t *s, const char *key, char ***list, size_t *n,
                         bool *given, mc_err_t *err)
{
    const mc_yaml_node_t *seq = mc_yaml_get(s, key);
    if (!seq)
        return 0;
    char w[512];
    if (mc_yaml_expect_list(seq, key, MC_CFG_CONNECT_MAX, "endpoints", err) < 0)
        return -1;
    if (seq->count == 0) {
        mc_err_add(err, "%s: key '%s': expected at least one endpoint",
                   mc_yaml_where(seq, w, sizeof w), key);
        return -1;
    }
    if (!(*list = calloc(seq->count, sizeof **list))) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    *given = true;
    int rc = 0;
    for (size_t i = 0; i < seq->count; i++) {
        char *e = NULL;
        if (mc_yaml_scalar_string(seq->items[i], key, 256, &e, err) < 0) {
            rc = -1;
            continue;
        }
        (*list)[(*n)++] = e;
        if (!endpoint_ok(e) || mc_cfg_endpoint_is_wildcard(e)) {
            mc_err_add(err, "%s: key '%s': expected tcp://, ipc:// or inproc:// and an address "
                            "clients can connect to (not * nor 0.0.0.0), without spaces",
                       mc_yaml_where(seq->items[i], w, sizeof w), key);
            rc = -1;
        }
    }
    return rc;
}

/* connect_default - [endpoint made connectable] when no connect list was given */
static int connect_default(const char *endpoint, char ***list, size_t *n)
{
    if (*n > 0)
        return 0;
    char buf[300];
    free(*list);
    if (!(*list = calloc(1, sizeof **list)) ||
        !((*list)[0] = strdup(mc_transport_connectable(endpoint, buf, sizeof buf))))
        return -1;
    *n = 1;
    return 0;
}

/* connect_free - a connect list and its entries */
static void connect_free(char ***list, size_t *n)
{
    for (size_t i = 0; *list && i < *n; i++)
        free((*list)[i]);
    free(*list);
    *list = NULL;
    *n = 0;
}

/* events_reach_ok - an events endpoint off this host only with CURVE: the
 * PipelineEvents name dossier codes, so without events.key_file a listener
 * on another host would collect them unauthenticated. where and key name
 * the place in messages. */
static int events_reach_ok(const char *where, const char *key, const char *endpoint,
                           const mc_cfg_t *cfg, mc_err_t *err)
{
    if (cfg->events.key_file[0] || mc_cfg_endpoint_is_local(endpoint))
        return 0;
    mc_err_add(err, "%s: key '%s': %s is reachable from other hosts and events.key_file is "
                    "not set: the events (PUB/SUB) would announce dossier codes to any listener "
                    "in plain text; set events.key_file (one CURVE key shared by every instance, "
                    "`motcua keygen events`) or use ipc:// or a 127.0.0.1 address "
                    "(docs/security.md)",
               where, key, endpoint);
    return -1;
}

/* events_field - an events_endpoint (a PUB bind): local, or any tcp:// with CURVE */
static int events_field(const mc_yaml_node_t *s, const char *key, const mc_cfg_t *cfg,
                        char **field, mc_err_t *err)
{
    if (endpoint_field(s, key, field, err) < 0)
        return -1;
    char w[512];
    return events_reach_ok(mc_yaml_where_key(s, key, w, sizeof w), key, *field, cfg, err);
}

/* publishers_field - events_connect: every instance's publisher of one
 * kind, a connect list (connect_field) whose entries must also obey the
 * events rule (events_reach_ok); absent = left empty for connect_default */
static int publishers_field(const mc_yaml_node_t *s, const mc_cfg_t *cfg, char ***list,
                            size_t *n, mc_err_t *err)
{
    static const char key[] = "events_connect";
    bool given = false;
    int rc = connect_field(s, key, list, n, &given, err);
    const mc_yaml_node_t *seq = mc_yaml_get(s, key);
    for (size_t i = 0; rc == 0 && i < *n; i++) {
        char w[512];
        mc_yaml_where(seq->items[i], w, sizeof w);
        if (events_reach_ok(w, key, (*list)[i], cfg, err) < 0)
            rc = -1;
    }
    return rc;
}

/* path_field - an optional file name replacing a default, resolved relative
 * to motcua.yaml; "" stays "" (meaning: none) */
static int path_field(const mc_yaml_node_t *s, const char *key, const mc_cfg_t *cfg,
                      char **field, mc_err_t *err)
{
    if (replace_text(s, key, CFG_PATH_MAX, field, err) < 0)
        return -1;
    if ((*field)[0] == '\0')
        return 0;
    char *full = resolve(cfg->path, *field);
    if (!full) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    free(*field);
    *field = full;
    return 0;
}

/* load_router - router: routing and deadlines */
static int load_router(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"events_endpoint", "poll_ms", "batch",
                                       "deadline_scan_ms", "events_connect", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "router", keys, &rc, err);
    if (!s)
        return rc;
    mc_cfg_router_t *r = &cfg->router;
    if (publishers_field(s, cfg, &r->events_connect, &r->n_events_connect, err) < 0)
        rc = -1;
    if (events_field(s, "events_endpoint", cfg, &r->events_endpoint, err) < 0 ||
        get_int_field(s, "poll_ms", 10, 600000, &r->poll_ms, err) < 0 ||
        get_int_field(s, "batch", 1, 10000, &r->batch, err) < 0 ||
        get_int_field(s, "deadline_scan_ms", 100, 3600000, &r->deadline_scan_ms, err) < 0)
        rc = -1;
    return rc;
}

/* load_rules - rules: the figures of Nghị định 118/2025 (docs/rules.md) */
static int load_rules(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"warn_before_days", "apology_before_days",
                                       "supplement_days", "acceptance_hours",
                                       "forward_days", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "rules", keys, &rc, err);
    if (!s)
        return rc;
    mc_cfg_rules_t *r = &cfg->rules;
    if (get_int_field(s, "warn_before_days", 1, 30, &r->warn_before_days, err) < 0 ||
        get_int_field(s, "apology_before_days", 1, 30, &r->apology_before_days, err) < 0 ||
        get_int_field(s, "supplement_days", 1, 365, &r->supplement_days, err) < 0 ||
        get_int_field(s, "acceptance_hours", 1, 400, &r->acceptance_hours, err) < 0 ||
        get_int_field(s, "forward_days", 1, 30, &r->forward_days, err) < 0)
        rc = -1;
    return rc;
}

/* mc_cfg_same_province - two served wards of one province */
bool mc_cfg_same_province(const mc_ward_t *a, const mc_ward_t *b)
{
    return a && b && a->province && b->province && strcmp(a->province, b->province) == 0;
}

/* load_lienthong - lienthong: the exchange with partner agencies */
static int load_lienthong(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"endpoint",     "events_endpoint", "server_key_file",
                                       "heartbeat_ms", "ack_timeout_ms",  "max_attempts",
                                       "window_max",   "poll_ms",         "lease_ms",
                                       "events_connect", "connect", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "lienthong", keys, &rc, err);
    if (!s)
        return rc;
    mc_cfg_lienthong_t *l = &cfg->lienthong;
    if (endpoint_field(s, "endpoint", &l->endpoint, err) < 0)
        rc = -1;
    if (connect_field(s, "connect", &l->connect, &l->n_connect, &l->connect_given, err) < 0)
        rc = -1;
    if (events_field(s, "events_endpoint", cfg, &l->events_endpoint, err) < 0 ||
        publishers_field(s, cfg, &l->events_connect, &l->n_events_connect, err) < 0)
        rc = -1;
    if (path_field(s, "server_key_file", cfg, &l->server_key_file, err) < 0)
        rc = -1;
    if (get_int_field(s, "heartbeat_ms", 100, 600000, &l->heartbeat_ms, err) < 0 ||
        get_int_field(s, "ack_timeout_ms", 100, 3600000, &l->ack_timeout_ms, err) < 0 ||
        get_int_field(s, "max_attempts", 1, 1000, &l->max_attempts, err) < 0 ||
        get_int_field(s, "window_max", 1, 10000, &l->window_max, err) < 0 ||
        get_int_field(s, "poll_ms", 10, 600000, &l->poll_ms, err) < 0 ||
        get_int_field(s, "lease_ms", 1000, 86400000, &l->lease_ms, err) < 0)
        rc = -1;
    return rc;
}

/* web_url_ok - http:// or https://, a host after it, nothing that would break
 * the link when a query is appended or the SMS is read (space, control, '#') */
static bool web_url_ok(const char *u)
{
    size_t n = strncmp(u, "https://", 8) == 0 ? 8 : strncmp(u, "http://", 7) == 0 ? 7 : 0;
    if (n == 0 || u[n] == '\0' || u[n] == '/' || u[n] == '?')
        return false;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '#')
            return false;
    return true;
}

/* get_outbox_timing - the keys every outbox sender (notify, portal) has:
 * poll_ms, retry_initial_ms, retry_max_ms and send_lease_ms, same bounds */
static int get_outbox_timing(const mc_yaml_node_t *s, int *poll_ms, int *retry_initial_ms,
                             int *retry_max_ms, int *send_lease_ms, mc_err_t *err)
{
    int rc = 0;
    if (get_int_field(s, "poll_ms", 10, 600000, poll_ms, err) < 0)
        rc = -1;
    if (get_int_field(s, "retry_initial_ms", 10, 3600000, retry_initial_ms, err) < 0)
        rc = -1;
    if (get_int_field(s, "retry_max_ms", 10, 86400000, retry_max_ms, err) < 0)
        rc = -1;
    if (get_int_field(s, "send_lease_ms", 2000, 3600000, send_lease_ms, err) < 0)
        rc = -1;
    return rc;
}

/* load_notify - notify: channels, retries and the rating link */
static int load_notify(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"spool_dir",   "sms_url",     "sms_token_file",
                                       "smtp_url",    "smtp_from",   "smtp_user",
                                       "smtp_password_file", "poll_ms", "retry_initial_ms",
                                       "retry_max_ms", "max_attempts", "send_lease_ms", "rating_url",
                                       "batch", "sms_ascii", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "notify", keys, &rc, err);
    if (!s)
        return rc;
    mc_cfg_notify_t *n = &cfg->notify;
    char **texts[] = {&n->spool_dir, &n->sms_url,  &n->sms_token_file, &n->smtp_url,
                      &n->smtp_from, &n->smtp_user, &n->smtp_password_file};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (replace_text(s, keys[i], CFG_PATH_MAX, texts[i], err) < 0)
            rc = -1;
    if (get_outbox_timing(s, &n->poll_ms, &n->retry_initial_ms, &n->retry_max_ms,
                          &n->send_lease_ms, err) < 0 ||
        get_int_field(s, "max_attempts", 1, 1000, &n->max_attempts, err) < 0 ||
        /* each spool file of a batch is open until the batch's one directory fsync */
        get_int_field(s, "batch", 1, 256, &n->batch, err) < 0 ||
        mc_yaml_get_bool(s, "sms_ascii", false, &n->sms_ascii, err) < 0)
        rc = -1;
    char w[512];
    if (replace_text(s, "rating_url", CFG_URL_MAX, &n->rating_url, err) < 0) {
        rc = -1;
    } else if (!web_url_ok(n->rating_url)) {
        mc_err_add(err, "%s: key 'rating_url': expected https:// or http:// and a host, "
                        "without spaces or '#'",
                   mc_yaml_where_key(s, "rating_url", w, sizeof w));
        rc = -1;
    }
    return rc;
}

/* load_retention - retention: how long keys, spool files and closed dossiers are kept */
static int load_retention(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"key_days", "spool_days", "dossier_years", "batch",
                                       "export_dir", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "retention", keys, &rc, err);
    if (!s)
        return rc;
    mc_cfg_retention_t *r = &cfg->retention;
    /* a key younger than a day would cut off a client's ordinary retries */
    if (get_int_field(s, "key_days", 1, 3650, &r->key_days, err) < 0 ||
        get_int_field(s, "spool_days", 1, 3650, &r->spool_days, err) < 0 ||
        get_int_field(s, "dossier_years", 1, 100, &r->dossier_years, err) < 0 ||
        get_int_field(s, "batch", 1, 10000, &r->batch, err) < 0 ||
        replace_text(s, "export_dir", CFG_PATH_MAX, &r->export_dir, err) < 0)
        rc = -1;
    return rc;
}

/* load_portal - portal: where and how often status changes are pushed */
static int load_portal(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"url", "token_file", "poll_ms", "retry_initial_ms",
                                       "retry_max_ms", "batch", "send_lease_ms", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "portal", keys, &rc, err);
    if (!s)
        return rc;
    mc_cfg_portal_t *p = &cfg->portal;
    if (replace_text(s, "token_file", CFG_PATH_MAX, &p->token_file, err) < 0 ||
        get_outbox_timing(s, &p->poll_ms, &p->retry_initial_ms, &p->retry_max_ms,
                          &p->send_lease_ms, err) < 0 ||
        get_int_field(s, "batch", 1, 1000, &p->batch, err) < 0)
        rc = -1;
    char w[512];
    if (replace_text(s, "url", CFG_URL_MAX, &p->url, err) < 0) {
        rc = -1;
    } else if (p->url[0] && !web_url_ok(p->url)) {
        mc_err_add(err, "%s: key 'url': expected \"\" (off), or https:// or http:// and a host, "
                        "without spaces or '#'",
                   mc_yaml_where_key(s, "url", w, sizeof w));
        rc = -1;
    }
    return rc;
}

/* load_events - events: {key_file}; loaded first, the events endpoints depend on it */
static int load_events(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"key_file", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "events", keys, &rc, err);
    if (s && path_field(s, "key_file", cfg, &cfg->events.key_file, err) < 0)
        rc = -1;
    return rc;
}

/* load_gateway - gateway: the web door's address, keys and limits */
static int load_gateway(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"listen", "key_file", "public_client", "openapi_file",
                                       "tls_cert_file", "tls_key_file", "max_body_bytes",
                                       "rate_per_s", "burst", "max_connections",
                                       "per_ip_connections", "timeout_s", "web_dir",
                                       "rate_per_address", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "gateway", keys, &rc, err);
    if (!s)
        return rc;
    mc_cfg_gateway_t *g = &cfg->gateway;
    if (replace_text(s, "listen", 256, &g->listen, err) < 0 ||
        replace_text(s, "public_client", 64, &g->public_client, err) < 0 ||
        path_field(s, "key_file", cfg, &g->key_file, err) < 0 ||
        path_field(s, "openapi_file", cfg, &g->openapi_file, err) < 0 ||
        path_field(s, "web_dir", cfg, &g->web_dir, err) < 0 ||
        path_field(s, "tls_cert_file", cfg, &g->tls_cert_file, err) < 0 ||
        path_field(s, "tls_key_file", cfg, &g->tls_key_file, err) < 0 ||
        get_int_field(s, "max_body_bytes", 1024, 64 * 1024 * 1024, &g->max_body_bytes, err) < 0 ||
        get_int_field(s, "rate_per_s", 1, 100000, &g->rate_per_s, err) < 0 ||
        get_int_field(s, "burst", 1, 100000, &g->burst, err) < 0 ||
        get_int_field(s, "max_connections", 1, 100000, &g->max_connections, err) < 0 ||
        get_int_field(s, "per_ip_connections", 1, 100000, &g->per_ip_connections, err) < 0 ||
        mc_yaml_get_bool(s, "rate_per_address", false, &g->rate_per_address, err) < 0 ||
        get_int_field(s, "timeout_s", 1, 3600, &g->timeout_s, err) < 0)
        rc = -1;
    return rc;
}

/* load_intake - intake: the intake daemon's bounds */
static int load_intake(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"endpoint",       "workers",      "max_request_bytes",
                                       "max_documents",  "retry_after_ms", "reconnect_ms",
                                       "shutdown_grace_ms", "events_endpoint", "server_key_file",
                                       "plaintext", "events_connect", "connect", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "intake", keys, &rc, err);
    if (!s)
        return rc;
    mc_cfg_intake_t *in = &cfg->intake;
    if (endpoint_field(s, "endpoint", &in->endpoint, err) < 0)
        rc = -1;
    if (connect_field(s, "connect", &in->connect, &in->n_connect, &in->connect_given, err) < 0)
        rc = -1;
    if (events_field(s, "events_endpoint", cfg, &in->events_endpoint, err) < 0 ||
        publishers_field(s, cfg, &in->events_connect, &in->n_events_connect, err) < 0)
        rc = -1;
    if (get_int_field(s, "workers", 1, 64, &in->workers, err) < 0)
        rc = -1;
    int max_req = (int)in->max_request_bytes;
    if (get_int_field(s, "max_request_bytes", 1024, 16777216, &max_req, err) < 0)
        rc = -1;
    in->max_request_bytes = (uint32_t)max_req;
    /* 200 is mc_validate's absolute bound (MC_MAX_DOCUMENTS_HARD) */
    if (get_int_field(s, "max_documents", 1, 200, &in->max_documents, err) < 0)
        rc = -1;
    if (get_int_field(s, "retry_after_ms", 0, 600000, &in->retry_after_ms, err) < 0)
        rc = -1;
    if (get_int_field(s, "reconnect_ms", 10, 600000, &in->reconnect_ms, err) < 0)
        rc = -1;
    if (get_int_field(s, "shutdown_grace_ms", 0, 600000, &in->shutdown_grace_ms, err) < 0)
        rc = -1;
    if (path_field(s, "server_key_file", cfg, &in->server_key_file, err) < 0)
        rc = -1;
    if (mc_yaml_get_bool(s, "plaintext", false, &in->plaintext, err) < 0)
        rc = -1;
    return rc;
}

/* load_client - client: the CLI's patience */
static int load_client(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"timeout_ms", "retries", "key_file",
                                       "server_public_key_file", NULL};
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "client", keys, &rc, err);
    if (!s)
        return rc;
    if (get_int_field(s, "timeout_ms", 100, 600000, &cfg->client.timeout_ms, err) < 0)
        rc = -1;
    if (get_int_field(s, "retries", 0, 10, &cfg->client.retries, err) < 0)
        rc = -1;
    if (path_field(s, "key_file", cfg, &cfg->client.key_file, err) < 0 ||
        path_field(s, "server_public_key_file", cfg, &cfg->client.server_public_key_file, err) < 0)
        rc = -1;
    return rc;
}

/* ward_code_ok - mã đơn vị hành chính cấp xã: 5 digits */
static bool ward_code_ok(const char *s)
{
    if (strlen(s) != 5)
        return false;
    for (int i = 0; i < 5; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* load_wards - wards: the communes this deployment receives dossiers for */
static int load_wards(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"code",    "name",      "province", "unit_id",
                                       "unit_name", "address", NULL};
    const mc_yaml_node_t *seq = mc_yaml_get(root, "wards");
    char w[512];
    if (!seq)
        return -1; /* reported by the top-level key check */
    if (mc_yaml_expect(seq, MC_YAML_SEQUENCE, "wards", err) < 0)
        return -1;
    if (seq->count == 0 || seq->count > CFG_MAX_WARDS) {
        mc_err_add(err, "%s: key 'wards': expected 1..%d wards", mc_yaml_where(seq, w, sizeof w),
                   CFG_MAX_WARDS);
        return -1;
    }
    cfg->wards = calloc(seq->count, sizeof *cfg->wards);
    if (!cfg->wards) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < seq->count; i++) {
        const mc_yaml_node_t *m = seq->items[i];
        mc_ward_t *ward = &cfg->wards[cfg->n_wards++];
        if (!mc_yaml_check_item(m, "ward", keys, keys, &rc, err))
            continue;
        if (mc_yaml_get_text(m, "code", 16, &ward->code, err) < 0) {
            rc = -1;
        } else if (!ward_code_ok(ward->code)) {
            mc_err_add(err, "%s: key 'code': expected the 5-digit ward code, e.g. \"00229\"",
                       mc_yaml_where_key(m, "code", w, sizeof w));
            rc = -1;
        }
        if (mc_yaml_get_text(m, "name", CFG_TEXT_MAX, &ward->name, err) < 0)
            rc = -1;
        if (mc_yaml_get_text(m, "province", CFG_TEXT_MAX, &ward->province, err) < 0)
            rc = -1;
        if (mc_yaml_get_text(m, "unit_id", 64, &ward->unit_id, err) < 0) {
            rc = -1;
        } else if (!mc_unit_id_valid(ward->unit_id)) {
            mc_err_add(err, "%s: key 'unit_id': expected 4 dot-separated groups of letters "
                            "and digits, e.g. \"000.22.29.H26\"",
                       mc_yaml_where_key(m, "unit_id", w, sizeof w));
            rc = -1;
        }
        if (mc_yaml_get_text(m, "unit_name", CFG_TEXT_MAX, &ward->unit_name, err) < 0)
            rc = -1;
        if (mc_yaml_get_text(m, "address", CFG_TEXT_MAX, &ward->address, err) < 0)
            rc = -1;
        /* unit ids start dossier codes: two wards sharing one would collide */
        for (size_t k = 0; k + 1 < cfg->n_wards; k++) {
            const mc_ward_t *o = &cfg->wards[k];
            if (ward->code && o->code && strcmp(o->code, ward->code) == 0) {
                mc_err_add(err, "%s: key 'code': ward '%s' is listed twice",
                           mc_yaml_where_key(m, "code", w, sizeof w), ward->code);
                rc = -1;
            }
            if (ward->unit_id && o->unit_id && strcmp(o->unit_id, ward->unit_id) == 0) {
                mc_err_add(err, "%s: key 'unit_id': '%s' already belongs to ward '%s'",
                           mc_yaml_where_key(m, "unit_id", w, sizeof w), ward->unit_id,
                           o->code ? o->code : "?");
                rc = -1;
            }
        }
    }
    return rc;
}

/* resolve - a companion file name relative to motcua.yaml's directory */
static char *resolve(const char *cfg_path, const char *name)
{
    const char *slash = strrchr(cfg_path, '/');
    if (name[0] == '/' || !slash)
        return strdup(name);
    size_t dir = (size_t)(slash - cfg_path);
    size_t n = dir + 1 + strlen(name) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%.*s/%s", (int)dir, cfg_path, name);
    return out;
}

/* load_files - files: {procedures, calendar}, resolved */
static int load_files(const mc_yaml_node_t *root, mc_cfg_t *cfg, mc_err_t *err)
{
    static const char *const keys[] = {"procedures", "calendar", "routing", "agencies",
                                       "notifications", "clients", "staff", NULL};
    static const char *const defaults[] = {"procedures.yaml", "calendar.yaml", "routing.yaml",
                                           "agencies.yaml", "notifications.yaml", "clients.yaml",
                                           "staff.yaml"};
    char **resolved[] = {&cfg->procedures_path, &cfg->calendar_path, &cfg->routing_path,
                         &cfg->agencies_path, &cfg->notifications_path, &cfg->clients_path,
                         &cfg->staff_path};
    enum { N_FILES = sizeof defaults / sizeof defaults[0] };
    int rc = 0;
    const mc_yaml_node_t *s = section(root, "files", keys, &rc, err);
    for (size_t i = 0; i < N_FILES; i++) {
        char *name = strdup(defaults[i]);
        if (!name) {
            mc_err_add(err, "out of memory");
            return -1;
        }
        if (s && replace_text(s, keys[i], CFG_PATH_MAX, &name, err) < 0)
            rc = -1;
        if (name[0] == '\0') {
            char w[512];
            mc_err_add(err, "%s: key '%s': file names must not be empty",
                       mc_yaml_where_key(s, keys[i], w, sizeof w), keys[i]);
            rc = -1;
        }
        *resolved[i] = resolve(cfg->path, name);
        free(name);
        if (!*resolved[i]) {
            mc_err_add(err, "out of memory");
            return -1;
        }
    }
    return rc;
}

/* the text settings with a default: where each lives in mc_cfg_t, and the
 * default; set_defaults copies them and mc_cfg_destroy frees them */
static const struct {
    size_t      at;    /* offsetof the char * in mc_cfg_t */
    const char *value; /* the documented default */
} text_defaults[] = {
    {offsetof(mc_cfg_t, conninfo), "dbname=motcua"},
    {offsetof(mc_cfg_t, intake.endpoint), "tcp://127.0.0.1:5555"},
    /* every events endpoint: ipc in a directory only the motcua user can open
     * (systemd RuntimeDirectory): the events carry dossier codes, which no
     * stranger may collect */
    {offsetof(mc_cfg_t, intake.events_endpoint), "ipc:///run/motcua/intake-events"},
    {offsetof(mc_cfg_t, intake.server_key_file), "keys/intake.key"},
    {offsetof(mc_cfg_t, client.key_file), ""},
    {offsetof(mc_cfg_t, client.server_public_key_file), ""},
    {offsetof(mc_cfg_t, router.events_endpoint), "ipc:///run/motcua/router-events"},
    {offsetof(mc_cfg_t, lienthong.endpoint), "tcp://127.0.0.1:5560"},
    {offsetof(mc_cfg_t, lienthong.events_endpoint), "ipc:///run/motcua/lienthong-events"},
    {offsetof(mc_cfg_t, lienthong.server_key_file), "keys/lienthong.key"},
    {offsetof(mc_cfg_t, notify.spool_dir), "/var/spool/motcua"},
    {offsetof(mc_cfg_t, notify.sms_url), ""},
    {offsetof(mc_cfg_t, notify.sms_token_file), ""},
    {offsetof(mc_cfg_t, notify.smtp_url), ""},
    {offsetof(mc_cfg_t, notify.smtp_from), "motcua@localhost"},
    {offsetof(mc_cfg_t, notify.smtp_user), ""},
    {offsetof(mc_cfg_t, notify.smtp_password_file), ""},
    /* a placeholder that shows the shape; each deployment names its own survey page */
    {offsetof(mc_cfg_t, notify.rating_url), "https://dichvucong.example.vn/danh-gia"},
    {offsetof(mc_cfg_t, retention.export_dir), "/var/lib/motcua/archive"},
    {offsetof(mc_cfg_t, portal.url), ""},
    {offsetof(mc_cfg_t, portal.token_file), ""},
    {offsetof(mc_cfg_t, events.key_file), ""},
    {offsetof(mc_cfg_t, gateway.listen), "127.0.0.1:8080"},
    {offsetof(mc_cfg_t, gateway.key_file), "keys/gateway.key"},
    {offsetof(mc_cfg_t, gateway.public_client), "CONG_CONG"},
    /* the source tree's; the package installs it there too (docs/gateway.md) */
    {offsetof(mc_cfg_t, gateway.openapi_file), "docs/openapi.json"},
    /* the pages (issue 15): the source tree's; a package sets /usr/share/motcua/web (docs/web.md) */
    {offsetof(mc_cfg_t, gateway.web_dir), "web"},
    {offsetof(mc_cfg_t, gateway.tls_cert_file), ""},
    {offsetof(mc_cfg_t, gateway.tls_key_file), ""},
};
enum { N_TEXT_DEFAULTS = sizeof text_defaults / sizeof text_defaults[0] };

/* text_field - the char * of cfg that text_defaults[i] names */
static char **text_field(mc_cfg_t *cfg, size_t i)
{
    return (char **)(void *)((char *)cfg + text_defaults[i].at);
}

/* set_defaults - the values documented for absent keys */
static int set_defaults(mc_cfg_t *cfg, const char *path)
{
    cfg->path = strdup(path);
    for (int i = 0; i < MC_DB_PROGRAMS; i++)
        if (!(cfg->login[i] = strdup("")))
            return -1;
    cfg->connect_timeout_s = 2;
    cfg->statement_timeout_ms = 5000;
    cfg->db_tcp = (mc_store_tcp_t){MC_STORE_KEEPALIVES_IDLE_S, MC_STORE_KEEPALIVES_INTERVAL_S,
                                   MC_STORE_KEEPALIVES_COUNT, MC_STORE_TCP_USER_TIMEOUT_MS};
    cfg->code_gap = MC_STORE_CODE_GAP;
    cfg->log_level = MC_LOG_INFO;
    cfg->log_summary_ms = 60000;
    cfg->intake.workers = 4;
    cfg->intake.max_request_bytes = 262144;
    cfg->intake.max_documents = 50;
    cfg->intake.retry_after_ms = 1000;
    cfg->intake.reconnect_ms = 1000;
    cfg->intake.shutdown_grace_ms = 10000;
    cfg->client.timeout_ms = 5000;
    cfg->client.retries = 2;
    cfg->router.poll_ms = 1000;
    cfg->router.batch = 100;
    cfg->router.deadline_scan_ms = 60000;
    cfg->rules.supplement_days = 15;
    cfg->rules.warn_before_days = 2;
    cfg->rules.apology_before_days = 1;
    cfg->rules.acceptance_hours = 8;
    cfg->lienthong.heartbeat_ms = 2000;
    cfg->lienthong.ack_timeout_ms = 10000;
    cfg->lienthong.max_attempts = 5;
    cfg->lienthong.window_max = 32;
    cfg->lienthong.poll_ms = 1000;
    cfg->lienthong.lease_ms = 60000;
    cfg->notify.poll_ms = 1000;
    cfg->notify.retry_initial_ms = 2000;
    cfg->notify.retry_max_ms = 600000;
    cfg->notify.max_attempts = 10;
    cfg->notify.send_lease_ms = 60000;
    cfg->notify.batch = 64;
    cfg->portal.poll_ms = 1000;
    cfg->portal.retry_initial_ms = 2000;
    cfg->portal.retry_max_ms = 300000;
    cfg->portal.batch = 16;
    cfg->portal.send_lease_ms = 30000;
    cfg->gateway.max_body_bytes = 1024 * 1024;
    cfg->gateway.rate_per_s = 20;
    cfg->gateway.burst = 40;
    cfg->gateway.max_connections = 256;
    cfg->gateway.per_ip_connections = 32;
    cfg->gateway.rate_per_address = true;
    cfg->gateway.timeout_s = 30;
    cfg->retention.key_days = 30;
    cfg->retention.spool_days = 30;
    cfg->retention.dossier_years = 10;
    cfg->retention.batch = 500;
    cfg->rules.forward_days = 1; /* Nghị định 118/2025 Điều 20: within one working day */
    if (!cfg->path)
        return -1;
    for (size_t i = 0; i < N_TEXT_DEFAULTS; i++)
        if (!(*text_field(cfg, i) = strdup(text_defaults[i].value)))
            return -1;
    return 0;
}

/* mc_cfg_load - read and check motcua.yaml and its companions */
int mc_cfg_load(const char *path, mc_cfg_t **out, mc_err_t *err)
{
    static const char *const top[] = {"database", "log",       "files",  "intake", "client",
                                      "router",   "lienthong", "notify", "portal", "wards",
                                      "rules",    "retention", "events", "gateway", NULL};
    static const char *const required[] = {"wards", NULL};
    *out = NULL;
    mc_cfg_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg || set_defaults(cfg, path) < 0) {
        mc_cfg_destroy(&cfg);
        mc_err_add(err, "%s: out of memory", path);
        return -1;
    }
    mc_yaml_doc_t *doc = NULL;
    if (mc_yaml_load_file(path, &doc, err) < 0) {
        mc_cfg_destroy(&cfg);
        return -1;
    }
    const mc_yaml_node_t *root = mc_yaml_root(doc);
    int rc = mc_yaml_check_keys(root, "motcua.yaml", top, required, err);
    if (root->kind == MC_YAML_MAPPING) {
        /* every section, each once, all of them even after a problem: one run, every error */
        static int (*const sections[])(const mc_yaml_node_t *, mc_cfg_t *, mc_err_t *) = {
            load_events,   load_database, load_log,    load_intake, load_client, load_router,
            load_rules,    load_lienthong, load_notify, load_portal, load_wards,  load_files,
            load_retention, load_gateway,
        };
        for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
            if (sections[i](root, cfg, err) < 0)
                rc = -1;
    }
    if (connect_default(cfg->intake.events_endpoint, &cfg->intake.events_connect,
                           &cfg->intake.n_events_connect) < 0 ||
        connect_default(cfg->router.events_endpoint, &cfg->router.events_connect,
                           &cfg->router.n_events_connect) < 0 ||
        connect_default(cfg->lienthong.events_endpoint, &cfg->lienthong.events_connect,
                           &cfg->lienthong.n_events_connect) < 0) {
        mc_err_add(err, "%s: out of memory", path);
        rc = -1;
    }
    mc_yaml_destroy(&doc);
    if (connect_default(cfg->intake.endpoint, &cfg->intake.connect, &cfg->intake.n_connect) < 0 ||
        connect_default(cfg->lienthong.endpoint, &cfg->lienthong.connect,
                        &cfg->lienthong.n_connect) < 0) {
        mc_err_add(err, "%s: out of memory", path);
        rc = -1;
    }

    /* companions are checked even when motcua.yaml has problems: one run, every error */
    if (cfg->procedures_path && mc_catalog_load(cfg->procedures_path, &cfg->catalog, err) < 0)
        rc = -1;
    if (cfg->calendar_path && mc_calendar_load(cfg->calendar_path, &cfg->calendar, err) < 0)
        rc = -1;

    const char *env = getenv("MOTCUA_DATABASE");
    if (env) {
        char *copy = strdup(env);
        if (!copy) {
            mc_err_add(err, "MOTCUA_DATABASE: out of memory");
            rc = -1;
        } else {
            free(cfg->conninfo);
            cfg->conninfo = copy;
        }
    }
    if (rc < 0) {
        mc_cfg_destroy(&cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

/* mc_cfg_destroy - free and NULL the caller's pointer */
void mc_cfg_destroy(mc_cfg_t **cfg)
{
    if (!cfg || !*cfg)
        return;
    mc_cfg_t *c = *cfg;
    for (size_t i = 0; i < c->n_wards; i++) {
        free(c->wards[i].code);
        free(c->wards[i].name);
        free(c->wards[i].province);
        free(c->wards[i].unit_id);
        free(c->wards[i].unit_name);
        free(c->wards[i].address);
    }
    free(c->wards);
    free(c->path);
    for (int i = 0; i < MC_DB_PROGRAMS; i++)
        free(c->login[i]);
    for (size_t i = 0; i < N_TEXT_DEFAULTS; i++)
        free(*text_field(c, i));
    free(c->procedures_path);
    free(c->calendar_path);
    free(c->routing_path);
    free(c->agencies_path);
    free(c->clients_path);
    free(c->staff_path);
    free(c->notifications_path);
    connect_free(&c->intake.events_connect, &c->intake.n_events_connect);
    connect_free(&c->router.events_connect, &c->router.n_events_connect);
    connect_free(&c->lienthong.events_connect, &c->lienthong.n_events_connect);
    connect_free(&c->intake.connect, &c->intake.n_connect);
    connect_free(&c->lienthong.connect, &c->lienthong.n_connect);
    mc_catalog_destroy(&c->catalog);
    mc_calendar_destroy(&c->calendar);
    free(c);
    *cfg = NULL;
}

/* mc_cfg_ward - the ward with this code */
const mc_ward_t *mc_cfg_ward(const mc_cfg_t *cfg, const char *code)
{
    if (!cfg || !code)
        return NULL;
    for (size_t i = 0; i < cfg->n_wards; i++)
        if (strcmp(cfg->wards[i].code, code) == 0)
            return &cfg->wards[i];
    return NULL;
}

typedef struct out_buf {
    char  *buf;  /* destination */
    size_t size; /* its size */
    size_t len;  /* bytes written (excluding NUL) */
} out_buf_t;

/* put - append bytes, truncating at the end of the buffer */
static void put(out_buf_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->len + 1 < o->size; i++)
        o->buf[o->len++] = s[i];
    o->buf[o->len] = '\0';
}

/* redact_uri - postgresql://user:secret@host/db?password=secret&... */
static void redact_uri(const char *s, out_buf_t *o)
{
    const char *auth = strstr(s, "://") + 3;
    const char *auth_end = auth + strcspn(auth, "/?");
    put(o, s, (size_t)(auth - s));
    /* the last '@' ends the userinfo; a password may itself hold '@' when percent-less */
    const char *at = NULL;
    for (const char *p = auth; p < auth_end; p++)
        if (*p == '@')
            at = p;
    const char *p = auth;
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon) {
            put(o, auth, (size_t)(colon - auth) + 1);
            put(o, "***", 3);
            p = at;
        }
    }
    put(o, p, (size_t)(auth_end - p));
    p = auth_end;
    const char *q = strchr(p, '?');
    if (!q) {
        put(o, p, strlen(p));
        return;
    }
    put(o, p, (size_t)(q - p) + 1);
    p = q + 1;
    while (*p) {
        size_t n = strcspn(p, "&");
        if (n >= 9 && strncmp(p, "password=", 9) == 0) {
            put(o, "password=***", 12);
        } else {
            put(o, p, n);
        }
        p += n;
        if (*p == '&') {
            put(o, "&", 1);
            p++;
        }
    }
}

/* redact_kv - keyword = value pairs, values maybe single-quoted with escapes */
static int redact_kv(const char *s, out_buf_t *o)
{
    const char *p = s;
    while (*p) {
        const char *ws = p;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        put(o, ws, (size_t)(p - ws));
        if (!*p)
            break;
        const char *kw = p;
        while ((*p >= 'a' && *p <= 'z') || *p == '_')
            p++;
        size_t kwlen = (size_t)(p - kw);
        while (*p == ' ' || *p == '\t')
            p++;
        if (kwlen == 0 || *p != '=')
            return -1;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *val = p;
        if (*p == '\'') {
            p++;
            while (*p && *p != '\'') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (*p != '\'')
                return -1;
            p++;
        } else {
            while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
        }
        put(o, kw, kwlen);
        put(o, "=", 1);
        if (kwlen == 8 && strncmp(kw, "password", 8) == 0)
            put(o, "***", 3);
        else
            put(o, val, (size_t)(p - val));
    }
    return 0;
}

/* mc_cfg_conninfo_redacted - conninfo fit for logs: passwords become *** */
const char *mc_cfg_conninfo_redacted(const mc_cfg_t *cfg, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    out_buf_t o = {buf, size, 0};
    buf[0] = '\0';
    const char *s = cfg && cfg->conninfo ? cfg->conninfo : "";
    if (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0) {
        redact_uri(s, &o);
    } else if (redact_kv(s, &o) < 0) {
        /* cannot tell where a password would end: show nothing rather than leak it */
        o.len = 0;
        put(&o, "(unparsable conninfo hidden)", 28);
    }
    return buf;
}

/* mc_cfg_default_path - $MOTCUA_CONFIG, the installed file, or the repo's */
const char *mc_cfg_default_path(void)
{
    const char *env = getenv("MOTCUA_CONFIG");
    if (env && env[0])
        return env;
    if (access("/etc/motcua/motcua.yaml", F_OK) == 0)
        return "/etc/motcua/motcua.yaml";
    return "config/motcua.yaml";
}

/* conn_put - append `keyword='value'` (libpq quoting) to a growing string */
static void conn_put(out_buf_t *o, const char *keyword, const char *value)
{
    if (o->len)
        put(o, " ", 1);
    put(o, keyword, strlen(keyword));
    put(o, "='", 2);
    for (const char *c = value; *c; c++) {
        if (*c == '\'' || *c == '\\')
            put(o, "\\", 1);
        put(o, c, 1);
    }
    put(o, "'", 1);
}

/* conn_value - the value a parsed conninfo gives keyword, or NULL */
static const char *conn_value(const PQconninfoOption *opts, const char *keyword)
{
    for (const PQconninfoOption *o = opts; o && o->keyword; o++)
        if (o->val && strcmp(o->keyword, keyword) == 0)
            return o->val;
    return NULL;
}

/* mc_cfg_use_role - this program's conninfo: login fragment, application_name, role */
int mc_cfg_use_role(mc_cfg_t *cfg, const char *program, mc_err_t *err)
{
    int which = -1;
    for (int i = 0; i < MC_DB_PROGRAMS; i++)
        if (strncmp(program, "motcua-", 7) == 0 && strcmp(program + 7, db_program_keys[i]) == 0)
            which = i;
    /* the gateway writes through intake (ZeroMQ) only; the store it reads for
     * the ward dashboard, as the read-only report role */
    if (strcmp(program, "motcua-gateway") == 0)
        which = MC_DB_REPORT;
    if (which < 0)
        return 0; /* no role: the CLI's writing commands and the agency client keep theirs */
    char *why = NULL, *why_login = NULL;
    PQconninfoOption *base = PQconninfoParse(cfg->conninfo, &why);
    PQconninfoOption *login = PQconninfoParse(cfg->login[which], &why_login);
    int rc = -1;
    if (!base || !login) {
        mc_err_add(err, "database: %s: %s", base ? "database.login" : "database.conninfo",
                   "not a libpq connection string");
        goto done;
    }
    char role_option[96];
    snprintf(role_option, sizeof role_option, "-c role=motcua_%s", db_program_keys[which]);
    /* a conninfo never holds more than CFG_CONNINFO_MAX of values, twice, plus ours */
    size_t size = 3 * CFG_CONNINFO_MAX + 256;
    char *text = malloc(size);
    if (!text) {
        mc_err_add(err, "database: out of memory");
        goto done;
    }
    out_buf_t o = {text, size, 0};
    text[0] = '\0';
    for (const PQconninfoOption *b = base; b->keyword; b++) {
        const char *v = conn_value(login, b->keyword);
        if (!v)
            v = b->val;
        if (strcmp(b->keyword, "application_name") == 0) {
            v = program; /* pg_stat_activity tells the daemons apart */
        } else if (strcmp(b->keyword, "options") == 0) {
            char options[CFG_CONNINFO_MAX + 128];
            snprintf(options, sizeof options, "%s%s%s", v ? v : "", v && *v ? " " : "",
                     role_option);
            conn_put(&o, "options", options);
            continue;
        }
        if (v)
            conn_put(&o, b->keyword, v);
    }
    if (o.len + 1 >= size) {
        mc_err_add(err, "database: connection string too long");
        free(text);
        goto done;
    }
    free(cfg->conninfo);
    cfg->conninfo = text;
    rc = 0;
done:
    PQfreemem(why);
    PQfreemem(why_login);
    PQconninfoFree(base);
    PQconninfoFree(login);
    return rc;
}

/* mc_cfg_open_secret - open a secret file, refusing one that others may read */
FILE *mc_cfg_open_secret(const char *path, const char *what, mc_err_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        mc_err_add(err, "%s: cannot read %s: %s", path, what, strerror(errno));
        return NULL;
    }
    /* the mode of the file we opened, not of whatever the name points to later */
    struct stat st;
    if (fstat(fd, &st) != 0) {
        mc_err_add(err, "%s: cannot stat %s: %s", path, what, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        mc_err_add(err, "%s: %s is not a regular file", path, what);
        close(fd);
        return NULL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        mc_err_add(err, "%s: %s is open to %s (mode %04o): refused; chmod 600 it (or 400) so "
                   "only its owner can read it", path, what,
                   st.st_mode & S_IRWXO ? "everyone" : "its group",
                   (unsigned)(st.st_mode & 07777));
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        mc_err_add(err, "%s: cannot read %s: %s", path, what, strerror(errno));
        close(fd);
    }
    return f;
}
