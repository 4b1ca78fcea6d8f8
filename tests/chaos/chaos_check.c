/*
 * chaos_check - the accounting after the drain: what the applicants were
 * promised against what the store holds, what the agencies did and what
 * the SMS gateway and the spool directory actually got.
 *
 * Definitions (printed with the figures):
 *   lost            an acked submission_id with no dossier of its code;
 *   duplicated      more than one dossier per submission_id, or per code;
 *   stuck           a dossier of the run that, after the drain, is neither
 *                   final (RESULT_READY, WITHDRAWN, REFUSED) nor legitimately
 *                   (PENDING_ACCEPTANCE is not final: an online dossier the
 *                   desk has not accepted yet is stuck)
 *                   waiting (WAITING_SUPPLEMENT with its step paused and the
 *                   applicant's supplement not yet in), or that has a step
 *                   queued/sent/acked/dead, or a notice pending or failed;
 *   double take     an agency took one (case_id, revision) as new work more
 *                   than once (its journal when it keeps one, else its
 *                   logs' case_received lines across restarts);
 *   dup. delivery   an SMS handed on twice (gateway), a milestone with two
 *                   notification rows, or a spool file with no sent notice.
 */
#include "mc_states.h"
#include "chaos.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one (case, takes, last outcome) from the agencies' own records */
typedef struct take {
    char case_id[96];  /* "<code>/<step>" */
    int  revision;     /* 0 when the record does not say */
    int  takes;        /* fresh takes seen */
    int  outcome;      /* outcome of the last take, -1 unknown */
} take_t;

/* query - run a constant query on the harness connection; NULL (message printed) on error */
static PGresult *query(chaos_t *c, const char *sql)
{
    PGconn *db = harness_db(&c->h);
    PGresult *res = db ? PQexec(db, sql) : NULL;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        printf("  chaos: query failed: %s", res ? PQresultErrorMessage(res) : "no connection\n");
        PQclear(res);
        return NULL;
    }
    return res;
}

/* count - one number from a constant query, -1 on error */
static long count(chaos_t *c, const char *sql)
{
    return harness_count(&c->h, sql, NULL);
}

/* cmp_take - order takes by case id then revision */
static int cmp_take(const void *a, const void *b)
{
    const take_t *x = a, *y = b;
    int k = strcmp(x->case_id, y->case_id);
    return k ? k : x->revision - y->revision;
}

/* word_after - the value of "key=" in line into out (up to a space) */
static bool word_after(const char *line, const char *key, char *out, size_t size)
{
    const char *p = strstr(line, key);
    if (!p)
        return false;
    p += strlen(key);
    size_t n = strcspn(p, " \n");
    if (n == 0 || n >= size)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* add_take - append one take to *t (growing it); -1 on OOM */
static int add_take(take_t **t, size_t *n, size_t *cap, const char *id, int revision, int outcome)
{
    if (*n == *cap) {
        take_t *grown = realloc(*t, *cap * 2 * sizeof **t);
        if (!grown)
            return -1;
        *t = grown;
        *cap *= 2;
    }
    take_t *k = &(*t)[(*n)++];
    snprintf(k->case_id, sizeof k->case_id, "%s", id);
    k->revision = revision;
    k->takes = 1;
    k->outcome = outcome;
    return 0;
}

/* redecide - the newest take of (id, revision) gets a re-decided outcome */
static void redecide(take_t *t, size_t n, const char *id, int revision, int outcome)
{
    for (size_t i = n; i-- > 0;)
        if (strcmp(t[i].case_id, id) == 0 && (t[i].revision == revision || t[i].revision == 0)) {
            t[i].outcome = outcome;
            return;
        }
}

/* read_file_takes - the takes one file records: journal "T <case> <rev> <outcome> <crc>" lines, or log case_received lines */
static void read_file_takes(const char *path, bool journal, take_t **t, size_t *n, size_t *cap)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        char id[96], out[16], rev[16], crc[16];
        int r = 0, o = -1;
        if (journal) {
            /* a re-decided outcome (R, after a refused second supplement
             * request) replaces its take's outcome; it is not a take */
            if (sscanf(line, "R %95s %d %d %15s", id, &r, &o, crc) == 4) {
                redecide(*t, *n, id, r, o);
                continue;
            }
            /* a torn last line has fewer fields: the agency ignores it, so do we */
            if (sscanf(line, "T %95s %d %d %15s", id, &r, &o, crc) != 4)
                continue;
        } else {
            if (strstr(line, "event=case_redecided") && word_after(line, "case=", id, sizeof id)) {
                r = word_after(line, "revision=", rev, sizeof rev) ? atoi(rev) : 0;
                o = word_after(line, "outcome=", out, sizeof out) ? atoi(out) : -1;
                redecide(*t, *n, id, r, o);
                continue;
            }
            if (!strstr(line, "event=case_received") || !word_after(line, "case=", id, sizeof id))
                continue;
            r = word_after(line, "revision=", rev, sizeof rev) ? atoi(rev) : 0;
            o = word_after(line, "outcome=", out, sizeof out) ? atoi(out) : -1;
        }
        if (add_take(t, n, cap, id, r, o) != 0)
            break;
    }
    if (f)
        fclose(f);
}

