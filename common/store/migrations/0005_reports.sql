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
ALTER TABLE dossier ADD COLUMN closed_at timestamptz;
UPDATE dossier d
   SET closed_at = greatest(received_at, coalesce(
           d.result_at,
           (SELECT max(e.at) FROM dossier_event e
             WHERE e.dossier_id = d.id AND e.kind IN ('withdrawn', 'refused')),
           now()))
 WHERE state >= 5;
ALTER TABLE dossier ADD CONSTRAINT dossier_closed_after_received
    CHECK (closed_at IS NULL OR closed_at >= received_at);

CREATE FUNCTION mc_dossier_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state >= 5 AND NEW.closed_at IS NULL THEN
        -- clocks of different hosts may disagree by a little: never before receipt
        NEW.closed_at := greatest(coalesce(NEW.result_at, now()), NEW.received_at);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER dossier_closed
    BEFORE INSERT OR UPDATE OF state ON dossier
    FOR EACH ROW EXECUTE FUNCTION mc_dossier_closed();

-- report access paths: received in a period (per ward and province-wide),
-- open at an instant, requests for more documents in a period
CREATE INDEX dossier_received_idx ON dossier (received_at);
CREATE INDEX dossier_ward_received_idx ON dossier (ward_code, received_at);
CREATE INDEX dossier_open_span_idx ON dossier USING gist (tstzrange(received_at, closed_at, '[]'));
CREATE INDEX dossier_event_supplement_idx ON dossier_event (at) WHERE kind = 'supplement_requested';

-- rating_token: the secret in the applicant's rating link. Only someone who
-- received the result notice can rate the dossier; gen_random_uuid() draws
-- from PostgreSQL's strong random source.
ALTER TABLE dossier ADD COLUMN rating_token uuid NOT NULL DEFAULT gen_random_uuid();

-- rating: the applicant's satisfaction (đánh giá mức độ hài lòng), one per
-- dossier. level follows motcua.v1.Satisfaction: 1 very satisfied, 2 satisfied,
-- 3 not satisfied.
CREATE TABLE rating (
    dossier_id  bigint      PRIMARY KEY REFERENCES dossier (id),
    level       smallint    NOT NULL CHECK (level BETWEEN 1 AND 3),
    comment     text        NOT NULL DEFAULT '',
    rated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rating_rated_idx ON rating (rated_at);
