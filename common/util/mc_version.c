/*
 * mc_version - the version compiled in from the VERSION file (see mc_version.h).
 */
#include "mc_version.h"

#include <stdio.h>
#include <string.h>

/* the Makefile passes -DMC_VERSION="$(cat VERSION)" for this file only, so a
 * new version recompiles one object */
#ifndef MC_VERSION
#define MC_VERSION "unknown"
#endif

/* mc_version - the version text */
const char *mc_version(void)
{
    return MC_VERSION;
}

/* mc_version_print - the --version line; a full stdout shows at exit like any output */
int mc_version_print(const char *prog)
{
    printf("%s %s\n", prog, MC_VERSION);
    return 0;
}

/* mc_version_asked - argv[1] is --version */
bool mc_version_asked(int argc, char **argv)
{
    return argc > 1 && argv[1] && strcmp(argv[1], "--version") == 0;
}
