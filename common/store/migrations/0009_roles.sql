-- 0009_roles: least privilege (issue 9, part 6). One NOLOGIN group role
-- per daemon and one read-only role for reports; each gets exactly what its
-- store module (common/mc_store*.c) reads and writes, nothing more. Nobody
-- but the migration owner may change the schema. The grants table and how a
-- daemon logs in as its role are in docs/store.md, "Roles".
--
--   motcua_intake     mc_store.c (receipts, status), mc_store_route.c follow-ups
--   motcua_router     mc_store_route.c (routing, deadline scans)
--   motcua_lienthong  mc_store_cases.c (cases, sessions, results)
--   motcua_notify     mc_store_notify.c (notifications only; reads dossiers)
--   motcua_report     mc_store_report.c, mc_store_queues.c (read only)
--
-- Roles are cluster-wide and a cluster may hold several motcua databases,
-- so a role is created only when missing (and a concurrent migration of
-- another database may create it between the check and the CREATE). The
-- migration owner needs CREATEROLE (or superuser) the first time; it should
-- own the database, so that it owns schema public and may revoke CREATE.
-- Every later migration that adds a table, column or function must grant
-- it here-style to the roles that need it: nothing is granted by default.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['motcua_intake', 'motcua_router', 'motcua_lienthong',
                             'motcua_notify', 'motcua_report'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created meanwhile by the migration of another database
            END;
        END IF;
        -- a superuser of that name would make every grant below meaningless
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r AND (rolsuper OR rolbypassrls)) THEN
            RAISE EXCEPTION 'role % exists with SUPERUSER or BYPASSRLS: refusing to rely on it', r;
        END IF;
    END LOOP;
    -- the schema the migrations created their objects in (public unless the
    -- operator's search_path said otherwise): only its owner creates in it
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO motcua_intake, motcua_router, motcua_lienthong,'
                   ' motcua_notify, motcua_report', current_schema());
    -- the history trigger writes dossier_history, which no daemon may write
    -- directly (it is evidence): it runs with the owner's rights, on a search
    -- path nobody else can put objects into
    EXECUTE format('ALTER FUNCTION mc_dossier_history() SECURITY DEFINER SET search_path = %I, pg_temp',
                   current_schema());
END $$;

-- functions: only intake calls the two receipt functions; they run with
-- the caller's rights, so the table grants below still bound what they do
REVOKE EXECUTE ON FUNCTION mc_reserve_code(text, text, text, date) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION mc_create_dossier(text, text, bytea, text, text, text, date, integer,
    text, smallint, timestamptz, timestamptz, timestamptz, bytea, bytea, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION mc_dossier_history() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mc_reserve_code(text, text, text, date) TO motcua_intake;
GRANT EXECUTE ON FUNCTION mc_create_dossier(text, text, bytea, text, text, text, date, integer,
    text, smallint, timestamptz, timestamptz, timestamptz, bytea, bytea, text, text) TO motcua_intake;

-- every program checks the schema version at connect
GRANT SELECT ON schema_migration TO motcua_intake, motcua_router, motcua_lienthong,
    motcua_notify, motcua_report;

-- motcua_intake: receipts (mc_create_dossier, mc_reserve_code), status,
-- follow-ups (supplement, withdraw, rating). It never creates or removes an
-- agency step: on a supplement it resumes the paused steps, on a withdrawal
-- it cancels the open ones, so it may change only those columns.
GRANT SELECT, INSERT ON dossier TO motcua_intake;
GRANT UPDATE (state, payload, paused_at, counted_from, due_at) ON dossier TO motcua_intake;
GRANT SELECT, INSERT ON dossier_event TO motcua_intake;
GRANT SELECT, INSERT ON idempotency_key TO motcua_intake;
GRANT UPDATE (dossier_id) ON idempotency_key TO motcua_intake;
GRANT SELECT, INSERT ON dossier_code_counter TO motcua_intake;
GRANT UPDATE (last_seq) ON dossier_code_counter TO motcua_intake;
GRANT SELECT (id, dossier_id, state, revision) ON agency_case TO motcua_intake;
GRANT UPDATE (state, attempts, next_attempt_at, revision, outcome, result, due_at, updated_at)
    ON agency_case TO motcua_intake;
GRANT SELECT (id, dedupe_key), INSERT ON notification TO motcua_intake;
GRANT SELECT, INSERT ON rating TO motcua_intake;

-- motcua_router: claims received dossiers, routes them (department and the
-- agency steps), deadline scans (late notices, overdue steps)
GRANT SELECT ON dossier TO motcua_router;
GRANT UPDATE (state, department, late_notified_due, due_at) ON dossier TO motcua_router;
GRANT INSERT ON dossier_event TO motcua_router;
GRANT SELECT, INSERT ON agency_case TO motcua_router;
GRANT UPDATE (overdue_noted_due, updated_at) ON agency_case TO motcua_router;
GRANT SELECT (id, dedupe_key), INSERT ON notification TO motcua_router;

-- motcua_lienthong: sends cases, takes acks and results, moves the dossier
-- along, holds agency sessions and their leases
GRANT SELECT ON dossier TO motcua_lienthong;
GRANT UPDATE (state, result_at, paused_at) ON dossier TO motcua_lienthong;
GRANT SELECT, INSERT ON dossier_event TO motcua_lienthong;
GRANT SELECT ON agency_case TO motcua_lienthong;
GRANT UPDATE (state, attempts, next_attempt_at, due_at, outcome, result, lease_session, updated_at)
    ON agency_case TO motcua_lienthong;
GRANT SELECT, INSERT, UPDATE, DELETE ON agency_session TO motcua_lienthong;
GRANT SELECT (id, dedupe_key), INSERT ON notification TO motcua_lienthong;

-- motcua_notify: its own queue; reads what a message says about the dossier
GRANT SELECT (id, code, ward_code, procedure_code, due_at, payload, rating_token)
    ON dossier TO motcua_notify;
GRANT SELECT ON notification TO motcua_notify;
GRANT UPDATE (state, attempts, next_attempt_at, last_error, channel, sent_at)
    ON notification TO motcua_notify;
GRANT SELECT, INSERT ON notification_attempt TO motcua_notify;
GRANT UPDATE (ok, error, finished_at) ON notification_attempt TO motcua_notify;

-- motcua_report: reads everything a report, the overdue list and the queue
-- view show; not the stored receipts (idempotency_key) nor the counters
GRANT SELECT ON dossier, dossier_event, dossier_history, agency_case, agency_session,
    notification, notification_attempt, rating TO motcua_report;