/* read_takes - every take the agencies recorded: their journals when they keep
 * them (DIR/agency-state/CODE/journal), else their logs across restarts */
static take_t *read_takes(chaos_t *c, size_t *n)
{
    size_t cap = 4096;
    take_t *t = malloc(cap * sizeof *t);
    *n = 0;
    for (int i = 0; t && i < c->n_procs; i++) {
        const chaos_proc_t *p = &c->procs[i];
        char path[700];
        if (!p->agency)
            continue;
        if (c->state_dir) {
            snprintf(path, sizeof path, "%s/agency-state/%s/journal", c->h.dir, p->name);
            read_file_takes(path, true, &t, n, &cap);
            continue;
        }
        for (int run = 1; run <= p->runs; run++) {
            snprintf(path, sizeof path, "%s/agency-%s-%d.log", c->h.dir, p->name, run);
            read_file_takes(path, false, &t, n, &cap);
        }
    }
    if (t)
        qsort(t, *n, sizeof *t, cmp_take);
    return t;
}

/* check_agencies - double takes and outcomes against agency_case */
static void check_agencies(chaos_t *c, chaos_result_t *r)
{
    size_t n = 0;
    take_t *t = read_takes(c, &n);
    PGresult *res = t ? query(c, "SELECT case_id, revision, coalesce(outcome, -1), state"
                                 " FROM agency_case ORDER BY case_id COLLATE \"C\"") : NULL;
    if (!res) {
        free(t);
        r->double_takes = -1;
        return;
    }
    size_t i = 0;
    int shown = 0;
    for (int row = 0; row < PQntuples(res); row++) {
        const char *id = PQgetvalue(res, row, 0);
        int revision = atoi(PQgetvalue(res, row, 1));
        int stored = atoi(PQgetvalue(res, row, 2));
        int state = atoi(PQgetvalue(res, row, 3));
        while (i < n && strcmp(t[i].case_id, id) < 0)
            i++;
        int takes = 0, unknown = 0, doubled = 0, last = -1;
        for (; i < n && strcmp(t[i].case_id, id) == 0; i++) {
            takes++;
            unknown += t[i].revision == 0;
            /* sorted by revision: the same revision twice in a row is the same work twice */
            if (t[i].revision > 0 && i > 0 && strcmp(t[i - 1].case_id, id) == 0 &&
                t[i - 1].revision == t[i].revision)
                doubled++;
            last = t[i].outcome;
        }
        /* records without revisions: each revision is new work once, no more */
        if (unknown && takes > revision)
            doubled = takes - revision;
        if (doubled) {
            r->double_takes += doubled;
            if (shown++ < 5)
                printf("  chaos: %s taken %d times for %d revision(s)\n", id, takes, revision);
        }
        if (state == 4 && stored >= 0 && last >= 0 && last != stored) {
            r->outcome_mismatch++;
            if (shown++ < 10)
                printf("  chaos: %s stored outcome %d, agency decided %d\n", id, stored, last);
        }
    }
    PQclear(res);
    free(t);
}

/* cmp_id - qsort/bsearch order of ids */
static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* spool_ids - ids of DIR/spool/<id>.txt files, sorted; count in *n */
static int64_t *spool_ids(chaos_t *c, size_t *n)
{
    char path[400];
    snprintf(path, sizeof path, "%s/spool", c->h.dir);
    size_t cap = 1024;
    int64_t *ids = malloc(cap * sizeof *ids);
    DIR *dir = opendir(path);
    *n = 0;
    if (!ids || !dir) {
        if (dir)
            closedir(dir);
        return ids;
    }
    struct dirent *e;
    while ((e = readdir(dir))) {
        char *end = NULL;
        long long id = strtoll(e->d_name, &end, 10);
        if (end == e->d_name || strcmp(end, ".txt") != 0)
            continue;
        if (*n == cap) {
            int64_t *grown = realloc(ids, cap * 2 * sizeof *ids);
            if (!grown)
                break;
            ids = grown;
            cap *= 2;
        }
        ids[(*n)++] = id;
    }
    closedir(dir);
    qsort(ids, *n, sizeof *ids, cmp_id);
    return ids;
}

