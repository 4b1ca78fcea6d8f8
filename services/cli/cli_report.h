/*
 * cli_report - what the files of `motcua report` share: the chart
 * (cli_report_svg.c) and the Vietnamese number and column formats
 * (cli_report.c), also used by `motcua overdue`.
 *
 * Contract: renderers only write to the stream they are given; they never
 * read the store, allocate nothing that outlives the call, never exit.
 */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "mc_store_report.h"

/* the chart's size in px (also its viewBox): 16:10, fits a slide */
#define CLI_REPORT_SVG_WIDTH  960
#define CLI_REPORT_SVG_HEIGHT 600

/*
 * cli_report_svg - write report as one standalone SVG 1.1 document (UTF-8):
 * received dossiers per month by channel and results on time vs late per
 * month, with the period's totals and on-time rate, under title (escaped;
 * NULL means none). Returns 0, or -1 when report is NULL or inconsistent
 * (months NULL with n_months > 0) or when out is in error after writing.
 */
int cli_report_svg(FILE *out, const mc_report_t *report, const char *title);

/* cli_report_number - 7399 as "7.399" (Vietnamese thousands separator) */
const char *cli_report_number(long value, char *buf, size_t size);

/* cli_report_percent - part/whole as "87,5%", "–" when whole is 0 */
const char *cli_report_percent(long part, long whole, char *buf, size_t size);

/* cli_put_padded - text in a column of width characters (not bytes), left or right aligned */
void cli_put_padded(FILE *out, const char *text, size_t width, bool right);

#endif
