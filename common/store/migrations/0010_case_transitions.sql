-- 0010_case_transitions: intake cannot touch agency cases (issue 9). A
-- supplement resumes the dossier's paused agency steps and a withdrawal
-- cancels its open ones; until now intake did both with its own UPDATE on
-- agency_case, so a compromised intake could rewrite any agency's case.
-- These two transitions become functions that run with the migration
-- owner's rights on a search path nobody else can put objects into, each
-- changing only the given dossier's cases and only when the dossier itself
-- is in the state the transition follows from; intake may call them and
-- holds no privilege on agency_case any more (docs/store.md, "Roles").
--
-- States (motcua.v1.DossierState, mc_case_state_t in mc_store_cases.h):
-- dossier 3 IN_PROGRESS, 7 WITHDRAWN; case 0 planned, 1 queued, 2 sent,
-- 3 acked, 6 cancelled, 7 paused.

-- mc_cases_resume - after a supplement (dossier back IN_PROGRESS): every
-- paused step of that dossier is queued again as a new revision, its
-- earlier answer forgotten, due at p_due_at. Returns the steps resumed.
CREATE FUNCTION mc_cases_resume(p_dossier bigint, p_due_at timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE agency_case a
       SET state = 1, attempts = 0, next_attempt_at = NULL, revision = a.revision + 1,
           outcome = NULL, result = NULL, due_at = p_due_at, updated_at = now()
     WHERE a.dossier_id = p_dossier AND a.state = 7
       AND EXISTS (SELECT 1 FROM dossier d WHERE d.id = p_dossier AND d.state = 3);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- mc_cases_cancel - after a withdrawal (dossier WITHDRAWN): every open step
-- of that dossier (planned, queued, sent, acked, paused) is cancelled.
-- Returns the steps cancelled.
CREATE FUNCTION mc_cases_cancel(p_dossier bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE agency_case a
       SET state = 6, next_attempt_at = NULL, updated_at = now()
     WHERE a.dossier_id = p_dossier AND a.state IN (0, 1, 2, 3, 7)
       AND EXISTS (SELECT 1 FROM dossier d WHERE d.id = p_dossier AND d.state = 7);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- owner's rights, on the schema the migrations created their objects in
-- (as mc_dossier_history in 0009): a caller's search_path cannot redirect
-- agency_case or dossier to a table of its own
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION mc_cases_resume(bigint, timestamptz) SECURITY DEFINER'
                   ' SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION mc_cases_cancel(bigint) SECURITY DEFINER'
                   ' SET search_path = %I, pg_temp', current_schema());
END $$;

REVOKE EXECUTE ON FUNCTION mc_cases_resume(bigint, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION mc_cases_cancel(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mc_cases_resume(bigint, timestamptz) TO motcua_intake;
GRANT EXECUTE ON FUNCTION mc_cases_cancel(bigint) TO motcua_intake;

-- intake neither reads nor writes agency_case (its status answer comes
-- from dossier and dossier_event); revoking the table's privileges revokes
-- the column grants of 0009 too
REVOKE ALL ON agency_case FROM motcua_intake;
