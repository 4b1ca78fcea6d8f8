/*
 * it_report - `motcua report` and `motcua overdue` against a real
 * PostgreSQL holding a generated quarter with known figures, and against
 * the real intake daemon for the live write path.
 *
 * The generated quarter is Kim Liên's Q3 2025: exactly 7,399 dossiers
 * received from 01/07 to 30/09/2025 (1,640 at the counter, 5,753 online, 6
 * by post), plus dossiers carried over from June, distractors just outside
 * the period and another ward's dossiers. Each dossier is generated from
 * an intended outcome (early, on time, late, re-appointed, open in time,
 * open overdue, paused, withdrawn, refused) with due dates from the real
 * calendar (mc_calendar_due) and result times placed on the boundaries the
 * rules in docs/reports.md draw (00:00 of the due day, the due time itself,
 * one second after it, month ends, the Quốc khánh holiday). The expected
 * figures are tallied here from those intentions, independently of the SQL,
 * and every format must show exactly them.
 *
 * The rows are loaded with COPY (the generator is test data, not a
 * daemon); the live test checks that what intake and its follow-ups write
 * is what the report reads.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mc_states.h"
#include "harness.h"
#include "mc_calendar.h"
#include "mc_cfg.h"
#include "mc_test.h"
#include "png_check.h"

static harness_t H;   /* the cluster */
static mc_cfg_t *CFG; /* the test configuration: calendar, catalog */

#define WARD  "00229"
#define UNIT  "000.22.29.H26"
#define OTHER_WARD "00220"
#define OTHER_UNIT "000.22.20.H26"

/* what a generated dossier is meant to be */
typedef enum intent {
    EARLY, ON_TIME, LATE, REAPPOINTED_KEPT, REAPPOINTED_BROKEN, OPEN_IN_TIME,
    OPEN_OVERDUE_CLOSED_LATER, PAUSED, WITHDRAWN, REFUSED,
    CARRIED_ON_TIME, CARRIED_LATE, CARRIED_OPEN, CARRIED_EARLY_AT_START,
    BEFORE_CLOSED, AFTER_PERIOD, N_INTENTS
} intent_t;

/* counters the report must show, kept per procedure and in total */
typedef struct expect {
    long carried, direct, online, postal, early, on_time, late, reapp, reapp_kept;
    long open_in_time, open_overdue, refused, withdrawn, supplements;
    long very, satisfied, not_satisfied;
} expect_t;

#define N_PROCS 4
static const char *const PROCS[N_PROCS] = {"1.004222", "2.000986", "1.009469", "1.001193"};
static expect_t EXP, EXP_PROC[N_PROCS], EXP_OTHER_WARD;
static long EXP_MONTH_RECV[3][3], EXP_MONTH_IN_TIME[3], EXP_MONTH_LATE[3]; /* Jul..Sep */

static int64_t Q_START, Q_END; /* [01/07/2025 00:00, 01/10/2025 00:00) local */
static FILE *COPY_DOSSIERS, *COPY_EVENTS, *COPY_RATINGS; /* COPY text being built */
static int SEQ;                /* dossier sequence numbers, unique per code */
static char PAYLOAD_HEX[8192]; /* one real serialized Dossier, as bytea hex */

/* at - the instant of local Y-M-D h:m:s */
static int64_t at(int y, int mo, int d, int h, int mi, int s)
{
    return mc_instant_of((mc_date_t){y, mo, d}, h * 60 + mi) + s;
}

/* day_start - 00:00 local of the day holding t */
static int64_t day_start(int64_t t)
{
    return mc_instant_of(mc_date_of(t, NULL), 0);
}

/* iso - timestamptz text for COPY, "\N" for 0 */
static const char *iso(int64_t t, char *buf, size_t size)
{
    if (t == 0)
        snprintf(buf, size, "\\N");
    else
        mc_format_iso(t, buf, size);
    return buf;
}

/* month_index - 0..2 for Jul..Sep 2025, -1 otherwise */
static int month_index(int64_t t)
{
    mc_date_t d = mc_date_of(t, NULL);
    return d.year == 2025 && d.month >= 7 && d.month <= 9 ? d.month - 7 : -1;
}

/* a generated dossier */
typedef struct gen {
    const char *ward, *unit;
    int         proc;          /* index in PROCS */
    int         channel;       /* 1 direct, 2 online, 3 postal */
    int         state;         /* DossierState */
    int64_t     received, counted, due, result, closed, late_noted, paused;
    char        code[64];
} gen_t;

/* due_for - counted_from and due_at of a receipt, from the real calendar */
static int due_for(gen_t *g)
{
    const mc_procedure_t *p = mc_catalog_find(CFG->catalog, PROCS[g->proc]);
    mc_err_t err;
    mc_err_clear(&err);
    if (!p || mc_calendar_due(CFG->calendar, g->received, p->processing_time, p->time_unit,
                              p->cutoff_minutes, &g->counted, &g->due, &err) != 0)
        return -1;
    return 0;
}

/* emit - one dossier into the COPY text */
static void emit(gen_t *g)
{
    char r[40], c[40], d[40], res[40], cl[40], ln[40], pa[40];
    mc_date_t day = mc_date_of(g->received, NULL);
    SEQ++;
    snprintf(g->code, sizeof g->code, "%s-%02d%02d%02d-%05d", g->unit, day.year % 100, day.month,
             day.day, SEQ);
    fprintf(COPY_DOSSIERS,
            "%s\t%s\t%s\t%04d-%02d-%02d\t%d\t%s\t%d\t%d\t%s\t%s\t%s\tgen-%08d\t%s\t%s\t%s\t%s\t%s\n",
            g->code, g->ward, g->unit, day.year, day.month, day.day, SEQ, PROCS[g->proc],
            g->channel, g->state, iso(g->received, r, sizeof r), iso(g->counted, c, sizeof c),
            iso(g->due, d, sizeof d), SEQ, PAYLOAD_HEX, iso(g->result, res, sizeof res),
            iso(g->closed, cl, sizeof cl), iso(g->late_noted, ln, sizeof ln),
            iso(g->paused, pa, sizeof pa));
}

/* tally - the hand count: what this dossier adds to the figures of ward 00229 in Q3 */
static void tally(const gen_t *g, intent_t intent, expect_t *e)
{
    bool fresh = g->received >= Q_START && g->received < Q_END;
    bool open_at_start = g->received < Q_START && (g->closed == 0 || g->closed >= Q_START);
    if (!fresh && !open_at_start)
        return;
    if (!fresh)
        e->carried++;
    else if (g->channel == 1)
        e->direct++;
    else if (g->channel == 2)
        e->online++;
    else
        e->postal++;
    switch (intent) {
    case EARLY: case CARRIED_EARLY_AT_START: e->early++; break;
    case ON_TIME: case CARRIED_ON_TIME: e->on_time++; break;
    case LATE: case CARRIED_LATE: e->late++; break;
    case REAPPOINTED_KEPT: e->late++; e->reapp++; e->reapp_kept++; break;
    case REAPPOINTED_BROKEN: e->late++; e->reapp++; break;
    case OPEN_IN_TIME: case PAUSED: e->open_in_time++; break;
    case OPEN_OVERDUE_CLOSED_LATER: case CARRIED_OPEN: e->open_overdue++; break;
    case WITHDRAWN: e->withdrawn++; break;
    case REFUSED: e->refused++; break;
    default: break;
    }
}

/* month_tally - the chart's figures (ward 00229 only) */
static void month_tally(const gen_t *g, intent_t intent)
{
    int m = month_index(g->received);
    if (m >= 0)
        EXP_MONTH_RECV[m][g->channel - 1]++;
    bool resolved = g->state == 5 && g->closed >= Q_START && g->closed < Q_END;
    if (!resolved)
        return;
    int rm = month_index(g->result);
    bool late = intent == LATE || intent == CARRIED_LATE || intent == REAPPOINTED_KEPT ||
                intent == REAPPOINTED_BROKEN;
    if (late)
        EXP_MONTH_LATE[rm]++;
    else
        EXP_MONTH_IN_TIME[rm]++;
}

