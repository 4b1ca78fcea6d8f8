-- motcua:no-transaction
-- 0016_boundary_free: boundary-free reception (tiếp nhận hồ sơ không phụ
-- thuộc vào địa giới hành chính, Nghị định 118/2025 Điều 14 khoản 2, Điều 20;
-- docs/rules.md "Boundary-free reception"). A ward's one-stop point receives a
-- dossier whose competent ward is another ward of the same province served by
-- this installation; the dossier belongs to the COMPETENT ward (ward_code,
-- unit_id: the first part of its code, Điều 28 khoản 2) and remembers where it
-- was received, when it must reach the competent unit (one working day,
-- rules.forward_days) and when it did (the first ack of one of its cases).
--
-- Safe on a large live store: the columns are nullable without default (no
-- table rewrite); the indexes are partial over rows that are NULL everywhere
-- today, so they stay as small as the forwarded dossiers.

BEGIN;
ALTER TABLE dossier
    ADD COLUMN IF NOT EXISTS receiving_ward     text,          -- ward code where it was received; NULL = the competent ward itself
    ADD COLUMN IF NOT EXISTS forward_due_at     timestamptz,   -- end of the forward_days-th working day after the deemed receipt
    ADD COLUMN IF NOT EXISTS forwarded_at       timestamptz,   -- the competent side first took it (first case acked)
    ADD COLUMN IF NOT EXISTS forward_overdue_at timestamptz;   -- when the router recorded `forward_overdue` (once)


-- mc_create_dossier (23 arguments): the 20-argument version of 0013 (state and
-- acceptance deadline), then,
-- for a dossier received at another ward (p_receiving not NULL), where and
-- the forwarding deadline, with the `forward_due` event, in the same
-- transaction. A replay (created false) writes nothing.
CREATE OR REPLACE FUNCTION mc_create_dossier(
    p_scope text, p_key text, p_sha bytea, p_code text, p_ward text, p_unit text,
    p_day date, p_seq integer, p_procedure text, p_channel smallint,
    p_received timestamptz, p_counted timestamptz, p_due timestamptz,
    p_payload bytea, p_response bytea, p_actor text, p_detail text, p_secret uuid,
    p_state smallint, p_accept_due timestamptz,
    p_receiving text, p_forward_due timestamptz, p_forward_detail text,
    OUT created boolean, OUT dossier_id bigint, OUT request_sha256 bytea, OUT response bytea)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT c.created, c.dossier_id, c.request_sha256, c.response
      INTO created, dossier_id, request_sha256, response
      FROM mc_create_dossier(p_scope, p_key, p_sha, p_code, p_ward, p_unit, p_day, p_seq,
                             p_procedure, p_channel, p_received, p_counted, p_due, p_payload,
                             p_response, p_actor, p_detail, p_secret, p_state, p_accept_due) c;
    IF created AND p_receiving IS NOT NULL THEN
        UPDATE dossier SET receiving_ward = p_receiving, forward_due_at = p_forward_due
         WHERE id = mc_create_dossier.dossier_id;
        INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)
             VALUES (mc_create_dossier.dossier_id, p_received, p_actor, 'forward_due',
                     p_forward_detail);
    END IF;
END $$;
REVOKE EXECUTE ON FUNCTION mc_create_dossier(text, text, bytea, text, text, text, date, integer,
    text, smallint, timestamptz, timestamptz, timestamptz, bytea, bytea, text, text, uuid,
    smallint, timestamptz, text, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mc_create_dossier(text, text, bytea, text, text, text, date, integer,
    text, smallint, timestamptz, timestamptz, timestamptz, bytea, bytea, text, text, uuid,
    smallint, timestamptz, text, timestamptz, text) TO motcua_intake;
GRANT UPDATE (receiving_ward, forward_due_at) ON dossier TO motcua_intake;

-- mc_forwarded - AFTER UPDATE trigger on agency_case: the first time a case
-- of a dossier received at another ward is acked (state 3, mc_case_state_t
-- MC_CASE_ACKED) the file has reached the competent unit: forwarded_at and
-- the `forwarded` event (actor: the agency that took it). Runs at the end of
-- the ack's statement, so it sees the ack's own writes to the dossier.
CREATE OR REPLACE FUNCTION mc_forwarded() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fwd record;
BEGIN
    UPDATE dossier d SET forwarded_at = now()
     WHERE d.id = NEW.dossier_id AND d.receiving_ward IS NOT NULL AND d.forwarded_at IS NULL
    RETURNING d.ward_code, d.receiving_ward, d.forward_due_at INTO fwd;
    IF FOUND THEN
        INSERT INTO dossier_event (dossier_id, at, actor, kind, detail)
             VALUES (NEW.dossier_id, now(), NEW.agency, 'forwarded',
                     'Hồ sơ tiếp nhận tại phường ' || fwd.receiving_ward
                     || ' đã chuyển đến đơn vị có thẩm quyền (phường ' || fwd.ward_code || ')'
                     || CASE WHEN fwd.forward_due_at < now() THEN ', quá hạn chuyển' ELSE '' END);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER agency_case_forwarded
    AFTER UPDATE OF state ON agency_case
    FOR EACH ROW WHEN (NEW.state = 3 AND OLD.state IS DISTINCT FROM 3)
    EXECUTE FUNCTION mc_forwarded();

-- owner's rights on the migrations' schema, as mc_cases_resume (0010): the
-- daemon that acks (lienthong) holds no UPDATE on forwarded_at itself
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION mc_forwarded() SECURITY DEFINER SET search_path = %I, pg_temp',
                   current_schema());
END $$;
REVOKE EXECUTE ON FUNCTION mc_forwarded() FROM PUBLIC;

-- the router's forwarding scan (mc_store_forwarding_batch) records the overdue once
GRANT UPDATE (forward_overdue_at) ON dossier TO motcua_router;
COMMIT;

-- outside the transaction: built without blocking writes (issue 13 point 2)
-- the router's forwarding scan: received elsewhere, not yet taken, not yet reported
CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_forward_due_idx ON dossier (forward_due_at)
    WHERE receiving_ward IS NOT NULL AND forwarded_at IS NULL AND forward_overdue_at IS NULL;
-- the receiving ward's lists and report figure
CREATE INDEX CONCURRENTLY IF NOT EXISTS dossier_receiving_ward_idx ON dossier (receiving_ward, received_at)
    WHERE receiving_ward IS NOT NULL;
