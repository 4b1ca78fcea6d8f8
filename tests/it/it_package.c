/*
 * it_package - the Debian package: built with dpkg-buildpackage, checked by
 * lintian, installed on this machine, its programs' --version, `motcua
 * config check` on the installed configuration, systemd-analyze verify on
 * the installed units, then purged.
 *
 * Contract: the checks live in tests/it/package.sh (they are package tools'
 * runs); this program runs it from the worktree root so that tests/run.sh
 * counts its "it_package: N passed, N failed" line like any other program.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* main - replace this process with the script; its exit status is ours */
int main(void)
{
    execl("/bin/sh", "sh", "tests/it/package.sh", (char *)NULL);
    printf("it_package: cannot run tests/it/package.sh: %s\n", strerror(errno));
    printf("it_package: 0 passed, 1 failed\n");
    return 1;
}
