/*
 * admin_retention - `motcua-admin retention [--dry-run]`: the retention
 * policy of docs/operations.md ("Retention"), run daily by
 * motcua-retention.timer.
 *
 * Contract: three passes, each safe while the daemons run and each
 * resumable after kill -9 (mc_store_retention.h): (1) idempotency keys
 * older than retention.key_days are deleted; (2) spool files
 * `<notification id>.txt` older than retention.spool_days are removed when
 * their notification is no longer pending (sent, failed for good, or gone);
 * (3) dossiers closed more than retention.dossier_years ago are written to
 * one JSON lines file per run, `<export_dir>/dossiers-<UTC time>-<pid>.jsonl`
 * (0600, fsynced with its directory before any of them is deleted), then
 * deleted in batches. No file is made when nothing qualifies. --dry-run
 * prints what would go and changes nothing. Prints one line per pass and a
 * summary `retention: keys=N spool=N dossiers=N dry_run=yes|no`. Runs as the
 * schema owner (database.conninfo). Exit: 0 done, 1 failure (what was done
 * before it stays done), 3 store unreachable, 64 usage, 78 configuration.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "mc_file.h"
#include "mc_store_retention.h"

static const char retention_usage[] =
    "usage: motcua-admin [-c FILE] retention [--dry-run]\n"
    "  Apply the retention policy (docs/operations.md, \"Retention\"): delete\n"
    "  idempotency keys older than retention.key_days, spool files of settled\n"
    "  notifications older than retention.spool_days, and export (JSON lines in\n"
    "  retention.export_dir) then delete dossiers closed more than\n"
    "  retention.dossier_years ago.\n"
    "  --dry-run  print what would be removed; change nothing\n"
    "exit: 0 done, 1 failed, 3 store unreachable, 64 usage, 78 bad configuration\n";

#define SPOOL_BATCH 512 /* spool files checked against the store at once */

/* an export file of this run: opened on the first dossier to write */
typedef struct export_file {
    const char *dir;       /* retention.export_dir */
    char        path[4200]; /* the file, once opened */
    int         fd;        /* -1 until opened */
    long        lines;     /* lines written */
} export_file_t;

