-- 0001_intake: dossiers, their append-only history, idempotency keys and
-- the per-day dossier code counters.
-- Applied by `motcua migrate` in one transaction; never edit once released.

-- dossier: one row per accepted dossier (hồ sơ), with the full payload as
-- submitted (serialized motcua.v1.Dossier) so nothing the applicant handed
-- in is ever lost or reinterpreted.
CREATE TABLE dossier (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text        NOT NULL UNIQUE,           -- mã hồ sơ: <unit>-<YYMMDD>-<NNNN>
    ward_code       text        NOT NULL,
    unit_id         text        NOT NULL,
    receipt_day     date        NOT NULL,                  -- the YYMMDD of the code (local date)
    seq             integer     NOT NULL CHECK (seq > 0),  -- the NNNN of the code
    procedure_code  text        NOT NULL,
    channel         smallint    NOT NULL CHECK (channel BETWEEN 1 AND 3),
    state           smallint    NOT NULL DEFAULT 1,        -- motcua.v1.DossierState
    received_at     timestamptz NOT NULL,
    counted_from    timestamptz NOT NULL,                  -- when the processing time starts to run
    due_at          timestamptz NOT NULL,                  -- hẹn trả kết quả
    submission_id   text        NOT NULL,
    payload         bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit_id, receipt_day, seq),
    UNIQUE (ward_code, submission_id)
);
CREATE INDEX dossier_state_idx ON dossier (state, id);
CREATE INDEX dossier_due_idx ON dossier (due_at) WHERE state < 5;

-- dossier_event: the history of each dossier; rows are only ever added.
CREATE TABLE dossier_event (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_id  bigint      NOT NULL REFERENCES dossier (id),
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,   -- daemon, department, agency or clerk
    kind        text        NOT NULL,   -- received, routed, ...
    detail      text        NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dossier_event_dossier_idx ON dossier_event (dossier_id, id);

-- The history is evidence: refuse to rewrite it.
CREATE FUNCTION mc_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dossier_event is append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER dossier_event_append_only
    BEFORE UPDATE OR DELETE ON dossier_event
    FOR EACH ROW EXECUTE FUNCTION mc_event_append_only();

-- idempotency_key: what was answered to a request with a client-chosen key,
-- so a retry gets the same answer byte for byte.
CREATE TABLE idempotency_key (
    scope           text        NOT NULL,   -- e.g. submit:<ward_code>
    key             text        NOT NULL,   -- e.g. the submission_id
    request_sha256  bytea       NOT NULL CHECK (length(request_sha256) = 32),
    dossier_id      bigint      REFERENCES dossier (id),
    response        bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- dossier_code_counter: the last sequence number handed out per unit and day.
CREATE TABLE dossier_code_counter (
    unit_id   text    NOT NULL,
    day       date    NOT NULL,
    last_seq  integer NOT NULL,
    PRIMARY KEY (unit_id, day)
);

-- mc_reserve_code: the stored response if (scope, key) was seen, else the
-- next sequence number of (unit, day). Runs on the asynchronous-commit
-- connection (see mc_store.h for why that cannot duplicate a code).
CREATE FUNCTION mc_reserve_code(p_scope text, p_key text, p_unit text, p_day date,
                                OUT seq integer, OUT request_sha256 bytea, OUT response bytea)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT k.request_sha256, k.response INTO request_sha256, response
      FROM idempotency_key k WHERE k.scope = p_scope AND k.key = p_key;
    IF FOUND THEN
        seq := NULL;
        RETURN;
    END IF;
    INSERT INTO dossier_code_counter AS c (unit_id, day, last_seq) VALUES (p_unit, p_day, 1)
        ON CONFLICT (unit_id, day) DO UPDATE SET last_seq = c.last_seq + 1
        RETURNING c.last_seq INTO seq;
END $$;

-- mc_create_dossier: the dossier, its first event and its idempotency key
-- in one transaction. If the key was taken meanwhile (a concurrent retry),
-- nothing is written and the first response is returned instead.
CREATE FUNCTION mc_create_dossier(
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
    UPDATE idempotency_key SET dossier_id = mc_create_dossier.dossier_id
     WHERE scope = p_scope AND key = p_key;
    created := true;
    request_sha256 := p_sha;
    response := p_response;
END $$;
