/*
 * motcua-load - the load generator for the intake daemon (bench/, the
 * demo, the chaos test's peers): N valid random dossiers at a given rate.
 *
 * Contract: `motcua-load [-c FILE] [-k KEYFILE] --rate R --count N ...`;
 * `motcua load ...` forwards here. The run is load_run.c; the loop that
 * ends the program is mc_cli_main_one (common/cli).
 */
#include "load.h"

/* main - one load run */
int main(int argc, char **argv)
{
    return mc_cli_main_one(argc, argv, load_command);
}
