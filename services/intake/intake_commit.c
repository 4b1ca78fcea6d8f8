/*
 * intake_commit - group commit of new dossiers (see intake.h).
 *
 * Contract: one committer thread per daemon owns one mc_store_t. A worker
 * hands it a prepared dossier (intake_commit_submit) and sleeps; the
 * committer takes every dossier waiting at that moment (at most
 * INTAKE_COMMIT_MAX), receives them in ONE transaction
 * (mc_store_create_dossiers: one synchronous commit, one WAL flush) and
 * wakes each worker with its own result. So a receipt still leaves only
 * after the commit of its dossier, its code, its event, its notification
 * and its key; while one batch commits, the next one gathers. A dossier
 * that fails is received again alone by the store and fails alone.
 *
 * Workers' dossiers live on the workers' stacks: a worker does not return
 * from intake_commit_submit before its result is set, so the committer may
 * use them (and their pack callback) until it sets `done`.
 */
#include "intake.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mc_log.h"
#include "mc_time.h"

#ifndef INTAKE_COMMIT_MAX
#define INTAKE_COMMIT_MAX 64 /* dossiers in one transaction at most (also the workers' cap, 64) */
#endif

/* one worker's dossier waiting for the committer */
typedef struct intake_commit_item {
    mc_new_dossier_t          *dossier; /* the worker's prepared dossier (its stack) */
    mc_new_dossier_result_t   *result;  /* where its outcome goes (the worker's stack) */
    bool                       done;    /* result is set: the worker may go on */
    struct intake_commit_item *next;    /* the next waiting item, in arrival order */
} intake_commit_item_t;

struct intake_committer {
    int                   reconnect_ms;  /* intake.reconnect_ms (a copy: a reload frees the cfg) */
    mc_store_t           *store;        /* the committer's own connection */
    pthread_t             thread;       /* the committer thread */
    bool                  started;      /* thread was created */
    pthread_mutex_t       lock;         /* guards everything below */
    pthread_cond_t        wake;         /* the committer: an item arrived, or stop */
    pthread_cond_t        done;         /* the workers: a batch ended */
    intake_commit_item_t *head;         /* waiting items, oldest first */
    intake_commit_item_t *tail;         /* the newest waiting item */
    bool                  stopping;     /* destroy: finish what waits, then exit */
    int64_t               next_connect; /* monotonic ms before which a lost store is not retried */
};

/* same_key - do two dossiers carry the same idempotency key? */
static bool same_key(const mc_new_dossier_t *a, const mc_new_dossier_t *b)
{
    return strcmp(a->key, b->key) == 0 && strcmp(a->scope, b->scope) == 0;
}

/* take_batch - unlink up to max waiting items into batch, oldest first; the
 * count. An item whose key is already in the batch (a client's retry sent
 * while its first attempt waits) stays queued for the next batch, where it
 * finds the key committed and gets the stored receipt: within one call the
 * store would take a number for each (mc_store_create_dossiers). */
static size_t take_batch(intake_committer_t *c, intake_commit_item_t **batch, size_t max)
{
    size_t n = 0;
    intake_commit_item_t **link = &c->head;
    c->tail = NULL;
    while (*link) {
        intake_commit_item_t *it = *link;
        bool repeat = false;
        for (size_t i = 0; i < n && !repeat; i++)
            repeat = same_key(batch[i]->dossier, it->dossier);
        if (n < max && !repeat) {
            batch[n++] = it;
            *link = it->next; /* unlinked */
            it->next = NULL;
        } else {
            c->tail = it; /* stays, in order */
            link = &it->next;
        }
    }
    return n;
}

