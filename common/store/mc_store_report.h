/*
 * mc_store_report - the figures of the periodic report on the handling of
 * administrative procedures (báo cáo tình hình, kết quả giải quyết TTHC),
 * the overdue list and the satisfaction counts, read from the store.
 *
 * Contract:
 *   * A period is [start, end): start is 00:00 local time of its first day,
 *     end is 00:00 local time of the day after its last, so a dossier
 *     received at 23:59:59 on the last day is in the period and one at
 *     00:00:00 on the next day is not; each dossier is counted once.
 *   * mc_store_report() runs every query in one REPEATABLE READ READ ONLY
 *     transaction: the figures are one consistent snapshot even while the
 *     daemons keep writing. It changes nothing.
 *   * The rules (what "early", "late", "carried over" mean, how a
 *     re-appointed dossier is judged) are in docs/reports.md; the SQL in
 *     mc_store_report.c implements exactly those and nothing else.
 *   * Every counter is exact; rates are left to the caller, which rounds
 *     them with mc_report_rate_units / mc_report_rate_text (half away from
 *     zero, exactly).
 *   * A dossier open at the period's end is judged by what held at the end
 *     (dossier_history, migration 0008), so the figures of a period that
 *     has ended never change, whenever the report is run.
 *   * The figures of Nghị định 118/2025 (acceptance, apologies, lateness
 *     without apology, forwarding; issue 12 point 8) are in the same
 *     snapshot and judged as at the period's end too (docs/reports.md).
 *   * Never logs parameters.
 */
#ifndef MC_STORE_REPORT_H
#define MC_STORE_REPORT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mc_calendar.h"
#include "mc_err.h"
#include "mc_store.h"
#include "mc_limits.h"

/* the counters of one line of the report (the total, or one procedure) */
typedef struct mc_report_counts {
    long carried_over;          /* received before start, still open at start (từ kỳ trước chuyển qua) */
    long received_direct;       /* received in the period at the counter (trực tiếp) */
    long received_online;       /* received in the period online (trực tuyến) */
    long received_postal;       /* received in the period by post (bưu chính công ích) */
    long received_new;          /* direct + online + postal (mới tiếp nhận trong kỳ) */
    long received_total;        /* carried_over + received_new (tổng số hồ sơ nhận giải quyết) */
    long resolved_early;        /* result ready in the period, before the due day (trước hạn) */
    long resolved_on_time;      /* result ready in the period, on the due day by the due time (đúng hạn) */
    long resolved_late;         /* result ready in the period, after the due date (quá hạn) */
    long resolved_total;        /* early + on_time + late (đã giải quyết) */
    long late_reappointed;      /* of resolved_late: given a new appointment with the apology */
    long late_reappointed_kept; /* of late_reappointed: result by the new appointment */
    long open_in_time;          /* open at end, due date not passed (đang giải quyết trong hạn) */
    long open_overdue;          /* open at end, due date passed (đang giải quyết quá hạn) */
    long open_total;            /* open_in_time + open_overdue */
    long supplement_requested;  /* dossiers asked for more documents in the period (yêu cầu bổ sung) */
    long refused;               /* closed in the period refused after examination (từ chối giải quyết) */
    long withdrawn;             /* closed in the period withdrawn by the applicant (rút hồ sơ) */
    long rating_very_satisfied; /* ratings given in the period: rất hài lòng */
    long rating_satisfied;      /* hài lòng */
    long rating_not_satisfied;  /* không hài lòng */
    long rating_total;          /* the three together */
    long returned_unsupplemented; /* closed in the period RETURNED: not supplemented in time (trả lại do không bổ sung) */
    long supplement_refused;    /* second requests for documents refused in the period (one request per dossier) */
    /* Nghị định 118/2025 (issue 12 point 8; rules in docs/reports.md) */
    long accepted_in_time;      /* online dossiers accepted in the period within 8 working hours (Điều 17) */
    long accepted_late;         /* ... accepted in the period after their acceptance deadline */
    long acceptance_overdue;    /* still pending acceptance at the end, deadline passed before the end */
    long apologies;             /* apologies with a new appointment (Mẫu 04) issued in the period (Điều 19(6)) */
    long apologies_in_time;     /* of those: issued at least rules.apology_before_days working days before the replaced due date */
    long late_without_apology;  /* dossiers that became late in the period with no apology before (quá hạn không có văn bản xin lỗi) */
    long forward_received;      /* received in the period here for another ward (the ward filter is the receiving ward, Điều 20) */
    long forwarded_in_time;     /* of those: reached the competent unit before the end, by the forwarding deadline */
    long forwarded_late;        /* ... before the end, after the deadline */
    long forward_overdue;       /* ... not forwarded by the end, deadline passed before the end, not closed before it */
    long forward_pending;       /* the rest: deadline not passed at the end, or closed before it */
} mc_report_counts_t;

