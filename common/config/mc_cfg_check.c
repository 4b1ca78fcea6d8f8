/*
 * mc_cfg_check - the cross-file configuration check (mc_cfg_check.h).
 *
 * Contract: reads files, prints nothing, changes nothing; every problem is
 * a line in the caller's mc_err_t. A secret key read into memory is wiped
 * before returning.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "mc_agencies.h"
#include "mc_catalog.h"
#include "mc_cfg_check.h"
#include "mc_curve.h"
#include "mc_routing.h"

/* check_routes - every desk a dossier can be routed to, and every later
 * step's agency, has an agencies.yaml entry: one that none answers for
 * would leave its dossiers waiting forever */
static int check_routes(const mc_cfg_t *cfg, const mc_routing_t *routing,
                        const mc_agencies_t *agencies, mc_err_t *err)
{
    int problems = 0;
    for (size_t i = 0; i < cfg->catalog->count; i++) {
        const mc_procedure_t *proc = &cfg->catalog->procedures[i];
        for (size_t w = 0; w < cfg->n_wards; w++) {
            mc_route_t r = mc_routing_lookup(routing, proc, cfg->wards[w].code);
            if (!mc_agencies_find(agencies, r.department)) {
                mc_err_add(err, "%s: desk '%s' (procedure %s, ward %s) has no entry",
                           cfg->agencies_path, r.department, proc->code, cfg->wards[w].code);
                problems++;
            }
        }
        for (size_t k = 0; k < proc->n_steps; k++)
            if (!mc_agencies_find(agencies, proc->steps[k].agency)) {
                mc_err_add(err, "%s: agency '%s' (procedure %s, step %zu) has no entry",
                           cfg->agencies_path, proc->steps[k].agency, proc->code, k + 2);
                problems++;
            }
    }
    return problems;
}

/* check_secret - can the secret file be opened as a daemon would (mode 0600)? */
static int check_secret(const char *path, const char *what, mc_err_t *err)
{
    FILE *f = mc_cfg_open_secret(path, what, err);
    if (!f)
        return 1;
    fclose(f);
    return 0;
}

/* check_secrets - every secret file the configuration names, as its daemon opens it */
static int check_secrets(const mc_cfg_t *cfg, mc_err_t *err)
{
    int problems = 0;
    char key[MC_CURVE_KEY_LEN + 1];
    if (mc_curve_read_secret_key(cfg->lienthong.server_key_file, key, err) != 0)
        problems++;
    explicit_bzero(key, sizeof key);
    /* every daemon's PUB and SUB reads it (mc_events) */
    if (cfg->events.key_file[0] && mc_curve_read_secret_key(cfg->events.key_file, key, err) != 0)
        problems++;
    explicit_bzero(key, sizeof key);
    if (cfg->notify.sms_url[0] && cfg->notify.sms_token_file[0])
        problems += check_secret(cfg->notify.sms_token_file, "sms token", err);
    if (cfg->notify.smtp_url[0] && cfg->notify.smtp_user[0])
        problems += check_secret(cfg->notify.smtp_password_file, "smtp password", err);
    return problems;
}

/* mc_cfg_check_files - routing × agencies, and the secret files */
int mc_cfg_check_files(const mc_cfg_t *cfg, mc_err_t *err)
{
    int problems = 0, before = err->count;
    mc_routing_t *routing = NULL;
    if (mc_routing_load(cfg->routing_path, cfg, &routing, err) < 0)
        problems += err->count - before;
    mc_agencies_t *agencies = NULL;
    before = err->count;
    if (mc_agencies_load(cfg->agencies_path, &agencies, err) < 0)
        problems += err->count - before; /* lienthong refuses to start on it too */
    else if (routing && cfg->catalog)
        problems += check_routes(cfg, routing, agencies, err);
    mc_agencies_destroy(&agencies);
    mc_routing_destroy(&routing);
    return problems + check_secrets(cfg, err);
}

/* wildcard_warning - a bind on every address whose clients only know the
 * one-host default (127.0.0.1): clients on other hosts need <section>.connect */
static int wildcard_warning(const char *section, const char *endpoint, bool connect_given,
                            mc_err_t *warn)
{
    if (connect_given || !mc_cfg_endpoint_is_wildcard(endpoint))
        return 0;
    mc_err_add(warn, "config check: warning: %s.endpoint %s binds every address but %s.connect "
               "is not set: clients would only try 127.0.0.1 (this host); list every instance's "
               "address in %s.connect", section, endpoint, section, section);
    return 1;
}

/* multi_host_warning - a conninfo (what, e.g. "database.conninfo") naming
 * several hosts without target_session_attrs=read-write (or primary): libpq
 * then takes the first host that answers, a standby after a failover, and
 * every write fails there instead of following the primary (docs/ha.md).
 * 1 when it warned. Parsed by libpq itself (key=value and URI forms); a
 * conninfo it cannot parse is the daemons' error, not this warning's. */
static int multi_host_warning(const char *what, const char *conninfo, mc_err_t *warn)
{
    if (!conninfo || !*conninfo)
        return 0;
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    if (!opts)
        return 0;
    bool several = false, follows = false;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if ((strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0) &&
            strchr(o->val, ','))
            several = true;
        if (strcmp(o->keyword, "target_session_attrs") == 0 &&
            (strcmp(o->val, "read-write") == 0 || strcmp(o->val, "primary") == 0))
            follows = true;
    }
    PQconninfoFree(opts);
    if (!several || follows)
        return 0;
    mc_err_add(warn, "config check: warning: %s names several hosts without "
               "target_session_attrs=read-write: a daemon may stay on a standby after a "
               "failover and fail every write; add target_session_attrs=read-write "
               "(docs/ha.md)", what);
    return 1;
}

/* mc_cfg_check_warnings - a plain-TCP bind others can reach: anyone there may
 * submit without a key. intake with CURVE (its client registry) and
 * lienthong (always CURVE) are fine on any address; the events endpoints
 * never get here (mc_cfg_load refuses them off this host without
 * events.key_file, and with it they are CURVE). */
int mc_cfg_check_warnings(const mc_cfg_t *cfg, mc_err_t *warn)
{
    int n = wildcard_warning("intake", cfg->intake.endpoint, cfg->intake.connect_given, warn) +
            wildcard_warning("lienthong", cfg->lienthong.endpoint, cfg->lienthong.connect_given,
                             warn) +
            multi_host_warning("database.conninfo", cfg->conninfo, warn);
    for (int i = 0; i < MC_DB_PROGRAMS; i++)
        if (cfg->login[i] && *cfg->login[i])
            n += multi_host_warning("a database.login conninfo", cfg->login[i], warn);
    if (!cfg->intake.plaintext || mc_cfg_endpoint_is_local(cfg->intake.endpoint))
        return n;
    mc_err_add(warn, "config check: warning: intake.endpoint %s is reachable from other hosts "
               "without CURVE (intake.plaintext: true): bind it to 127.0.0.1 or ipc://, or turn "
               "CURVE on", cfg->intake.endpoint);
    return n + 1;
}

/* mc_cfg_check_all - load, then the cross-file checks */
int mc_cfg_check_all(const char *config_path, mc_err_t *err)
{
    mc_cfg_t *cfg = NULL;
    if (mc_cfg_load(config_path, &cfg, err) < 0)
        return -1;
    int problems = mc_cfg_check_files(cfg, err);
    mc_cfg_destroy(&cfg);
    return problems ? -1 : 0;
}
