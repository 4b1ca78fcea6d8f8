-- 0019_report_class: the report's classes as one named, testable function
-- (issue 10 point 1; docs/reports.md "What is counted, and how"). Until now
-- they were a CASE inside the report's statement (mc_store_report.c
-- stmt_report_main); that statement now calls mc_report_class, and
-- tests/it/it_report_class.c calls it directly, class by class.
--
-- IMMUTABLE: the result depends on the arguments only (the caller passes
-- now(), so a report's snapshot stays one instant). A LANGUAGE sql function
-- of one expression, not SECURITY DEFINER, no SET: the planner inlines it
-- into the report's statement, which therefore costs what the CASE cost.
--
-- Safe on a large live store: CREATE OR REPLACE FUNCTION and grants change
-- the catalog only; no table is read or rewritten.
--
-- States by name (0018, mc_states.h): 4 WAITING_SUPPLEMENT, 5 RESULT_READY,
-- 6 DELIVERED, 7 WITHDRAWN, 8 REFUSED, 10 RETURNED.
CREATE OR REPLACE FUNCTION mc_report_class(
    p_state             smallint,    -- dossier.state as it stood at the period's end
    p_closed_at         timestamptz, -- dossier.closed_at (NULL: open)
    p_result_at         timestamptz, -- dossier.result_at (NULL: the closing time counts)
    p_due_at            timestamptz, -- dossier.due_at in force at the end
    p_counted_from      timestamptz, -- dossier.counted_from at the end
    p_late_notified_due timestamptz, -- dossier.late_notified_due at the end (the apologised date)
    p_paused_at         timestamptz, -- dossier.paused_at at the end
    p_start             timestamptz, -- the period's first instant
    p_end               timestamptz, -- the instant after the period
    p_now               timestamptz, -- the report's now() (a period not ended is judged at it)
    p_tz_offset         integer      -- local offset from UTC in seconds (UTC+7: 25200)
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        -- resolved (RESULT_READY, DELIVERED) with the result in the period
        WHEN p_closed_at >= p_start AND p_closed_at < p_end AND p_state IN (5, 6) THEN
            CASE
                -- late: after the due time in force, or apologised for (late notice sent)
                WHEN coalesce(p_result_at, p_closed_at) > p_due_at
                  OR coalesce(p_late_notified_due >= p_counted_from, false) THEN
                    CASE
                        WHEN NOT (coalesce(p_late_notified_due >= p_counted_from, false)
                                  AND coalesce(p_due_at > p_late_notified_due, false))
                            THEN 'resolved_late'
                        WHEN coalesce(p_result_at, p_closed_at) <= p_due_at
                            THEN 'late_reappointed_kept'
                        ELSE 'late_reappointed_late'
                    END
                -- early: before the local due day's first instant
                WHEN coalesce(p_result_at, p_closed_at)
                     < (date_trunc('day', (p_due_at AT TIME ZONE 'UTC')
                                          + p_tz_offset * interval '1 second')
                        - p_tz_offset * interval '1 second') AT TIME ZONE 'UTC'
                    THEN 'resolved_early'
                ELSE 'resolved_on_time'
            END
        WHEN p_closed_at >= p_start AND p_closed_at < p_end AND p_state = 7 THEN 'withdrawn'
        WHEN p_closed_at >= p_start AND p_closed_at < p_end AND p_state = 8 THEN 'refused'
        WHEN p_closed_at >= p_start AND p_closed_at < p_end AND p_state = 10
            THEN 'returned_unsupplemented'
        -- open at the end, judged as it stood then
        WHEN p_closed_at IS NULL OR p_closed_at >= p_end THEN
            CASE
                -- waiting for documents since before the end: its clock is stopped
                WHEN p_state = 4 AND p_paused_at < p_end THEN 'open_in_time'
                WHEN p_due_at < least(p_end, p_now) THEN 'open_overdue'
                WHEN coalesce(p_late_notified_due >= p_counted_from, false)
                 AND p_late_notified_due < p_end THEN 'open_overdue'
                ELSE 'open_in_time'
            END
    END
$$;

COMMENT ON FUNCTION mc_report_class(smallint, timestamptz, timestamptz, timestamptz, timestamptz,
                                   timestamptz, timestamptz, timestamptz, timestamptz,
                                   timestamptz, integer) IS
    'The class of one dossier in the report of the period [p_start, p_end) '
    '(docs/reports.md "What is counted, and how"; Nghị định 118/2025/NĐ-CP, docs/rules.md): '
    'resolved_early: result (RESULT_READY, DELIVERED) in the period on a local day before the due day; '
    'resolved_on_time: result on the due day, at or before the due time (17:00 of the N-th working day, '
    'BLDS 2015 Điều 147-148, docs/rules.md "Due dates"); '
    'resolved_late: result after the due time in force, or a late notice / apology was sent for it; '
    'late_reappointed_kept: apologised with a new appointment (Mẫu 04, Điều 19 khoản 6) and resolved by it; '
    'late_reappointed_late: apologised, re-appointed and late again; '
    'withdrawn: withdrawn by the applicant, closed in the period (Điều 19); '
    'refused: refused after examination, closed in the period; '
    'returned_unsupplemented: RETURNED in the period, asked for documents once and not supplemented in time '
    '(Điều 11 khoản 2(c), 16 khoản 3, 17 khoản 1(c), 19 khoản 5); '
    'open_in_time: open at the end, its due date not passed before the end (or now), or waiting for '
    'the applicant''s documents since before the end (the clock stops, Nghị định 45/2020 Điều 12); '
    'open_overdue: open at the end with its due date passed before the end (or now), or apologised '
    'for before the end; '
    'NULL: not in the period (closed before it).';

REVOKE EXECUTE ON FUNCTION mc_report_class(smallint, timestamptz, timestamptz, timestamptz,
    timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mc_report_class(smallint, timestamptz, timestamptz, timestamptz,
    timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, integer)
    TO motcua_report;