/* one procedure's line */
typedef struct mc_report_row {
    char               procedure_code[MC_PROCEDURE_CODE_LEN + 1]; /* catalog code */
    mc_report_counts_t counts;                                    /* its counters */
} mc_report_row_t;

/* one calendar month of the period (for the chart): months the period touches, in order */
typedef struct mc_report_month {
    int  year;             /* e.g. 2025 */
    int  month;            /* 1..12 */
    long received_direct;  /* received in this month (and in the period) */
    long received_online;  /* ... online */
    long received_postal;  /* ... by post */
    long resolved_in_time; /* early + on time, result ready in this month */
    long resolved_late;    /* late, result ready in this month */
} mc_report_month_t;

/* what to report on */
typedef struct mc_report_query {
    mc_date_t   from;      /* first day, local */
    mc_date_t   to;        /* last day, local (inclusive), from <= to */
    const char *ward;      /* ward_code, or NULL / "" for every ward in the store */
    const char *procedure; /* procedure_code, or NULL / "" for every procedure */
    const mc_calendar_t *calendar; /* working days, to judge an apology's timing; NULL: none counts in time */
    int         apology_before_days; /* rules.apology_before_days (Điều 19 khoản 6) */
} mc_report_query_t;

/* a finished report */
typedef struct mc_report {
    mc_date_t          from;                                 /* as asked */
    mc_date_t          to;                                   /* as asked */
    char               ward[MC_WARD_CODE_LEN + 1];           /* "" for all */
    char               procedure[MC_PROCEDURE_CODE_LEN + 1]; /* "" for all */
    int64_t            start;                                /* the period as instants (epoch s): [start, end) */
    int64_t            end;                                  /* ... */
    int64_t            generated_at;                         /* when the snapshot was taken (epoch s) */
    mc_report_counts_t total;                                /* the whole period */
    mc_report_row_t   *rows;                                 /* per procedure, sorted by code; procedures with no figure left out */
    size_t             n_rows;                               /* entries in rows */
    mc_report_month_t *months;                               /* every month from `from` to `to`, zeros included */
    size_t             n_months;                             /* entries in months */
} mc_report_t;

/* the longest period a report may cover; longer ones are refused (a typo guard and a bound) */
#define MC_REPORT_MAX_DAYS 3660

/*
 * mc_store_report - the report for q, in one snapshot. FAILED (message in
 * err) for a period that is reversed or longer than MC_REPORT_MAX_DAYS (the
 * caller checks first; this is the invariant); UNAVAILABLE / FAILED as
 * usual. *out is set only on OK; free it with mc_report_destroy.
 */
mc_store_rc_t mc_store_report(mc_store_t *store, const mc_report_query_t *q, mc_report_t **out,
                              mc_err_t *err);

/* mc_report_destroy - free a report and NULL the caller's pointer */
void mc_report_destroy(mc_report_t **report);

/*
 * Rates (docs/reports.md, "Rates"): part / whole as a percentage, rounded to
 * the decimals shown HALF AWAY FROM ZERO, computed exactly in integers from
 * the two counts: 84 / 128 = 65.625 % is 65.63 with two decimals and 65.6
 * with one (each precision from the exact fraction, never a rounded
 * rounding). printf("%.2f") would round the binary double to even (65.62).
 * Inline here so the chart renderer shares the rule without linking the
 * store.
 */
#define MC_REPORT_RATE_MAX_DECIMALS 4