/* make - place a dossier of this intent received at `received`; 0 or -1 when the plan cannot hold */
static int make(intent_t intent, int channel, int proc, int64_t received, int variant,
                const char *ward, const char *unit)
{
    gen_t g = {.ward = ward, .unit = unit, .proc = proc, .channel = channel, .state = MC_DOSSIER_IN_PROGRESS,
               .received = received};
    if (due_for(&g) != 0)
        return -1;
    int64_t due_day = day_start(g.due);
    switch (intent) {
    case EARLY:
        g.result = variant % 2 ? due_day - 1 : due_day - 1 - 86400; /* 23:59:59 the day(s) before */
        if (g.result <= g.received)
            g.result = due_day - 1;
        break;
    case ON_TIME: case CARRIED_ON_TIME:
        g.result = variant % 3 == 0 ? g.due : variant % 3 == 1 ? due_day : g.due - 3600;
        if (g.result < g.received)
            g.result = g.due; /* same-day procedures: the due time itself */
        break;
    case LATE: case CARRIED_LATE:
        g.result = variant % 2 ? g.due + 1 : g.due + 2 * 86400;
        break;
    case REAPPOINTED_KEPT: case REAPPOINTED_BROKEN:
        g.late_noted = g.due;
        g.due += 5 * 86400; /* the new appointment in the apology */
        g.result = intent == REAPPOINTED_KEPT ? g.late_noted + 2 * 86400 : g.due + 86400;
        break;
    case CARRIED_EARLY_AT_START:
        g.result = Q_START; /* 00:00:00 on 01/07: closed at the start, so open at the start */
        break;
    case OPEN_OVERDUE_CLOSED_LATER:
        g.result = at(2025, 10, 6, 10, 0, 0);
        break;
    case PAUSED:
        g.state = MC_DOSSIER_WAITING_SUPPLEMENT;
        g.paused = g.received + 86400;
        break;
    case WITHDRAWN: case REFUSED: case BEFORE_CLOSED:
        g.state = intent == REFUSED ? MC_DOSSIER_REFUSED : MC_DOSSIER_WITHDRAWN;
        g.closed = g.received + 5 * 3600;
        break;
    default: /* OPEN_IN_TIME, CARRIED_OPEN, AFTER_PERIOD stay open */
        break;
    }
    bool mine = strcmp(ward, WARD) == 0;
    if (g.result) {
        g.state = MC_DOSSIER_RESULT_READY;
        g.closed = g.result; /* what the trigger will set; kept here for the tally */
    }
    /* the plan must mean what it says, or the expected figures would lie */
    if (g.result && g.result < g.received)
        return -1;
    if (intent == EARLY && !(mc_date_of(g.result, NULL).day != mc_date_of(g.due, NULL).day &&
                             g.result < due_day))
        return -1;
    if ((intent == ON_TIME || intent == CARRIED_ON_TIME) && (g.result < due_day || g.result > g.due))
        return -1;
    if (intent == CARRIED_EARLY_AT_START && !(g.result < due_day))
        return -1;
    if ((intent == OPEN_IN_TIME && g.due < Q_END) ||
        ((intent == OPEN_OVERDUE_CLOSED_LATER || intent == CARRIED_OPEN) && g.due >= Q_END))
        return -1;
    if (g.state == MC_DOSSIER_RESULT_READY && intent != OPEN_OVERDUE_CLOSED_LATER && g.closed >= Q_END)
        return -1;
    if (!mine) {
        tally(&g, intent, &EXP_OTHER_WARD);
    } else {
        tally(&g, intent, &EXP);
        tally(&g, intent, &EXP_PROC[proc]);
        month_tally(&g, intent);
    }
    emit(&g);
    /* some resolved dossiers were asked for documents once or twice, and rated */
    if (mine && g.state == MC_DOSSIER_RESULT_READY && SEQ % 9 == 0) {
        char t[40];
        int64_t when = g.received + 3600;
        fprintf(COPY_EVENTS, "%s\t%s\n", g.code, iso(when, t, sizeof t));
        if (SEQ % 2 == 0)
            fprintf(COPY_EVENTS, "%s\t%s\n", g.code, iso(when + 60, t, sizeof t));
        if (when >= Q_START && when < Q_END) {
            EXP.supplements++;
            EXP_PROC[proc].supplements++;
        }
    }
    if (mine && g.state == MC_DOSSIER_RESULT_READY && SEQ % 4 == 1) {
        char t[40];
        int level = 1 + (SEQ / 4) % 3;
        int64_t rated = g.result + 3600;
        fprintf(COPY_RATINGS, "%s\t%d\t%s\n", g.code, level, iso(rated, t, sizeof t));
        if (rated >= Q_START && rated < Q_END) {
            long *slot[2] = {level == 1 ? &EXP.very : level == 2 ? &EXP.satisfied : &EXP.not_satisfied,
                             level == 1 ? &EXP_PROC[proc].very : level == 2 ? &EXP_PROC[proc].satisfied
                                                                             : &EXP_PROC[proc].not_satisfied};
            (*slot[0])++;
            (*slot[1])++;
        }
    }
    return 0;
}

/* copy_in - send COPY text to the server */
static int copy_in(const char *sql, const char *text, size_t len)
{
    PGresult *res = PQexec(H.db, sql);
    int ok = PQresultStatus(res) == PGRES_COPY_IN;
    PQclear(res);
    if (!ok || PQputCopyData(H.db, text, (int)len) != 1 || PQputCopyEnd(H.db, NULL) != 1)
        return -1;
    res = PQgetResult(H.db);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "copy: %s", PQresultErrorMessage(res));
    PQclear(res);
    while ((res = PQgetResult(H.db)))
        PQclear(res);
    return ok ? 0 : -1;
}

/* exec_ok - one statement without parameters (test setup) */
static int exec_ok(const char *sql)
{
    PGresult *res = PQexec(H.db, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "exec: %s", PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : -1;
}

/* pick_time - a receipt time in [from, to) spread by i */
static int64_t pick_time(int64_t from, int64_t to, long i)
{
    int64_t span_days = (to - from) / 86400;
    if (span_days < 1)
        span_days = 1;
    int64_t day = from + ((i * 7919) % span_days) * 86400;
    int64_t secs = 7 * 3600 + (i * 2371) % (11 * 3600); /* 07:00 .. 18:00 */
    int64_t t = day_start(day) + secs;
    return t < from ? from : t >= to ? to - 1 : t;
}

/* generate - the whole data set; 0 or -1 */
static int generate(void)
{
    static char *dossiers, *events, *ratings;
    size_t dl = 0, el = 0, rl = 0;
    COPY_DOSSIERS = open_memstream(&dossiers, &dl);
    COPY_EVENTS = open_memstream(&events, &el);
    COPY_RATINGS = open_memstream(&ratings, &rl);
    if (!COPY_DOSSIERS || !COPY_EVENTS || !COPY_RATINGS)
        return -1;
    Q_START = at(2025, 7, 1, 0, 0, 0);
    Q_END = at(2025, 10, 1, 0, 0, 0);

    /* the 7,399 of the quarter: how many of each intent, and where their receipts may fall */
    static const struct { intent_t intent; int count; int64_t from_m, from_d, to_m, to_d; bool long_only; } plan[] = {
        {EARLY, 4000, 7, 1, 9, 13, true},
        {ON_TIME, 2500, 7, 1, 9, 13, false},
        {LATE, 300, 7, 1, 9, 10, false},
        {REAPPOINTED_KEPT, 40, 7, 1, 9, 3, true},
        {REAPPOINTED_BROKEN, 10, 7, 1, 9, 3, true},
        {OPEN_IN_TIME, 350, 9, 27, 10, 1, true},
        {OPEN_OVERDUE_CLOSED_LATER, 60, 8, 1, 8, 21, true},
        {PAUSED, 39, 9, 1, 9, 20, true},
        {WITHDRAWN, 50, 7, 1, 9, 30, false},
        {REFUSED, 50, 7, 1, 9, 30, false},
    };
    long i = 0;
    for (size_t k = 0; k < sizeof plan / sizeof plan[0]; k++) {
        int64_t from = at(2025, (int)plan[k].from_m, (int)plan[k].from_d, 0, 0, 0);
        int64_t to = at(2025, (int)plan[k].to_m, (int)plan[k].to_d, 0, 0, 0);
        for (int n = 0; n < plan[k].count; n++, i++) {
            /* channels by position: 1,640 direct, 5,753 online, 6 postal */
            long pos = (i * 4999) % 7399; /* a permutation of 0..7398 (4999 and 7399 are coprime) */
            int channel = pos < 1640 ? 1 : pos < 1640 + 5753 ? 2 : 3;
            int proc = plan[k].long_only ? (int)(i % 3) : (int)(i % N_PROCS);
            int64_t received = pick_time(from, to, i);
            /* the boundaries, placed on purpose */
            if (plan[k].intent == EARLY && n == 0)
                received = Q_START;                          /* first instant of the period */
            if (plan[k].intent == OPEN_IN_TIME && n == 0)
                received = Q_END - 1;                        /* 23:59:59 on 30/09 */
            if (plan[k].intent == ON_TIME && n < 4)          /* month end, and Quốc khánh */
                received = n == 0 ? at(2025, 7, 31, 23, 59, 59) : n == 1 ? at(2025, 8, 1, 0, 0, 0)
                         : n == 2 ? at(2025, 8, 29, 17, 30, 0) : at(2025, 9, 2, 10, 0, 0);
            if (make(plan[k].intent, channel, proc, received, n, WARD, UNIT) != 0) {
                fprintf(stderr, "generator: intent %d #%d does not hold\n", plan[k].intent, n);
                return -1;
            }
        }
    }
    if (i != 7399)
        return -1;
    /* carried over from June, and distractors around the period */
    for (int n = 0; n < 60; n++)
        if (make(CARRIED_ON_TIME, 2, n % 3, at(2025, 6, 26 + n % 2, 9, n, 0), n, WARD, UNIT))
            return -1;
    for (int n = 0; n < 40; n++)
        if (make(CARRIED_LATE, 1, n % 3, at(2025, 6, 26 + n % 2, 10, n, 0), n, WARD, UNIT))
            return -1;
    for (int n = 0; n < 19; n++)
        if (make(CARRIED_OPEN, 2, n % 3, at(2025, 6, 2 + n % 4, 9, n, 0), n, WARD, UNIT))
            return -1;
    if (make(CARRIED_OPEN, 2, 1, at(2025, 6, 30, 23, 59, 59), 0, WARD, UNIT) ||
        make(CARRIED_EARLY_AT_START, 1, 1, at(2025, 6, 27, 9, 0, 0), 0, WARD, UNIT) ||
        make(BEFORE_CLOSED, 1, 0, at(2025, 6, 30, 10, 0, 0), 0, WARD, UNIT) ||
        make(AFTER_PERIOD, 2, 0, Q_END, 0, WARD, UNIT) ||
        make(AFTER_PERIOD, 2, 0, at(2025, 10, 2, 9, 0, 0), 0, WARD, UNIT))
        return -1;
    /* a request for documents and a rating just outside the period are not counted */
    fprintf(COPY_EVENTS, "%s-250701-%05d\t2025-10-01T00:00:00+07:00\n", UNIT, 1);
    for (int n = 0; n < 50; n++)
        if (make(n % 2 ? ON_TIME : OPEN_IN_TIME, 2, n % 3,
                 n % 2 ? at(2025, 7, 10 + n % 20, 9, 0, 0) : at(2025, 9, 29, 9, 0, 0), n,
                 OTHER_WARD, OTHER_UNIT))
            return -1;
    fclose(COPY_DOSSIERS);
    fclose(COPY_EVENTS);
    fclose(COPY_RATINGS);

    int rc = copy_in("COPY dossier (code, ward_code, unit_id, receipt_day, seq, procedure_code,"
                     " channel, state, received_at, counted_from, due_at, submission_id, payload,"
                     " result_at, closed_at, late_notified_due, paused_at) FROM STDIN",
                     dossiers, dl);
    rc = rc ? rc : exec_ok("CREATE TEMP TABLE ev (code text, at timestamptz)");
    rc = rc ? rc : copy_in("COPY ev FROM STDIN", events, el);
    rc = rc ? rc : exec_ok("INSERT INTO dossier_event (dossier_id, at, actor, kind)"
                           " SELECT d.id, ev.at, 'test', 'supplement_requested'"
                           "   FROM ev JOIN dossier d USING (code)");
    rc = rc ? rc : exec_ok("CREATE TEMP TABLE rt (code text, level smallint, at timestamptz)");
    rc = rc ? rc : copy_in("COPY rt FROM STDIN", ratings, rl);
    rc = rc ? rc : exec_ok("INSERT INTO rating (dossier_id, level, rated_at)"
                           " SELECT d.id, rt.level, rt.at FROM rt JOIN dossier d USING (code)");
    rc = rc ? rc : exec_ok("ANALYZE");
    free(dossiers);
    free(events);
    free(ratings);
    return rc;
}

/* --- reading the outputs ------------------------------------------------- */

/* slurp - the CLI's last output */
static char *slurp(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/motcua.out", H.dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char *buf;
    free(buf);
    buf = malloc(4 << 20);
    size_t n = buf ? fread(buf, 1, (4 << 20) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* dump - keep a copy of an output for people to look at (MC_TEST_DUMP=DIR) */
static void dump(const char *name, const char *doc)
{
    const char *dir = getenv("MC_TEST_DUMP");
    if (!dir || !doc)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(doc, f);
        fclose(f);
    }
}

/* skip_value - past one JSON value starting at p (strings, objects, arrays, scalars) */
static const char *skip_value(const char *p)
{
    int depth = 0;
    do {
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++)
                if (*p == '\\' && p[1])
                    p++;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            depth--;
        } else if (depth == 0) {
            while (*p && *p != ',' && *p != '}' && *p != ']')
                p++;
            return p;
        }
        if (*p)
            p++;
    } while (*p && depth > 0);
    return p;
}

