/*
 * test_systemd_units - the systemd units in deploy/systemd: sandbox score
 * <= 2.0 each (`systemd-analyze security --offline=yes`) and a clean
 * `systemd-analyze verify` against the installed layout.
 *
 * Contract: the checks live in tests/unit/systemd_units.sh (they are
 * systemd-analyze runs over a throwaway root); this program runs it from
 * the worktree root so that tests/run.sh counts its
 * "test_systemd_units: N passed, N failed" line like any other program.
 */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

/* main - replace this process with the script; its exit status is ours */
int main(void)
{
    execl("/bin/sh", "sh", "tests/unit/systemd_units.sh", (char *)NULL);
    printf("test_systemd_units: cannot run tests/unit/systemd_units.sh: %s\n", strerror(errno));
    printf("test_systemd_units: 0 passed, 1 failed\n");
    return 1;
}
