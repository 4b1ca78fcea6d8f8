/*
 * motcua-agency - the reference partner-agency client and simulator.
 *
 * Usage: motcua-agency [-c FILE] --agency CODE --key FILE.key --server-key FILE.pub
 *                      [--delay-ms N] [--outcomes approved=90,rejected=5,needs_documents=5]
 *                      [--credit N] [--count N] [--drop-first-ack] [--endpoint E]
 *                      [--state-dir DIR] [--extend-days N] [--extend-hold-ms N]
 * Connects to lienthong.endpoint (or --endpoint) as a CURVE client with the
 * secret key in --key, and serves until SIGTERM/SIGINT or until --count
 * results have been answered. With --state-dir the cases it took survive a
 * crash (agency.h: the journal); without it a warning is logged at start.
 * Exit codes: 0 done, 64 usage, 78 bad configuration or keys, or the state
 * directory unusable or in use by another motcua-agency, 1 error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

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
            "  --endpoint E        connect here instead of lienthong.endpoint\n"
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
            "                      a case is answered anyway, 0..86400000 (default 30000)\n");
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

/* client_endpoint - a bind address made connectable ("*" and 0.0.0.0 become 127.0.0.1) */
static void client_endpoint(const char *bind, char *out, size_t size)
{
    const char *host = strstr(bind, "://");
    if (host && (strncmp(host + 3, "*:", 2) == 0 || strncmp(host + 3, "0.0.0.0:", 8) == 0)) {
        const char *port = strchr(host + 3, ':');
        snprintf(out, size, "%.*s127.0.0.1%s", (int)(host + 3 - bind), bind, port);
    } else {
        snprintf(out, size, "%s", bind);
    }
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

int main(int argc, char **argv)
{
    const char *config = NULL, *key_file = NULL, *server_key_file = NULL, *endpoint = NULL;
    const char *state_dir = NULL;
    agency_opts_t o;
    memset(&o, 0, sizeof o);
    o.delay_ms = 100;
    o.credit = 10;
    o.extend_hold_ms = AGENCY_EXTEND_HOLD_MS;
    o.pct_approved = 90, o.pct_rejected = 5, o.pct_needs = 5;
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
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'a': o.agency = optarg; break;
        case 'k': key_file = optarg; break;
        case 's': server_key_file = optarg; break;
        case 'e': endpoint = optarg; break;
        case 'S': state_dir = optarg; break;
        case 'D': o.drop_first_ack = true; break;
        case 'd':
            if (long_arg(optarg, 0, 86400000, &v) != 0)
                goto bad;
            o.delay_ms = (int)v;
            break;
        case 'r':
            if (long_arg(optarg, 1, 1000, &v) != 0)
                goto bad;
            o.credit = (uint32_t)v;
            break;
        case 'n':
            if (long_arg(optarg, 0, 1000000000, &v) != 0)
                goto bad;
            o.count = v;
            break;
        case 'x':
            if (long_arg(optarg, 0, AGENCY_EXTEND_DAYS_MAX, &v) != 0)
                goto bad;
            o.extend_days = (int)v;
            break;
        case 'H':
            if (long_arg(optarg, 0, AGENCY_EXTEND_HOLD_MS_MAX, &v) != 0)
                goto bad;
            o.extend_hold_ms = (int)v;
            break;
        case 'o':
            if (parse_outcomes(optarg, &o) != 0) {
                fprintf(stderr, "motcua-agency: --outcomes: names approved, rejected, "
                                "needs_documents, percentages summing to 100\n");
                return 64;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (optind != argc || !o.agency || !key_file || !server_key_file) {
        fprintf(stderr, "motcua-agency: --agency, --key and --server-key are required\n");
        usage(stderr);
        return 64;
    }
    mc_log_init("motcua-agency", MC_LOG_INFO);
    if (!config)
        config = mc_cfg_default_path();
    mc_err_t err;
    mc_err_clear(&err);
    mc_cfg_t *cfg = NULL;
    if (mc_cfg_load(config, &cfg, &err) != 0) {
        fprintf(stderr, "%s", err.text);
        return 78;
    }
    mc_log_set_level(cfg->log_level);
    client_endpoint(endpoint ? endpoint : cfg->lienthong.endpoint, o.endpoint, sizeof o.endpoint);
    o.heartbeat_ms = cfg->lienthong.heartbeat_ms;
    mc_cfg_destroy(&cfg);
    if (mc_curve_read_secret_key(key_file, o.secret_key, &err) != 0 ||
        mc_curve_public_of(o.secret_key, o.public_key, &err) != 0 ||
        mc_curve_read_key(server_key_file, o.server_key, &err) != 0) {
        fprintf(stderr, "motcua-agency: %s", err.text);
        return 78;
    }

    agency_journal_t *journal = NULL;
    if (state_dir) {
        agency_journal_status_t st = agency_journal_open(state_dir, &journal, &err);
        if (st != AGENCY_JOURNAL_OK) {
            char line[600];
            fprintf(stderr, "motcua-agency: %s\n", mc_err_first(&err, line, sizeof line));
            explicit_bzero(o.secret_key, sizeof o.secret_key);
            return 78;
        }
    } else {
        mc_log(MC_LOG_WARNING, "memory_only",
               "reason=\"no --state-dir: acked cases are lost if this process dies\"");
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    int stop_fd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (stop_fd < 0) {
        agency_journal_close(&journal);
        return 1;
    }
    mc_log(MC_LOG_NOTICE, "started", "agency=%s endpoint=%s credit=%u delay_ms=%d durable=%s"
           " extend_days=%d extend_hold_ms=%d pid=%d", o.agency, o.endpoint, o.credit,
           o.delay_ms, journal ? "yes" : "no", o.extend_days, o.extend_hold_ms, (int)getpid());
    int rc = agency_run(&o, journal, stop_fd);
    agency_journal_close(&journal);
    explicit_bzero(o.secret_key, sizeof o.secret_key);
    mc_transport_term();
    close(stop_fd);
    mc_log(MC_LOG_NOTICE, "stopped", "clean=%s", rc == 0 ? "yes" : "no");
    return rc == 0 ? 0 : 1;
bad:
    fprintf(stderr, "motcua-agency: bad value for an option: %s\n", optarg);
    usage(stderr);
    return 64;
}
