/*
 * agency_args - motcua-agency's command line (contract in agency.h): the
 * options with getopt_long and their bounds, then the files they name (the
 * configuration for the hub's endpoint and heartbeat, the CURVE keys).
 * Nothing here exits: each function returns what main() should do.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agency.h"
#include "mc_cfg.h"
#include "mc_curve.h"
#include "mc_log.h"
#include "mc_transport.h"

/* usage - help text to f */
static void usage(FILE *f)
{
    fprintf(f,
            "usage: motcua-agency [-c FILE] --agency CODE --key FILE.key --server-key FILE.pub\n"
            "                     [--delay-ms N] [--outcomes approved=90,rejected=5,needs_documents=5]\n"
            "                     [--credit N] [--count N] [--drop-first-ack] [--endpoint E]\n"
            "                     [--state-dir DIR] [--extend-days N] [--extend-hold-ms N]\n"
            "  --agency CODE       the agency (for logs; the key decides who we are)\n"
            "  --key FILE          our CURVE secret key (motcua keygen)\n"
            "  --server-key FILE   motcua-lienthong's public key\n"
            "  --delay-ms N        processing time per case (default 100)\n"
            "  --outcomes SPEC     outcome split in percent, decided per case id\n"
            "  --credit N          cases we hold at once (default 10)\n"
            "  --count N           exit 0 after N results were answered\n"
            "  --drop-first-ack    ignore each case's first delivery (tests resends)\n"
            "  --endpoint E        a hub to connect to (repeatable; default lienthong.connect):\n"
            "                      a hub silent for 3 heartbeats is left for the next one\n"
            "  --state-dir DIR     keep the journal of taken cases here (created 0700, one\n"
            "                      agency per directory): a case is acked only once it is\n"
            "                      stored, and survives a crash; without it: memory only\n"
            "  --extend-days N     0 (default): off. 1..30: on a DueSoon for a case we hold\n"
            "                      and have not answered, propose an extension to the\n"
            "                      dossier's due date + N days (ExtensionRequest, resent\n"
            "                      until its ExtensionAck; journaled, so a restart sends\n"
            "                      the same proposal; a DueSoon that comes again gets the\n"
            "                      same one). A case is then held (its result not sent)\n"
            "                      while its proposal waits for the hub's answer, or, if\n"
            "                      nothing was proposed, for at most --extend-hold-ms\n"
            "                      after it was taken (or replayed at a restart): a demo\n"
            "                      sees the extension and the apology before the result,\n"
            "                      and a case never warned is answered once the hold ends\n"
            "  --extend-hold-ms N  with --extend-days: longest wait for a DueSoon before\n"
            "                      a case is answered anyway, 0..86400000 (default 30000)\n"
            "Signals: SIGTERM or SIGINT stop after the frame in hand; SIGHUP does not stop.\n");
}

/* parse_outcomes - "approved=90,rejected=5,needs_documents=5" (missing names are 0) */
static int parse_outcomes(const char *spec, agency_opts_t *o)
{
    o->pct_approved = o->pct_rejected = o->pct_needs = 0;
    char buf[200];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        char *end = NULL;
        long v = strtol(eq + 1, &end, 10);
        if (*end || v < 0 || v > 100)
            return -1;
        if (strcmp(tok, "approved") == 0)
            o->pct_approved = (int)v;
        else if (strcmp(tok, "rejected") == 0)
            o->pct_rejected = (int)v;
        else if (strcmp(tok, "needs_documents") == 0)
            o->pct_needs = (int)v;
        else
            return -1;
    }
    return o->pct_approved + o->pct_rejected + o->pct_needs == 100 ? 0 : -1;
}