/* export_open - the run's file, new (O_EXCL), with its directory entry durable */
static int export_open(export_file_t *x, mc_err_t *err)
{
    if (mkdir(x->dir, 0700) != 0 && errno != EEXIST) {
        mc_err_add(err, "%s: cannot create: %s", x->dir, strerror(errno));
        return -1;
    }
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    snprintf(x->path, sizeof x->path, "%s/dossiers-%s-%ld.jsonl", x->dir, stamp, (long)getpid());
    x->fd = open(x->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (x->fd < 0) {
        mc_err_add(err, "%s: %s", x->path, strerror(errno));
        return -1;
    }
    if (mc_file_fsync_dir(x->dir) != 0) {
        mc_err_add(err, "%s: fsync: %s", x->dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* export_write - mc_retention_write_fn: append the lines, fsync */
static int export_write(void *arg, const char *const *lines, size_t n, mc_err_t *err)
{
    export_file_t *x = arg;
    if (x->fd < 0 && export_open(x, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (mc_file_write_all(x->fd, lines[i], strlen(lines[i])) != 0 ||
            mc_file_write_all(x->fd, "\n", 1) != 0) {
            mc_err_add(err, "%s: write: %s", x->path, strerror(errno));
            return -1;
        }
    }
    if (fsync(x->fd) != 0) {
        mc_err_add(err, "%s: fsync: %s", x->path, strerror(errno));
        return -1;
    }
    x->lines += (long)n;
    return 0;
}

/* spool_id - the notification id of a spool file name "<id>.txt"; -1 for any other name */
static int64_t spool_id(const char *name)
{
    char *end = NULL;
    if (name[0] < '0' || name[0] > '9')
        return -1;
    long long v = strtoll(name, &end, 10);
    return strcmp(end, ".txt") == 0 && v > 0 ? (int64_t)v : -1;
}

/* spool_settle - of the batch ids/names, remove (or count) the files whose notification is settled */
static mc_store_rc_t spool_settle(mc_store_t *store, const char *dir, const int64_t *ids,
                                  char (*names)[64], size_t n, bool dry_run, long *removed,
                                  mc_err_t *err)
{
    bool pending[SPOOL_BATCH];
    mc_store_rc_t rc = mc_store_notifications_pending(store, ids, n, pending, err);
    for (size_t i = 0; i < n && rc == MC_STORE_OK; i++) {
        if (pending[i])
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!dry_run && unlink(path) != 0 && errno != ENOENT) {
            mc_err_add(err, "%s: unlink: %s", path, strerror(errno));
            return MC_STORE_FAILED;
        }
        (*removed)++;
    }
    return rc;
}

/* spool_pass - old spool files of settled notifications; a missing directory has none */
static mc_store_rc_t spool_pass(mc_store_t *store, const char *dir, int64_t before, bool dry_run,
                                long *removed, mc_err_t *err)
{
    *removed = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return MC_STORE_OK;
        mc_err_add(err, "%s: %s", dir, strerror(errno));
        return MC_STORE_FAILED;
    }
    static int64_t ids[SPOOL_BATCH];
    static char names[SPOOL_BATCH][64];
    size_t n = 0;
    mc_store_rc_t rc = MC_STORE_OK;
    struct dirent *e;
    while (rc == MC_STORE_OK && (e = readdir(d)) != NULL) {
        int64_t id = spool_id(e->d_name);
        struct stat st;
        if (id < 0 || strlen(e->d_name) >= sizeof names[0] ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            st.st_mtime >= before)
            continue;
        ids[n] = id;
        memcpy(names[n], e->d_name, strlen(e->d_name) + 1); /* fits: checked above */
        if (++n == SPOOL_BATCH) {
            rc = spool_settle(store, dir, ids, names, n, dry_run, removed, err);
            n = 0;
        }
    }
    if (rc == MC_STORE_OK && n > 0)
        rc = spool_settle(store, dir, ids, names, n, dry_run, removed, err);
    closedir(d);
    return rc;
}

/* dossier_pass - export and delete every closed dossier past its keeping time, batch by batch */
static mc_store_rc_t dossier_pass(mc_store_t *store, const mc_cfg_retention_t *r, int64_t before,
                                  bool dry_run, export_file_t *x, long *total, mc_err_t *err)
{
    *total = 0;
    for (;;) {
        long n = 0;
        mc_store_rc_t rc = mc_store_dossiers_retire(store, before, r->batch, dry_run, export_write,
                                                    x, &n, err);
        if (rc != MC_STORE_OK)
            return rc;
        *total += n;
        if (dry_run || n == 0) /* rows skipped as locked by a daemon wait for the next run */
            return MC_STORE_OK;
    }
}

/* day_text - DD/MM/YYYY of an epoch (local time) */
static const char *day_text(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    strftime(buf, size, "%d/%m/%Y", localtime_r(&tt, &tm));
    return buf;
}

/* run_passes - the three passes in order; the first failure stops the rest */
static mc_store_rc_t run_passes(mc_store_t *store, const mc_cfg_t *cfg, bool dry_run,
                                export_file_t *x, long counts[3], mc_err_t *err)
{
    const mc_cfg_retention_t *r = &cfg->retention;
    int64_t now = (int64_t)time(NULL);
    const char *verb = dry_run ? "sẽ xóa" : "đã xóa";
    char day[32];
    int64_t keys_before = now - (int64_t)r->key_days * 86400;
    mc_store_rc_t rc = mc_store_keys_expire(store, keys_before, r->batch, dry_run, &counts[0], err);
    if (rc != MC_STORE_OK)
        return rc;
    printf("khóa chống gửi lặp (idempotency) tạo trước %s: %s %ld\n",
           day_text(keys_before, day, sizeof day), verb, counts[0]);
    int64_t spool_before = now - (int64_t)r->spool_days * 86400;
    rc = spool_pass(store, cfg->notify.spool_dir, spool_before, dry_run, &counts[1], err);
    if (rc != MC_STORE_OK)
        return rc;
    printf("tệp spool của thông báo đã gửi, cũ hơn %s: %s %ld\n",
           day_text(spool_before, day, sizeof day), verb, counts[1]);
    /* years of 365.25 days: the keeping time runs from the closing */
    int64_t dossiers_before = now - (int64_t)r->dossier_years * 31557600;
    rc = dossier_pass(store, r, dossiers_before, dry_run, x, &counts[2], err);
    if (rc != MC_STORE_OK && x->lines > 0)
        printf("hồ sơ đã xuất và xóa trước khi lỗi: %ld (tệp %s)\n", x->lines, x->path);
    if (rc != MC_STORE_OK)
        return rc;
    if (dry_run)
        printf("hồ sơ đóng trước %s: sẽ xuất rồi xóa %ld\n",
               day_text(dossiers_before, day, sizeof day), counts[2]);
    else
        printf("hồ sơ đóng trước %s: đã xuất rồi xóa %ld%s%s\n",
               day_text(dossiers_before, day, sizeof day), counts[2], x->fd >= 0 ? ", tệp " : "",
               x->fd >= 0 ? x->path : "");
    return MC_STORE_OK;
}

/* admin_retention - `motcua-admin retention [--dry-run]` */
int admin_retention(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    bool dry_run = false;
    char *rest[64];
    int n_rest = 0;
    for (int i = 0; i < argc; i++) { /* --dry-run is a flag the shared parser does not know */
        if (strcmp(argv[i], "--dry-run") == 0)
            dry_run = true;
        else if (n_rest == 64)
            return mc_cli_usage_error(ctx, retention_usage, "retention: too many arguments");
        else
            rest[n_rest++] = argv[i];
    }
    const char *args[1];
    int n_args = 0;
    int parsed = mc_cli_parse_args(ctx, n_rest, rest, "retention", retention_usage, NULL, args, 0,
                                   &n_args);
    if (parsed != MC_CLI_EX_OK)
        return parsed == MC_CLI_EX_HELP ? MC_CLI_EX_OK : parsed;
    mc_cfg_t *cfg = NULL;
    int status = mc_cli_load_config(ctx, &cfg);
    if (status != MC_CLI_EX_OK)
        return status;
    /* no statement timeout: a batch's export query reads whole dossiers */
    mc_store_t *store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, 0);
    mc_store_set_tcp(store, &cfg->db_tcp);
    if (!store) {
        mc_cfg_destroy(&cfg);
        return MC_CLI_EX_FAIL;
    }
    export_file_t x = {.dir = cfg->retention.export_dir, .fd = -1};
    long counts[3] = {0, 0, 0};
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc = run_passes(store, cfg, dry_run, &x, counts, &err);
    if (x.fd >= 0)
        close(x.fd);
    mc_store_destroy(&store);
    mc_cfg_destroy(&cfg);
    if (rc != MC_STORE_OK) {
        mc_cli_print_err(ctx, &err);
        return rc == MC_STORE_UNAVAILABLE ? MC_CLI_EX_RETRY : MC_CLI_EX_FAIL;
    }
    printf("retention: keys=%ld spool=%ld dossiers=%ld dry_run=%s\n", counts[0], counts[1],
           counts[2], dry_run ? "yes" : "no");
    return MC_CLI_EX_OK;
}
