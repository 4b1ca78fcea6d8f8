-- 0002_pipeline: routing, agency cases (liên thông steps), notifications.
-- One transaction per state change, with its event: every function below
-- changes state, appends the event and queues what must follow (the next
-- case, the notification) in the same transaction.

-- routing decisions, one per dossier
ALTER TABLE dossier ADD COLUMN department text;           -- handling desk after routing
ALTER TABLE dossier ADD COLUMN paused_at timestamptz;     -- clock stopped (waiting for supplement)
ALTER TABLE dossier ADD COLUMN result_at timestamptz;     -- result ready
ALTER TABLE dossier ADD COLUMN late_notified_due timestamptz; -- the due date a late notice was sent for

-- agency_case: one step of a dossier for one agency (the ward's own desk
-- is the first "agency"). case_id is stable across resends.
CREATE TABLE agency_case (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id          text        NOT NULL UNIQUE,       -- "<dossier code>/<step>"
    dossier_id       bigint      NOT NULL REFERENCES dossier (id),
    step             smallint    NOT NULL CHECK (step >= 1),
    steps_total      smallint    NOT NULL CHECK (steps_total >= step),
    agency           text        NOT NULL,
    task             text        NOT NULL DEFAULT '',
    -- 0 planned (an earlier step is not done), 1 queued (ready to send),
    -- 2 sent (waiting for ack), 3 acked (waiting for result), 4 done,
    -- 5 dead (dead letter), 6 cancelled (withdrawn/refused), 7 paused (waiting for supplement)
    state            smallint    NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 7),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,                        -- when a sent case is due for resend
    time_limit       integer     NOT NULL DEFAULT 0,     -- the step's own limit
    time_unit        smallint    NOT NULL DEFAULT 0,     -- 0 working days, 1 working hours
    due_at           timestamptz,                        -- set when the step is queued
    outcome          smallint,                           -- motcua.v1.Outcome once done
    result           bytea,                              -- serialized CaseResult as received
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (dossier_id, step)
);
CREATE INDEX agency_case_queue_idx ON agency_case (agency, state, id) WHERE state IN (1, 2, 3);
CREATE INDEX agency_case_resend_idx ON agency_case (next_attempt_at) WHERE state = 2;

-- notification: what the applicant must be told, once. dedupe_key makes
-- every milestone (and every new due date for late notices) unique.
CREATE TABLE notification (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_id       bigint      NOT NULL REFERENCES dossier (id),
    kind             text        NOT NULL,   -- received, supplement_requested, result_ready, late, refused, withdrawn
    dedupe_key       text        NOT NULL UNIQUE,
    data             jsonb       NOT NULL DEFAULT '{}'::jsonb, -- template values that are not in the dossier
    state            smallint    NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 2), -- 0 pending, 1 sent, 2 failed for good
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    channel          text,                   -- how it went out: sms, email, spool
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX notification_pending_idx ON notification (next_attempt_at) WHERE state = 0;

-- notification_attempt: every try, for the record
CREATE TABLE notification_attempt (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id  bigint      NOT NULL REFERENCES notification (id),
    at               timestamptz NOT NULL DEFAULT now(),
    channel          text        NOT NULL,
    ok               boolean     NOT NULL,
    error            text
);

-- rating: satisfaction (issue 4), one per dossier
-- (left for the reports migration)

-- mc_create_dossier now also queues the "received" notification, in the
-- same transaction as the dossier: a receipt implies the notice will go.
CREATE OR REPLACE FUNCTION mc_create_dossier(
    p_scope text, p_key text, p_sha bytea, p_code text, p_ward text, p_unit text,
    p_day date, p_seq integer, p_procedure text, p_channel smallint,
    p_received timestamptz, p_counted timestamptz, p_due timestamptz,
    p_payload bytea, p_response bytea, p_actor text, p_detail text,
    OUT created boolean, OUT dossier_id bigint, OUT request_sha256 bytea, OUT response bytea)
LANGUAGE plpgsql AS $$
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
                         received_at, counted_from, due_at, submission_id, payload)
         VALUES (p_code, p_ward, p_unit, p_day, p_seq, p_procedure, p_channel,
                 p_received, p_counted, p_due, p_key, p_payload)
      RETURNING id INTO dossier_id;
    INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)
         VALUES (dossier_id, p_received, p_actor, 'received', p_detail);
    INSERT INTO notification (dossier_id, kind, dedupe_key)
         VALUES (dossier_id, 'received', p_code || '/received');
    UPDATE idempotency_key SET dossier_id = mc_create_dossier.dossier_id
     WHERE scope = p_scope AND key = p_key;
    created := true;
    request_sha256 := p_sha;
    response := p_response;
END $$;