/* json_at - the value at a dotted path ("total.received.direct"; "procedures.2.code"), or NULL */
static const char *json_at(const char *doc, const char *path)
{
    const char *p = doc;
    char seg[64];
    while (*path) {
        size_t n = strcspn(path, ".");
        snprintf(seg, sizeof seg, "%.*s", (int)n, path);
        path += n + (path[n] == '.');
        while (*p == ' ')
            p++;
        if (*p == '[') {
            int want = atoi(seg);
            p++;
            for (int k = 0; k < want && *p && *p != ']'; k++) {
                p = skip_value(p);
                if (*p == ',')
                    p++;
            }
            if (*p == ']' || !*p)
                return NULL;
            continue;
        }
        if (*p != '{')
            return NULL;
        p++;
        for (;;) {
            if (*p != '"')
                return NULL;
            const char *key = p + 1;
            const char *kend = strchr(key, '"');
            if (!kend)
                return NULL;
            p = kend + 1;
            if (*p != ':')
                return NULL;
            p++;
            if ((size_t)(kend - key) == strlen(seg) && strncmp(key, seg, strlen(seg)) == 0)
                break;
            p = skip_value(p);
            if (*p != ',')
                return NULL;
            p++;
        }
    }
    return p;
}

/* json_long - a number at path, or -999999 */
static long json_long(const char *doc, const char *path)
{
    const char *v = json_at(doc, path);
    return v && (*v == '-' || (*v >= '0' && *v <= '9')) ? strtol(v, NULL, 10) : -999999;
}

/* check_json_counts - every counter of one JSON counter object */
static void check_json_counts(const char *doc, const char *prefix, const expect_t *e)
{
    char k[128];
#define J(path, want) do { snprintf(k, sizeof k, "%s.%s", prefix, path); \
        long got_ = json_long(doc, k); if (got_ != (want)) fprintf(stderr, "  json %s\n", k); \
        CHECK_INT(got_, want); } while (0)
    J("received.carried_over", e->carried);
    J("received.direct", e->direct);
    J("received.online", e->online);
    J("received.postal", e->postal);
    J("received.new", e->direct + e->online + e->postal);
    J("received.total", e->carried + e->direct + e->online + e->postal);
    J("resolved.early", e->early);
    J("resolved.on_time", e->on_time);
    J("resolved.late", e->late);
    J("resolved.total", e->early + e->on_time + e->late);
    J("resolved.late_reappointed", e->reapp);
    J("resolved.late_reappointed_kept", e->reapp_kept);
    J("open.in_time", e->open_in_time);
    J("open.overdue", e->open_overdue);
    J("supplement_requested", e->supplements);
    J("refused", e->refused);
    J("withdrawn", e->withdrawn);
    J("satisfaction.very_satisfied", e->very);
    J("satisfaction.satisfied", e->satisfied);
    J("satisfaction.not_satisfied", e->not_satisfied);
    J("satisfaction.total", e->very + e->satisfied + e->not_satisfied);
#undef J
}

MC_TEST(generated_quarter_has_the_known_totals)
{
    /* the headline figures the generator promises, before trusting it further */
    CHECK_INT(EXP.direct, 1640);
    CHECK_INT(EXP.online, 5753);
    CHECK_INT(EXP.postal, 6);
    CHECK_INT(EXP.carried, 121); /* 60 + 40 + 20 open + the one closed at 00:00 on 01/07 */
    CHECK_INT(EXP.early, 4000 + 1);
    CHECK_INT(EXP.on_time, 2500 + 60);
    CHECK_INT(EXP.late, 300 + 40 + 50);
    CHECK_INT(EXP.open_in_time, 350 + 39);
    CHECK_INT(EXP.open_overdue, 60 + 20);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE ward_code = $1", WARD),
              7399 + 121 + 1 + 2);
    /* the trigger set closed_at from result_at for the resolved ones */
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE state = " MC_SQL(MC_DOSSIER_RESULT_READY) " AND"
                                " closed_at IS DISTINCT FROM result_at", NULL), 0);
}

MC_TEST(json_report_matches_the_hand_count)
{
    REQUIRE(harness_motcua(&H, "report --quarter 2025-Q3 --ward " WARD " --format json") == 0);
    const char *doc = slurp();
    REQUIRE(doc);
    dump("report.json", doc);
    CHECK(strstr(doc, "\"format\":\"motcua.report.v1\"") != NULL);
    CHECK(strstr(doc, "\"period\":{\"from\":\"2025-07-01\",\"to\":\"2025-09-30\"}") != NULL);
    check_json_counts(doc, "total", &EXP);
    CHECK_INT(json_long(doc, "total.received.direct"), 1640);
    CHECK_INT(json_long(doc, "total.received.online"), 5753);
    CHECK_INT(json_long(doc, "total.received.postal"), 6);
    CHECK_INT(json_long(doc, "total.received.new"), 7399);
    /* per procedure, in code order */
    int seen = 0;
    for (int k = 0; k < 8; k++) {
        char path[64];
        snprintf(path, sizeof path, "procedures.%d.code", k);
        const char *v = json_at(doc, path);
        if (!v)
            break;
        for (int p = 0; p < N_PROCS; p++) {
            char want[40];
            snprintf(want, sizeof want, "\"%s\"", PROCS[p]);
            if (strncmp(v, want, strlen(want)) == 0) {
                snprintf(path, sizeof path, "procedures.%d", k);
                check_json_counts(doc, path, &EXP_PROC[p]);
                seen++;
            }
        }
    }
    CHECK_INT(seen, N_PROCS);
    /* months: receipts by channel and results in time / late */
    for (int m = 0; m < 3; m++) {
        char path[64], month[24];
        snprintf(path, sizeof path, "months.%d.month", m);
        snprintf(month, sizeof month, "\"2025-%02d\"", 7 + m);
        const char *v = json_at(doc, path);
        CHECK(v && strncmp(v, month, strlen(month)) == 0);
        static const char *const ch[3] = {"direct", "online", "postal"};
        for (int c = 0; c < 3; c++) {
            snprintf(path, sizeof path, "months.%d.received.%s", m, ch[c]);
            CHECK_INT(json_long(doc, path), EXP_MONTH_RECV[m][c]);
        }
        snprintf(path, sizeof path, "months.%d.resolved.in_time", m);
        CHECK_INT(json_long(doc, path), EXP_MONTH_IN_TIME[m]);
        snprintf(path, sizeof path, "months.%d.resolved.late", m);
        CHECK_INT(json_long(doc, path), EXP_MONTH_LATE[m]);
    }
    CHECK(json_at(doc, "months.3") == NULL);
}