/* long_arg - a bounded integer option */
static int long_arg(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* number_option - the bounded integer options (--delay-ms, --credit, --count,
 * --extend-days, --extend-hold-ms) into o; 0, or -1 out of bounds */
static int number_option(int c, const char *text, agency_opts_t *o)
{
    long v = 0;
    switch (c) {
    case 'd':
        if (long_arg(text, 0, 86400000, &v) != 0)
            return -1;
        o->delay_ms = (int)v;
        return 0;
    case 'r':
        if (long_arg(text, 1, 1000, &v) != 0)
            return -1;
        o->credit = (uint32_t)v;
        return 0;
    case 'n':
        return long_arg(text, 0, 1000000000, &o->count);
    case 'x':
        if (long_arg(text, 0, AGENCY_EXTEND_DAYS_MAX, &v) != 0)
            return -1;
        o->extend_days = (int)v;
        return 0;
    default: /* 'H' */
        if (long_arg(text, 0, AGENCY_EXTEND_HOLD_MS_MAX, &v) != 0)
            return -1;
        o->extend_hold_ms = (int)v;
        return 0;
    }
}

/* agency_args_parse - getopt_long over the options of usage() */
int agency_args_parse(int argc, char **argv, agency_args_t *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},    {"agency", required_argument, NULL, 'a'},
        {"key", required_argument, NULL, 'k'},       {"server-key", required_argument, NULL, 's'},
        {"delay-ms", required_argument, NULL, 'd'},  {"outcomes", required_argument, NULL, 'o'},
        {"credit", required_argument, NULL, 'r'},    {"count", required_argument, NULL, 'n'},
        {"drop-first-ack", no_argument, NULL, 'D'},  {"endpoint", required_argument, NULL, 'e'},
        {"state-dir", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'},
        {"extend-days", required_argument, NULL, 'x'},
        {"extend-hold-ms", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    agency_opts_t *o = &a->opts;
    o->delay_ms = 100;
    o->credit = 10;
    o->extend_hold_ms = AGENCY_EXTEND_HOLD_MS;
    o->pct_approved = 90, o->pct_rejected = 5, o->pct_needs = 5;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a->config = optarg; break;
        case 'a': o->agency = optarg; break;
        case 'k': a->key_file = optarg; break;
        case 's': a->server_key_file = optarg; break;
        case 'e':
            if (a->n_endpoints >= MC_CFG_CONNECT_MAX) {
                fprintf(stderr, "motcua-agency: --endpoint: at most %d\n", MC_CFG_CONNECT_MAX);
                return 64;
            }
            a->endpoints[a->n_endpoints++] = optarg;
            break;
        case 'S': a->state_dir = optarg; break;
        case 'D': o->drop_first_ack = true; break;
        case 'd': case 'r': case 'n': case 'x': case 'H':
            if (number_option(c, optarg, o) != 0) {
                fprintf(stderr, "motcua-agency: bad value for an option: %s\n", optarg);
                usage(stderr);
                return 64;
            }
            break;
        case 'o':
            if (parse_outcomes(optarg, o) != 0) {
                fprintf(stderr, "motcua-agency: --outcomes: names approved, rejected, "
                                "needs_documents, percentages summing to 100\n");
                return 64;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (optind != argc || !o->agency || !a->key_file || !a->server_key_file) {
        fprintf(stderr, "motcua-agency: --agency, --key and --server-key are required\n");
        usage(stderr);
        return 64;
    }
    if (!a->config)
        a->config = mc_cfg_default_path();
    return AGENCY_ARGS_CONTINUE;
}

/* agency_args_load - lienthong's endpoint and heartbeat from the configuration, then the keys */
int agency_args_load(agency_args_t *a)
{
    agency_opts_t *o = &a->opts;
    mc_err_t err;
    mc_err_clear(&err);
    mc_cfg_t *cfg = NULL;
    if (mc_cfg_load(a->config, &cfg, &err) != 0) {
        fprintf(stderr, "%s", err.text);
        return 78;
    }
    mc_log_set_level(cfg->log_level);
    size_t n = a->n_endpoints ? a->n_endpoints : cfg->lienthong.n_connect;
    for (size_t i = 0; i < n; i++) {
        char buf[300];
        const char *e = a->n_endpoints ? mc_transport_connectable(a->endpoints[i], buf, sizeof buf)
                                       : cfg->lienthong.connect[i];
        snprintf(o->endpoints[i], sizeof o->endpoints[i], "%s", e);
    }
    o->n_endpoints = n;
    o->heartbeat_ms = cfg->lienthong.heartbeat_ms;
    mc_cfg_destroy(&cfg);
    if (mc_curve_read_secret_key(a->key_file, o->secret_key, &err) != 0 ||
        mc_curve_public_of(o->secret_key, o->public_key, &err) != 0 ||
        mc_curve_read_key(a->server_key_file, o->server_key, &err) != 0) {
        fprintf(stderr, "motcua-agency: %s", err.text);
        explicit_bzero(o->secret_key, sizeof o->secret_key);
        return 78;
    }
    return AGENCY_ARGS_CONTINUE;
}