/* has_id - is id among the sorted ids[0..n)? */
static bool has_id(const int64_t *ids, size_t n, int64_t id)
{
    return n > 0 && bsearch(&id, ids, n, sizeof *ids, cmp_id) != NULL;
}

/* check_notices - deliveries against the notification rows */
static void check_notices(chaos_t *c, chaos_result_t *r)
{
    chaos_gateway_stats_t gs;
    chaos_gateway_stats(c->gateway, &gs);
    r->dup_deliveries += gs.duplicate;
    long twice = count(c, "SELECT count(*) FROM (SELECT 1 FROM notification"
                          " WHERE kind NOT IN ('late', 'supplement_requested')"
                          " GROUP BY dossier_id, kind HAVING count(*) > 1) x");
    long asked_twice = count(c, "SELECT count(*) FROM dossier d WHERE"
                                " (SELECT count(*) FROM notification n WHERE n.dossier_id = d.id"
                                "   AND n.kind = 'supplement_requested') >"
                                " (SELECT count(*) FROM dossier_event e WHERE e.dossier_id = d.id"
                                "   AND e.kind = 'supplement_requested')");
    r->dup_deliveries += (twice > 0 ? twice : 0) + (asked_twice > 0 ? asked_twice : 0);
    size_t n_files = 0;
    int64_t *files = spool_ids(c, &n_files);
    PGresult *res = query(c, "SELECT id, coalesce(channel, ''), state FROM notification ORDER BY id");
    if (!res || !files) {
        PQclear(res);
        free(files);
        r->dup_deliveries = -1;
        return;
    }
    long missing_spool = 0, missing_sms = 0, stray = 0;
    size_t sent = 0;
    int64_t *sent_ids = malloc(((size_t)PQntuples(res) + 1) * sizeof *sent_ids);
    for (int i = 0; sent_ids && i < PQntuples(res); i++) {
        int64_t id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        if (atoi(PQgetvalue(res, i, 2)) != 1)
            continue;
        sent_ids[sent++] = id; /* in id order: sorted */
        if (!has_id(files, n_files, id))
            missing_spool++;
        if (strstr(PQgetvalue(res, i, 1), "sms") && chaos_gateway_delivered(c->gateway, id) == 0)
            missing_sms++;
    }
    for (size_t k = 0; sent_ids && k < n_files; k++)
        stray += !has_id(sent_ids, sent, files[k]);
    PQclear(res);
    free(files);
    free(sent_ids);
    r->dup_deliveries += stray;
    r->missing_notices = missing_spool + missing_sms;
    printf("  notices: %zu sent, %zu spool files (%ld missing, %ld without a sent notice);"
           " gateway: %ld POSTs, %ld messages (%ld keyed), %ld delivered, %ld answered 500,"
           " %ld twice; %ld sent by SMS but never delivered; %ld milestones with 2 rows\n",
           sent, n_files, missing_spool, stray, gs.posts, gs.refs, gs.keyed, gs.deliveries,
           gs.failed_answers, gs.duplicate, missing_sms, (twice > 0 ? twice : 0) +
           (asked_twice > 0 ? asked_twice : 0));
}

