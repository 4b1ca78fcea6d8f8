-- 0021_intake_one_commit: a receipt costs one commit, shared by the receipts
-- that arrive together (issue 11). Until now the submission key was locked
-- and the ward's number taken on a second, asynchronous-commit connection
-- (mc_reserve_code in its own transaction), then the dossier was created in a
-- second, synchronous transaction. Now both happen in the one transaction
-- that creates the dossier (mc_store_create_dossiers): the key's lock is a
-- transaction lock, the counter's increment commits with the dossiers that
-- use its numbers, so a rolled-back batch leaves no gap either. The counter
-- row stays locked until that commit: intake has one committer per process,
-- which takes a ward's numbers for a whole batch in one transaction.

-- mc_receive_code - in the caller's transaction: lock (scope, key) until it
-- ends (a concurrent attempt with the same key waits, then finds its key and
-- burns no number), then the stored response of the key, or the next number
-- of (unit, day) exactly as mc_reserve_code.
CREATE FUNCTION mc_receive_code(p_scope text, p_key text, p_unit text, p_day date,
                                OUT seq integer, OUT request_sha256 bytea, OUT response bytea)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7270011, hashtext(p_scope || ' ' || p_key));
    SELECT r.seq, r.request_sha256, r.response INTO seq, request_sha256, response
      FROM mc_reserve_code(p_scope, p_key, p_unit, p_day) r;
END $$;
REVOKE EXECUTE ON FUNCTION mc_receive_code(text, text, text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mc_receive_code(text, text, text, date) TO motcua_intake;
