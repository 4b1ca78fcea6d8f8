-- motcua:no-transaction
-- 0005_reports: what the periodic reports and the satisfaction survey need.
--
-- closed_at: when the dossier left the open states (result ready, withdrawn,
-- refused). Set by a trigger in the same transaction as the state change, so
-- every writer (router, lienthong, intake) keeps it right without knowing
-- about reports. A dossier received before instant t is still open at t
-- when t lies in [received_at, closed_at] (closed exactly at t counts as
-- open: its closing belongs to the period starting at t). The GiST index
-- below answers that directly, which is what the report's "carried over
-- from the previous period" needs.
--
-- Safe on a large live store (issue 13 point 2: as first written, one
-- transaction held an exclusive lock on dossier for its whole run, 26.8 s at
-- 300,000 dossiers): a `-- motcua:no-transaction` migration, expand/contract.
-- The columns come without a rewrite (closed_at nullable; rating_token
-- nullable, its volatile default set for new rows only), the trigger keeps
-- closed_at right from then on, one batched pass fills both columns for the
-- rows already there (1,000 dossiers a transaction:
-- a writer that wants one of them waits for that short batch only), the check is added NOT
-- VALID then validated (reads and writes go on), NOT NULL is proved by a
-- validated check so SET NOT NULL scans nothing, and the indexes are built
-- concurrently. Each statement is safe to run again after a crash; the schema
-- is the one the single transaction gave.
ALTER TABLE dossier ADD COLUMN IF NOT EXISTS closed_at timestamptz;
ALTER TABLE dossier ADD COLUMN IF NOT EXISTS rating_token uuid;
ALTER TABLE dossier ALTER COLUMN rating_token SET DEFAULT gen_random_uuid();

CREATE OR REPLACE FUNCTION mc_dossier_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state >= 5 AND NEW.closed_at IS NULL THEN
        -- clocks of different hosts may disagree by a little: never before receipt
        NEW.closed_at := greatest(coalesce(NEW.result_at, now()), NEW.received_at);
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER dossier_closed
    BEFORE INSERT OR UPDATE OF state ON dossier
    FOR EACH ROW EXECUTE FUNCTION mc_dossier_closed();

-- the rows already there, by ranges of id: closed_at of the closed ones, a
-- rating_token for every one
-- motcua:batch
WITH batch AS (
    SELECT id FROM dossier WHERE id > $1::bigint ORDER BY id LIMIT 1000
), done AS (
    UPDATE dossier d
       SET rating_token = coalesce(d.rating_token, gen_random_uuid()),
           closed_at = CASE WHEN d.state >= 5 AND d.closed_at IS NULL
               THEN greatest(d.received_at, coalesce(
                   d.result_at,
                   (SELECT max(e.at) FROM dossier_event e
                     WHERE e.dossier_id = d.id AND e.kind IN ('withdrawn', 'refused')),
                   now()))
               ELSE d.closed_at END
      FROM batch b
     WHERE d.id = b.id AND (d.rating_token IS NULL OR (d.state >= 5 AND d.closed_at IS NULL))
    RETURNING 1
)
SELECT (SELECT max(id) FROM batch), (SELECT count(*) FROM done);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'dossier_closed_after_received') THEN
        ALTER TABLE dossier ADD CONSTRAINT dossier_closed_after_received
            CHECK (closed_at IS NULL OR closed_at >= received_at) NOT VALID;
    END IF;
END $$;
ALTER TABLE dossier VALIDATE CONSTRAINT dossier_closed_after_received;

-- rating_token NOT NULL without a scan under the exclusive lock: a validated
-- CHECK (rating_token IS NOT NULL) proves it, then goes
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                    WHERE attrelid = 'dossier'::regclass AND attname = 'rating_token'
                      AND attnotnull)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'dossier_rating_token_set') THEN
        ALTER TABLE dossier ADD CONSTRAINT dossier_rating_token_set
            CHECK (rating_token IS NOT NULL) NOT VALID;
    END IF;
END $$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'dossier_rating_token_set') THEN
        ALTER TABLE dossier VALIDATE CONSTRAINT dossier_rating_token_set;
    END IF;
END $$;
ALTER TABLE dossier ALTER COLUMN rating_token SET NOT NULL;
ALTER TABLE dossier DROP CONSTRAINT IF EXISTS dossier_rating_token_set;

-- report access paths: received in a period (per ward and province-wide),
-- open at an instant, requests for more documents in a period
CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_received_idx ON dossier (received_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_ward_received_idx ON dossier (ward_code, received_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_open_span_idx ON dossier USING gist (tstzrange(received_at, closed_at, '[]'));
CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_event_supplement_idx ON dossier_event (at) WHERE kind = 'supplement_requested';

-- rating_token: the secret in the applicant's rating link. Only someone who
-- received the result notice can rate the dossier; gen_random_uuid() draws
-- from PostgreSQL's strong random source (the column's default above).

-- rating: the applicant's satisfaction (đánh giá mức độ hài lòng), one per
-- dossier. level follows motcua.v1.Satisfaction: 1 very satisfied, 2 satisfied,
-- 3 not satisfied.
CREATE TABLE IF NOT EXISTS rating (
    dossier_id  bigint      PRIMARY KEY REFERENCES dossier (id),
    level       smallint    NOT NULL CHECK (level BETWEEN 1 AND 3),
    comment     text        NOT NULL DEFAULT '',
    rated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rating_rated_idx ON rating (rated_at);
