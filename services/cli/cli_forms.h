/*
 * cli_forms - the printed forms of Thông tư 03/2025/TT-VPCP Phụ lục I
 * (docs/forms.md), shared by cli_forms.c and nothing else yet.
 *
 * Contract: a form is built once as a neutral model (heading, fields, one
 * table, signatures) from the store's data, then rendered as plain text or
 * as a self-contained printable A4 HTML page. Every value written to HTML
 * goes through cli_form_html_escape; nothing here logs (a form carries the
 * applicant's name).
 */
#ifndef CLI_FORMS_H
#define CLI_FORMS_H

#include "mc_limits.h"

#include <stdio.h>

#define CLI_FORM_MAX_FIELDS 32 /* label/value lines of one form */
#define CLI_FORM_MAX_ROWS   500 /* rows of its table: the register (Mẫu 07) prints at most this many dossiers */
#define CLI_FORM_MAX_COLS   13  /* columns of its table: the register's 13 */

/* one "label: value" line */
typedef struct cli_form_field {
    const char *label; /* static text */
    char       *value; /* malloc'd, may be "" */
} cli_form_field_t;

/* a form ready to render */
typedef struct cli_form {
    const char      *number;                                      /* "Mẫu số 01" */
    const char      *title;                                       /* "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" */
    char             agency[256];                                 /* upper left: the ward */
    char             unit[256];                                   /* upper left: the one-stop unit */
    char             place_date[160];                             /* "Phường Kim Liên, ngày 01 tháng 10 năm 2025" */
    char             code[MC_CODE_MAX];                           /* mã hồ sơ, "" for the register (no one dossier) */
    cli_form_field_t fields[CLI_FORM_MAX_FIELDS];                 /* in order */
    int              n_fields;                                    /* entries in fields */
    const char      *table_caption;                               /* text above the table, NULL when no table */
    const char      *cols[CLI_FORM_MAX_COLS];                     /* table header */
    int              n_cols;                                      /* columns */
    char            *cells[CLI_FORM_MAX_ROWS][CLI_FORM_MAX_COLS]; /* malloc'd cells */
    int              n_rows;                                      /* rows filled */
    const char      *sign_left;                                   /* left signature caption, may be NULL */
    const char      *sign_right;                                  /* right signature caption */
    int              landscape;                                   /* 1: A4 landscape (the register's 13 columns) */
} cli_form_t;

/* cli_form_html_escape - text with & < > " ' escaped, written to out */
void cli_form_html_escape(FILE *out, const char *text);

#endif
