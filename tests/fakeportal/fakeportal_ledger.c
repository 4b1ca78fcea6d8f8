/*
 * fakeportal_ledger - what the fake portal received, and the judgement.
 *
 * Events by event_id and dossiers by code, each in an open-addressing hash
 * map, so a run of a million events stays linear. Order: the fake answers
 * every good request 2xx before it reads the next, so an event whose seq is
 * above its dossier's highest seq so far + 1 came before a predecessor had
 * been acknowledged: out of order (what motcua-portal promises never to do).
 * Holes: a dossier's highest seq minus its distinct events. With the store's
 * list (fp_ledger_expect): missing, extra, and events of another kind.
 */
#include "fakeportal.h"

#include <stdlib.h>
#include <string.h>

#define FP_KINDS_MAX 64 /* distinct event kinds counted */
#define FP_NAMED_MAX 10 /* dossiers or events named in the summary per problem */

/* a string -> index map (open addressing, linear probing) */
typedef struct fp_map {
    char  **keys; /* cap slots, NULL = free */
    int    *vals; /* index of the key's entry */
    size_t  cap;  /* a power of two */
    size_t  n;    /* keys held */
} fp_map_t;

/* one distinct event */
typedef struct fp_event {
    int      dossier;  /* index in dossiers */
    uint64_t hash;     /* FNV-1a of the body's bytes */
    int      kind;     /* index in kinds */
    bool     expected; /* the store's list has it */
} fp_event_t;

/* one dossier */
typedef struct fp_dossier {
    char code[96];     /* dossier_code */
    long max_seq;      /* highest seq received */
    long n_events;     /* distinct events received */
    long out_of_order; /* its events that came before their predecessor */
} fp_dossier_t;

struct fp_ledger {
    fp_map_t      events_by_id;         /* event_id -> events[] */
    fp_map_t      dossiers_by_code;     /* dossier_code -> dossiers[] */
    fp_event_t   *events;               /* distinct events, in arrival order */
    size_t        n_events, cap_events;
    fp_dossier_t *dossiers;             /* distinct dossiers */
    size_t        n_dossiers, cap_dossiers;
    char          kinds[FP_KINDS_MAX][64]; /* event kinds met (received or expected) */
    long          received[FP_KINDS_MAX];  /* distinct events per kind */
    long          stored[FP_KINDS_MAX];    /* the store's events per kind */
    int           n_kinds;
    long          requests;      /* good requests (answered 2xx) */
    long          resent;        /* an event_id again, same bytes */
    long          changed;       /* an event_id again, other bytes */
    long          out_of_order;  /* seq above the dossier's highest + 1 on arrival */
    long          rejected;      /* requests answered 400 */
    bool          expect;        /* the store's list was read */
    long          store_events;  /* lines in it */
    long          missing;       /* in the store, never received */
    long          wrong_kind;    /* received under another kind than the store's */
    char          missing_ids[FP_NAMED_MAX][256]; /* the first missing event_ids */
};

