/*
 * mc_version - the version every program reports: `--version` and the
 * `started` log line.
 *
 * Contract: the text comes from one place, the VERSION file at the top of
 * the repository (the Makefile compiles it into mc_version.c as
 * MC_VERSION; debian/changelog carries the same number, which
 * tests/it/package.sh checks). Nothing here fails.
 */
#ifndef MC_VERSION_H
#define MC_VERSION_H

#include <stdbool.h>

/* mc_version - "0.13.0" */
const char *mc_version(void);

/* mc_version_print - "PROG VERSION\n" on stdout; returns 0, --version's exit status */
int mc_version_print(const char *prog);

/* mc_version_asked - true when argv's first argument is --version (for the
 * programs that parse their own command line) */
bool mc_version_asked(int argc, char **argv);

#endif
