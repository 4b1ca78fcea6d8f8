/*
 * mc_code - the dossier code (mã số hồ sơ).
 *
 * Format (Thông tư 01/2018/TT-VPCP, art. 19; docs/rules.md):
 *     <unit id>-<YYMMDD>-<NNNN>
 * unit id: the COMPETENT unit's identifier (mã định danh, QCVN 102:2016,
 * dotted, e.g. "000.00.12.H26"; Nghị định 118/2025 Điều 28 khoản 2: for a
 * dossier received at another ward, not the receiving unit's, docs/rules.md);
 * YYMMDD: the local receipt date; NNNN: the unit's sequence number for that day, 4 digits zero-padded (a 5th digit
 * appears only past 9,999 dossiers a day, so codes stay unique).
 */
#ifndef MC_CODE_H
#define MC_CODE_H

#include <stdbool.h>
#include <stddef.h>

#include "mc_calendar.h"
#include "mc_limits.h"


/* mc_code_format - write the code; -1 if it does not fit or inputs are bad */
int mc_code_format(char *buf, size_t size, const char *unit_id, mc_date_t day, int seq);

/* mc_code_parse - split a code; -1 unless it has exactly the format above */
int mc_code_parse(const char *code, char *unit_id, size_t unit_size, mc_date_t *day, int *seq);

/* mc_unit_id_valid - "ddd.dd.dd.Xdd" style: 4 dot-separated groups of [0-9A-Za-z] */
bool mc_unit_id_valid(const char *unit_id);

#endif
