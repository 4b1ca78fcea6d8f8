-- motcua:no-transaction
-- 0023_retention: what `motcua-admin retention` needs (issue 13 point 6,
-- docs/operations.md "Retention"), and the queue tables tuned for HOT
-- updates.
--
-- 1. A late retry of a submission whose idempotency key has expired.
-- The key (idempotency_key: the stored receipt, with the applicant's name
-- and address) is emptied after retention.key_days, not deleted, while its
-- dossier stays (mc_store_retention.c): request_sha256 becomes 32 zero
-- bytes and response '' (a tombstone without personal data). A retry then
-- finds the key as mc_reserve_code always did, as a used key whose
-- fingerprint matches no request: intake rejects it with
-- REASON_DUPLICATE_SUBMISSION (field submission_id, not retryable), no
-- number is taken, nothing is written. Without it the retry would take a
-- number and fail on UNIQUE (ward_code, submission_id): REASON_INTERNAL,
-- "retry", for ever. A replay is impossible (the receipt is gone on
-- purpose) and a second dossier would be a second application. The
-- tombstone goes with its dossier. (A first version of this migration
-- looked the dossier up in mc_reserve_code instead: with no statistics yet
-- the planner read that lookup through dossier_ward_received_idx, every
-- dossier of the ward per receipt, and intake fell from ~800 to ~460
-- receipts/s on a store filling up: measured with make bench.)
-- Sections 3 and 4 are one transaction (BEGIN ... COMMIT below); the
-- indexes of section 2 are built CONCURRENTLY after it.
BEGIN;

-- 2. Expiry of keys in batches, oldest first, without reading the table:
-- created_at is written once and never updated (no effect on HOT), and
-- intake's insert adds to the index's rightmost page.
-- idempotency_key_created_idx, built CONCURRENTLY at the end of this file.

-- The export and the delete read a dossier's notifications by dossier_id,
-- which no index had (only dedupe_key and the pending queue): without one,
-- each retired batch would read the whole table. dossier_id is never
-- updated (no effect on HOT): notification_dossier_idx, built CONCURRENTLY
-- at the end of this file.

-- 3. The history is evidence and stays append-only, except for the one
-- transaction that removes a dossier whose keeping time has run out, after
-- its export was written and fsynced (mc_store_retention.c sets
-- motcua.retention = 'purge' with SET LOCAL, for that transaction only).
-- Only the schema owner can delete from these tables at all (0009).
CREATE OR REPLACE FUNCTION mc_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('motcua.retention', true) = 'purge' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'dossier_event is append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE OR REPLACE FUNCTION mc_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('motcua.retention', true) = 'purge' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

-- 4. Room on each page for the new version of a row updated in place, so
-- an update that changes no indexed column stays on its page (a HOT update:
-- no index entry, no page split). ALTER TABLE ... SET (fillfactor) only
-- changes the catalog (SHARE UPDATE EXCLUSIVE: reads and writes go on) and
-- applies to pages written from now on; existing pages keep theirs until
-- rewritten (VACUUM FULL / pg_repack, not needed).
-- What can be HOT, measured with pg_stat_user_tables on a `make demo` run
-- before and after (docs/operations.md, "Retention": the figures): state
-- changes are not, on any of these tables, because `state` is in the
-- predicate of their partial queue indexes (agency_case_queued/sent/
-- acked_idx, notification_due_idx, portal_outbox_due_idx/head_idx, the
-- dossier's partial due indexes) or a key column (dossier_state_idx,
-- the router's claim): those indexes are what the claims read, so they
-- stay; nor is a claim's lease, written into next_attempt_at, a key column
-- of agency_case_sent_idx, notification_due_idx and portal_outbox_due_idx.
-- What is HOT is the rest: the dossier's updates that keep its state
-- (warned, forwarded, late notice: 11 % -> 14 % of the dossier's updates
-- on the demo), agency sessions, counters, attempts.
ALTER TABLE agency_case SET (fillfactor = 85);
ALTER TABLE notification SET (fillfactor = 85);
ALTER TABLE portal_outbox SET (fillfactor = 85);
ALTER TABLE dossier SET (fillfactor = 90);
COMMIT;

-- The two indexes, each built CONCURRENTLY on its own (reads and writes go
-- on while the tables are read whole; docs/store.md "Migrations on a live
-- store").
CREATE INDEX CONCURRENTLY IF NOT EXISTS idempotency_key_created_idx ON idempotency_key (created_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS notification_dossier_idx ON notification (dossier_id);
