/*
 * mc_store_retention - what `motcua-admin retention` removes from the store
 * (docs/operations.md, "Retention"): expired idempotency keys, and closed
 * dossiers past their keeping time, exported before they are deleted.
 *
 * Contract:
 *   * Every removal runs in batches, each its own short transaction that
 *     locks only the rows it takes (FOR UPDATE SKIP LOCKED): safe while the
 *     daemons run; a kill -9 loses at most the batch in hand, which the next
 *     run takes again.
 *   * A dossier is deleted only in the transaction whose export the caller's
 *     write function made durable (it returned 0 after fsync) before the
 *     delete commits: a dossier is never gone without its line on disk. A
 *     crash between the fsync and the commit leaves the dossier in the store
 *     and its line in that run's file: the next run exports it again (the
 *     archive is keyed by the dossier's code: a later line replaces).
 *   * dry_run counts what a run would remove and changes nothing.
 *   * Run as the schema owner (database.conninfo): only it may delete.
 */
#ifndef MC_STORE_RETENTION_H
#define MC_STORE_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_store.h"

/*
 * mc_store_keys_expire - expire the idempotency keys created before `before`
 * (epoch s), batch at a time, oldest first: a submission's key whose
 * dossier remains becomes a tombstone (stored receipt emptied, fingerprint
 * zeroed: a late retry is refused as a duplicate), every other one is
 * deleted; a lienthong extension key only once its dossier is closed (the
 * DueSoon pass reads it while the dossier runs). *n = keys expired
 * (dry_run: that would be).
 */
mc_store_rc_t mc_store_keys_expire(mc_store_t *store, int64_t before, int batch, bool dry_run,
                                   long *n, mc_err_t *err);

/*
 * mc_store_notifications_pending - for each of ids[0..n) (notification ids),
 * pending[i] = the notification is still to be sent (a spool file of it may
 * be written again); a settled or deleted one is false.
 */
mc_store_rc_t mc_store_notifications_pending(mc_store_t *store, const int64_t *ids, size_t n,
                                             bool *pending, mc_err_t *err);

/* writes n export lines (each one JSON object, no newline) and makes them durable:
 * 0 once fsynced, -1 with err (the batch is then not deleted) */
typedef int (*mc_retention_write_fn)(void *arg, const char *const *lines, size_t n,
                                     mc_err_t *err);

/*
 * mc_store_dossiers_retire - one batch: lock up to batch dossiers closed
 * (RESULT_READY, DELIVERED, WITHDRAWN, REFUSED, RETURNED) before `before`
 * (epoch s), oldest received first; hand their export lines to write; then
 * delete them with everything that hangs on them (events, history, cases,
 * notifications and attempts, rating, portal outbox, keys) and commit.
 * *n = dossiers removed, 0 when none is left. dry_run: *n = every dossier
 * that qualifies, nothing written or locked.
 */
mc_store_rc_t mc_store_dossiers_retire(mc_store_t *store, int64_t before, int batch, bool dry_run,
                                       mc_retention_write_fn write, void *arg, long *n,
                                       mc_err_t *err);

#endif