/* commit_batch - one transaction for the batch; each item's result set */
static void commit_batch(intake_committer_t *c, intake_commit_item_t **batch, size_t n)
{
    mc_new_dossier_t items[INTAKE_COMMIT_MAX];
    mc_new_dossier_result_t results[INTAKE_COMMIT_MAX];
    memset(results, 0, sizeof results);
    for (size_t i = 0; i < n; i++)
        items[i] = *batch[i]->dossier;
    mc_err_t err;
    mc_err_clear(&err);
    mc_store_rc_t rc;
    int64_t started = mc_time_mono_ms();
    if (!mc_store_connected(c->store) && started < c->next_connect) {
        rc = MC_STORE_UNAVAILABLE; /* answer at once instead of stalling on connect */
        for (size_t i = 0; i < n; i++)
            results[i].rc = rc;
        mc_err_add(&err, "store: not connected (reconnect after intake.reconnect_ms)");
    } else {
        rc = mc_store_create_dossiers(c->store, items, n, results, &err);
        if (rc == MC_STORE_UNAVAILABLE && !mc_store_connected(c->store)) /* tried and lost */
            c->next_connect = mc_time_mono_ms() + c->reconnect_ms;
    }
    if (rc != MC_STORE_OK)
        mc_log_error(rc == MC_STORE_UNAVAILABLE ? MC_LOG_WARNING : MC_LOG_ERR, "batch_error",
                     &err, "items=%zu rc=%d", n, (int)rc);
    else
        mc_log(MC_LOG_DEBUG, "batch_committed", "items=%zu ms=%lld", n,
               (long long)(mc_time_mono_ms() - started));
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < n; i++) {
        *batch[i]->result = results[i]; /* the worker owns existing's bytes now */
        batch[i]->dossier->code = items[i].code;
        batch[i]->dossier->response = items[i].response;
        batch[i]->dossier->response_len = items[i].response_len;
        batch[i]->done = true;
    }
    pthread_cond_broadcast(&c->done);
    pthread_mutex_unlock(&c->lock);
}

/* committer_main - gather what waits, commit it, wake its workers; until stopped and idle */
static void *committer_main(void *arg)
{
    intake_committer_t *c = arg;
    intake_commit_item_t *batch[INTAKE_COMMIT_MAX];
    for (;;) {
        pthread_mutex_lock(&c->lock);
        while (!c->head && !c->stopping)
            pthread_cond_wait(&c->wake, &c->lock);
        size_t n = take_batch(c, batch, INTAKE_COMMIT_MAX);
        pthread_mutex_unlock(&c->lock);
        if (n == 0)
            break; /* stopping and nothing waits */
        commit_batch(c, batch, n);
    }
    return NULL;
}

/* intake_committer_new - the committer thread and its store (connected on first use) */
intake_committer_t *intake_committer_new(const mc_cfg_t *cfg, mc_err_t *err)
{
    intake_committer_t *c = calloc(1, sizeof *c);
    if (!c) {
        mc_err_add(err, "intake: out of memory");
        return NULL;
    }
    c->reconnect_ms = cfg->intake.reconnect_ms;
    c->store = mc_store_new(cfg->conninfo, cfg->connect_timeout_s, cfg->statement_timeout_ms);
    mc_store_set_tcp(c->store, &cfg->db_tcp);
    mc_store_set_code_gap(c->store, cfg->code_gap); /* before any number */
    if (!c->store) {
        free(c);
        mc_err_add(err, "intake: out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->done, NULL);
    if (pthread_create(&c->thread, NULL, committer_main, c) != 0) {
        mc_err_add(err, "intake: cannot start the committer");
        intake_committer_destroy(&c);
        return NULL;
    }
    c->started = true;
    return c;
}

/* intake_commit_submit - queue d, sleep until its transaction ended; the outcome in *r */
void intake_commit_submit(intake_committer_t *c, mc_new_dossier_t *d, mc_new_dossier_result_t *r)
{
    intake_commit_item_t item = {.dossier = d, .result = r};
    pthread_mutex_lock(&c->lock);
    if (c->stopping) { /* invariant: workers stop before the committer */
        pthread_mutex_unlock(&c->lock);
        memset(r, 0, sizeof *r);
        r->rc = MC_STORE_UNAVAILABLE;
        return;
    }
    if (c->tail)
        c->tail->next = &item;
    else
        c->head = &item;
    c->tail = &item;
    pthread_cond_signal(&c->wake);
    while (!item.done)
        pthread_cond_wait(&c->done, &c->lock);
    pthread_mutex_unlock(&c->lock);
}

/* intake_committer_destroy - commit what waits, stop the thread, free, NULL */
void intake_committer_destroy(intake_committer_t **committer)
{
    if (!committer || !*committer)
        return;
    intake_committer_t *c = *committer;
    if (c->started) {
        pthread_mutex_lock(&c->lock);
        c->stopping = true;
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
    }
    mc_store_destroy(&c->store);
    pthread_cond_destroy(&c->done);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
    *committer = NULL;
}
