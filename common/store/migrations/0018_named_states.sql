-- 0018_named_states: every stored state column names its numbers (issue 10
-- point 2). The names are those of common/mc_states.h, where C takes them
-- from (MC_DOSSIER_*, MC_CASE_*, MC_OUTCOME_*, MC_NOTIFICATION_*,
-- MC_OUTBOX_*); dossier.state and agency_case.outcome are the wire's
-- motcua.v1.DossierState and motcua.v1.Outcome (proto/motcua/v1/).
--
-- Safe on a large live store: COMMENT ON changes only the catalog, and the
-- new CHECK constraints are added NOT VALID, so adding them scans no table
-- (a short ACCESS EXCLUSIVE lock, no wait on rows). They hold for every row
-- written from now on. An operator validates the rows already there when
-- convenient, per table (SHARE UPDATE EXCLUSIVE only: reads and writes go on):
--   ALTER TABLE dossier VALIDATE CONSTRAINT dossier_state_named;
--   ALTER TABLE dossier_history VALIDATE CONSTRAINT dossier_history_state_named;
--   ALTER TABLE agency_case VALIDATE CONSTRAINT agency_case_outcome_named;
-- agency_case.state, notification.state and portal_outbox.state have been
-- bounded since 0002 and 0011.
ALTER TABLE dossier ADD CONSTRAINT dossier_state_named
    CHECK (state BETWEEN 1 AND 10) NOT VALID;
ALTER TABLE dossier_history ADD CONSTRAINT dossier_history_state_named
    CHECK (state BETWEEN 1 AND 10) NOT VALID;
ALTER TABLE agency_case ADD CONSTRAINT agency_case_outcome_named
    CHECK (outcome BETWEEN 1 AND 3) NOT VALID; -- NULL until the case is answered

COMMENT ON COLUMN dossier.state IS
    'motcua.v1.DossierState (mc_dossier_state_t): 1 RECEIVED, 2 ROUTED, 3 IN_PROGRESS, '
    '4 WAITING_SUPPLEMENT, 5 RESULT_READY, 6 DELIVERED, 7 WITHDRAWN, 8 REFUSED, '
    '9 PENDING_ACCEPTANCE, 10 RETURNED';
COMMENT ON COLUMN dossier_history.state IS
    'motcua.v1.DossierState before the change (names: dossier.state)';
COMMENT ON COLUMN agency_case.state IS
    'mc_case_state_t: 0 PLANNED, 1 QUEUED, 2 SENT, 3 ACKED, 4 DONE, 5 DEAD, 6 CANCELLED, 7 PAUSED';
COMMENT ON COLUMN agency_case.outcome IS
    'motcua.v1.Outcome (mc_outcome_t): 1 APPROVED, 2 REJECTED, 3 NEEDS_DOCUMENTS; NULL until answered';
COMMENT ON COLUMN notification.state IS
    'mc_notification_state_t: 0 PENDING, 1 SENT, 2 FAILED (for good)';
COMMENT ON COLUMN portal_outbox.state IS
    'mc_outbox_state_t: 0 PENDING, 1 ACKED (the portal answered 2xx)';
