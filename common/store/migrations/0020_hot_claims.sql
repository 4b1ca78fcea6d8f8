-- motcua:no-transaction
-- 0020_hot_claims: the two claims that grew with the backlog (issue 11
-- point 2, "indexes that keep the hot paths on a few pages") read only the
-- rows they can claim.
--
-- lienthong's case claim (mc_store_cases.c stmt_claim) wants the oldest
-- QUEUED (1) or due SENT (2) cases of one agency. Its only index was
-- agency_case_queue_idx (agency, state, id) WHERE state IN (1, 2, 3), which
-- also holds every ACKED (3) case, and no index gave `ORDER BY id` within an
-- agency's claimable rows: with statistics taken while a backlog was queued
-- the planner walked the primary key and filtered every row. Now one
-- partial index per state, each holding only that state's rows:
--   agency_case_queued_idx (agency, id) WHERE state = 1  the queue, oldest first
--   agency_case_sent_idx (agency, next_attempt_at) WHERE state = 2
--                        the resends and dead letters that are due (stmt_dead too)
--   agency_case_acked_idx (agency, id) WHERE state = 3   the held cases, for the
--                        DueSoon passes (mc_store_extend.c stmt_rewarnings)
-- and the claim takes its candidates from the first two ranges, each
-- LIMITed, before it locks (FOR UPDATE SKIP LOCKED) the oldest of them.
-- agency_case_queue_idx and agency_case_resend_idx (next_attempt_at, every
-- agency) are dropped: every statement that used them now has a narrower
-- index (the report and the queues view never used them; sessions_resync
-- by agency_case_lease_idx, sessions_expire by the primary key, the
-- step-overdue scan by agency_case_open_due_idx, the rest by case_id or
-- (dossier_id, step), their unique keys). An update that moves a case
-- between these states now touches one of these indexes, not two.
--
-- notify's claim orders by (next_attempt_at, id); notification_pending_idx
-- had next_attempt_at alone, so every due row was read and sorted to return
-- the first few: notification_due_idx (next_attempt_at, id) replaces it.
--
-- Measured (EXPLAIN (ANALYZE, BUFFERS) of the whole claim statement, limit
-- 8, in a transaction rolled back; tests/pgtmp.sh cluster, 1,000,000
-- agency_case rows: 300,000 ACKED of agency A, 100,000 ACKED of B, 600,000
-- DONE, 5 QUEUED and 5 due SENT of A; 1,021,000 notifications of which
-- 1,000 pending and due), the claim's lock CTE alone:
--   before, statistics taken while A's cases were queued (as during a run):
--     primary key walked, 1,000,000 rows filtered: 16,899 buffers, 348 ms
--     (the same with a generic plan of the prepared statement)
--   before, fresh statistics: BitmapOr of the two old indexes: 16 buffers, 0.14 ms
--   after, either statistics, custom or generic plan: 28-34 buffers, 0.12-0.33 ms
--   (the whole statement, with its update and events: 350 ms → 1.5-2 ms)
--   dead-letter pass: 5 buffers (every SENT row of A) → 2
--   notify claim of 32: index scan + sort of all 1,000 due rows, 88 buffers,
--     0.94 ms → index scan of 32 rows, 67 buffers, 0.11 ms
-- How: sh tests/pgtmp.sh start DIR PORT; motcua-admin migrate up to 0019;
-- the rows by INSERT ... SELECT FROM generate_series; for the statistics of
-- a run, UPDATE A's held cases to QUEUED, ANALYZE agency_case, UPDATE them
-- back, VACUUM; then BEGIN; EXPLAIN (ANALYZE, BUFFERS) the statement with its
-- parameters written in; ROLLBACK; the same after this migration.
--
-- Locks: a `-- motcua:no-transaction` migration (issue 13 point 2;
-- docs/operations.md "Migrations"): each index is built CONCURRENTLY and each
-- old one dropped CONCURRENTLY, every statement on its own, so reads and
-- writes of agency_case and notification go on while they build. (Applied
-- in one transaction as first written, each plain CREATE INDEX blocked
-- writes to its table while it built: on the store above 0.2 s + 0.2 s +
-- 0.9 s for agency_case and 0.2 s for notification.) The resulting schema is
-- the same; IF [NOT] EXISTS makes a run cut short safe to repeat.
CREATE INDEX CONCURRENTLY IF NOT EXISTS agency_case_queued_idx ON agency_case (agency, id) WHERE state = 1;
CREATE INDEX CONCURRENTLY IF NOT EXISTS agency_case_sent_idx ON agency_case (agency, next_attempt_at) WHERE state = 2;
CREATE INDEX CONCURRENTLY IF NOT EXISTS agency_case_acked_idx ON agency_case (agency, id) WHERE state = 3;
DROP INDEX CONCURRENTLY IF EXISTS agency_case_queue_idx;
DROP INDEX CONCURRENTLY IF EXISTS agency_case_resend_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS notification_due_idx ON notification (next_attempt_at, id) WHERE state = 0;
DROP INDEX CONCURRENTLY IF EXISTS notification_pending_idx;
