/*
 * mc_report - the report engine: the periodic report on the handling of
 * administrative procedures (received / resolved early, on time, late /
 * still open, per channel and per procedure, satisfaction) rendered as a
 * terminal table, CSV, JSON or an SVG chart, to a FILE* or a buffer, for
 * any front end (motcua-report today, a web door later); and the
 * Vietnamese number and column formats the operator's lists share
 * (motcua-admin overdue, queues).
 *
 * Contract: the figures come from the store (mc_store_report, which holds
 * the SQL); this room only renders them and never writes the store.
 * Renderers only write to the stream they are given, allocate nothing that
 * outlives the call (but mc_report_render's buffer), never exit.
 */
#ifndef MC_REPORT_H
#define MC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mc_cfg.h"
#include "mc_err.h"
#include "mc_store_report.h"

/* the chart's size in px (also its viewBox): 16:10, fits a slide */
#define MC_REPORT_SVG_WIDTH  960
#define MC_REPORT_SVG_HEIGHT 600

/*
 * mc_report_svg - write report as one standalone SVG 1.1 document (UTF-8):
 * received dossiers per month by channel and results on time vs late per
 * month, with the period's totals and on-time rate, under title (escaped;
 * NULL means none). Returns 0, or -1 when report is NULL or inconsistent
 * (months NULL with n_months > 0) or when out is in error after writing.
 */
int mc_report_svg(FILE *out, const mc_report_t *report, const char *title);

/* mc_report_number - 7399 as "7.399" (Vietnamese thousands separator) */
const char *mc_report_number(long value, char *buf, size_t size);

/* mc_report_percent - part/whole as "87,5%", "–" when whole is 0 */
const char *mc_report_percent(long part, long whole, char *buf, size_t size);

/* mc_report_put_padded - text in a column of width characters (not bytes), left or right aligned */
void mc_report_put_padded(FILE *out, const char *text, size_t width, bool right);

/* the output formats */
typedef enum mc_report_format {
    MC_REPORT_TABLE = 0, /* for people, in Vietnamese; may change */
    MC_REPORT_CSV,       /* RFC 4180 with a UTF-8 byte-order mark */
    MC_REPORT_JSON,      /* stable keys (docs/reports.md) */
    MC_REPORT_SVG        /* a chart, MC_REPORT_SVG_WIDTH x MC_REPORT_SVG_HEIGHT */
} mc_report_format_t;

/* one report asked for */
typedef struct mc_report_request {
    mc_date_t          from;      /* first day, included */
    mc_date_t          to;        /* last day, included */
    const char        *ward;      /* one ward's code, NULL: every ward */
    const char        *procedure; /* one procedure's code, NULL: every procedure */
    mc_report_format_t format;    /* what to write */
} mc_report_request_t;

/* what mc_report_run says */
typedef enum mc_report_rc {
    MC_REPORT_RUN_OK = 0,    /* written */
    MC_REPORT_RUN_BAD = 1,   /* the request names what the configuration lacks (err says what) */
    MC_REPORT_RUN_FAILED = 2 /* the store or the output failed (err says what, when known) */
} mc_report_rc_t;

/* mc_report_format_parse - "table", "csv", "json" or "svg" into *out; -1 for anything else */
int mc_report_format_parse(const char *name, mc_report_format_t *out);

/*
 * mc_report_period - the period from a quarter ("2025-Q3", "2025Q3") or
 * from both dates (YYYY-MM-DD), exactly one of the two; at most 10 years.
 * 0, or -1 with one line in err naming the option ("report: --to is not a
 * date YYYY-MM-DD").
 */
int mc_report_period(const char *quarter, const char *from, const char *to, mc_date_t *first,
                     mc_date_t *last, mc_err_t *err);

/*
 * mc_report_write - report rendered in format to out: the terminal table
 * (with the boundary-free forwarding figure), CSV, JSON or the SVG chart,
 * with ward and procedure names from cfg. 0, or -1 when the chart cannot be
 * drawn; a failing stream shows in ferror(out).
 */
int mc_report_write(FILE *out, mc_report_format_t format, const mc_cfg_t *cfg,
                    const mc_report_t *report);

/*
 * mc_report_render - mc_report_write into a new buffer (*buf malloc'd,
 * NUL-terminated, *len bytes without the NUL; free() it): for a front end
 * that answers over a socket. 0, or -1 (out of memory, chart failed).
 */
int mc_report_render(char **buf, size_t *len, mc_report_format_t format, const mc_cfg_t *cfg,
                     const mc_report_t *report);

/*
 * mc_report_run - the whole request against cfg's store (connected as the
 * configuration's identity: a program chooses it with mc_cfg_use_role):
 * checks ward and procedure against cfg, reads the figures in one snapshot
 * (mc_store_report, with a longer statement timeout than the daemons'),
 * writes them to out. Reads only; nothing is printed but the report.
 */
mc_report_rc_t mc_report_run(const mc_cfg_t *cfg, const mc_report_request_t *req, FILE *out,
                             mc_err_t *err);

/*
 * mc_report_borderless_mark - boundary-free reception (mc_report_borderless.c):
 * for a dossier received at receiving_ward ("" = at its competent
 * ward_code: the mark is ""), "chuyển đến <ward>" seen from view_ward = the
 * receiving ward, "tiếp nhận tại <ward>" from another, both for view_ward
 * NULL or "", with whether it was forwarded (overdue when forward_due_at
 * has passed); used by the overdue list and the forms
 */
const char *mc_report_borderless_mark(const mc_cfg_t *cfg, const char *view_ward,
                                      const char *ward_code, const char *receiving_ward,
                                      int64_t forward_due_at, bool forwarded, char *buf,
                                      size_t size);

#endif