/* csv_cells - split one CSV line (no quoted commas in our numeric rows), empty fields kept */
static int csv_cells(char *line, char **cells, int max)
{
    int n = 0;
    for (char *p = line; n < max;) {
        cells[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

MC_TEST(csv_report_matches_the_hand_count)
{
    REQUIRE(harness_motcua(&H, "report --from 2025-07-01 --to 2025-09-30 --ward " WARD
                               " --format csv") == 0);
    char *doc = slurp();
    REQUIRE(doc);
    CHECK(memcmp(doc, "\xEF\xBB\xBF", 3) == 0);
    char *save = NULL;
    char *header = strtok_r(doc + 3, "\r\n", &save);
    REQUIRE(header);
    char header_copy[2048];
    snprintf(header_copy, sizeof header_copy, "%s", header);
    char *names[64];
    int n_names = csv_cells(header_copy, names, 64);
    /* 28, then returned_unsupplemented and supplement_refused, then the 12 figures of
     * issue 12 point 8 (acceptance, apologies, forwarding), each appended at the end */
    CHECK_INT(n_names, 42);
    CHECK_STR(names[28], "returned_unsupplemented");
    CHECK_STR(names[30], "accepted_in_time");
    CHECK_STR(names[41], "forward_pending");
    char *total = strtok_r(NULL, "\r\n", &save);
    REQUIRE(total && strncmp(total, "total,", 6) == 0);
    /* the total row has no quoted field: its name is "Tổng" */
    char *cells[64];
    int n = csv_cells(total, cells, 64);
    CHECK_INT(n, n_names);
    int shift = 0;
    struct { const char *name; long want; } want[] = {
        {"carried_over", EXP.carried}, {"received_direct", 1640}, {"received_online", 5753},
        {"received_postal", 6}, {"received_new", 7399}, {"received_total", 7399 + EXP.carried},
        {"resolved_early", EXP.early}, {"resolved_on_time", EXP.on_time},
        {"resolved_late", EXP.late}, {"late_reappointed", EXP.reapp},
        {"late_reappointed_kept", EXP.reapp_kept}, {"open_in_time", EXP.open_in_time},
        {"open_overdue", EXP.open_overdue}, {"supplement_requested", EXP.supplements},
        {"refused", EXP.refused}, {"withdrawn", EXP.withdrawn},
        {"rating_very_satisfied", EXP.very}, {"rating_satisfied", EXP.satisfied},
        {"rating_not_satisfied", EXP.not_satisfied},
        {"returned_unsupplemented", 0}, {"supplement_refused", 0},
        {"accepted_in_time", 0}, {"apologies", 0}, {"late_without_apology", 0},
        {"forward_received", 0},
    };
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        int col = -1;
        for (int k = 0; k < n_names; k++)
            if (strcmp(names[k], want[w].name) == 0)
                col = k;
        REQUIRE(col >= 0);
        long got = col - shift >= 0 && col - shift < n ? strtol(cells[col - shift], NULL, 10) : -1;
        if (got != want[w].want)
            fprintf(stderr, "  csv %s\n", want[w].name);
        CHECK_INT(got, want[w].want);
    }
    int procedures = 0;
    for (char *l = strtok_r(NULL, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save))
        procedures += strncmp(l, "procedure,", 10) == 0;
    CHECK_INT(procedures, N_PROCS);
}

/* table_number - the number on the first line after `after` that contains label, or -1 */
static long table_number(const char *doc, const char *after, const char *label)
{
    const char *p = after ? strstr(doc, after) : doc;
    p = p ? strstr(p, label) : NULL;
    if (!p)
        return -1;
    p += strlen(label);
    while (*p == ' ')
        p++;
    long v = 0;
    int digits = 0;
    for (; (*p >= '0' && *p <= '9') || *p == '.'; p++)
        if (*p != '.') {
            v = v * 10 + (*p - '0');
            digits++;
        }
    return digits ? v : -1;
}

MC_TEST(table_report_shows_the_same_figures_in_vietnamese)
{
    REQUIRE(harness_motcua(&H, "report --quarter 2025Q3 --ward " WARD) == 0);
    const char *doc = slurp();
    REQUIRE(doc);
    dump("report.txt", doc);
    CHECK(strstr(doc, "Phường Kim Liên") != NULL);
    CHECK(strstr(doc, "từ 01/07/2025 đến 30/09/2025") != NULL);
    CHECK(strstr(doc, "7.399") != NULL);
    CHECK_INT(table_number(doc, "\n1. ", "Từ kỳ trước chuyển qua"), EXP.carried);
    CHECK_INT(table_number(doc, "\n1. ", "Mới tiếp nhận trong kỳ"), 7399);
    CHECK_INT(table_number(doc, "\n1. ", "Trực tiếp"), 1640);
    CHECK_INT(table_number(doc, "\n1. ", "Trực tuyến"), 5753);
    CHECK_INT(table_number(doc, "\n1. ", "Bưu chính công ích"), 6);
    CHECK_INT(table_number(doc, "\n2. ", "Trước hạn"), EXP.early);
    CHECK_INT(table_number(doc, "\n2. ", "Đúng hạn"), EXP.on_time);
    CHECK_INT(table_number(doc, "\n2. ", "Quá hạn"), EXP.late);
    CHECK_INT(table_number(doc, "\n3. ", "Trong hạn"), EXP.open_in_time);
    CHECK_INT(table_number(doc, "\n3. ", "Quá hạn"), EXP.open_overdue);
    CHECK_INT(table_number(doc, "\n4. ", "Từ chối giải quyết"), EXP.refused);
    CHECK_INT(table_number(doc, "\n4. ", "Người nộp rút hồ sơ"), EXP.withdrawn);
    CHECK_INT(table_number(doc, "\n5. ", "Tổng số lượt đánh giá"),
              EXP.very + EXP.satisfied + EXP.not_satisfied);
    CHECK(strstr(doc, "7. Theo thủ tục hành chính") != NULL);
}

MC_TEST(whole_store_and_one_procedure)
{
    REQUIRE(harness_motcua(&H, "report --quarter 2025-Q3 --format json") == 0);
    const char *doc = slurp();
    REQUIRE(doc);
    CHECK(strstr(doc, "\"ward\":null") != NULL);
    CHECK_INT(json_long(doc, "total.received.new"),
              7399 + EXP_OTHER_WARD.direct + EXP_OTHER_WARD.online + EXP_OTHER_WARD.postal);
    CHECK_INT(json_long(doc, "total.open.in_time"), EXP.open_in_time + EXP_OTHER_WARD.open_in_time);
    REQUIRE(harness_motcua(&H, "report --quarter 2025-Q3 --ward " WARD
                               " --procedure 2.000986 --format json") == 0);
    doc = slurp();
    REQUIRE(doc);
    check_json_counts(doc, "total", &EXP_PROC[1]);
    CHECK(json_at(doc, "procedures.1") == NULL);
}

MC_TEST(period_edges_count_once)
{
    /* the 30/09 23:59:59 receipt is in Q3 and not in Q4; 01/10 00:00:00 is in Q4 only */
    REQUIRE(harness_motcua(&H, "report --from 2025-09-30 --to 2025-09-30 --ward " WARD
                               " --format json") == 0);
    const char *doc = slurp();
    long sep30 = json_long(doc, "total.received.new");
    REQUIRE(harness_motcua(&H, "report --from 2025-10-01 --to 2025-10-01 --ward " WARD
                               " --format json") == 0);
    doc = slurp();
    CHECK_INT(json_long(doc, "total.received.new"), 1);
    long expected_sep30 = harness_count(&H,
        "SELECT count(*) FROM dossier WHERE ward_code = $1 AND received_at >= "
        "'2025-09-30 00:00:00+07' AND received_at < '2025-10-01 00:00:00+07'", WARD);
    CHECK(expected_sep30 >= 1);
    CHECK_INT(sep30, expected_sep30);
    /* July + August + September = the quarter */
    long sum = 0;
    static const char *const months[3][2] = {{"2025-07-01", "2025-07-31"},
                                             {"2025-08-01", "2025-08-31"},
                                             {"2025-09-01", "2025-09-30"}};
    for (int m = 0; m < 3; m++) {
        char args[200];
        snprintf(args, sizeof args, "report --from %s --to %s --ward " WARD " --format json",
                 months[m][0], months[m][1]);
        REQUIRE(harness_motcua(&H, args) == 0);
        sum += json_long(slurp(), "total.received.new");
    }
    CHECK_INT(sum, 7399);
}

MC_TEST(svg_chart_of_the_quarter_renders)
{
    REQUIRE(harness_motcua(&H, "report --quarter 2025-Q3 --ward " WARD " --format svg") == 0);
    const char *doc = slurp();
    REQUIRE(doc);
    CHECK(strncmp(doc, "<?xml", 5) == 0);
    CHECK(strstr(doc, "Kim Liên") != NULL);
    CHECK(strstr(doc, "7.399") != NULL);
    CHECK(strstr(doc, "1.640") != NULL);
    CHECK(strstr(doc, "5.753") != NULL);
    CHECK(strstr(doc, "T7/2025") != NULL && strstr(doc, "T9/2025") != NULL);
    char svg[400], png[400];
    snprintf(svg, sizeof svg, "%s/chart.svg", H.dir);
    snprintf(png, sizeof png, "%s/chart.png", H.dir);
    FILE *f = fopen(svg, "w");
    REQUIRE(f);
    fputs(doc, f);
    fclose(f);
    dump("chart.svg", doc);
    /* Debian's librsvg2-bin; make check installs it, so its absence is a failure */
    REQUIRE(harness_run("rsvg-convert -b white -o '%s' '%s'", png, svg) == 0);
    png_image_t img;
    char why[200];
    REQUIRE(png_check_read(png, &img, why, sizeof why) == 0);
    CHECK_INT(img.width, 960);
    CHECK_INT(img.height, 600);
    size_t all = (size_t)img.width * img.height;
    CHECK(png_check_count_other(&img, 255, 255, 255, 8) > all / 10);   /* not blank */
    CHECK(png_check_count_color(&img, 0xf2, 0x8e, 0x2b, 6) > 5000);    /* online bars */
    CHECK(png_check_count_color(&img, 0x4e, 0x79, 0xa7, 6) > 1000);    /* direct bars */
    CHECK(png_check_count_color(&img, 0x2e, 0x7d, 0x32, 6) > 5000);    /* in-time bars */
    CHECK(png_check_count_color(&img, 0xc6, 0x28, 0x28, 6) > 300);     /* late bars */
    png_check_free(&img);
}

MC_TEST(bad_arguments_are_refused_cleanly)
{
    CHECK_INT(harness_motcua(&H, "report"), 64);
    CHECK_INT(harness_motcua(&H, "report --quarter 2025-Q5"), 64);
    CHECK_INT(harness_motcua(&H, "report --from 2025-09-30 --to 2025-07-01"), 64);
    CHECK_INT(harness_motcua(&H, "report --from 2025-02-30 --to 2025-03-01"), 64);
    CHECK_INT(harness_motcua(&H, "report --quarter 2025-Q3 --format pdf"), 64);
    CHECK_INT(harness_motcua(&H, "report --quarter 2025-Q3 --ward 99999"), 64);
    CHECK_INT(harness_motcua(&H, "report --quarter 2025-Q3 --procedure 9.999"), 64);
    CHECK_INT(harness_motcua(&H, "report --from 2000-01-01 --to 2025-01-01"), 64);
    CHECK_INT(harness_motcua(&H, "overdue --days-left 61"), 64);
    CHECK_INT(harness_motcua(&H, "overdue --days-left x"), 64);
    CHECK_INT(harness_motcua(&H, "overdue --ward 99999"), 64);
    CHECK_INT(harness_motcua(&H, "report --help"), 0);
}

MC_TEST(overdue_list_masks_and_locates)
{
    /* one open dossier sits at the police (step 2 of 2) */
    const char *code_sql = "SELECT id FROM dossier WHERE ward_code = $1 AND state = " MC_SQL(MC_DOSSIER_IN_PROGRESS)
                           " ORDER BY due_at, id LIMIT 1";
    long id = harness_count(&H, code_sql, WARD);
    REQUIRE(id > 0);
    char idt[24];
    snprintf(idt, sizeof idt, "%ld", id);
    REQUIRE(harness_count(&H,
        "WITH a AS (INSERT INTO agency_case (case_id, dossier_id, step, steps_total, agency, state)"
        " SELECT code || '/1', id, 1, 2, 'VP_UBND', 4 FROM dossier WHERE id = $1::bigint"
        " UNION ALL SELECT code || '/2', id, 2, 2, 'CONG_AN_XA', 3 FROM dossier WHERE id = $1::bigint"
        " RETURNING 1) SELECT count(*) FROM a", idt) == 2);
    REQUIRE(harness_motcua(&H, "overdue --ward " WARD " --format json") == 0);
    const char *doc = slurp();
    REQUIRE(doc);
    /* open now and past due: 20 carried, 350 received at the end of September, the 2 of
     * October; not the 39 paused */
    long open_past = harness_count(&H, "SELECT count(*) FROM dossier WHERE ward_code = $1"
                                       " AND state IN (" MC_SQL_DOSSIER_RUNNING ") AND due_at < now()", WARD);
    CHECK_INT(open_past, 372);
    CHECK_INT(json_long(doc, "count"), open_past);
    const char *holder = json_at(doc, "dossiers.0.holder");
    CHECK(holder && strncmp(holder, "\"CONG_AN_XA\"", 12) == 0);
    CHECK_INT(json_long(doc, "dossiers.0.step"), 2);
    CHECK(strstr(doc, "Trần Văn Minh") == NULL);
    CHECK(strstr(doc, "T*** V*** M***") != NULL);
    REQUIRE(harness_motcua(&H, "overdue --ward " WARD " --limit 5") == 0);
    doc = slurp();
    dump("overdue.txt", doc);
    CHECK(strstr(doc, "CONG_AN_XA bước 2/2: đang xử lý") != NULL);
    CHECK(strstr(doc, "--limit") != NULL);
    CHECK(strstr(doc, "Trần Văn Minh") == NULL);
    /* due soon: a dossier due tomorrow shows only with --days-left */
    REQUIRE(harness_count(&H,
        "WITH n AS (INSERT INTO dossier (code, ward_code, unit_id, receipt_day, seq, procedure_code,"
        " channel, state, received_at, counted_from, due_at, submission_id, payload)"
        " SELECT $1, '00229', '" UNIT "', current_date, 99999, '1.004222', 2, 3, now(), now(),"
        " now() + interval '26 hours', 'soon-000001', payload FROM dossier LIMIT 1 RETURNING 1)"
        " SELECT count(*) FROM n", UNIT "-991231-99999") == 1);
    REQUIRE(harness_motcua(&H, "overdue --ward " WARD " --format json") == 0);
    CHECK_INT(json_long(slurp(), "count"), open_past);
    REQUIRE(harness_motcua(&H, "overdue --ward " WARD " --days-left 5 --format json") == 0);
    CHECK_INT(json_long(slurp(), "count"), open_past + 1);
    /* warned before lateness (the router's due_soon scan) and not extended: listed
     * without --days-left, marked "sắp quá hạn" */
    REQUIRE(harness_count(&H, "WITH u AS (UPDATE dossier SET warned_due = due_at WHERE code = $1"
                              " RETURNING 1) SELECT count(*) FROM u", UNIT "-991231-99999") == 1);
    REQUIRE(harness_motcua(&H, "overdue --ward " WARD " --format json") == 0);
    doc = slurp();
    CHECK_INT(json_long(doc, "count"), open_past + 1);
    CHECK(strstr(doc, "\"due_soon\":true,\"extended\":false,\"apology_at\":null,"
                      "\"note\":\"sắp quá hạn\"") != NULL);
    REQUIRE(harness_motcua(&H, "overdue --ward " WARD " --limit 100000") == 0);
    doc = slurp();
    CHECK(strstr(doc, UNIT "-991231-99999") != NULL);
    CHECK(strstr(doc, "[sắp quá hạn]") != NULL);
    /* extended with the apology: no longer "sắp quá hạn", marked as extended */
    REQUIRE(harness_count(&H, "WITH u AS (UPDATE dossier SET due_at = due_at + interval '3 days',"
                              " extended_at = now(), apology_at = now(), extension_reason = 'x'"
                              " WHERE code = $1 RETURNING 1) SELECT count(*) FROM u",
                          UNIT "-991231-99999") == 1);
    REQUIRE(harness_motcua(&H, "overdue --ward " WARD " --format json") == 0);
    doc = slurp();
    CHECK_INT(json_long(doc, "count"), open_past);
    CHECK(strstr(doc, "sắp quá hạn") == NULL);
    REQUIRE(harness_motcua(&H, "overdue --ward " WARD " --days-left 10 --limit 100000") == 0);
    doc = slurp();
    CHECK(strstr(doc, "[đã gia hạn, xin lỗi đã gửi]") != NULL);
    REQUIRE(harness_motcua(&H, "overdue --ward " WARD " --days-left 10 --format json") == 0);
    doc = slurp();
    CHECK(strstr(doc, "\"due_soon\":false,\"extended\":true,\"apology_at\":\"") != NULL);
}

MC_TEST(live_dossiers_through_intake_are_counted)
{
    REQUIRE(harness_start_intake(&H) == 0);
    const char *ids[3] = {"live-report-0001", "live-report-0002", "live-report-0003"};
    char codes[3][64] = {{0}};
    for (int k = 0; k < 3; k++) {
        harness_dossier_t d;
        harness_dossier_init(&d, ids[k]);
        d.dossier.channel = k < 2 ? MOTCUA__V1__CHANNEL__CHANNEL_DIRECT
                                  : MOTCUA__V1__CHANNEL__CHANNEL_ONLINE;
        Motcua__V1__IntakeReply *reply = NULL;
        REQUIRE(harness_request(&H, &d.request, 5000, &reply) == 0);
        REQUIRE(reply->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_RECEIPT);
        snprintf(codes[k], sizeof codes[k], "%s", reply->receipt->dossier_code);
        motcua__v1__intake_reply__free_unpacked(reply, NULL);
    }
    /* withdraw one through intake: the trigger closes it */
    Motcua__V1__WithdrawDossier w = MOTCUA__V1__WITHDRAW_DOSSIER__INIT;
    w.submission_id = (char *)"live-withdraw-0001";
    w.dossier_code = codes[2];
    Motcua__V1__IntakeRequest req = MOTCUA__V1__INTAKE_REQUEST__INIT;
    req.body_case = MOTCUA__V1__INTAKE_REQUEST__BODY_WITHDRAW;
    req.withdraw = &w;
    Motcua__V1__IntakeReply *reply = NULL;
    REQUIRE(harness_request(&H, &req, 5000, &reply) == 0);
    CHECK(reply->body_case == MOTCUA__V1__INTAKE_REPLY__BODY_ACK);
    motcua__v1__intake_reply__free_unpacked(reply, NULL);
    CHECK_INT(harness_count(&H, "SELECT count(*) FROM dossier WHERE code = $1"
                                " AND closed_at IS NOT NULL AND state = " MC_SQL(MC_DOSSIER_WITHDRAWN), codes[2]), 1);

    mc_date_t today = mc_date_of((int64_t)time(NULL), NULL);
    char args[200];
    snprintf(args, sizeof args, "report --from %04d-%02d-%02d --to %04d-%02d-%02d --ward "
             WARD " --format json", today.year, today.month, today.day, today.year, today.month,
             today.day);
    REQUIRE(harness_motcua(&H, args) == 0);
    const char *doc = slurp();
    REQUIRE(doc);
    /* the "due soon" dossier of the overdue test was also received today */
    CHECK_INT(json_long(doc, "total.received.direct"), 2);
    CHECK_INT(json_long(doc, "total.received.online"), 1 + 1);
    CHECK_INT(json_long(doc, "total.withdrawn"), 1);
    /* open at the end of today: the 2 live ones, the one due soon, and the 39 generated
     * dossiers still waiting for documents (their clock is stopped) */
    CHECK_INT(json_long(doc, "total.open.in_time"), 2 + 1 + 39);
    CHECK_INT(json_long(doc, "total.resolved.total"), 0);
}

/* --- rates: half away from zero ----------------------------------------- */

MC_TEST(rates_round_half_away_from_zero)
{
    /* ward 00220 in 2025-Q1: 128 new dossiers, 8 online (6.25 %), 84 of them early
     * (65.625 %): the two ties printf would round to even */
    REQUIRE(exec_ok("INSERT INTO dossier (code, ward_code, unit_id, receipt_day, seq, procedure_code,"
                    " channel, state, received_at, counted_from, due_at, submission_id, payload,"
                    " result_at)"
                    " SELECT '" OTHER_UNIT "-250110-' || (80000 + g), '" OTHER_WARD "', '" OTHER_UNIT "',"
                    " '2025-01-10', 80000 + g, '1.001193', CASE WHEN g <= 8 THEN 2 ELSE 1 END, 5,"
                    " t, t, t + interval '7 days', 'round-' || g,"
                    " (SELECT payload FROM dossier LIMIT 1),"
                    " t + CASE WHEN g <= 84 THEN interval '1 day' ELSE interval '9 days' END"
                    " FROM generate_series(1, 128) g, (SELECT timestamptz '2025-01-10 09:00+07' AS t) x") == 0);
    REQUIRE(harness_motcua(&H, "report --quarter 2025-Q1 --ward " OTHER_WARD " --format json") == 0);
    const char *doc = slurp();
    REQUIRE(doc);
    CHECK_INT(json_long(doc, "total.resolved.total"), 128);
    CHECK(strstr(doc, "\"online_share\":6.25}") != NULL);
    CHECK(strstr(doc, "\"on_time_rate\":65.63}") != NULL);
    CHECK(strstr(doc, "\"satisfied_share\":null") != NULL);
    REQUIRE(harness_motcua(&H, "report --quarter 2025-Q1 --ward " OTHER_WARD " --format csv") == 0);
    doc = slurp();
    REQUIRE(doc);
    CHECK(strstr(doc, ",6.25,") != NULL);
    CHECK(strstr(doc, ",65.63,") != NULL);
    REQUIRE(harness_motcua(&H, "report --quarter 2025-Q1 --ward " OTHER_WARD) == 0);
    doc = slurp();
    REQUIRE(doc);
    CHECK(strstr(doc, "6,3%") != NULL);  /* one decimal, from the exact 6.25, not from 6.25 rounded */
    CHECK(strstr(doc, "65,6%") != NULL);
}

/* --- a closed period never changes -------------------------------------- */

static char AGENCY_CODES[32][64]; /* from agencies.yaml (harness_pipeline_setup) */

/* start_agency - motcua-agency CODE answering with outcomes; its pid, or -1 (log agency-CODE.log) */
static pid_t start_agency(const char *code, const char *outcomes)
{
    char key[500], server[500], log[128];
    snprintf(key, sizeof key, "%s/keys/%s.key", H.dir, code);
    snprintf(server, sizeof server, "%s/keys/lienthong.pub", H.dir);
    snprintf(log, sizeof log, "agency-%s.log", code);
    const char *args[] = {"-c", H.config, "--agency", code, "--key", key, "--server-key", server,
                          "--delay-ms", "2", "--outcomes", outcomes, NULL};
    pid_t pid = harness_spawn(&H, "motcua-agency", log, args);
    /* connected: the agency logs it once the hub accepted its session */
    int64_t deadline = harness_now_ms() + 10000;
    while (pid > 0 && harness_now_ms() < deadline) {
        if (harness_run("grep -q 'event=connected' %s/%s 2>/dev/null", H.dir, log) == 0)
            return pid;
        usleep(50000);
    }
    if (pid > 0)
        harness_stop_daemon(pid, SIGTERM);
    return -1;
}

/* report_json - the JSON report of args without its generated_at (the one field that says
 * when it was run) into a malloc'd string; NULL on failure */
static char *report_json(const char *args)
{
    if (harness_motcua(&H, args) != 0)
        return NULL;
    const char *doc = slurp();
    const char *g = doc ? strstr(doc, ",\"generated_at\":\"") : NULL;
    const char *after = g ? strchr(g + 17, '"') : NULL;
    if (!after)
        return NULL;
    size_t head = (size_t)(g - doc);
    char *out = malloc(strlen(doc) + 1);
    if (out) {
        memcpy(out, doc, head);
        strcpy(out + head, after + 1);
    }
    return out;
}

/* text_of - one text value of a query with one parameter, into buf ("" on error) */
static const char *text_of(const char *sql, const char *param, char *buf, size_t size)
{
    const char *p[1] = {param};
    PGresult *res = PQexecParams(harness_db(&H), sql, 1, NULL, p, NULL, NULL, 0);
    snprintf(buf, size, "%s", PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                                  ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return buf;
}

#define HIST_W UNIT "-250902-90001" /* waiting for documents at the end; withdrawn later */
#define HIST_R UNIT "-250804-90002" /* re-appointed before the end; misses the new date later */
#define HIST_S UNIT "-250903-90003" /* overdue at the end; asked for documents and supplemented later */
#define HIST_X UNIT "-250908-90004" /* overdue at the end; result later, then rated */
#define HIST_Y UNIT "-250929-90005" /* in time at the end; refused later */

MC_TEST(closed_quarter_never_changes)
{
    /* Q3 as it stood at its end (set up directly: the store cannot be sent back in time) */
    REQUIRE(exec_ok(
        "INSERT INTO dossier (code, ward_code, unit_id, receipt_day, seq, procedure_code, channel,"
        " state, received_at, counted_from, due_at, late_notified_due, paused_at, submission_id,"
        " payload)"
        " SELECT v.code, '" WARD "', '" UNIT "', v.r::date, v.seq, '1.001193', 2, v.state, v.r, v.r,"
        " v.due, v.late, v.paused, 'hist-' || v.seq, (SELECT payload FROM dossier LIMIT 1) FROM (VALUES"
        " ('" HIST_W "', 90001, 4, timestamptz '2025-09-02 10:00+07', timestamptz '2025-09-09 17:00+07',"
        "   NULL::timestamptz, timestamptz '2025-09-05 09:00+07'),"
        " ('" HIST_R "', 90002, 3, '2025-08-04 10:00+07', '2025-10-08 17:00+07', '2025-08-13 17:00+07', NULL),"
        " ('" HIST_S "', 90003, 3, '2025-09-03 10:00+07', '2025-09-12 17:00+07', NULL, NULL),"
        " ('" HIST_X "', 90004, 3, '2025-09-08 10:00+07', '2025-09-17 17:00+07', NULL, NULL),"
        " ('" HIST_Y "', 90005, 3, '2025-09-29 10:00+07', '2025-10-08 17:00+07', NULL, NULL))"
        " AS v (code, seq, state, r, due, late, paused)") == 0);
    const char *ward_q3 = "report --quarter 2025-Q3 --ward " WARD " --format json";
    const char *all_q3 = "report --quarter 2025-Q3 --format json";
    char *ward_before = report_json(ward_q3), *all_before = report_json(all_q3);
    REQUIRE(ward_before && all_before);
    /* W and Y in time, R (apologised before the end), S and X overdue */
    CHECK_INT(json_long(ward_before, "total.open.in_time"), EXP.open_in_time + 2);
    CHECK_INT(json_long(ward_before, "total.open.overdue"), EXP.open_overdue + 3);

    /* after the end, through the real daemons: the router apologises for every open dossier
     * past its date (R a second time), agencies answer through lienthong, the applicant
     * withdraws, supplements and rates through intake */
    int n_codes = 0;
    REQUIRE(harness_pipeline_setup(&H, 200, 64, AGENCY_CODES, 32, &n_codes) == 0);
    pid_t hub = harness_start_daemon(&H, "lienthong", NULL, "lienthong.log");
    REQUIRE(hub > 0);
    pid_t thue = start_agency("THUE", "approved=100");
    pid_t bhxh = start_agency("BHXH", "rejected=100");
    pid_t vpdk = start_agency("VPDK_DAT_DAI", "needs_documents=100");
    CHECK(thue > 0 && bhxh > 0 && vpdk > 0);
    REQUIRE(exec_ok("INSERT INTO agency_case (case_id, dossier_id, step, steps_total, agency, state,"
                    " time_limit, due_at) SELECT d.code || '/1', d.id, 1, 1, v.agency, 1, 5, d.due_at"
                    " FROM (VALUES ('" HIST_X "', 'THUE'), ('" HIST_Y "', 'BHXH'),"
                    " ('" HIST_S "', 'VPDK_DAT_DAI')) AS v (code, agency) JOIN dossier d USING (code)") == 0);
    pid_t router = harness_start_daemon(&H, "router", NULL, "router.log");
    REQUIRE(router > 0);
    CHECK_INT(harness_motcua(&H, "withdraw " HIST_W " --id hist-withdraw-0001 --reason 'Không còn nhu cầu'"), 0);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", HIST_X, MC_DOSSIER_RESULT_READY, 20000), MC_DOSSIER_RESULT_READY);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", HIST_Y, MC_DOSSIER_REFUSED, 20000), MC_DOSSIER_REFUSED);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", HIST_S, MC_DOSSIER_WAITING_SUPPLEMENT, 20000), MC_DOSSIER_WAITING_SUPPLEMENT);
    char path[400], args[600], token[64];
    snprintf(path, sizeof path, "%s/hist-supplement.yaml", H.dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fprintf(f, "submission_id: \"hist-supplement-0001\"\ndossier_code: \"" HIST_S "\"\n"
               "documents:\n  - {type: GIAY_TO_BO_SUNG, name: \"Giấy tờ bổ sung\","
               " media_type: application/pdf, size: 2048, sha256: \"%064d\","
               " uri: \"https://dvc.example.vn/files/bo-sung.pdf\", form: original, copies: 1}\n", 7);
    fclose(f);
    snprintf(args, sizeof args, "supplement %s", path);
    CHECK_INT(harness_motcua(&H, args), 0);
    /* sent again after the supplement and asked again: a second request is
     * refused (one per dossier, issue 12) and the agency answers it again (approved) */
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier_event e JOIN dossier d ON"
                                 " d.id = e.dossier_id WHERE d.code = $1 AND e.kind ="
                                 " 'supplement_refused'", HIST_S, 1, 20000), 1);
    CHECK_INT(harness_wait_count(&H, "SELECT state FROM dossier WHERE code = $1", HIST_S, MC_DOSSIER_RESULT_READY, 20000), MC_DOSSIER_RESULT_READY);
    text_of("SELECT rating_token::text FROM dossier WHERE code = $1", HIST_X, token, sizeof token);
    snprintf(args, sizeof args, "rate " HIST_X " --token %s --level very_satisfied --id hist-rate-0001", token);
    CHECK_INT(harness_motcua(&H, args), 0);
    /* the router has nothing left to say: every open dossier past its date was told */
    CHECK_INT(harness_wait_count(&H, "SELECT count(*) FROM dossier WHERE state IN (" MC_SQL_DOSSIER_RUNNING ")"
                                 " AND due_at < now() AND late_notified_due IS DISTINCT FROM due_at",
                                 NULL, 0, 30000), 0);

    /* the changes happened, and are the ones that used to move the figures: one row each */
    static const struct { const char *code, *sql; } changed[] = {
        {HIST_W, "SELECT count(*) FROM dossier WHERE code = $1 AND state = " MC_SQL(MC_DOSSIER_WITHDRAWN)},
        {HIST_R, "SELECT count(*) FROM dossier WHERE code = $1 AND late_notified_due = due_at"
                 " AND due_at >= '2025-10-01 00:00+07'"},
        {HIST_S, "SELECT count(*) FROM dossier WHERE code = $1 AND counted_from > '2025-10-01 00:00+07'"
                 " AND due_at > now()"},
        {HIST_X, "SELECT count(*) FROM rating g JOIN dossier d ON d.id = g.dossier_id WHERE d.code = $1"},
    };
    for (size_t k = 0; k < sizeof changed / sizeof changed[0]; k++)
        CHECK_INT(harness_count(&H, changed[k].sql, changed[k].code), 1);
    CHECK(harness_count(&H, "SELECT count(*) FROM dossier WHERE ward_code = $1 AND state = " MC_SQL(MC_DOSSIER_IN_PROGRESS)
                        " AND late_notified_due IS NOT NULL AND received_at < '2025-10-01 00:00+07'",
                        WARD) >= 350); /* re-appointed after the end: the quarter's open ones */
    CHECK(harness_count(&H, "SELECT count(*) FROM dossier_history", NULL) > 350);

    /* the quarter's report, byte for byte */
    char *ward_after = report_json(ward_q3), *all_after = report_json(all_q3);
    REQUIRE(ward_after && all_after);
    CHECK_STR(ward_after, ward_before);
    CHECK_STR(all_after, all_before);
    if (strcmp(ward_after, ward_before) != 0) {
        dump("closed-before.json", ward_before);
        dump("closed-after.json", ward_after);
    }
    free(ward_before);
    free(ward_after);
    free(all_before);
    free(all_after);

    CHECK_INT(harness_stop_daemon(router, SIGTERM), 0);
    if (thue > 0)
        CHECK_INT(harness_stop_daemon(thue, SIGTERM), 0);
    if (bhxh > 0)
        CHECK_INT(harness_stop_daemon(bhxh, SIGTERM), 0);
    if (vpdk > 0)
        CHECK_INT(harness_stop_daemon(vpdk, SIGTERM), 0);
    CHECK_INT(harness_stop_daemon(hub, SIGTERM), 0);
}

