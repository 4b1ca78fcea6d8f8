/*
 * admin_staff - `motcua-admin staff-passwd`: the password hash of a ward
 * dashboard login (config/staff.yaml, password_hash), made by libcrypt.
 *
 * Contract: reads one password from standard input (first line, without
 * its newline; echo turned off when it is a terminal), prints the crypt(3)
 * hash (yescrypt `$y$`, or SHA-512 `$6$` with --sha512) and nothing else on
 * standard output, so `motcua staff-passwd < file` can be used in scripts.
 * The password is never printed or logged and is wiped after use. Exit
 * statuses: 0 done, 1 no randomness / libcrypt failed, 64 bad command line
 * or an empty or too long password.
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "admin.h"

static const char staff_usage[] =
    "usage: motcua-admin staff-passwd [--sha512]\n"
    "  Read a password from standard input and print its hash for the\n"
    "  password_hash of config/staff.yaml (yescrypt; --sha512: SHA-512 crypt).\n";

#define PASSWORD_MAX 256 /* bytes of a dashboard password */

/* read_password - the first line of stdin, echo off on a terminal; 0, or -1 */
static int read_password(char *buf, size_t size)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fputs("Mật khẩu: ", stderr);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = fgets(buf, (int)size, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!line)
        return -1;
    size_t n = strcspn(buf, "\r\n");
    if (buf[n] == '\0' && n == size - 1)
        return -1; /* longer than the buffer: refuse rather than cut */
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

/* admin_staff_passwd - `motcua-admin staff-passwd [--sha512]` */
int admin_staff_passwd(mc_cli_ctx_t *ctx, int argc, char **argv)
{
    const char *sha512 = NULL;
    for (int i = 0; i < argc; i++) { /* argv: the arguments after the command's name */
        if (strcmp(argv[i], "--sha512") == 0)
            sha512 = "yes";
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(staff_usage, stdout);
            return MC_CLI_EX_OK;
        } else
            return mc_cli_usage_error(ctx, staff_usage, "staff-passwd: unknown argument %.40s", argv[i]);
    }
    char pass[PASSWORD_MAX + 2];
    if (read_password(pass, sizeof pass) != 0) {
        sodium_memzero(pass, sizeof pass);
        return mc_cli_usage_error(ctx, staff_usage, "staff-passwd: give a password of 1..%d bytes on standard input",
                                  PASSWORD_MAX);
    }
    struct crypt_data *cd = calloc(1, sizeof *cd);
    const char *salt = cd ? crypt_gensalt_rn(sha512 ? "$6$" : "$y$", 0, NULL, 0, cd->setting,
                                             sizeof cd->setting)
                          : NULL;
    const char *hash = salt ? crypt_r(pass, salt, cd) : NULL;
    sodium_memzero(pass, sizeof pass);
    int status = MC_CLI_EX_OK;
    if (!hash || hash[0] != '$') {
        fprintf(stderr, "%s: staff-passwd: libcrypt could not make a hash\n", ctx->progname);
        status = MC_CLI_EX_FAIL;
    } else {
        printf("%s\n", hash);
    }
    if (cd)
        sodium_memzero(cd, sizeof *cd);
    free(cd);
    return status;
}
