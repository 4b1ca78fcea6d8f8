-- 0012_receipt_secret: intake makes the applicant's secret (dossier.rating_token)
-- itself, before it packs the receipt, and hands it to mc_create_dossier. The
-- stored receipt bytes then already carry the secret, so neither a receipt
-- nor its replay needs a second read of the dossier. (Submissions stored
-- before 0012 replay without it: their secret reached the applicant in the
-- received notice.) The 17-argument version stays for a binary of the
-- previous release during an upgrade; it keeps drawing the secret in SQL.
CREATE FUNCTION mc_create_dossier(
    p_scope text, p_key text, p_sha bytea, p_code text, p_ward text, p_unit text,
    p_day date, p_seq integer, p_procedure text, p_channel smallint,
    p_received timestamptz, p_counted timestamptz, p_due timestamptz,
    p_payload bytea, p_response bytea, p_actor text, p_detail text, p_secret uuid,
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
                         received_at, counted_from, due_at, submission_id, payload, rating_token)
         VALUES (p_code, p_ward, p_unit, p_day, p_seq, p_procedure, p_channel,
                 p_received, p_counted, p_due, p_key, p_payload, p_secret)
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
REVOKE EXECUTE ON FUNCTION mc_create_dossier(text, text, bytea, text, text, text, date, integer,
    text, smallint, timestamptz, timestamptz, timestamptz, bytea, bytea, text, text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mc_create_dossier(text, text, bytea, text, text, text, date, integer,
    text, smallint, timestamptz, timestamptz, timestamptz, bytea, bytea, text, text, uuid) TO motcua_intake;