/* --- the figures of Nghị định 118/2025 (issue 12 point 8) --------------- */

#define R8 OTHER_UNIT "-2604"                     /* codes of this test's dossiers */
#define R8_Q2 "report --quarter 2026-Q2 --ward " OTHER_WARD

/* day_json - the JSON report of one local day for ward; its text (slurp), or NULL */
static const char *day_json(mc_date_t day, const char *ward)
{
    char args[200];
    snprintf(args, sizeof args, "report --from %04d-%02d-%02d --to %04d-%02d-%02d --ward %s"
             " --format json", day.year, day.month, day.day, day.year, day.month, day.day, ward);
    return harness_motcua(&H, args) == 0 ? slurp() : NULL;
}

/* r8_check_json - the new figures of the 2026-Q2 report of ward 00220 (json COUNTS `total`) */
static void r8_check_json(const char *doc)
{
    CHECK_INT(json_long(doc, "total.acceptance.in_time"), 2);
    CHECK_INT(json_long(doc, "total.acceptance.late"), 1);
    CHECK_INT(json_long(doc, "total.acceptance.pending_overdue"), 2);
    CHECK(strstr(doc, "\"in_time_rate\":66.67}") != NULL);
    CHECK_INT(json_long(doc, "total.apologies.issued"), 2);
    CHECK_INT(json_long(doc, "total.apologies.in_time"), 1);
    CHECK_INT(json_long(doc, "total.late_without_apology"), 2);
    CHECK_INT(json_long(doc, "total.forwarding.received"), 6);
    CHECK_INT(json_long(doc, "total.forwarding.in_time"), 1);
    CHECK_INT(json_long(doc, "total.forwarding.late"), 1);
    CHECK_INT(json_long(doc, "total.forwarding.overdue"), 2);
    CHECK_INT(json_long(doc, "total.forwarding.pending"), 2);
}

