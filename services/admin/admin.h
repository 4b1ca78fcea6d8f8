/*
 * admin - declarations shared by the files of `motcua-admin`, the
 * operator's tool (migrate, config check, keygen, deadletters, requeue,
 * overdue, queues, stats, notifications), and by nothing else.
 *
 * Contract: every command is a function `int admin_NAME(mc_cli_ctx_t *,
 * argc, argv)` that receives the arguments after its own name, parses them
 * with mc_cli_parse_* (getopt_long), and returns the process exit status
 * (MC_CLI_EX_*). Results go to stdout, diagnostics to stderr. The store is
 * read and written only through mc_store_* (no SQL here). Nothing exits.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stdio.h>

#include "mc_cli.h"
#include "mc_store.h"
#include "mc_store_queues.h"

/* admin_migrate - `motcua-admin migrate` (admin_config.c) */
int admin_migrate(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_config - `motcua-admin config check [FILE]` (admin_config.c) */
int admin_config(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_staff_passwd - `motcua-admin staff-passwd [--sha512]` (admin_staff.c) */
int admin_staff_passwd(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_keygen - `motcua-admin keygen NAME [--dir D]` (admin_agency.c) */
int admin_keygen(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_token - `motcua-admin token NAME`: a bearer token and its token_sha256 (admin_agency.c) */
int admin_token(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_deadletters - `motcua-admin deadletters [--json]` (admin_agency.c) */
int admin_deadletters(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_requeue - `motcua-admin requeue CASE_ID` (admin_agency.c) */
int admin_requeue(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_overdue - `motcua-admin overdue [--ward W] [--days-left N] [--format table|json]` (admin_overdue.c) */
int admin_overdue(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_queues - `motcua-admin queues [--json] [--idle]` (admin_queues.c) */
int admin_queues(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_notifications - `motcua-admin notifications failed|retry ...` (admin_queues.c) */
int admin_notifications(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_stats - `motcua-admin stats [--format table|json|prometheus] [--output FILE]` (admin_stats.c) */
int admin_stats(mc_cli_ctx_t *ctx, int argc, char **argv);

/* --- shared by queues and stats (admin_queues.c) ---------------------------- */

/* admin_stage_label - a queue stage in Vietnamese */
const char *admin_stage_label(mc_queue_stage_t stage);

/* admin_state_label - what a queue line's items wait for, in Vietnamese */
const char *admin_state_label(mc_queue_state_t state);

/* admin_age_text - an age in seconds for people: "45 giây", "12 phút", "3 giờ", "2 ngày" */
const char *admin_age_text(int64_t s, char *buf, size_t size);

/* admin_put_row - cells padded to widths (characters), those from right_from on right-aligned */
void admin_put_row(FILE *out, const char *const *cells, const size_t *widths, int n, int right_from);

/* admin_open_store - configuration, then a store as program's role (MC_CLI_READER, or NULL:
 * the configured identity); an exit status */
int admin_open_store(mc_cli_ctx_t *ctx, const char *program, mc_store_t **store);

/* admin_parse_format - text among names[0..n) into *format (its index); else print a usage
 * error and return 64 */
int admin_parse_format(mc_cli_ctx_t *ctx, const char *usage, const char *cmd, const char *text,
                       const char *const *names, int n, int *format);

/* admin_store_failed - print err; the exit status for rc (3 unreachable, else 1) */
int admin_store_failed(mc_cli_ctx_t *ctx, mc_store_rc_t rc, const mc_err_t *err);
/* admin_retention - `motcua-admin retention [--dry-run]` (admin_retention.c) */
int admin_retention(mc_cli_ctx_t *ctx, int argc, char **argv);

#endif
