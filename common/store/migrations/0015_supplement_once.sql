-- motcua:no-transaction
-- 0015_supplement_once: one request for more documents per dossier, then
-- closure (issue 12 point 3; Nghị định 118/2025; docs/rules.md "One
-- supplement request, then return").
--
--   supplement_requests  how many NEEDS_DOCUMENTS results were accepted for
--                        the dossier (0 or 1: lienthong refuses a second one
--                        with REASON_SUPPLEMENT_ALREADY_REQUESTED);
--   supplement_due_at    the last moment to supplement (now + rules.supplement_days
--                        working days when the request was accepted);
--   returned_at          when the router closed the dossier as RETURNED (10)
--                        because the supplement did not come in time.
--
-- Safe on a large live store: the columns have a constant default or none
-- (no table rewrite), the backfill touches only the dossiers waiting for a
-- supplement, and the one new index is partial on that small set.
--
-- States (motcua.v1.DossierState): 4 WAITING_SUPPLEMENT, 10 RETURNED; case
-- states (mc_store_cases.h): 0 planned, 1 queued, 2 sent, 3 acked,
-- 6 cancelled, 7 paused.
BEGIN;
ALTER TABLE dossier ADD COLUMN IF NOT EXISTS supplement_requests smallint NOT NULL DEFAULT 0;
ALTER TABLE dossier ADD COLUMN IF NOT EXISTS supplement_due_at timestamptz;
ALTER TABLE dossier ADD COLUMN IF NOT EXISTS returned_at timestamptz;



-- mc_cases_return - after the router returned the dossier (state RETURNED):
-- every open step of that dossier (planned, queued, sent, acked, paused) is
-- cancelled, exactly as mc_cases_cancel does after a withdrawal (0010). The
-- router holds no UPDATE on agency_case's state, so this is a function with
-- the migration owner's rights. Returns the steps cancelled.
CREATE OR REPLACE FUNCTION mc_cases_return(p_dossier bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE agency_case a
       SET state = 6, next_attempt_at = NULL, updated_at = now()
     WHERE a.dossier_id = p_dossier AND a.state IN (0, 1, 2, 3, 7)
       AND EXISTS (SELECT 1 FROM dossier d WHERE d.id = p_dossier AND d.state = 10);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION mc_cases_return(bigint) SECURITY DEFINER'
                   ' SET search_path = %I, pg_temp', current_schema());
END $$;
REVOKE EXECUTE ON FUNCTION mc_cases_return(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mc_cases_return(bigint) TO motcua_router;

-- lienthong counts the request and sets its deadline with the result; the
-- router closes the dossier; reads follow the table grants of 0009
GRANT UPDATE (supplement_requests, supplement_due_at) ON dossier TO motcua_lienthong;
GRANT UPDATE (returned_at) ON dossier TO motcua_router;

-- the portal's name of the new state (docs/portal.md). 9 is
-- PENDING_ACCEPTANCE (migration 0013, issue 12 point 1): named here too, so
-- whichever of 0013 and 0015 replaces this function last knows both.
CREATE OR REPLACE FUNCTION mc_portal_state_name(s smallint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE s WHEN 1 THEN 'RECEIVED' WHEN 2 THEN 'ROUTED' WHEN 3 THEN 'IN_PROGRESS'
                  WHEN 4 THEN 'WAITING_SUPPLEMENT' WHEN 5 THEN 'RESULT_READY'
                  WHEN 6 THEN 'DELIVERED' WHEN 7 THEN 'WITHDRAWN' WHEN 8 THEN 'REFUSED'
                  WHEN 9 THEN 'PENDING_ACCEPTANCE' WHEN 10 THEN 'RETURNED'
                  ELSE 'UNSPECIFIED' END
$$;
COMMIT;

-- dossiers waiting for a supplement when this runs had their one request:
-- they get the count and a deadline. The working-day calendar lives in
-- calendar.yaml, not in SQL, so the deadline is 21 calendar days from the
-- request (15 working days are 21 calendar days outside holidays): never
-- earlier than the applicant could expect. Outside the transaction, in
-- batches of 5,000 dossiers by id (no exclusive lock while it scans, each
-- row locked only for its batch), and safe to repeat.
-- motcua:batch
WITH batch AS (
    SELECT id, state, supplement_requests, supplement_due_at
      FROM dossier WHERE id > $1::bigint ORDER BY id LIMIT 5000
), done AS (
    -- the batch's own columns pick the rows, so the plan walks the batch by
    -- primary key instead of fetching every waiting dossier per batch
    UPDATE dossier d
       SET supplement_requests = 1,
           supplement_due_at = coalesce(d.paused_at, now()) + interval '21 days'
      FROM batch b
     WHERE d.id = b.id AND b.state = 4 AND b.supplement_requests = 0
       AND b.supplement_due_at IS NULL
       AND d.state = 4 AND d.supplement_requests = 0 AND d.supplement_due_at IS NULL
    RETURNING 1
)
SELECT (SELECT max(id) FROM batch), (SELECT count(*) FROM done);

-- outside the transaction: built without blocking writes (issue 13 point 2)
-- the closure scan: waiting dossiers by their deadline
CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_supplement_due_idx ON dossier (supplement_due_at) WHERE state = 4;
-- the report's refused second requests in a period
CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_event_supplement_refused_idx ON dossier_event (at)
    WHERE kind = 'supplement_refused';
