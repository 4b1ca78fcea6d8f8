-- 0008_report_history: what a dossier's report-relevant columns were before
-- each change, so a closed period's report reads the dossiers open at its end
-- as they were at the end (docs/reports.md, "As at the period's end").
--
-- dossier_history: one row per change of state, counted_from, due_at,
-- late_notified_due or paused_at, written by a trigger in the same
-- transaction as the change (no daemon knows about it). A row holds the
-- values BEFORE the change and `until`, the instant they stopped holding
-- (the changing transaction's now(), the clock paused_at, result_at and the
-- events use too). So the values of a dossier at instant t are those of its
-- first row with until >= t (a change at t itself belongs to what follows
-- t, like a closing at t), or the dossier row itself when nothing changed
-- since t. A dossier that never changed has no row at all: intake's insert
-- costs nothing more, and no backfill is needed.
--
-- Dossiers changed before this migration: their first row here holds the
-- values as they were when the migration ran (the last change before it is
-- not recorded), so a period that ended before the migration keeps exactly
-- the figures the report gave at that moment, whatever happens afterwards.
CREATE TABLE dossier_history (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_id         bigint      NOT NULL REFERENCES dossier (id),
    until              timestamptz NOT NULL,  -- these values held until this instant
    state              smallint    NOT NULL,  -- motcua.v1.DossierState before the change
    counted_from       timestamptz NOT NULL,  -- ... and the clock's start,
    due_at             timestamptz NOT NULL,  -- the due date in force,
    late_notified_due  timestamptz,           -- the due date the last late notice was sent for,
    paused_at          timestamptz            -- when the clock stopped (waiting for documents)
);
-- "the first row of this dossier with until >= t": one index probe per dossier
CREATE INDEX dossier_history_dossier_idx ON dossier_history (dossier_id, until, id);

-- The history is evidence, like dossier_event: refuse to rewrite it.
CREATE FUNCTION mc_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER dossier_history_append_only
    BEFORE UPDATE OR DELETE ON dossier_history
    FOR EACH ROW EXECUTE FUNCTION mc_history_append_only();

CREATE FUNCTION mc_dossier_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dossier_history (dossier_id, until, state, counted_from, due_at,
                                 late_notified_due, paused_at)
         VALUES (OLD.id, now(), OLD.state, OLD.counted_from, OLD.due_at,
                 OLD.late_notified_due, OLD.paused_at);
    RETURN NULL;
END $$;
-- AFTER, so a change another BEFORE trigger or a WHERE clause cancels leaves no row;
-- WHEN, so an UPDATE that rewrites the same values (a retried statement) leaves none either
CREATE TRIGGER dossier_history
    AFTER UPDATE OF state, counted_from, due_at, late_notified_due, paused_at ON dossier
    FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state
          OR OLD.counted_from IS DISTINCT FROM NEW.counted_from
          OR OLD.due_at IS DISTINCT FROM NEW.due_at
          OR OLD.late_notified_due IS DISTINCT FROM NEW.late_notified_due
          OR OLD.paused_at IS DISTINCT FROM NEW.paused_at)
    EXECUTE FUNCTION mc_dossier_history();