MC_TEST(decree_118_figures_as_at_the_end)
{
    /* 2026-Q2 of ward 00220 (A: online acceptance, B: apologies, C: late, D: received here
     * for 00229), placed directly: the store cannot be sent back in time */
    REQUIRE(exec_ok(
        "INSERT INTO dossier (code, ward_code, unit_id, receipt_day, seq, procedure_code, channel,"
        " state, received_at, counted_from, due_at, submission_id, payload, accept_due_at,"
        " accepted_at, receiving_ward, forward_due_at, forwarded_at, closed_at)"
        " SELECT '" R8 "' || v.seq, v.ward, '" OTHER_UNIT "', v.r::date, v.seq, v.proc, v.ch, v.state,"
        " v.r, CASE WHEN v.state <> " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) " THEN v.r END, CASE WHEN v.state <> " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) " THEN v.r + interval '30 days' END,"
        " 'r8-' || v.seq, (SELECT payload FROM dossier LIMIT 1), v.acc_due, v.acc, v.recv, v.fwd_due,"
        " v.fwd, v.closed FROM (VALUES"
        /* A1 in time, A2 late, A3 received before the period and accepted in it, in time */
        " (70001, '" OTHER_WARD "', '1.001193', 2, 3, timestamptz '2026-04-06 09:00+07',"
        "   timestamptz '2026-04-07 09:00+07', timestamptz '2026-04-06 15:00+07', NULL, NULL::timestamptz,"
        "   NULL::timestamptz, NULL::timestamptz),"
        " (70002, '" OTHER_WARD "', '1.001193', 2, 3, '2026-04-08 09:00+07', '2026-04-09 09:00+07',"
        "   '2026-04-09 10:00+07', NULL, NULL, NULL, NULL),"
        " (70003, '" OTHER_WARD "', '1.001193', 2, 3, '2026-03-31 16:00+07', '2026-04-01 16:00+07',"
        "   '2026-04-01 15:00+07', NULL, NULL, NULL, NULL),"
        /* A4 pending past its deadline at the end; A5 pending, deadline after the end;
         * A6 pending past its deadline, flagged before the end */
        " (70004, '" OTHER_WARD "', '1.001193', 2, 9, '2026-06-29 09:00+07', '2026-06-30 09:00+07',"
        "   NULL, NULL, NULL, NULL, NULL),"
        " (70005, '" OTHER_WARD "', '1.001193', 2, 9, '2026-06-30 15:00+07', '2026-07-01 15:00+07',"
        "   NULL, NULL, NULL, NULL, NULL),"
        " (70006, '" OTHER_WARD "', '1.001193', 2, 9, '2026-06-24 09:00+07', '2026-06-25 09:00+07',"
        "   NULL, NULL, NULL, NULL, NULL),"
        /* B1 apologised in time, B2 too late (then late), C2 and C3 late without apology */
        " (70011, '" OTHER_WARD "', '1.004222', 1, 3, '2026-04-20 09:00+07', NULL, NULL, NULL, NULL, NULL, NULL),"
        " (70012, '" OTHER_WARD "', '1.004222', 1, 3, '2026-04-21 09:00+07', NULL, NULL, NULL, NULL, NULL, NULL),"
        " (70013, '" OTHER_WARD "', '1.004222', 1, 3, '2026-04-22 09:00+07', NULL, NULL, NULL, NULL, NULL, NULL),"
        " (70014, '" OTHER_WARD "', '1.004222', 1, 3, '2026-04-23 09:00+07', NULL, NULL, NULL, NULL, NULL, NULL),"
        /* D: received here for 00229: in time, late, forwarded after the end (overdue at
         * it), deadline after the end, withdrawn before its deadline, never forwarded */
        " (70021, '" WARD "', '1.009469', 1, 3, '2026-04-06 09:00+07', NULL, NULL, '" OTHER_WARD "',"
        "   '2026-04-07 17:00+07', '2026-04-07 10:00+07', NULL),"
        " (70022, '" WARD "', '1.009469', 1, 3, '2026-04-06 09:00+07', NULL, NULL, '" OTHER_WARD "',"
        "   '2026-04-07 17:00+07', '2026-04-09 10:00+07', NULL),"
        " (70023, '" WARD "', '1.009469', 1, 3, '2026-06-26 09:00+07', NULL, NULL, '" OTHER_WARD "',"
        "   '2026-06-29 17:00+07', '2026-07-02 10:00+07', NULL),"
        " (70024, '" WARD "', '1.009469', 1, 3, '2026-06-30 16:00+07', NULL, NULL, '" OTHER_WARD "',"
        "   '2026-07-01 17:00+07', NULL, NULL),"
        " (70025, '" WARD "', '1.009469', 1, 7, '2026-05-04 09:00+07', NULL, NULL, '" OTHER_WARD "',"
        "   '2026-05-05 17:00+07', NULL, '2026-05-05 10:00+07'),"
        " (70026, '" WARD "', '1.009469', 1, 3, '2026-05-04 09:00+07', NULL, NULL, '" OTHER_WARD "',"
        "   '2026-05-05 17:00+07', NULL, NULL))"
        " AS v (seq, ward, proc, ch, state, r, acc_due, acc, recv, fwd_due, fwd, closed)") == 0);
    REQUIRE(exec_ok(
        "INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)"
        " SELECT d.id, v.at, 'it_report', v.kind, '' FROM (VALUES"
        " (70006, timestamptz '2026-06-25 09:01+07', 'acceptance_overdue'),"
        " (70011, '2026-05-04 10:00+07', 'apology'), (70012, '2026-05-07 10:00+07', 'apology'),"
        " (70012, '2026-05-11 08:00+07', 'late'),"   /* late after its apology: not counted */
        " (70013, '2026-05-12 08:00+07', 'late'), (70014, '2026-05-12 08:00+07', 'late'),"
        " (70014, '2026-06-20 08:00+07', 'late'),"   /* a second due date: the dossier once */
        " (70003, '2026-03-30 08:00+07', 'apology'),"/* before the period: not counted */
        " (70011, '2026-07-05 08:00+07', 'late'))"   /* after it */
        " AS v (seq, at, kind) JOIN dossier d ON d.code = '" R8 "' || v.seq") == 0);
    /* the due dates the apologies replaced (Monday 04/05 for Friday 08/05: in time;
     * Thursday 07/05 for that same day: too late), as lienthong writes them */
    REQUIRE(exec_ok(
        "INSERT INTO notification (dossier_id, kind, dedupe_key, data)"
        " SELECT d.id, 'apology', d.code || '/apology', jsonb_build_object('old_due',"
        " extract(epoch FROM v.old)::bigint::text) FROM (VALUES"
        " (70011, timestamptz '2026-05-08 17:00+07'), (70012, '2026-05-07 17:00+07'))"
        " AS v (seq, old) JOIN dossier d ON d.code = '" R8 "' || v.seq") == 0);
    /* the same judgement by hand, from the calendar */
    int64_t counted = 0, latest = 0;
    mc_err_t err;
    mc_err_clear(&err);
    REQUIRE(mc_calendar_due(CFG->calendar, at(2026, 5, 4, 10, 0, 0), CFG->rules.apology_before_days,
                            MC_TIME_WORKING_DAYS, 24 * 60, &counted, &latest, &err) == 0);
    CHECK(latest <= at(2026, 5, 8, 17, 0, 0));
    REQUIRE(mc_calendar_due(CFG->calendar, at(2026, 5, 7, 10, 0, 0), CFG->rules.apology_before_days,
                            MC_TIME_WORKING_DAYS, 24 * 60, &counted, &latest, &err) == 0);
    CHECK(latest > at(2026, 5, 7, 17, 0, 0));

    char *before = report_json(R8_Q2 " --format json");
    REQUIRE(before);
    r8_check_json(before);
    /* per procedure: the forwarded ones are 1.009469's */
    CHECK(strstr(before, "\"code\":\"1.009469\"") != NULL);
    /* the competent ward counts them as received, not as forwarded */
    REQUIRE(harness_motcua(&H, "report --quarter 2026-Q2 --ward " WARD " --format json") == 0);
    const char *doc = slurp();
    REQUIRE(doc);
    CHECK_INT(json_long(doc, "total.received.direct"), 6);
    CHECK_INT(json_long(doc, "total.forwarding.received"), 0);
    CHECK_INT(json_long(doc, "total.acceptance.in_time"), 0);

    REQUIRE(harness_motcua(&H, R8_Q2 " --format csv") == 0);
    doc = slurp();
    REQUIRE(doc);
    CHECK(strstr(doc, "supplement_refused,accepted_in_time,accepted_late,acceptance_overdue,"
                      "acceptance_in_time_rate,apologies,apologies_in_time,late_without_apology,"
                      "forward_received,forwarded_in_time,forwarded_late,forward_overdue,"
                      "forward_pending\r\n") != NULL);
    const char *total = strstr(doc, "\r\ntotal,");
    const char *eol = total ? strstr(total + 2, "\r\n") : NULL;
    REQUIRE(eol);
    const char *tail = ",2,1,2,66.67,2,1,2,6,1,1,2,2";
    CHECK(strncmp(eol - strlen(tail), tail, strlen(tail)) == 0);

    REQUIRE(harness_motcua(&H, R8_Q2) == 0);
    doc = slurp();
    REQUIRE(doc);
    const char *sec = "6. Tiếp nhận trực tuyến";
    CHECK_INT(table_number(doc, sec, "Tiếp nhận trực tuyến trong 8 giờ làm việc"), 2);
    CHECK_INT(table_number(doc, sec, "Tiếp nhận trực tuyến quá 8 giờ làm việc"), 1);
    CHECK_INT(table_number(doc, sec, "Chờ tiếp nhận quá 8 giờ làm việc (cuối kỳ)"), 2);
    CHECK_INT(table_number(doc, sec, "Văn bản xin lỗi, hẹn lại (Mẫu 04)"), 2);
    CHECK_INT(table_number(doc, sec, "Gửi đúng thời hạn"), 1);
    CHECK_INT(table_number(doc, sec, "Quá hạn không có văn bản xin lỗi"), 2);
    CHECK(strstr(doc, "6 hồ sơ\n  chuyển đúng hạn: 1; chuyển quá hạn: 1; chưa chuyển, đã quá hạn: 2;"
                      " chưa đến hạn hoặc đã đóng trước khi chuyển: 2") != NULL);

    /* after the end: A4 accepted, A6 asked for documents and supplemented (a new
     * deadline), D4 forwarded: the closed quarter does not move */
    REQUIRE(exec_ok("UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_RECEIVED) ", accepted_at = now(), counted_from = now(),"
                    " due_at = now() + interval '7 days' WHERE code = '" R8 "70004'") == 0);
    REQUIRE(exec_ok("UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_WAITING_SUPPLEMENT) ", paused_at = now() WHERE code = '" R8 "70006'") == 0);
    REQUIRE(exec_ok("UPDATE dossier SET state = " MC_SQL(MC_DOSSIER_PENDING_ACCEPTANCE) ", paused_at = NULL,"
                    " accept_due_at = now() + interval '1 day' WHERE code = '" R8 "70006'") == 0);
    REQUIRE(exec_ok("UPDATE dossier SET forwarded_at = now() WHERE code = '" R8 "70024'") == 0);
    char *after = report_json(R8_Q2 " --format json");
    REQUIRE(after);
    CHECK_STR(after, before);
    free(before);
    free(after);
    /* ... and today's report sees A4's acceptance, late */
    doc = day_json(mc_date_of((int64_t)time(NULL), NULL), OTHER_WARD);
    REQUIRE(doc);
    CHECK_INT(json_long(doc, "total.acceptance.late"), 1);
}

/* after closed_quarter_never_changes: the router's own `late` events of today (every
 * open dossier of ward 00229 past its date, none apologised) are today's late figure */
MC_TEST(router_late_events_are_late_without_apology)
{
    mc_date_t today = mc_date_of((int64_t)time(NULL), NULL);
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT count(DISTINCT e.dossier_id) FROM dossier_event e JOIN dossier d"
             " ON d.id = e.dossier_id WHERE d.ward_code = $1 AND e.kind = 'late'"
             " AND e.actor = 'router' AND e.at >= to_timestamp(%lld)",
             (long long)at(today.year, today.month, today.day, 0, 0, 0));
    long late_today = harness_count(&H, sql, WARD);
    CHECK(late_today >= 350);
    const char *doc = day_json(today, WARD);
    REQUIRE(doc);
    CHECK_INT(json_long(doc, "total.late_without_apology"), late_today);
    CHECK_INT(json_long(doc, "total.apologies.issued"), 0);
}

