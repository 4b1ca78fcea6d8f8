-- motcua:no-transaction
-- 0013_acceptance: online dossiers wait for the desk's acceptance (issue 12
-- point 1; Nghị định 118/2025 Điều 17 khoản 2-3, docs/rules.md "Online
-- acceptance"). An online submission is stored PENDING_ACCEPTANCE (9) with
-- the 8-working-hour deadline accept_due_at and no counted_from / due_at:
-- the processing time runs only from acceptance. The router gives it an
-- acceptance case (agency_case step 0, for the handling desk); the desk's
-- APPROVED sets accepted_at, counted_from, due_at and RECEIVED (1), and the
-- dossier is routed like a counter one.
--
-- Safe on a large live store: new nullable columns without defaults,
-- DROP NOT NULL and a NOT VALID check are catalog-only changes; the one new
-- index is partial (pending dossiers only), so it stays small.

BEGIN;
ALTER TABLE dossier ADD COLUMN IF NOT EXISTS accept_due_at timestamptz; -- online: acceptance due (8 working hours)
ALTER TABLE dossier ADD COLUMN IF NOT EXISTS accepted_at timestamptz;   -- online: when the desk accepted it
-- a pending online dossier has no processing time running yet
ALTER TABLE dossier ALTER COLUMN counted_from DROP NOT NULL;
ALTER TABLE dossier ALTER COLUMN due_at DROP NOT NULL;
-- the history (0008) keeps the values before each change: a pending dossier's too
ALTER TABLE dossier_history ALTER COLUMN counted_from DROP NOT NULL;
ALTER TABLE dossier_history ALTER COLUMN due_at DROP NOT NULL;

-- step 0 is the acceptance case ("<code>/0"); steps 1..n as before
ALTER TABLE agency_case DROP CONSTRAINT IF EXISTS agency_case_step_check,
    ADD CONSTRAINT agency_case_step_check CHECK (step >= 0) NOT VALID;

-- mc_create_dossier: as in 0012, plus the state the dossier starts in and
-- its acceptance deadline. A PENDING_ACCEPTANCE (9) dossier's first event
-- is `submitted` and its notification `submitted` (data: accept_due_at, so
-- the notice can state the deadline); every other dossier starts RECEIVED
-- with `received` as before. The 18-argument version stays for a binary of
-- the previous release during an upgrade.
CREATE OR REPLACE FUNCTION mc_create_dossier(
    p_scope text, p_key text, p_sha bytea, p_code text, p_ward text, p_unit text,
    p_day date, p_seq integer, p_procedure text, p_channel smallint,
    p_received timestamptz, p_counted timestamptz, p_due timestamptz,
    p_payload bytea, p_response bytea, p_actor text, p_detail text, p_secret uuid,
    p_state smallint, p_accept_due timestamptz,
    OUT created boolean, OUT dossier_id bigint, OUT request_sha256 bytea, OUT response bytea)
LANGUAGE plpgsql AS $$
DECLARE
    first_kind text := CASE WHEN p_state = 9 THEN 'submitted' ELSE 'received' END;
BEGIN
    INSERT INTO idempotency_key (scope, key, request_sha256, response)
         VALUES (p_scope, p_key, p_sha, p_response)
    ON CONFLICT (scope, key) DO NOTHING;
    IF NOT FOUND THEN
        SELECT false, k.dossier_id, k.request_sha256, k.response
          INTO created, dossier_id, request_sha256, response
          FROM idempotency_key k WHERE k.scope = p_scope AND k.key = p_key;
        RETURN;
    END IF;
    INSERT INTO dossier (code, ward_code, unit_id, receipt_day, seq, procedure_code, channel,
                         state, received_at, counted_from, due_at, accept_due_at,
                         submission_id, payload, rating_token)
         VALUES (p_code, p_ward, p_unit, p_day, p_seq, p_procedure, p_channel,
                 p_state, p_received, p_counted, p_due, p_accept_due,
                 p_key, p_payload, p_secret)
      RETURNING id INTO dossier_id;
    INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)
         VALUES (dossier_id, p_received, p_actor, first_kind, p_detail);
    INSERT INTO notification (dossier_id, kind, dedupe_key, data)
         VALUES (dossier_id, first_kind, p_code || '/' || first_kind,
                 CASE WHEN p_state = 9
                      THEN jsonb_build_object('accept_due_at', extract(epoch FROM p_accept_due)::bigint)
                      ELSE '{}'::jsonb END);
    UPDATE idempotency_key SET dossier_id = mc_create_dossier.dossier_id
     WHERE scope = p_scope AND key = p_key;
    created := true;
    request_sha256 := p_sha;
    response := p_response;
