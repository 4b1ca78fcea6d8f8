/*
 * motcua-admin - the operator's tool: migrate the schema, check the
 * configuration, make CURVE keys, list and requeue dead letters, list
 * overdue dossiers and the pipeline's queues, the figures to monitor
 * (stats) and the notifications that failed for good.
 *
 * Contract: `motcua-admin [-c FILE] COMMAND [ARGS]` runs one command and
 * exits with its status (docs/cli.md). `motcua COMMAND` forwards here for
 * the same commands. This file only declares the commands; the loop is
 * mc_cli_main (common/cli).
 */
#include <stdio.h>

#include "admin.h"

static const char usage_text[] =
    "usage: motcua-admin [-c FILE] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  migrate                     bring the database schema up to date\n"
    "  config check [FILE]         load the configuration and report problems\n"
    "  keygen NAME [--dir D]       make a CURVE keypair (NAME.key secret, NAME.pub)\n"
    "  token NAME                  make an HTTP bearer token (printed once) and its token_sha256\n"
    "  deadletters [--json]        cases agencies never acknowledged\n"
    "  requeue CASE_ID             send a dead letter or an acked case again\n"
    "  overdue [--ward CODE] [--days-left N]\n"
    "                              open dossiers past (or near) their due date\n"
    "  queues [--json] [--idle]    the pipeline's backlog per stage and agency;\n"
    "                              --idle: exit 0 when nothing is in flight\n"
    "  stats [--format table|json|prometheus] [--output FILE]\n"
    "                              figures to monitor: backlog by age, rates\n"
    "  notifications failed [--channel C] [--format table|json]\n"
    "  notifications retry ID...|--all-failed\n"
    "                              notifications notify gave up on, and sending them again\n"
    "  retention [--dry-run]       expire old keys and spool files; export, then\n"
    "                              delete dossiers past their keeping time\n"
    "  staff-passwd [--sha512]     hash a ward dashboard password (stdin) for staff.yaml\n"
    "\n"
    "options:\n"
    "  -c, --config FILE           configuration (default: $MOTCUA_CONFIG,\n"
    "                              /etc/motcua/motcua.yaml, config/motcua.yaml)\n"
    "  -h, --help                  this text; `motcua-admin COMMAND --help` for a command\n"
    "      --version               print the version, then exit\n";

/* main - one operator command */
int main(int argc, char **argv)
{
    static const mc_cli_command_t commands[] = {
        {"migrate", admin_migrate},         {"config", admin_config},
        {"keygen", admin_keygen},           {"deadletters", admin_deadletters},
        {"requeue", admin_requeue},         {"overdue", admin_overdue},
        {"queues", admin_queues},           {"stats", admin_stats},
        {"notifications", admin_notifications},
        {"retention", admin_retention},     {"token", admin_token},
        {"staff-passwd", admin_staff_passwd},
    };
    return mc_cli_main(argc, argv, usage_text, commands, sizeof commands / sizeof commands[0],
                       NULL);
}