/* mc_report_rate_units - the rate in units of 10^-decimals; false when whole <= 0 (no rate) */
static inline bool mc_report_rate_units(long part, long whole, int decimals, long long *units)
{
    if (whole <= 0 || decimals < 0 || decimals > MC_REPORT_RATE_MAX_DECIMALS)
        return false;
    long long scale = 100;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    long long mag = part < 0 ? -(long long)part : (long long)part;
    if (mag > LLONG_MAX / scale)
        return false; /* cannot happen for counts of dossiers; keeps the product exact */
    long long num = mag * scale;
    long long q = num / whole, rem = num % whole;
    if (rem >= whole - rem) /* 2 * rem >= whole without overflow: a tie goes away from zero */
        q++;
    *units = part < 0 ? -q : q;
    return true;
}

/*
 * mc_report_rate_text - the rate with `decimals` decimals and decimal mark
 * `mark` ('.' for JSON and CSV, ',' for Vietnamese text): "65.63", "65,6";
 * NULL (buf untouched) when there is nothing to divide by.
 */
static inline const char *mc_report_rate_text(long part, long whole, int decimals, char mark,
                                              char *buf, size_t size)
{
    long long units;
    if (!mc_report_rate_units(part, whole, decimals, &units) || size == 0)
        return NULL;
    long long scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    long long mag = units < 0 ? -units : units;
    if (decimals == 0)
        snprintf(buf, size, "%s%lld", units < 0 ? "-" : "", mag);
    else
        snprintf(buf, size, "%s%lld%c%0*lld", units < 0 ? "-" : "", mag / scale, mark, decimals,
                 mag % scale);
    return buf;
}

/* --- the overdue / due-soon list ------------------------------------------ */

/* one open dossier for the desk's list */
typedef struct mc_overdue_item {
    char     code[MC_CODE_MAX];                         /* dossier code */
    char     ward_code[MC_WARD_CODE_LEN + 1];           /* the competent ward */
    char     procedure_code[MC_PROCEDURE_CODE_LEN + 1]; /* catalog code */
    int      state;                                     /* motcua.v1.DossierState */
    int64_t  received_at;                               /* epoch s */
    int64_t  due_at;                                    /* the due date in force (epoch s) */
    bool     reappointed;                               /* a late notice with a new appointment was sent */
    char     where[64];                                 /* who holds it: the agency or desk of the open step, "router" before routing */
    int      step;                                      /* that step's number, 0 before routing */
    int      steps_total;                               /* steps of the dossier, 0 before routing */
    int      case_state;                                /* that step's agency_case.state, -1 before routing */
    uint8_t *payload;                                   /* serialized motcua.v1.Dossier (the applicant, to be masked) */
    size_t   payload_len;                               /* bytes in payload */
    bool     due_soon;                                  /* warned for this due date (due_soon) and not extended: sắp quá hạn */
    bool     extended;                                  /* the one extension was granted (Mẫu 04 apology sent) */
    int64_t  apology_at;                                /* when the apology was queued, 0 if none */
    char     receiving_ward[MC_WARD_CODE_LEN + 1];      /* boundary-free reception: the ward that received it, "" = ward_code did */
    int64_t  forward_due_at;                            /* with receiving_ward: the forwarding deadline (epoch s) */
    bool     forwarded;                                 /* with receiving_ward: the competent unit has it */
} mc_overdue_item_t;

/* a list of them, most overdue first */
typedef struct mc_overdue_list {
    mc_overdue_item_t *items;    /* entries */
    size_t             n_items;  /* how many */
    bool               truncated;/* more matched than the limit */
} mc_overdue_list_t;

/*
 * mc_store_overdue - open dossiers (RECEIVED, ROUTED, IN_PROGRESS; not those
 * waiting for documents, whose clock is stopped) whose due date is before
 * `before` (epoch s), or that were warned for their due date (due_soon, Nghị
 * định 118/2025 Điều 19(6)) and not extended, or that were received at another
 * ward and not forwarded by a forwarding deadline before `before`; most overdue
 * first, at most limit (1..100000), of one ward (competent or receiving: both
 * see a forwarded dossier) or all (ward NULL / ""). *out is filled on OK; free with
 * mc_overdue_list_clear.
 */
mc_store_rc_t mc_store_overdue(mc_store_t *store, const char *ward, int64_t before, int limit,
                               mc_overdue_list_t *out, mc_err_t *err);

/* mc_overdue_list_clear - free the items, zero the list */
void mc_overdue_list_clear(mc_overdue_list_t *list);

#endif