END $$;
REVOKE EXECUTE ON FUNCTION mc_create_dossier(text, text, bytea, text, text, text, date, integer,
    text, smallint, timestamptz, timestamptz, timestamptz, bytea, bytea, text, text, uuid,
    smallint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mc_create_dossier(text, text, bytea, text, text, text, date, integer,
    text, smallint, timestamptz, timestamptz, timestamptz, bytea, bytea, text, text, uuid,
    smallint, timestamptz) TO motcua_intake;

-- mc_cases_resume (0010): a supplement also resumes a paused ACCEPTANCE
-- case; the dossier is then back PENDING_ACCEPTANCE (9) instead of
-- IN_PROGRESS (3), and p_due_at is the new acceptance deadline.
CREATE OR REPLACE FUNCTION mc_cases_resume(p_dossier bigint, p_due_at timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE agency_case a
       SET state = 1, attempts = 0, next_attempt_at = NULL, revision = a.revision + 1,
           outcome = NULL, result = NULL, due_at = p_due_at, updated_at = now()
     WHERE a.dossier_id = p_dossier AND a.state = 7
       AND EXISTS (SELECT 1 FROM dossier d WHERE d.id = p_dossier AND d.state IN (3, 9));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
-- CREATE OR REPLACE resets the function's attributes: owner's rights and
-- the fixed search path again, as in 0010
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION mc_cases_resume(bigint, timestamptz) SECURITY DEFINER'
                   ' SET search_path = %I, pg_temp', current_schema());
END $$;

-- the portal names the new state
CREATE OR REPLACE FUNCTION mc_portal_state_name(s smallint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE s WHEN 1 THEN 'RECEIVED' WHEN 2 THEN 'ROUTED' WHEN 3 THEN 'IN_PROGRESS'
                  WHEN 4 THEN 'WAITING_SUPPLEMENT' WHEN 5 THEN 'RESULT_READY'
                  WHEN 6 THEN 'DELIVERED' WHEN 7 THEN 'WITHDRAWN' WHEN 8 THEN 'REFUSED'
                  WHEN 9 THEN 'PENDING_ACCEPTANCE'
                  ELSE 'UNSPECIFIED' END
$$;

-- intake: a supplement to a pending online dossier sets its new deadline
GRANT UPDATE (accept_due_at) ON dossier TO motcua_intake;
-- lienthong: the desk's acceptance starts the processing time
GRANT UPDATE (accepted_at, counted_from, due_at) ON dossier TO motcua_lienthong;

-- closed_at (0005): PENDING_ACCEPTANCE is open although its number is above
-- the closed states' 5..8; the trigger names the open states instead
CREATE OR REPLACE FUNCTION mc_dossier_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state >= 5 AND NEW.state <> 9 AND NEW.closed_at IS NULL THEN
        -- clocks of different hosts may disagree by a little: never before receipt
        NEW.closed_at := greatest(coalesce(NEW.result_at, now()), NEW.received_at);
    END IF;
    RETURN NEW;
END $$;

-- router: the acceptance scan flags a dossier once (it looks for an earlier
-- `acceptance_overdue` event of the dossier)
GRANT SELECT (dossier_id, kind) ON dossier_event TO motcua_router;
COMMIT;

-- outside the transaction: built without blocking writes (issue 13 point 2)
-- the acceptance scan and the overdue list: pending dossiers by their deadline
CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_accept_due_idx ON dossier (accept_due_at) WHERE state = 9;
