-- 0004_step_overdue: the deadline scan also watches each agency step's own
-- time limit; overdue_noted_due records the due date it was reported for,
-- so a step is reported once per due date.
ALTER TABLE agency_case ADD COLUMN overdue_noted_due timestamptz;
CREATE INDEX agency_case_open_due_idx ON agency_case (due_at) WHERE state IN (1, 2, 3);
