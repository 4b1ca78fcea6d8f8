/* TEMPORARY stub until the chart lands */
#include "cli_report.h"
int cli_report_svg(FILE *out, const mc_report_t *report, const char *title)
{
    (void)report;
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\"><title>%s</title></svg>\n", title);
    return 0;
}
