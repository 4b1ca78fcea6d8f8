-- 0012_portal_outbox: what the national public-service portal must be told
-- (Nghị định 118/2025 Art. 17, 22, 27(2)(d): status and results are
-- synchronised with the portal). One row per dossier_event, written by a
-- trigger in the SAME transaction as the event (no daemon knows about it),
-- pushed by motcua-portal (docs/portal.md) in order per dossier.
--
-- The trigger is a deferred constraint trigger: it runs at COMMIT of the
-- transaction that added the event, so the state and due date it reports
-- are those the change committed, whatever order the daemon wrote the
-- event and the dossier update in. It takes a per-dossier advisory lock
-- before numbering, held until the commit: for one dossier, ids and seq
-- follow commit order, so the pusher's "lowest pending id first" is the
-- order the changes happened in and seq has no gaps.
--
-- The body is frozen at insert: a resend carries the same bytes. It holds
-- no personal data (docs/portal.md, "What is sent"): not the payload, not
-- the event's actor or free-text detail.

CREATE TABLE portal_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_id       bigint      NOT NULL REFERENCES dossier (id),
    dossier_event_id bigint      NOT NULL UNIQUE REFERENCES dossier_event (id),
    code             text        NOT NULL,   -- dossier code (for logs and the event id)
    seq              integer     NOT NULL CHECK (seq >= 1), -- 1, 2, ... per dossier, no gaps
    event_id         text        NOT NULL UNIQUE,  -- "<code>/<seq>": Idempotency-Key and body.event_id
    body             text        NOT NULL,   -- the JSON pushed, byte for byte on every resend
    state            smallint    NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 1), -- 0 pending, 1 acknowledged (2xx)
    attempts         integer     NOT NULL DEFAULT 0,  -- pushes started, counting a leased one
    next_attempt_at  timestamptz NOT NULL DEFAULT now(), -- due; a claim moves it past its lease
    last_status      integer,                -- HTTP status of the last answer (NULL: none)
    last_error       text,                   -- why the last push failed, no personal data
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,            -- acknowledged at
    UNIQUE (dossier_id, seq)
);
-- the claim: due pending rows, and "is there an older pending row of this dossier?"
CREATE INDEX portal_outbox_due_idx ON portal_outbox (next_attempt_at, id) WHERE state = 0;
CREATE INDEX portal_outbox_head_idx ON portal_outbox (dossier_id, id) WHERE state = 0;

-- mc_portal_state_name - motcua.v1.DossierState as the portal reads it
CREATE FUNCTION mc_portal_state_name(s smallint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE s WHEN 1 THEN 'RECEIVED' WHEN 2 THEN 'ROUTED' WHEN 3 THEN 'IN_PROGRESS'
                  WHEN 4 THEN 'WAITING_SUPPLEMENT' WHEN 5 THEN 'RESULT_READY'
                  WHEN 6 THEN 'DELIVERED' WHEN 7 THEN 'WITHDRAWN' WHEN 8 THEN 'REFUSED'
                  ELSE 'UNSPECIFIED' END
$$;

-- mc_portal_time - an instant as RFC 3339 UTC with milliseconds
CREATE FUNCTION mc_portal_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

CREATE FUNCTION mc_portal_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d   record;
    s   integer;
BEGIN
    -- 'MCPO' and the dossier: collisions of two dossiers only serialise them
    PERFORM pg_advisory_xact_lock(1296257103, (NEW.dossier_id % 2147483647)::integer);
    SELECT code, state, due_at, procedure_code, ward_code INTO d
      FROM dossier WHERE id = NEW.dossier_id;
    SELECT coalesce(max(seq), 0) + 1 INTO s FROM portal_outbox WHERE dossier_id = NEW.dossier_id;
    INSERT INTO portal_outbox (dossier_id, dossier_event_id, code, seq, event_id, body)
         VALUES (NEW.dossier_id, NEW.id, d.code, s, d.code || '/' || s,
                 json_build_object(
                     'schema', 'motcua.portal.v1',
                     'event_id', d.code || '/' || s,
                     'dossier_code', d.code,
                     'seq', s,
                     'event', NEW.kind,
                     'state', mc_portal_state_name(d.state),
                     'at', mc_portal_time(NEW.at),
                     'due_at', mc_portal_time(d.due_at),
                     'result', d.state IN (5, 6), -- RESULT_READY, DELIVERED
                     'procedure_code', d.procedure_code,
                     'ward_code', d.ward_code)::text);
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER portal_outbox
    AFTER INSERT ON dossier_event
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION mc_portal_outbox();

-- motcua_portal: its own queue, nothing else. The daemons that add events
-- get no grant on portal_outbox: the trigger writes it with the owner's
-- rights on a search path nobody else can put objects into (as 0009 does
-- for the history trigger).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'motcua_portal') THEN
        BEGIN
            CREATE ROLE motcua_portal NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created meanwhile by the migration of another database
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'motcua_portal'
               AND (rolsuper OR rolbypassrls)) THEN
        RAISE EXCEPTION 'role motcua_portal exists with SUPERUSER or BYPASSRLS: refusing to rely on it';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO motcua_portal', current_schema());
    EXECUTE format('ALTER FUNCTION mc_portal_outbox() SECURITY DEFINER SET search_path = %I, pg_temp',
                   current_schema());
END $$;
REVOKE EXECUTE ON FUNCTION mc_portal_outbox() FROM PUBLIC;
GRANT SELECT ON schema_migration TO motcua_portal;
GRANT SELECT (id, dossier_id, code, seq, event_id, body, state, attempts, next_attempt_at)
    ON portal_outbox TO motcua_portal;
GRANT UPDATE (state, attempts, next_attempt_at, last_status, last_error, sent_at)
    ON portal_outbox TO motcua_portal;
GRANT SELECT ON portal_outbox TO motcua_report;
