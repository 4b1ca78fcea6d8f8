/*
 * cli_report - what the report command's files share: the SVG chart
 * (cli_report_svg.c) and the Vietnamese number formats (cli_report.c).
 */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "mc_store_report.h"

/* cli_report_svg - the period's figures as a standalone SVG 1.1 document; 0, or -1 if writing failed */
int cli_report_svg(FILE *out, const mc_report_t *report, const char *title);

/* cli_report_number - 7399 as "7.399" (Vietnamese thousands separator) */
const char *cli_report_number(long value, char *buf, size_t size);

/* cli_report_percent - part/whole as "87,5%", "–" when whole is 0 */
const char *cli_report_percent(long part, long whole, char *buf, size_t size);

/* cli_put_padded - text in a column of width characters (not bytes), left or right aligned */
void cli_put_padded(FILE *out, const char *text, size_t width, bool right);

#endif