/* check_dossiers - lost, duplicated, stuck */
static void check_dossiers(chaos_t *c, chaos_result_t *r)
{
    int total = c->opts.dossiers;
    int *seen = calloc((size_t)total, sizeof *seen);
    PGresult *res = seen ? query(c, "SELECT submission_id, code FROM dossier"
                                    " WHERE submission_id LIKE 'chaos-%'") : NULL;
    if (!res) {
        free(seen);
        r->lost = r->duplicated = -1;
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *sid = PQgetvalue(res, i, 0), *dash = strrchr(sid, '-');
        long n = dash ? strtol(dash + 1, NULL, 10) : -1;
        if (n < 0 || n >= total)
            continue;
        const chaos_sub_t *s = &c->subs[n];
        /* the receipt's code is the dossier's: another code is another dossier */
        if (!atomic_load(&s->acked) || strcmp(s->code, PQgetvalue(res, i, 1)) == 0)
            seen[n]++;
        else
            r->duplicated++;
    }
    PQclear(res);
    for (int n = 0; n < total; n++) {
        if (!atomic_load(&c->subs[n].acked))
            continue;
        r->acked++;
        if (seen[n] == 0) {
            r->lost++;
            if (r->lost <= 5)
                printf("  chaos: submission %d acked as %s: no such dossier\n", n, c->subs[n].code);
        }
        if (seen[n] > 1)
            r->duplicated += seen[n] - 1;
    }
    for (int n = 0; n < total; n++)
        r->refused += c->subs[n].refused;
    free(seen);
    long codes = count(c, "SELECT count(*) - count(DISTINCT code) FROM dossier");
    r->duplicated += codes > 0 ? codes : 0;
    r->stuck = count(c,
        "SELECT count(*) FROM dossier d WHERE d.submission_id LIKE 'chaos-%' AND ("
        " d.state IN (" MC_SQL(MC_DOSSIER_RECEIVED) ", " MC_SQL(MC_DOSSIER_ROUTED) ", " MC_SQL(MC_DOSSIER_IN_PROGRESS) ", " MC_SQL(MC_DOSSIER_DELIVERED) ", " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) ")"
        " OR (d.state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) " AND NOT EXISTS (SELECT 1 FROM agency_case k WHERE k.dossier_id = d.id"
        "      AND k.state = " MC_SQL(MC_CASE_PAUSED) "))"
        " OR EXISTS (SELECT 1 FROM agency_case k WHERE k.dossier_id = d.id"
        "      AND k.state IN (" MC_SQL(MC_CASE_QUEUED) ", " MC_SQL(MC_CASE_SENT) ", " MC_SQL(MC_CASE_ACKED) ", " MC_SQL(MC_CASE_DEAD) "))"
        " OR EXISTS (SELECT 1 FROM notification n WHERE n.dossier_id = d.id AND n.state <> " MC_SQL(MC_NOTIFICATION_SENT) "))");
    if (r->stuck != 0) {
        PGresult *why = query(c,
            "SELECT d.state, coalesce(k.agency, '-'), coalesce(k.state, -1), count(*)"
            "  FROM dossier d LEFT JOIN agency_case k ON k.dossier_id = d.id"
            "   AND k.state IN (" MC_SQL(MC_CASE_QUEUED) ", " MC_SQL(MC_CASE_SENT) ", " MC_SQL(MC_CASE_ACKED) ", " MC_SQL(MC_CASE_DEAD) ", " MC_SQL(MC_CASE_PAUSED) ")"
            " WHERE d.submission_id LIKE 'chaos-%' AND d.state NOT IN (5, 7, 8, 10)"
            " GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 15");
        printf("  open dossiers by state, open step (agency, case state):\n");
        for (int i = 0; why && i < PQntuples(why); i++)
            printf("    dossier %s  %s case %s: %s\n", PQgetvalue(why, i, 0), PQgetvalue(why, i, 1),
                   PQgetvalue(why, i, 2), PQgetvalue(why, i, 3));
        PQclear(why);
    }
}

/* chaos_check - every figure of the summary */
int chaos_check(chaos_t *c, chaos_result_t *r)
{
    memset(r, 0, sizeof *r);
    /* a connection from before PostgreSQL's crash fails its first query: start afresh */
    if (c->h.db)
        PQfinish(c->h.db);
    c->h.db = NULL;
    check_dossiers(c, r);
    check_notices(c, r);
    check_agencies(c, r);
    printf("  final states of the run's dossiers:");
    PGresult *res = query(c, "SELECT state, count(*) FROM dossier WHERE submission_id LIKE"
                             " 'chaos-%' GROUP BY 1 ORDER BY 1");
    for (int i = 0; res && i < PQntuples(res); i++)
        printf(" %s=%s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    printf("\n");
    PQclear(res);
    /* the one-supplement rule under faults: refused second requests were answered again */
    printf("  second supplement requests refused: %ld (dossiers asked twice: %ld)\n",
           count(c, "SELECT count(*) FROM dossier_event WHERE kind = 'supplement_refused'"),
           count(c, "SELECT count(*) FROM dossier WHERE supplement_requests > 1"));
    return r->lost == 0 && r->duplicated == 0 && r->dup_deliveries == 0 && r->stuck == 0 &&
                   r->double_takes == 0 && r->outcome_mismatch == 0 && r->missing_notices == 0 &&
                   r->refused == 0
               ? 0
               : 1;
}
