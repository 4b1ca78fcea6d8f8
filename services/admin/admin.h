/*
 * admin - declarations shared by the files of `motcua-admin`, the
 * operator's tool (migrate, config check, keygen, deadletters, requeue,
 * overdue, queues), and by nothing else.
 *
 * Contract: every command is a function `int admin_NAME(mc_cli_ctx_t *,
 * argc, argv)` that receives the arguments after its own name, parses them
 * with mc_cli_parse_* (getopt_long), and returns the process exit status
 * (MC_CLI_EX_*). Results go to stdout, diagnostics to stderr. The store is
 * read and written only through mc_store_* (no SQL here). Nothing exits.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include "mc_cli.h"

/* admin_migrate - `motcua-admin migrate` (admin_config.c) */
int admin_migrate(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_config - `motcua-admin config check [FILE]` (admin_config.c) */
int admin_config(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_keygen - `motcua-admin keygen NAME [--dir D]` (admin_agency.c) */
int admin_keygen(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_deadletters - `motcua-admin deadletters [--json]` (admin_agency.c) */
int admin_deadletters(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_requeue - `motcua-admin requeue CASE_ID` (admin_agency.c) */
int admin_requeue(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_overdue - `motcua-admin overdue [--ward W] [--days-left N] [--format table|json]` (admin_overdue.c) */
int admin_overdue(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_queues - `motcua-admin queues [--json] [--idle]` (admin_queues.c) */
int admin_queues(mc_cli_ctx_t *ctx, int argc, char **argv);

/* admin_retention - `motcua-admin retention [--dry-run]` (admin_retention.c) */
int admin_retention(mc_cli_ctx_t *ctx, int argc, char **argv);

#endif
