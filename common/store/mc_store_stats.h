/*
 * mc_store_stats - the figures of `motcua stats`, read from the store in
 * one snapshot: the queue view (mc_store_queues, with its age buckets),
 * dossiers by state, and receipts and results over the last minute and
 * the last 15 minutes.
 *
 * Contract:
 *   * mc_store_stats() reads everything in one REPEATABLE READ READ ONLY
 *     transaction (MC_TX_SNAPSHOT_READ_ONLY): every figure is from the same
 *     instant, taken_at (the queue view's). It changes nothing.
 *   * Receipts count dossiers by received_at (dossier_received_idx), results
 *     by result_at (dossier_result_idx, migration 0022), each over
 *     (taken_at - 60 s, taken_at] and (taken_at - 900 s, taken_at].
 *   * Dossiers by state count every dossier (an index-only scan of
 *     dossier_state_idx: the only figure that reads the whole table's
 *     index; the backlog figures read their partial indexes only).
 *   * Never logs; nothing it reads is personal data.
 */
#ifndef MC_STORE_STATS_H
#define MC_STORE_STATS_H

#include <stdint.h>

#include "mc_err.h"
#include "mc_store.h"
#include "mc_store_queues.h"

/* dossier.state runs from 1 to below this (mc_states.h, MC_DOSSIER_*) */
#define MC_STATS_DOSSIER_STATES 11

/* the figures of one snapshot */
typedef struct mc_stats {
    mc_queues_t queues;                            /* the queue view (lines, sessions, in_flight, taken_at) */
    long        dossiers[MC_STATS_DOSSIER_STATES]; /* dossiers by state number (0 unused) */
    long        receipts_1m;                       /* dossiers received in the last minute */
    long        receipts_15m;                      /* ... in the last 15 minutes */
    long        results_1m;                        /* results ready in the last minute */
    long        results_15m;                       /* ... in the last 15 minutes */
} mc_stats_t;

/* mc_store_stats - the figures in one snapshot; *out set on OK (free with mc_stats_destroy) */
mc_store_rc_t mc_store_stats(mc_store_t *store, mc_stats_t **out, mc_err_t *err);

/* mc_stats_destroy - free and NULL the caller's pointer */
void mc_stats_destroy(mc_stats_t **stats);

#endif
