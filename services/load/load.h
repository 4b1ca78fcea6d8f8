/*
 * load - the declaration main.c needs from load_run.c, and nothing else.
 *
 * Contract: load_command receives every argument after the program's name
 * and returns the exit status (MC_CLI_EX_*); it never exits.
 */
#ifndef LOAD_H
#define LOAD_H

#include "mc_cli.h"

/* load_command - `motcua-load --rate R --count N [--clients C] [--ward W] [--duration-limit S]` */
int load_command(mc_cli_ctx_t *ctx, int argc, char **argv);

#endif
