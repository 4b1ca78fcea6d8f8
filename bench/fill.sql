-- bench/fill.sql - a province-sized store in the real schema, fast (issue 11:
-- "the same with millions of dossiers stored"; bench/fill.sh runs it).
--
-- psql script, one phase per run: psql -v phase=PHASE -v n=N -v lo=LO -v hi=HI
--   drop      saves the definition of every index and of every primary,
--             unique and foreign key of the filled tables (and the foreign
--             keys that point at them) into bench_fill_ddl, then drops them,
--             and disables the triggers the generated rows would only slow
--             down (their effect is written by hand: closed_at; the portal
--             outbox is not filled, no report reads it)
--   dossier   dossiers LO..HI of N (one INSERT ... SELECT generate_series)
--   history, event, case, notice, rating
--             the rows those dossiers left in the other tables
--   finish    (after bench/fill.sh has recreated, from bench_fill_ddl, the
--             keys and indexes exactly as the migrations made them:
--             pg_get_constraintdef / pg_get_indexdef, keys first, foreign
--             keys last, validated) re-enables the triggers and moves the
--             dossier identity past the rows written
-- The store: N dossiers received over the two years before today (in receipt
-- order, as a real store grows; none today, so no code or counter of the
-- day collides with intake's), 126 wards (1 of 126 is Kim Liên, 00229),
-- 7 procedures; 22% at the counter, 77% online, 1% by post. Every one is
-- closed: 2% WITHDRAWN, 2% REFUSED, the rest RESULT_READY 0..9 days after
-- receipt (never after today), due 10 days after receipt. None is open on
-- purpose: an open one is real work for the daemons (an ACKED case whose
-- lease names no live session is re-queued and sent again), which the
-- "stored vs empty" comparison must not add; the backlog is another figure.
-- Per dossier: 3 history rows (routed, taken up, closed), the 'received'
-- event (+ 'result_ready' when resolved, + 'supplement_requested' for 1 in
-- 12), one agency case (DONE), the 'received' notice (+ the result notice
-- when resolved), both SENT; 1 in 10 resolved dossiers rated. Payload: 256
-- bytes.
\set ON_ERROR_STOP on
SELECT set_config('bench.n', :'n', false), set_config('bench.phase', :'phase', false),
       set_config('bench.lo', :'lo', false), set_config('bench.hi', :'hi', false) \gset

-- the dossier's time: g of n spread over the two years before today
CREATE OR REPLACE FUNCTION pg_temp.at(g bigint) RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT date_trunc('day', now()) - interval '730 days'
           + interval '730 days' * ((g - 1)::float8 / current_setting('bench.n')::bigint) $$;

SELECT current_setting('bench.phase') = 'drop' AS p_drop,
       current_setting('bench.phase') = 'dossier' AS p_dossier,
       current_setting('bench.phase') = 'history' AS p_history,
       current_setting('bench.phase') = 'event' AS p_event,
       current_setting('bench.phase') = 'case' AS p_case,
       current_setting('bench.phase') = 'notice' AS p_notice,
       current_setting('bench.phase') = 'rating' AS p_rating,
       current_setting('bench.phase') = 'finish' AS p_finish \gset

\if :p_drop
BEGIN;
CREATE TABLE bench_fill_ddl (ord int, create_sql text, drop_sql text);
-- the filled tables and every foreign key touching them
WITH t(rel) AS (SELECT unnest(ARRAY['dossier', 'dossier_history', 'dossier_event', 'agency_case',
                                    'notification', 'rating']::regclass[]))
INSERT INTO bench_fill_ddl
     SELECT CASE c.contype WHEN 'f' THEN 3 ELSE 1 END,
            format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
                   pg_get_constraintdef(c.oid)),
            format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname)
       FROM pg_constraint c
      WHERE c.contype IN ('p', 'u', 'f')
        AND (c.conrelid IN (SELECT rel FROM t) OR c.confrelid IN (SELECT rel FROM t))
     UNION ALL
     SELECT 2, pg_get_indexdef(i.indexrelid), format('DROP INDEX %s', i.indexrelid::regclass)
       FROM pg_index i
      WHERE i.indrelid IN (SELECT rel FROM t)
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
DO $$
DECLARE r record;
BEGIN
    -- foreign keys first (they need the keys), then keys and indexes
    FOR r IN SELECT drop_sql FROM bench_fill_ddl ORDER BY ord DESC LOOP
        EXECUTE r.drop_sql;
    END LOOP;
END $$;
ALTER TABLE dossier DISABLE TRIGGER dossier_closed;
ALTER TABLE dossier_event DISABLE TRIGGER portal_outbox;
COMMIT;
\endif

\if :p_dossier
INSERT INTO dossier (id, code, ward_code, unit_id, receipt_day, seq, procedure_code, channel,
                     state, received_at, counted_from, due_at, submission_id, payload, created_at,
                     department, result_at, closed_at)
