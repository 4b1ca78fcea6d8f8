-- motcua:no-transaction
-- 0022_stats_indexes: `motcua stats` and `motcua notifications failed`
-- (issue 13 point 3) read only the rows they count.
--
-- The queue view (mc_store_queues.c) already finds the unrouted, waiting
-- and pending-acceptance dossiers by dossier_state_idx, and the queued,
-- sent and acked cases by their partial indexes (0020). What had no index:
--   agency_case_parked_idx (agency, updated_at) WHERE state IN (5, 7)
--       the dead letters (MC_CASE_DEAD) and paused cases (MC_CASE_PAUSED)
--       of each agency: the queue view and stats count them every minute
--   notification_failed_idx (id) WHERE state = 2
--       notifications failed for good (MC_NOTIFICATION_FAILED): the queue
--       view, the failed listing and `notifications retry --all-failed`
--   dossier_result_idx (result_at) WHERE result_at IS NOT NULL
--       results per minute: dossiers whose result came in the last 15
--       minutes (receipts per minute use dossier_received_idx, 0005)
-- Each holds only the rows of its states, so it stays small while the
-- tables grow (dossier_result_idx grows with the results, as
-- dossier_received_idx does with the receipts).
--
-- Locks: built CONCURRENTLY, each statement on its own (the marker above,
-- docs/store.md "Migrations on a live store"), so reads and writes go on
-- while the table is read whole.
CREATE INDEX CONCURRENTLY IF NOT EXISTS agency_case_parked_idx ON agency_case (agency, updated_at) WHERE state IN (5, 7);
CREATE INDEX CONCURRENTLY IF NOT EXISTS notification_failed_idx ON notification (id) WHERE state = 2;
CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_result_idx ON dossier (result_at) WHERE result_at IS NOT NULL;
