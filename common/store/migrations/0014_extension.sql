-- 0014_extension: warning before lateness, the agency's extension proposal
-- and the apology with the new appointment (Nghị định 118/2025 Điều 19
-- khoản 6; docs/rules.md "Warning before lateness and the apology").
--
-- dossier.warned_due       the due date a due_soon warning was raised for
--                          (once per due date: the scan looks for
--                          warned_due IS DISTINCT FROM due_at)
-- dossier.extended_at      when the one extension was granted (NULL: never;
--                          re-appointment at most once)
-- dossier.extension_reason the agency's reason, as printed on the apology
-- dossier.apology_at       when the apology (Mẫu 04) was queued
-- agency_case.warn_pending the open step's agency is still to be told
--                          (HubToAgency.due_soon); lienthong clears it once sent
--
-- Plain ADD COLUMN (no volatile default: metadata only on a large store);
-- the one new index is partial and holds only cases still to be warned.
ALTER TABLE dossier ADD COLUMN warned_due timestamptz;
ALTER TABLE dossier ADD COLUMN extended_at timestamptz;
ALTER TABLE dossier ADD COLUMN extension_reason text;
ALTER TABLE dossier ADD COLUMN apology_at timestamptz;
ALTER TABLE agency_case ADD COLUMN warn_pending boolean NOT NULL DEFAULT false;
CREATE INDEX agency_case_warn_idx ON agency_case (agency, id) WHERE warn_pending;

-- motcua_router: the due_soon scan marks the dossier and its open step
GRANT UPDATE (warned_due) ON dossier TO motcua_router;
GRANT UPDATE (warn_pending) ON agency_case TO motcua_router;

-- motcua_lienthong: sends DueSoon and clears the flag; grants an extension
-- (new due date, apology) and keeps each answer under the request's
-- fingerprint so a replayed proposal gets the same ExtensionAck
GRANT UPDATE (due_at, extended_at, extension_reason, apology_at) ON dossier TO motcua_lienthong;
GRANT UPDATE (warn_pending) ON agency_case TO motcua_lienthong;
GRANT SELECT, INSERT ON idempotency_key TO motcua_lienthong;