OVERRIDING SYSTEM VALUE
SELECT g, 'BENCH-' || g, w.code, 'U' || w.code, (r.at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, g,
       (ARRAY['1.001193', '1.004222', '2.000986', '2.000635', '2.000815', '1.013978', '1.009469'])[1 + g % 7],
       CASE WHEN g % 100 < 22 THEN 1 WHEN g % 100 < 99 THEN 2 ELSE 3 END,
       s.state, r.at, r.at, r.at + interval '10 days', 'bench-' || g,
       decode(repeat('2a', 256), 'hex'), r.at, 'UBND_XA',
       CASE WHEN s.state = 5 THEN c.at END, c.at
  FROM generate_series(current_setting('bench.lo')::bigint, current_setting('bench.hi')::bigint) g,
       LATERAL (SELECT pg_temp.at(g) AS at) r,
       LATERAL (SELECT CASE WHEN (g / 3) % 126 = 0 THEN '00229'
                            ELSE lpad((10000 + (g / 3) % 126)::text, 5, '0') END AS code) w,
       LATERAL (SELECT CASE WHEN g % 50 = 0 THEN 7 WHEN g % 50 = 1 THEN 8 ELSE 5 END AS state) s,
       LATERAL (SELECT least(CASE WHEN s.state = 5 THEN r.at + (g % 10) * interval '1 day' + interval '2 hours'
                                  ELSE r.at + interval '1 day' END,
                             date_trunc('day', now())) AS at) c;
\endif

-- dossier_history as the daemons' trigger leaves it: routed (RECEIVED until
-- +1 h), taken up (ROUTED until +2 h), closed (IN_PROGRESS until closed_at)
\if :p_history
INSERT INTO dossier_history (dossier_id, until, state, counted_from, due_at)
     SELECT d.id, d.received_at + h.after, h.state, d.counted_from, d.due_at
       FROM dossier d, (VALUES (interval '1 hour', 1::smallint), (interval '2 hours', 2::smallint)) h(after, state)
      WHERE d.id BETWEEN current_setting('bench.lo')::bigint AND current_setting('bench.hi')::bigint
     UNION ALL
     SELECT d.id, d.closed_at, 3, d.counted_from, d.due_at FROM dossier d
      WHERE d.id BETWEEN current_setting('bench.lo')::bigint AND current_setting('bench.hi')::bigint;
\endif

\if :p_event
INSERT INTO dossier_event (dossier_id, at, actor, kind, recorded_at)
     SELECT d.id, e.at, 'bench', e.kind, e.at
       FROM dossier d,
            LATERAL (VALUES (d.received_at, 'received'),
                            (d.result_at, 'result_ready'),
                            (CASE WHEN d.id % 12 = 0 THEN d.received_at + interval '1 day' END,
                             'supplement_requested')) e(at, kind)
      WHERE d.id BETWEEN current_setting('bench.lo')::bigint AND current_setting('bench.hi')::bigint
        AND e.at IS NOT NULL;
\endif

\if :p_case
INSERT INTO agency_case (case_id, dossier_id, step, steps_total, agency, task, state, due_at,
                         outcome, created_at, updated_at)
     SELECT 'bench-' || d.id || '-1', d.id, 1, 1, 'CONG_AN_XA', 'xử lý',
            4, d.due_at,
            CASE WHEN d.state = 5 THEN 1 WHEN d.state = 8 THEN 2 END,
            d.received_at + interval '1 hour', d.closed_at
       FROM dossier d
      WHERE d.id BETWEEN current_setting('bench.lo')::bigint AND current_setting('bench.hi')::bigint;
\endif

\if :p_notice
INSERT INTO notification (dossier_id, kind, dedupe_key, state, attempts, next_attempt_at, channel,
                          created_at, sent_at)
     SELECT d.id, k.kind, 'bench-' || d.id || '-' || k.kind, 1, 1, k.at, 'spool', k.at,
            k.at + interval '1 second'
       FROM dossier d,
            LATERAL (VALUES (d.received_at, 'received'), (d.result_at, 'result_ready')) k(at, kind)
      WHERE d.id BETWEEN current_setting('bench.lo')::bigint AND current_setting('bench.hi')::bigint
        AND k.at IS NOT NULL;
\endif

\if :p_rating
INSERT INTO rating (dossier_id, level, rated_at)
     SELECT id, 1 + id % 3, closed_at + interval '1 hour' FROM dossier
      WHERE id BETWEEN current_setting('bench.lo')::bigint AND current_setting('bench.hi')::bigint
        AND state = 5 AND id % 10 = 0;
\endif

-- after the keys and indexes (bench/fill.sh runs bench_fill_ddl's statements
-- itself, in two sessions): the triggers back on, the definitions dropped,
-- the dossier identity past the rows written
\if :p_finish
ALTER TABLE dossier ENABLE TRIGGER dossier_closed;
ALTER TABLE dossier_event ENABLE TRIGGER portal_outbox;
DROP TABLE bench_fill_ddl;
SELECT setval('dossier_id_seq', (SELECT max(id) FROM dossier));
\endif
