-- 0024_failover_codes: dossier codes that are never handed out twice, even
-- across a failover (issue 14 point 2, docs/reliability.md "Several hosts:
-- failover").
--
-- With synchronous replication a receipt leaves intake only after its
-- counter increment reached a standby, so a promoted standby has it. This
-- is the defence that does not rely on that (an asynchronous standby
-- promoted by mistake, a point-in-time recovery): the store notes the
-- primary's timeline (a promotion or a recovery always starts a new one);
-- intake, on each new connection, calls mc_follow_timeline, and when the
-- timeline is not the one noted, every counter that can still hand out
-- codes (yesterday, today and later: the day is in the code; days before
-- never take a number again) moves forward by intake.code_gap_after_failover
-- in the same transaction that notes the new timeline, before intake
-- numbers anything. Units that had a counter then get today's and
-- tomorrow's too, so a counter row lost with the old primary cannot restart
-- at 1. The numbers skipped are gaps in the day's sequence, never a second
-- dossier under a printed code.
-- Second, mc_reserve_code skips a number whose code a dossier already has
-- (a counter restored from an old backup, edited by hand): a unique-index
-- probe on (unit_id, receipt_day, seq) per receipt; a code whose dossier
-- retention removed is never reached again, since counters only grow and
-- retention keeps them.
-- Safe on a live store: a small new table, functions replaced in place
-- (short catalog locks; their grants stay).

CREATE TABLE IF NOT EXISTS store_timeline (
    id        boolean     PRIMARY KEY DEFAULT true CHECK (id), -- one row
    timeline  bigint      NOT NULL,                            -- the primary's WAL timeline noted last
    noted_at  timestamptz NOT NULL DEFAULT now()               -- when it was noted (or changed)
);

-- mc_follow_timeline: note the primary's timeline; when it differs from the
-- one noted, move the live counters forward by p_gap (moved = rows moved).
-- Concurrent callers (every intake worker connects) serialise on the row.
-- On a standby: nothing (NULLs).
CREATE OR REPLACE FUNCTION mc_follow_timeline(p_gap integer,
                                              OUT timeline bigint, OUT previous bigint,
                                              OUT moved integer)
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    moved := 0;
    IF pg_is_in_recovery() THEN
        RETURN;
    END IF;
    -- the first 8 hex digits of a WAL file name are its timeline; the
    -- current insert LSN's file is on the timeline being written
    timeline := ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint;
    INSERT INTO store_timeline AS s (id, timeline) VALUES (true, mc_follow_timeline.timeline)
        ON CONFLICT (id) DO NOTHING;
    SELECT s.timeline INTO previous FROM store_timeline s WHERE s.id FOR UPDATE;
    IF previous = timeline OR p_gap <= 0 THEN
        RETURN;
    END IF;
    INSERT INTO dossier_code_counter AS c (unit_id, day, last_seq)
         SELECT u.unit_id, d.day, p_gap
           FROM (SELECT DISTINCT k.unit_id FROM dossier_code_counter k
                  WHERE k.day >= current_date - 31) u
          CROSS JOIN (VALUES (current_date), (current_date + 1)) AS d (day)
    ON CONFLICT (unit_id, day) DO NOTHING;
    UPDATE dossier_code_counter c SET last_seq = c.last_seq + p_gap
     WHERE c.day >= current_date - 1;
    GET DIAGNOSTICS n = ROW_COUNT;
    moved := n;
    UPDATE store_timeline s SET timeline = mc_follow_timeline.timeline, noted_at = now()
     WHERE s.id;
END $$;

-- mc_reserve_code (0001): the same, skipping numbers whose code is taken
CREATE OR REPLACE FUNCTION mc_reserve_code(p_scope text, p_key text, p_unit text, p_day date,
                                           OUT seq integer, OUT request_sha256 bytea,
                                           OUT response bytea)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT k.request_sha256, k.response INTO request_sha256, response
      FROM idempotency_key k WHERE k.scope = p_scope AND k.key = p_key;
    IF FOUND THEN
        seq := NULL;
        RETURN;
    END IF;
    LOOP
        INSERT INTO dossier_code_counter AS c (unit_id, day, last_seq) VALUES (p_unit, p_day, 1)
            ON CONFLICT (unit_id, day) DO UPDATE SET last_seq = c.last_seq + 1
            RETURNING c.last_seq INTO seq;
        EXIT WHEN NOT EXISTS (SELECT 1 FROM dossier d
                               WHERE d.unit_id = p_unit AND d.receipt_day = p_day
                                 AND d.seq = mc_reserve_code.seq);
    END LOOP;
END $$;

REVOKE EXECUTE ON FUNCTION mc_follow_timeline(integer) FROM PUBLIC;
DO $$
BEGIN
    -- the roles exist where 0009 ran as a role administrator; a store
    -- without them (a single login) needs no grants
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'motcua_intake') THEN
        GRANT EXECUTE ON FUNCTION mc_follow_timeline(integer) TO motcua_intake;
        GRANT SELECT, INSERT, UPDATE ON store_timeline TO motcua_intake;
    END IF;
END $$;
