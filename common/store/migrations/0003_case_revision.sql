-- 0003_case_revision: a step that resumes after the applicant's supplement
-- is new work for the agency under the same case_id; revision tells it so.
ALTER TABLE agency_case ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1);
-- the claim query reads an agency's earlier successful channels per notification
CREATE INDEX notification_attempt_notification_idx ON notification_attempt (notification_id);
