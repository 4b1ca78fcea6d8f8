-- 0017_report_rules: the report's figures of the Nghị định 118/2025 rules
-- (issue 12 point 8; docs/reports.md "What is counted"): apologies issued in a
-- period (`apology` events, Điều 19 khoản 6) and dossiers that became late in
-- it (`late` events, to find those without an apology). The report reads
-- these events by time, as it reads `supplement_requested` (0005) and
-- `supplement_refused` (0015).
--
-- Safe on a large live store: two partial indexes over the few events of
-- these kinds; no table change, no new grant (motcua_report reads
-- dossier_event and notification since 0009).
CREATE INDEX dossier_event_apology_idx ON dossier_event (at) WHERE kind = 'apology';
CREATE INDEX dossier_event_late_idx ON dossier_event (at) WHERE kind = 'late';