int main(void)
{
    if (harness_setup(&H, "it_report", 2) != 0)
        return mc_test_done("it_report (setup failed)");
    mc_err_t err;
    mc_err_clear(&err);
    if (mc_cfg_load(H.config, &CFG, &err) < 0) {
        harness_teardown(&H);
        return mc_test_done("it_report (config failed)");
    }
    harness_dossier_t d;
    harness_dossier_init(&d, "payload-template-1");
    uint8_t packed[4000];
    size_t len = motcua__v1__dossier__get_packed_size(&d.dossier);
    if (len > sizeof packed || len * 2 + 4 > sizeof PAYLOAD_HEX) {
        harness_teardown(&H);
        return mc_test_done("it_report (payload too big)");
    }
    motcua__v1__dossier__pack(&d.dossier, packed);
    int o = snprintf(PAYLOAD_HEX, sizeof PAYLOAD_HEX, "\\\\x");
    for (size_t i = 0; i < len; i++)
        o += snprintf(PAYLOAD_HEX + o, sizeof PAYLOAD_HEX - (size_t)o, "%02x", packed[i]);
    if (generate() != 0) {
        fprintf(stderr, "it_report: the generator failed\n");
        mc_test_failed++;
    } else {
        mc_test_run(generated_quarter_has_the_known_totals);
        mc_test_run(json_report_matches_the_hand_count);
        mc_test_run(csv_report_matches_the_hand_count);
        mc_test_run(table_report_shows_the_same_figures_in_vietnamese);
        mc_test_run(whole_store_and_one_procedure);
        mc_test_run(period_edges_count_once);
        mc_test_run(svg_chart_of_the_quarter_renders);
        mc_test_run(bad_arguments_are_refused_cleanly);
        mc_test_run(overdue_list_masks_and_locates);
        mc_test_run(live_dossiers_through_intake_are_counted);
        mc_test_run(rates_round_half_away_from_zero);
        mc_test_run(closed_quarter_never_changes);
        mc_test_run(router_late_events_are_late_without_apology);
        mc_test_run(decree_118_figures_as_at_the_end);
    }
    mc_cfg_destroy(&CFG);
    harness_teardown(&H);
    return mc_test_done("it_report");
}
