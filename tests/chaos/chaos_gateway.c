/*
 * chaos_gateway - a fake HTTP SMS gateway for the chaos test, on
 * 127.0.0.1 in its own thread.
 *
 * Contract: accepts POSTs (one per connection, answered with
 * "Connection: close"), identifies each message by its Idempotency-Key
 * header, else the body's "ref", else the whole body (a client with no key
 * cannot be deduplicated: the same body twice is two SMS). A keyed message
 * is delivered once however often it is posted; every POST is counted.
 * While told to fail, it answers 500: the first half of the window before
 * delivering (the send failed), the second half after (the answer was
 * lost: the retry must not make a second SMS).
 */
#include "chaos.h"
#include "http_fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one message the gateway has seen */
typedef struct gw_ref {
    char   *key;        /* idempotency key, ref, or body */
    bool    keyed;      /* key came from the client (header or ref) */
    int64_t note_id;    /* notification id the key names, 0 if none */
    long    posts;      /* POSTs with this key */
    long    delivered;  /* times handed on */
} gw_ref_t;

struct chaos_gateway {
    http_fake_t    *http;        /* the server (http_fake.c), its thread calls serve_one */
    pthread_mutex_t lock;        /* guards everything below */
    int64_t         fail_from;   /* failing window start (ms) */
    int64_t         fail_until;  /* ... end */
    gw_ref_t       *refs;        /* every message seen */
    size_t          n_refs, cap_refs;
    long            posts, failed_answers;
};

/* find_ref - the entry for key, made when new; NULL on OOM */
static gw_ref_t *find_ref(chaos_gateway_t *g, const char *key, bool keyed)
{
    for (size_t i = 0; i < g->n_refs; i++)
        if (strcmp(g->refs[i].key, key) == 0)
            return &g->refs[i];
    if (g->n_refs == g->cap_refs) {
        size_t cap = g->cap_refs ? g->cap_refs * 2 : 1024;
        gw_ref_t *grown = realloc(g->refs, cap * sizeof *grown);
        if (!grown)
            return NULL;
        g->refs = grown;
        g->cap_refs = cap;
    }
    gw_ref_t *r = &g->refs[g->n_refs];
    memset(r, 0, sizeof *r);
    r->key = strdup(key);
    if (!r->key)
        return NULL;
    r->keyed = keyed;
    /* "motcua-<id>" or a bare id names the notification */
    const char *digits = strncmp(key, "motcua-", 7) == 0 ? key + 7 : key;
    char *end = NULL;
    long long id = keyed ? strtoll(digits, &end, 10) : 0;
    r->note_id = keyed && end && *end == '\0' && id > 0 ? id : 0;
    g->n_refs++;
    return r;
}

/* json_ref - the "ref" member of a flat JSON object (string or number), into out */
static bool json_ref(const char *body, char *out, size_t size)
{
    const char *p = strstr(body, "\"ref\"");
    if (!p)
        return false;
    p += 5;
    p += strspn(p, " \t:");
    if (*p == '"')
        p++;
    size_t len = strcspn(p, "\",} \t");
    if (len == 0)
        return false;
    snprintf(out, size, "%.*s", (int)(len < size ? len : size - 1), p);
    return true;
}

/* serve_one - one request (http_fake handler): decide, record, answer */
static void serve_one(void *ctx, int fd, const char *head, char *body, size_t body_len)
{
    chaos_gateway_t *g = ctx;
    (void)body_len;
    char key[512];
    bool keyed = http_fake_header(head, "Idempotency-Key", key, sizeof key) ||
                 json_ref(body, key, sizeof key);
    int64_t now = harness_now_ms();
    pthread_mutex_lock(&g->lock);
    gw_ref_t *r = find_ref(g, keyed ? key : body, keyed);
    bool failing = now >= g->fail_from && now < g->fail_until;
    bool deliver_first = failing && now >= (g->fail_from + g->fail_until) / 2;
    int status = 200;
    g->posts++;
    if (r) {
        r->posts++;
        if (!failing || deliver_first) {
            /* a keyed message goes to the phone once; an unkeyed one every time */
            if (!r->keyed || r->delivered == 0)
                r->delivered++;
        }
    }
    if (failing || !r) {
        status = 500;
        g->failed_answers++;
    }
    pthread_mutex_unlock(&g->lock);
    /* a client that went away will retry */
    (void)http_fake_answer(fd, status, "application/json",
                           status == 200 ? "{\"ok\": true}\n" : "{\"ok\": false}\n");
}

/* chaos_gateway_start - listen on a free port and serve in a thread */
chaos_gateway_t *chaos_gateway_start(int *port)
{
    chaos_gateway_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    pthread_mutex_init(&g->lock, NULL);
    g->http = http_fake_start(0, serve_one, g);
    if (!g->http) {
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
    }
    *port = http_fake_port(g->http);
    return g;
}

/* chaos_gateway_fail - a failing window from now */
void chaos_gateway_fail(chaos_gateway_t *g, int ms)
{
    pthread_mutex_lock(&g->lock);
    g->fail_from = harness_now_ms();
    g->fail_until = g->fail_from + ms;
    pthread_mutex_unlock(&g->lock);
}

/* chaos_gateway_stats - the counters, duplicates included */
void chaos_gateway_stats(chaos_gateway_t *g, chaos_gateway_stats_t *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&g->lock);
    out->posts = g->posts;
    out->failed_answers = g->failed_answers;
    out->refs = (long)g->n_refs;
    for (size_t i = 0; i < g->n_refs; i++) {
        const gw_ref_t *r = &g->refs[i];
        out->deliveries += r->delivered;
        out->keyed += r->keyed;
        if (r->delivered > 1)
            out->duplicate += r->delivered - 1;
        /* one notification delivered under a second key */
        for (size_t j = 0; r->note_id && r->delivered && j < i; j++)
            if (g->refs[j].note_id == r->note_id && g->refs[j].delivered) {
                out->duplicate++;
                break;
            }
    }
    pthread_mutex_unlock(&g->lock);
}

/* chaos_gateway_delivered - by notification id */
int chaos_gateway_delivered(chaos_gateway_t *g, int64_t id)
{
    int found = -1;
    pthread_mutex_lock(&g->lock);
    for (size_t i = 0; i < g->n_refs; i++) {
        if (g->refs[i].note_id == 0)
            continue;
        if (found < 0)
            found = 0;
        if (g->refs[i].note_id == id && g->refs[i].delivered) {
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&g->lock);
    return found;
}

/* chaos_gateway_stop - join and free */
void chaos_gateway_stop(chaos_gateway_t **gp)
{
    if (!gp || !*gp)
        return;
    chaos_gateway_t *g = *gp;
    http_fake_stop(&g->http);
    for (size_t i = 0; i < g->n_refs; i++)
        free(g->refs[i].key);
    free(g->refs);
    pthread_mutex_destroy(&g->lock);
    free(g);
    *gp = NULL;
}