/* fnv - FNV-1a 64 of n bytes */
static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* map_find - the slot of key: holding it, or the free one it would take */
static size_t map_find(const fp_map_t *m, const char *key)
{
    size_t i = (size_t)fnv(key, strlen(key)) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

/* map_grow - twice the slots (or 1024), every key moved; -1 on OOM */
static int map_grow(fp_map_t *m)
{
    fp_map_t g = {NULL, NULL, m->cap ? m->cap * 2 : 1024, m->n};
    g.keys = calloc(g.cap, sizeof *g.keys);
    g.vals = calloc(g.cap, sizeof *g.vals);
    if (!g.keys || !g.vals) {
        free(g.keys);
        free(g.vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = map_find(&g, m->keys[i]);
            g.keys[j] = m->keys[i];
            g.vals[j] = m->vals[i];
        }
    free(m->keys);
    free(m->vals);
    *m = g;
    return 0;
}

/* map_get - the index under key, or -1 */
static int map_get(const fp_map_t *m, const char *key)
{
    if (m->cap == 0)
        return -1;
    size_t i = map_find(m, key);
    return m->keys[i] ? m->vals[i] : -1;
}

/* map_put - key -> val (key not there yet); -1 on OOM */
static int map_put(fp_map_t *m, const char *key, int val)
{
    if ((m->n + 1) * 2 > m->cap && map_grow(m) != 0)
        return -1;
    size_t i = map_find(m, key);
    m->keys[i] = strdup(key);
    if (!m->keys[i])
        return -1;
    m->vals[i] = val;
    m->n++;
    return 0;
}

/* map_free - every key and the slots */
static void map_free(fp_map_t *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* grow - room for one more element of size in *array; -1 on OOM */
static int grow(void **array, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 1024;
    void *more = realloc(*array, c * size);
    if (!more)
        return -1;
    *array = more;
    *cap = c;
    return 0;
}

/* kind_slot - the index of kind (added when new; the last slot takes any overflow) */
static int kind_slot(fp_ledger_t *l, const char *kind)
{
    for (int i = 0; i < l->n_kinds; i++)
        if (strcmp(l->kinds[i], kind) == 0)
            return i;
    if (l->n_kinds == FP_KINDS_MAX)
        return FP_KINDS_MAX - 1;
    snprintf(l->kinds[l->n_kinds], sizeof l->kinds[0], "%s", kind);
    return l->n_kinds++;
}

/* fp_ledger_new - see fakeportal.h */
fp_ledger_t *fp_ledger_new(void)
{
    return calloc(1, sizeof(fp_ledger_t));
}

/* fp_ledger_destroy - see fakeportal.h */
void fp_ledger_destroy(fp_ledger_t **lp)
{
    if (!lp || !*lp)
        return;
    fp_ledger_t *l = *lp;
    map_free(&l->events_by_id);
    map_free(&l->dossiers_by_code);
    free(l->events);
    free(l->dossiers);
    free(l);
    *lp = NULL;
}

/* fp_ledger_rejected - see fakeportal.h */
void fp_ledger_rejected(fp_ledger_t *l)
{
    l->rejected++;
}

/* fp_ledger_record - see fakeportal.h */
int fp_ledger_record(fp_ledger_t *l, const fp_body_t *b, const char *body, size_t len,
                     fp_outcome_t *out)
{
    uint64_t hash = fnv(body, len);
    l->requests++;
    int e = map_get(&l->events_by_id, b->event_id);
    if (e >= 0) {
        /* the pusher may resend after a crash (at least once): the same bytes */
        *out = l->events[e].hash == hash ? FP_RESENT : FP_CHANGED;
        if (*out == FP_RESENT)
            l->resent++;
        else
            l->changed++;
        return 0;
    }
    int d = map_get(&l->dossiers_by_code, b->code);
    if (d < 0) {
        if (grow((void **)&l->dossiers, l->n_dossiers, &l->cap_dossiers, sizeof *l->dossiers) != 0 ||
            map_put(&l->dossiers_by_code, b->code, (int)l->n_dossiers) != 0)
            return -1;
        d = (int)l->n_dossiers++;
        memset(&l->dossiers[d], 0, sizeof l->dossiers[d]);
        snprintf(l->dossiers[d].code, sizeof l->dossiers[d].code, "%s", b->code);
    }
    if (grow((void **)&l->events, l->n_events, &l->cap_events, sizeof *l->events) != 0 ||
        map_put(&l->events_by_id, b->event_id, (int)l->n_events) != 0)
        return -1;
    fp_event_t *ev = &l->events[l->n_events++];
    fp_dossier_t *ds = &l->dossiers[d];
    ev->dossier = d;
    ev->hash = hash;
    ev->kind = kind_slot(l, b->kind);
    ev->expected = false;
    l->received[ev->kind]++;
    /* every earlier request was answered 2xx: seq n + 1 may follow n only */
    *out = FP_NEW;
    if (b->seq > ds->max_seq + 1) {
        l->out_of_order++;
        ds->out_of_order++;
        *out = FP_EARLY;
    }
    if (b->seq > ds->max_seq)
        ds->max_seq = b->seq;
    ds->n_events++;
    return 0;
}

/* fp_ledger_expect - see fakeportal.h */
int fp_ledger_expect(fp_ledger_t *l, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    l->expect = true;
    while (fgets(line, sizeof line, f)) {
        char id[256], kind[64];
        if (sscanf(line, "%255s %63s", id, kind) != 2)
            continue;
        l->store_events++;
        l->stored[kind_slot(l, kind)]++;
        int e = map_get(&l->events_by_id, id);
        if (e < 0 || l->events[e].expected) {
            if (l->missing < FP_NAMED_MAX)
                snprintf(l->missing_ids[l->missing], sizeof l->missing_ids[0], "%s", id);
            l->missing++;
            continue;
        }
        l->events[e].expected = true;
        if (strcmp(l->kinds[l->events[e].kind], kind) != 0)
            l->wrong_kind++;
    }
    int rc = ferror(f) ? -1 : 0;
    fclose(f);
    return rc;
}

/* fp_ledger_summary - see fakeportal.h */
long fp_ledger_summary(fp_ledger_t *l, FILE *out)
{
    long holes = 0, extra = 0;
    for (size_t i = 0; i < l->n_dossiers; i++)
        holes += l->dossiers[i].max_seq - l->dossiers[i].n_events;
    for (size_t i = 0; l->expect && i < l->n_events; i++)
        extra += !l->events[i].expected;
    fprintf(out, "fakeportal: requests=%ld events=%zu dossiers=%zu resent=%ld duplicates=%ld"
                 " out_of_order=%ld holes=%ld rejected=%ld\n",
            l->requests, l->n_events, l->n_dossiers, l->resent, l->changed, l->out_of_order,
            holes, l->rejected);
    if (l->expect)
        fprintf(out, "fakeportal: store_events=%ld missing=%ld extra=%ld wrong_kind=%ld\n",
                l->store_events, l->missing, extra, l->wrong_kind);
    for (int k = 0; k < l->n_kinds; k++) {
        if (l->expect)
            fprintf(out, "fakeportal: kind=%s received=%ld store=%ld\n", l->kinds[k],
                    l->received[k], l->stored[k]);
        else
            fprintf(out, "fakeportal: kind=%s received=%ld\n", l->kinds[k], l->received[k]);
    }
    /* which dossiers and events, a few of each: codes and seqs name no one */
    for (size_t i = 0, named = 0; i < l->n_dossiers && named < FP_NAMED_MAX; i++)
        if (l->dossiers[i].out_of_order || l->dossiers[i].max_seq > l->dossiers[i].n_events) {
            fprintf(out, "fakeportal: dossier=%s out_of_order=%ld holes=%ld\n", l->dossiers[i].code,
                    l->dossiers[i].out_of_order, l->dossiers[i].max_seq - l->dossiers[i].n_events);
            named++;
        }
    for (long i = 0; i < l->missing && i < FP_NAMED_MAX; i++)
        fprintf(out, "fakeportal: missing event_id=%s\n", l->missing_ids[i]);
    long problems = l->changed + l->out_of_order + holes + l->rejected + l->missing + extra +
                    l->wrong_kind;
    fprintf(out, "fakeportal: %s problems=%ld\n", problems ? "FAILED" : "ok", problems);
    return problems;
}
